// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import Logging
import TrailCore

/// Who may call the CloudTrail API, and what they may read: a SigV4-signed call (any SDK, the AWS
/// CLI) reads what its access key allows; a call with a client certificate the CA signed (and
/// not revoked) reads its own host's records, or the fleet's for a `--fleet-reader`. The call's
/// body is read here (SigV4 signs it) and handed on in the context with the ``LookupScope``.
struct CloudTrailAuthentication: RouterMiddleware {
    typealias Context = CollectorRequestContext

    /// The largest API call body.
    static let maxBodyBytes = 1024 * 1024

    /// Access keys and fleet readers; a reload replaces them.
    let access: LiveValue<APIAccess>
    let revoked: RevokedHosts
    let readCertificate: ClientCertificateReader

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        var context = context
        do {
            context.apiBody = Data(try await request.collectBody(upTo: Self.maxBodyBytes).readableBytesView)
        } catch {
            throw CloudTrailAPIError(type: "SerializationException", message: "the request body is larger than 1 MiB")
        }
        let access = self.access.current
        let signed = request.headers[.authorization] != nil
        let certificate = signed ? nil : ((try? await readCertificate(context.channel)) ?? nil)
        if let certificate {
            guard !revoked.revokes(certificate) else {
                throw CloudTrailFailure(
                    status: .forbidden,
                    error: CloudTrailAPIError(
                        type: "AccessDeniedException", message: "the certificate of \(certificate.commonName) is revoked on this collector"))
            }
            context.scope = LookupScope(certificateHost: certificate.commonName, fleetReaders: access.fleetReaders)
        } else {
            do {
                let key = try SigV4.verify(
                    method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: Self.signableHeaders(request),
                    body: context.apiBody, keys: access.accessKeys, service: "cloudtrail", now: Date())
                context.scope = LookupScope(key: key)
            } catch {
                throw CloudTrailFailure(
                    status: HTTPResponse.Status(code: error.status), error: CloudTrailAPIError(type: error.type, message: error.message))
            }
        }
        return try await next(request, context)
    }

    /// The request's headers as SigV4 signed them: HTTP/1.1's `Host` travels as the authority.
    static func signableHeaders(_ request: Request) -> [(name: String, value: String)] {
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        if let authority = request.head.authority, !headers.contains(where: { $0.name == "host" }) { headers.append(("host", authority)) }
        return headers
    }
}

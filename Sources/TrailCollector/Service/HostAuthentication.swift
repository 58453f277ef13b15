// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import Logging

/// `/v1/records` is written by hosts only: a client certificate the CA signed, whose CN is the
/// host, and not revoked. The host goes into the context; a revoked host's attempt is recorded
/// (at most once a minute a host) before it is refused.
struct HostAuthentication: RouterMiddleware {
    typealias Context = CollectorRequestContext

    let revoked: RevokedHosts
    let records: CollectorRecords
    let pipeline: IngestPipeline
    let readCertificate: ClientCertificateReader
    let certificates: HostCertificates

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let certificate: ClientCertificate?
        do {
            certificate = try await readCertificate(context.channel)
        } catch {
            throw IngestRejection(status: 403, code: "InvalidClientCertificate", message: "the client certificate cannot be read: \(error)")
        }
        guard let certificate else {
            throw IngestRejection(
                status: 403, code: "ClientCertificateRequired", message: "POST /v1/records requires a client certificate with a CN naming the host")
        }
        if revoked.revokes(certificate) {
            await recordRefusal(of: certificate, context: context)
            throw IngestRejection(
                status: 403, code: "HostRevoked",
                message:
                    "the certificate of host \(certificate.commonName) (serial \(certificate.serialNumber)) is revoked on this collector; issue the host a new certificate"
            )
        }
        certificates.note(certificate)
        var context = context
        context.host = certificate.commonName
        return try await next(request, context)
    }

    func recordRefusal(of certificate: ClientCertificate, context: Context) async {
        context.logger.warning(
            "refused a revoked host", metadata: ["ingest.host": "\(certificate.commonName)", "certificate.serial": "\(certificate.serialNumber)"])
        guard revoked.shouldRecordRefusal(of: certificate.commonName) else { return }
        do {
            let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
            try await pipeline.commit([try records.revokedDelivery(by: certificate, from: address)])
        } catch {
            context.logger.error("cannot record a revoked host's refusal", metadata: ["error": "\(error)"])
        }
    }
}

// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TrailCore

/// The collector's HTTP endpoints on its one HTTPS port.
///
/// - `POST /v1/records`: agents' gzip batches; the host is the client certificate's CN.
/// - `POST /`: the CloudTrail API (`X-Amz-Target`).
/// - `GET /healthz`.
struct CollectorRoutes: Sendable {
    let configuration: CollectorConfiguration
    let store: any EventStore
    let binder: RecordBinder
    let api: CloudTrailAPI
    let limiter: IngestLimiter
    let revoked: RevokedHosts

    init(configuration: CollectorConfiguration, store: any EventStore, revoked: RevokedHosts, archive: ArchiveLedger? = nil) {
        self.revoked = revoked
        limiter = IngestLimiter(limit: configuration.maxConcurrentIngest)
        self.configuration = configuration
        self.store = store
        binder = RecordBinder(configuration: configuration)
        api = CloudTrailAPI(store: store, configuration: configuration, archive: archive)
    }

    func register(on router: Router<CollectorRequestContext>) {
        router.post("/v1/records") { request, context in
            await ingest(request: request, context: context)
        }
        router.post("/") { request, context in
            await cloudTrail(request: request, context: context)
        }
        router.get("/healthz") { _, _ in
            Self.json(status: .ok, Data("{\"status\":\"ok\"}".utf8))
        }
    }

    // MARK: - Ingest

    func ingest(request: Request, context: CollectorRequestContext) async -> Response {
        guard limiter.enter() else {
            return Self.rejection(
                IngestRejection(status: 503, code: "Overloaded", message: "the collector is at its limit of \(limiter.limit) concurrent batches"),
                retryAfter: 1)
        }
        defer { limiter.leave() }
        do {
            let certificate = try await Self.certificate(context: context)
            let host = certificate.commonName
            if revoked.revokes(certificate) {
                await recordRefusal(of: certificate, context: context)
                throw IngestRejection(
                    status: 403, code: "HostRevoked",
                    message:
                        "the certificate of host \(host) (serial \(certificate.serialNumber)) is revoked on this collector; issue the host a new certificate"
                )
            }
            var request = request
            var body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: configuration.maxIngestBytes)
            } catch {
                throw IngestRejection(
                    status: 413, code: "RequestTooLarge", message: "the batch is larger than \(configuration.maxIngestBytes) bytes; split it")
            }
            if let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" {
                guard encoding == "gzip" else {
                    throw IngestRejection(
                        status: 415, code: "UnsupportedEncoding", message: "Content-Encoding \(encoding) is not supported; use gzip")
                }
                do {
                    body = try body.decompress(with: .gzip(), maxSize: configuration.maxDecompressedBytes)
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    throw IngestRejection(
                        status: 413, code: "RequestTooLarge", message: "the batch inflates past \(configuration.maxDecompressedBytes) bytes; split it"
                    )
                } catch {
                    throw IngestRejection.badRequest("the body is not valid gzip: \(error)")
                }
            }
            let records = try binder.bind(body: Data(body.readableBytesView), host: host)
            let result: IngestResult
            do {
                let binder = self.binder
                let logger = context.logger
                result = try await store.insert(records) { collision in
                    do {
                        return try binder.collisionAlert(collision)
                    } catch {
                        logger.error("cannot record an event-ID collision", metadata: ["error": "\(error)", "ingest.host": "\(collision.host)"])
                        return nil
                    }
                }
            } catch {
                context.logger.error("cannot store records", metadata: ["error": "\(error)", "ingest.host": "\(host)"])
                return Self.rejection(
                    IngestRejection(status: 503, code: "StoreUnavailable", message: "the store cannot commit right now"), retryAfter: 5)
            }
            context.logger.debug(
                "stored records",
                metadata: ["ingest.host": "\(host)", "ingest.accepted": "\(result.accepted)", "ingest.duplicates": "\(result.duplicates)"])
            return Self.json(status: .ok, try CloudTrailAPI.encoder.encode(result))
        } catch let rejection as IngestRejection {
            context.logger.notice("refused records", metadata: ["error": "\(rejection)"])
            return Self.rejection(rejection)
        } catch {
            return Self.rejection(IngestRejection(status: 500, code: "InternalError", message: "\(error)"))
        }
    }

    /// Stores a record that a revoked host tried to deliver (at most one a minute per host), so the
    /// attempt shows in the trail the host can no longer write to.
    func recordRefusal(of certificate: ClientCertificate, context: CollectorRequestContext) async {
        context.logger.warning(
            "refused a revoked host", metadata: ["ingest.host": "\(certificate.commonName)", "certificate.serial": "\(certificate.serialNumber)"])
        guard revoked.shouldRecordRefusal(of: certificate.commonName) else { return }
        let eventID = RandomUUID.make()
        let record = CloudTrailRecord(
            userIdentity: UserIdentity(type: "HostCertificate", principalId: certificate.serialNumber, userName: certificate.commonName),
            eventTime: TrailTime.format(Date()), eventSource: RecordBinder.collectorEventSource, eventName: "DeliverRecords",
            sourceIPAddress: context.channel.remoteAddress?.ipAddress ?? "unknown", userAgent: "hosttrail-agent",
            errorCode: "HostRevoked", errorMessage: "the host's certificate is on the collector's revocation list",
            additionalEventData: [
                "host": ["hostname": .string(certificate.commonName)],
                "certificate": ["commonName": .string(certificate.commonName), "serialNumber": .string(certificate.serialNumber)],
            ],
            requestID: eventID, eventID: eventID, readOnly: false, eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
        do {
            _ = try await store.insert([try binder.bind(record, index: 0, host: certificate.commonName)])
        } catch {
            context.logger.error("cannot record a revoked host's refusal", metadata: ["error": "\(error)"])
        }
    }

    /// The client certificate; `/v1/records` is refused without one.
    static func certificate(context: CollectorRequestContext) async throws -> ClientCertificate {
        let certificate: ClientCertificate?
        do {
            certificate = try await ClientCertificate.of(channel: context.channel)
        } catch {
            throw IngestRejection(status: 403, code: "InvalidClientCertificate", message: "the client certificate cannot be read: \(error)")
        }
        guard let certificate else {
            throw IngestRejection(
                status: 403, code: "ClientCertificateRequired", message: "POST /v1/records requires a client certificate with a CN naming the host")
        }
        return certificate
    }

    // MARK: - CloudTrail API

    func cloudTrail(request: Request, context: CollectorRequestContext) async -> Response {
        var request = request
        let requestID = UUID().uuidString.lowercased()
        do {
            let body: Data
            do {
                body = Data(try await request.collectBody(upTo: 1024 * 1024).readableBytesView)
            } catch {
                throw CloudTrailAPIError(type: "SerializationException", message: "the request body is larger than 1 MiB")
            }
            // A call is signed (SigV4, any SDK) or comes with a client certificate the CA signed.
            var scope = LookupScope.fleet
            let certificate = (try? await ClientCertificate.of(channel: context.channel)) ?? nil
            if let certificate, request.headers[.authorization] == nil, revoked.revokes(certificate) {
                let failure = CloudTrailAPIError(
                    type: "AccessDeniedException", message: "the certificate of \(certificate.commonName) is revoked on this collector")
                return Self.amzJSON(status: .forbidden, (try? JSONEncoder().encode(failure)) ?? Data(), requestID: requestID)
            }
            if request.headers[.authorization] != nil || certificate == nil {
                do {
                    let key = try SigV4.verify(
                        method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                        headers: Self.signableHeaders(request),
                        body: body, keys: configuration.accessKeys, service: "cloudtrail", now: Date())
                    scope = LookupScope(key: key)
                } catch {
                    context.logger.notice("refused a CloudTrail API call", metadata: ["error": "\(error)"])
                    let failure = CloudTrailAPIError(type: error.type, message: error.message)
                    return Self.amzJSON(
                        status: HTTPResponse.Status(code: error.status), (try? JSONEncoder().encode(failure)) ?? Data(), requestID: requestID)
                }
            }
            let target = request.headers[HTTPField.Name("X-Amz-Target")!]
            if request.headers[.authorization] == nil, let certificate {
                scope = LookupScope(certificateHost: certificate.commonName, fleetReaders: configuration.fleetReaders)
            }
            let reply = try await api.handle(target: target, body: body, scope: scope)
            return Self.amzJSON(status: .ok, reply, requestID: requestID)
        } catch let error as CloudTrailAPIError {
            return Self.amzJSON(status: .badRequest, (try? JSONEncoder().encode(error)) ?? Data(), requestID: requestID)
        } catch {
            context.logger.error("CloudTrail API call failed", metadata: ["error": "\(error)"])
            let failure = CloudTrailAPIError(type: "InternalFailure", message: "\(error)")
            return Self.amzJSON(status: .internalServerError, (try? JSONEncoder().encode(failure)) ?? Data(), requestID: requestID)
        }
    }

    /// The request's headers as SigV4 signed them: HTTP/1.1's `Host` travels as the authority.
    static func signableHeaders(_ request: Request) -> [(name: String, value: String)] {
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        if let authority = request.head.authority, !headers.contains(where: { $0.name == "host" }) { headers.append(("host", authority)) }
        return headers
    }

    // MARK: - Responses

    static func json(status: HTTPResponse.Status, _ body: Data, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func amzJSON(status: HTTPResponse.Status, _ body: Data, requestID: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/x-amz-json-1.1"]
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func rejection(_ rejection: IngestRejection, retryAfter: Int? = nil) -> Response {
        var members: [String: JSONValue] = ["error": ["code": .string(rejection.code), "message": .string(rejection.message)]]
        if !rejection.refused.isEmpty {
            members["refused"] = .array(
                rejection.refused.map { refused in
                    var members: [String: JSONValue] = [
                        "index": .integer(Int64(refused.index)), "code": .string(refused.code), "message": .string(refused.message),
                    ]
                    if let eventID = refused.eventID { members["eventID"] = .string(eventID) }
                    return .object(members)
                })
        }
        let body = JSONValue.object(members)
        var extra: HTTPFields = [:]
        if let retryAfter { extra[.retryAfter] = String(retryAfter) }
        return json(
            status: HTTPResponse.Status(code: rejection.status), (try? CloudTrailAPI.encoder.encode(body)) ?? Data(), extra: extra)
    }
}

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
/// - `POST /v1/records`: agents' gzip batches, through ``IngestEndpoint`` and
///   ``HostAuthentication`` (the host is the client certificate's CN).
/// - `POST /v1/responses`: agents' long-polls for response requests (``ResponseDesk``), through
///   ``HostAuthentication``.
/// - `POST /`: the CloudTrail API (`X-Amz-Target`), through ``CloudTrailEndpoint`` and
///   ``CloudTrailAuthentication``.
/// - `GET /healthz` (alive) and `GET /readyz` (ready to take work, ``CollectorHealth``); also on
///   the metrics listener with `/metrics`.
///
/// Handlers throw their refusals (``IngestRejection``, ``CloudTrailAPIError``); the middleware in
/// front of each endpoint renders them.
struct CollectorRoutes: Sendable {
    let configuration: CollectorConfiguration
    let pipeline: IngestPipeline
    let binder: RecordBinder
    let records: CollectorRecords
    let api: CloudTrailAPI
    let revoked: RevokedHosts
    let readCertificate: ClientCertificateReader
    let responses: ResponseDesk?
    let metrics: CollectorMetrics?
    let health: CollectorHealth?
    let apiAccess: LiveValue<APIAccess>
    let certificates = HostCertificates()

    init(
        configuration: CollectorConfiguration, pipeline: IngestPipeline, revoked: RevokedHosts, archive: (any ArchiveLedger)? = nil,
        rules: RuleStatusBoard? = nil, responses: ResponseDesk? = nil, metrics: CollectorMetrics? = nil, health: CollectorHealth? = nil,
        readCertificate: @escaping ClientCertificateReader = ClientCertificate.of(channel:)
    ) {
        self.configuration = configuration
        self.pipeline = pipeline
        self.revoked = revoked
        self.readCertificate = readCertificate
        binder = RecordBinder(configuration: configuration)
        records = CollectorRecords(binder: binder)
        api = CloudTrailAPI(
            store: pipeline.store, configuration: configuration, archive: archive, rules: rules, responses: responses, certificates: certificates)
        self.responses = responses
        self.metrics = metrics
        self.health = health
        apiAccess = LiveValue(APIAccess(accessKeys: configuration.accessKeys, fleetReaders: configuration.fleetReaders))
    }

    func register(on router: Router<CollectorRequestContext>) {
        router.group()
            .add(middleware: IngestEndpoint(limiter: IngestLimiter(limit: configuration.maxConcurrentIngest), metrics: metrics))
            .add(
                middleware: HostAuthentication(
                    revoked: revoked, records: records, pipeline: pipeline, readCertificate: readCertificate, certificates: certificates)
            )
            .post("/v1/records") { request, context in try await ingest(request: request, context: context) }
        if let responses {
            // Long-polls hold no ingest slot.
            router.group()
                .add(middleware: IngestEndpoint(limiter: nil, metrics: nil))
                .add(
                    middleware: HostAuthentication(
                        revoked: revoked, records: records, pipeline: pipeline, readCertificate: readCertificate, certificates: certificates)
                )
                .post("/v1/responses") { request, context -> Response in
                    guard let host = context.host else { throw IngestRejection(status: 403, code: "ClientCertificateRequired", message: "no host") }
                    var request = request
                    let body = try await request.collectBody(upTo: 1 << 20)
                    return .json(status: .ok, try await responses.exchange(host: host, body: Data(body.readableBytesView)))
                }
        }
        router.group()
            .add(middleware: CloudTrailEndpoint(metrics: metrics))
            .add(
                middleware: CloudTrailAuthentication(access: apiAccess, revoked: revoked, readCertificate: readCertificate)
            )
            .post("/") { request, context -> Response in
                .amzJSON(
                    status: .ok,
                    try await api.handle(target: request.headers[HTTPField.Name("X-Amz-Target")!], body: context.apiBody, scope: context.scope))
            }
        router.get("/healthz") { _, _ in
            Response.json(status: .ok, Data("{\"status\":\"ok\"}".utf8))
        }
        if let health {
            router.get("/readyz") { _, _ in
                let report = await health.readiness()
                return Response.json(status: report.ready ? .ok : .serviceUnavailable, Data(report.json(detailed: false)))
            }
        }
    }

    /// Stores one batch from `context.host`: `200 {"accepted","duplicates"}` once committed.
    func ingest(request: Request, context: CollectorRequestContext) async throws -> Response {
        guard let host = context.host else { throw IngestRejection(status: 403, code: "ClientCertificateRequired", message: "no host") }
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
                throw IngestRejection(status: 415, code: "UnsupportedEncoding", message: "Content-Encoding \(encoding) is not supported; use gzip")
            }
            do {
                body = try body.decompress(with: .gzip(), maxSize: configuration.maxDecompressedBytes)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw IngestRejection(
                    status: 413, code: "RequestTooLarge", message: "the batch inflates past \(configuration.maxDecompressedBytes) bytes; split it")
            } catch {
                throw IngestRejection.badRequest("the body is not valid gzip: \(error)")
            }
        }
        let batch = try binder.bind(body: Data(body.readableBytesView), host: host)
        let result: IngestResult
        do {
            let records = self.records
            let logger = context.logger
            let started = ContinuousClock.now
            defer { metrics?.committed(after: .now - started) }
            result = try await pipeline.commit(batch) { collision in
                do {
                    return try records.eventIDCollision(collision)
                } catch {
                    logger.error("cannot record an event-ID collision", metadata: ["error": "\(error)", "ingest.host": "\(collision.host)"])
                    return nil
                }
            }
        } catch {
            health?.commitFailed()
            context.logger.error("cannot store records", metadata: ["error": "\(error)", "ingest.host": "\(host)"])
            throw IngestRejection(status: 503, code: "StoreUnavailable", message: "the store cannot commit right now", retryAfter: 5)
        }
        metrics?.ingested(host: host, result)
        context.logger.debug(
            "stored records",
            metadata: ["ingest.host": "\(host)", "ingest.accepted": "\(result.accepted)", "ingest.duplicates": "\(result.duplicates)"])
        return .json(status: .ok, try CloudTrailAPI.encoder.encode(result))
    }
}

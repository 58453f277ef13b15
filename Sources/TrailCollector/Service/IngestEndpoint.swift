// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import Logging

/// What every `/v1/records` request passes first: the concurrency limit (`503` with
/// `Retry-After` past it), and one place where a refusal is logged and any other error becomes
/// `500 InternalError` in the same JSON shape (``IngestRejection`` renders itself).
struct IngestEndpoint: RouterMiddleware {
    typealias Context = CollectorRequestContext

    /// `nil` for an endpoint of hosts that holds no batch (the responses long-poll).
    let limiter: IngestLimiter?
    /// Counts refusals by code.
    let metrics: CollectorMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let limiter {
            guard limiter.enter() else {
                metrics?.ingestRefused(code: "Overloaded")
                throw IngestRejection(
                    status: 503, code: "Overloaded", message: "the collector is at its limit of \(limiter.limit) concurrent batches", retryAfter: 1)
            }
        }
        defer { limiter?.leave() }
        do {
            return try await next(request, context)
        } catch let rejection as IngestRejection {
            metrics?.ingestRefused(code: rejection.code)
            context.logger.notice("refused records", metadata: ["error": "\(rejection)"])
            throw rejection
        } catch {
            metrics?.ingestRefused(code: "InternalError")
            context.logger.error("ingest failed", metadata: ["error": "\(error)"])
            throw IngestRejection(status: 500, code: "InternalError", message: "\(error)")
        }
    }
}

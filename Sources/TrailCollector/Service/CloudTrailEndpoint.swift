// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TrailCore

/// What every CloudTrail API call passes first: a request ID (`x-amzn-RequestId`, as AWS answers),
/// and the one place errors become CloudTrail's JSON error shape (`{"__type","message"}`) with
/// their status.
struct CloudTrailEndpoint: RouterMiddleware {
    typealias Context = CollectorRequestContext

    static let requestIDField = HTTPField.Name("x-amzn-RequestId")!

    /// Counts calls by operation and status.
    var metrics: CollectorMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = UUID().uuidString.lowercased()
        var response: Response
        do {
            response = try await next(request, context)
        } catch let failure as CloudTrailFailure {
            context.logger.notice("refused a CloudTrail API call", metadata: ["error": "\(failure.error)"])
            response = Self.response(status: failure.status, failure.error)
        } catch let error as CloudTrailAPIError {
            response = Self.response(status: .badRequest, error)
        } catch {
            context.logger.error("CloudTrail API call failed", metadata: ["error": "\(error)"])
            response = Self.response(status: .internalServerError, CloudTrailAPIError(type: "InternalFailure", message: "\(error)"))
        }
        response.headers[Self.requestIDField] = requestID
        metrics?.apiCall(target: request.headers[HTTPField.Name("X-Amz-Target")!], status: Int(response.status.code))
        return response
    }

    static func response(status: HTTPResponse.Status, _ error: CloudTrailAPIError) -> Response {
        .amzJSON(status: status, (try? CloudTrailAPI.encoder.encode(error)) ?? Data())
    }
}

/// A CloudTrail API error with a status other than `400`: a refused signature or certificate.
struct CloudTrailFailure: Error {
    var status: HTTPResponse.Status
    var error: CloudTrailAPIError
}

extension Response {
    /// A CloudTrail API body (JSON 1.1).
    static func amzJSON(status: HTTPResponse.Status, _ body: Data) -> Response {
        Response(status: status, headers: [.contentType: "application/x-amz-json-1.1"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A JSON body.
    static func json(status: HTTPResponse.Status, _ body: Data, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// The body of `POST /v1/events`, split into its events.
///
/// `application/x-ndjson` is one event per line; any other content type is read as JSON (so that
/// `curl -d` works): one event object, `{"events": [...]}`, or an array of events.
public enum ApplicationRequest {
    /// Splits a request body into event values, checking the per-request limits.
    ///
    /// - Throws: ``EventValidationError`` for malformed JSON, a wrong shape, too many events or an
    ///   event over ``ApplicationEvent/Limits/maxEventBytes``.
    public static func events(body: Data, contentType: String?) throws -> [JSONValue] {
        try items(body: body, contentType: contentType).map { try $0.get() }
    }

    /// Splits a request body into its events, each parsed or refused on its own (an NDJSON line
    /// that is not JSON, an event over the size limit), for `?partial=true`.
    ///
    /// - Throws: ``EventValidationError`` for what spoils the whole request: a body that is not
    ///   JSON or not of a known shape, no events, too many.
    public static func items(body: Data, contentType: String?) throws -> [Result<JSONValue, EventValidationError>] {
        let values: [Result<JSONValue, EventValidationError>]
        if let contentType, isNDJSON(contentType) {
            values = ndjson(body)
        } else {
            let value = try decode(body, what: "request body")
            switch value {
            case .object(let members) where members["events"] != nil:
                guard members.count == 1, let events = members["events"]?.arrayValue else {
                    throw EventValidationError(
                        .invalidRequest, "a batch must be {\"events\": [...]} with an array and nothing else",
                        field: "events")
                }
                // No event can be larger than the whole body.
                values = body.count > ApplicationEvent.Limits.maxEventBytes ? checkSizes(events) : events.map { .success($0) }
            case .object:
                guard body.count <= ApplicationEvent.Limits.maxEventBytes else {
                    throw EventValidationError(
                        .eventTooLarge, "the event is \(body.count) bytes; the limit is \(ApplicationEvent.Limits.maxEventBytes)",
                        index: 0)
                }
                values = [.success(value)]
            case .array(let events):
                values = body.count > ApplicationEvent.Limits.maxEventBytes ? checkSizes(events) : events.map { .success($0) }
            default:
                throw EventValidationError(
                    .invalidRequest, "the body must be a JSON object (one event or {\"events\": [...]}), got \(value.typeName)")
            }
        }
        guard !values.isEmpty else {
            throw EventValidationError(.invalidRequest, "the request holds no events")
        }
        guard values.count <= ApplicationEvent.Limits.maxEventsPerRequest else {
            throw EventValidationError(
                .tooManyEvents,
                "the request holds \(values.count) events; the limit is \(ApplicationEvent.Limits.maxEventsPerRequest)")
        }
        return values
    }

    /// Whether the media type (before any `;` parameters, spaces and case aside) is
    /// `application/x-ndjson`. Compared as bytes: Foundation's trimming went through NSString
    /// and cost more per request than parsing the body.
    static func isNDJSON(_ contentType: String) -> Bool {
        var bytes = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }[...]
        while let first = bytes.first, first == 32 || first == 9 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 32 || last == 9 { bytes = bytes.dropLast() }
        let expected = "application/x-ndjson".utf8
        guard bytes.count == expected.count else { return false }
        // ASCII lowercase: set bit 5 on letters only.
        return zip(bytes, expected).allSatisfy { byte, wanted in
            (byte >= 65 && byte <= 90 ? byte | 0x20 : byte) == wanted
        }
    }

    static func ndjson(_ body: Data) -> [Result<JSONValue, EventValidationError>] {
        var values: [Result<JSONValue, EventValidationError>] = []
        var lineNumber = 0
        for line in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
            if trimmed.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            guard trimmed.count <= ApplicationEvent.Limits.maxEventBytes else {
                values.append(
                    .failure(
                        EventValidationError(
                            .eventTooLarge,
                            "line \(lineNumber) is \(trimmed.count) bytes; the limit for one event is \(ApplicationEvent.Limits.maxEventBytes)",
                            index: values.count)))
                continue
            }
            do {
                values.append(.success(try JSONValue.parse(trimmed)))
            } catch let error as JSONValue.ParseError {
                values.append(
                    .failure(EventValidationError(.malformedJSON, "line \(lineNumber) is not valid JSON: \(error.message)", index: values.count)))
            } catch {
                values.append(.failure(EventValidationError(.malformedJSON, "line \(lineNumber) is not valid JSON", index: values.count)))
            }
        }
        return values
    }

    static func decode(_ data: Data, what: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch let error as JSONValue.ParseError {
            throw EventValidationError(.malformedJSON, "the \(what) is not valid JSON: \(error)")
        }
    }

    static func checkSizes(_ values: [JSONValue]) -> [Result<JSONValue, EventValidationError>] {
        values.enumerated().map { index, value in
            // Re-serializing costs little next to the fsync the events are about to get.
            let size = value.serialized().count
            guard size <= ApplicationEvent.Limits.maxEventBytes else {
                return .failure(
                    EventValidationError(
                        .eventTooLarge, "event \(index) is \(size) bytes; the limit is \(ApplicationEvent.Limits.maxEventBytes)",
                        index: index))
            }
            return .success(value)
        }
    }
}

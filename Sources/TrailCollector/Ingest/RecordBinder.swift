// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// Binds incoming records to the host that sent them and stamps the collector's settings.
///
/// A host is its client certificate's CN. Every host a record claims (in
/// `additionalEventData.host.hostname` or a `HostTrail::Host` resource) must be that CN, else the
/// whole batch is refused: a host cannot write records in another host's name. Then the record
/// gets the fleet's `recipientAccountId`, `awsRegion`, the trail's ARN and a complete host resource.
public struct RecordBinder: Sendable {
    public var accountID: String
    public var region: String
    public var trailARN: String
    /// The largest record stored (its canonical JSON).
    public var maxRecordBytes: Int

    /// The host name of the collector's own records (retention, collision alerts), and their event
    /// source: no host certificate may write either, so those records cannot be forged, pre-empted
    /// or read by a host confined to its own records.
    public static let collectorHost = "collector"
    public static let collectorEventSource = "collector.hosttrail"
    /// Rules' matches and their actions' attempts.
    public static let rulesEventSource = "rules.hosttrail"
    /// What only the collector writes (Insights leave them out: `InsightCounter.counts`, the
    /// store's `insightCounts`).
    static let reservedEventSources: Set<String> = [collectorEventSource, rulesEventSource]
    /// The `eventCategory` and `eventType` of Insight records, which only the collector writes.
    public static let insightCategory = "Insight"
    public static let insightEventType = "AwsCloudTrailInsight"

    public init(accountID: String, region: String, trailARN: String, maxRecordBytes: Int = 512 * 1024) {
        self.accountID = accountID
        self.region = region
        self.trailARN = trailARN
        self.maxRecordBytes = maxRecordBytes
    }

    /// The binder of `configuration`'s collector.
    public init(configuration: CollectorConfiguration) {
        self.init(
            accountID: configuration.accountID, region: configuration.region, trailARN: configuration.trailARN,
            maxRecordBytes: configuration.maxRecordBytes)
    }

    /// Decodes a `{"Records": [...]}` body and binds every record to `host`.
    ///
    /// - Throws: ``IngestRejection``: 400 for a body that is not a batch, or naming every record
    ///   that cannot be stored (``IngestRejection/refused``, so the agent sets aside those alone);
    ///   403 for a record in another host's name (the whole batch: the host is not to be trusted).
    public func bind(body: Data, host: String) throws -> [StoredRecord] {
        guard host != Self.collectorHost else {
            throw IngestRejection(
                status: 403, code: "ReservedHostName",
                message: "\"\(host)\" names the collector's own records; give the host a certificate with its own name")
        }
        let records: [JSONValue]
        do {
            guard let members = try JSONValue.parse(body).objectValue, let array = members["Records"]?.arrayValue else {
                throw RecordFormatError("the body must be {\"Records\": [...]}")
            }
            records = array
        } catch {
            throw IngestRejection.badRequest("the body is not {\"Records\": [...]} of CloudTrail records: \(Self.describe(error))")
        }
        var bound: [StoredRecord] = []
        bound.reserveCapacity(records.count)
        var refused: [IngestRejection.RefusedRecord] = []
        for (index, json) in records.enumerated() {
            do {
                let record: CloudTrailRecord
                do {
                    record = try CloudTrailRecord(json: json)
                } catch {
                    throw IngestRejection.badRequest("record \(index): \(Self.describe(error))")
                }
                if let source = record.eventSource, Self.reservedEventSources.contains(source) {
                    throw IngestRejection(
                        status: 403, code: "ReservedEventSource",
                        message: "record \(index) (\(record.eventID)) is in \(source), which only the collector writes")
                }
                // A host records what it did about a response; what was asked of it is the collector's.
                if record.eventSource == ResponseRecordBuilder.eventSource, record.eventName == ResponseRecordBuilder.requestEventName {
                    throw IngestRejection(
                        status: 403, code: "ReservedEventName",
                        message: "record \(index) (\(record.eventID)) is a \(ResponseRecordBuilder.requestEventName), which only the collector writes"
                    )
                }
                // Insights are the collector's finding about hosts; a host writing one could
                // forge a finding, or hide its records from every lookup but Insights'.
                guard record.eventCategory != Self.insightCategory, record.eventType != Self.insightEventType else {
                    throw IngestRejection(
                        status: 403, code: "ReservedEventCategory",
                        message: "record \(index) (\(record.eventID)) is an Insight, which only the collector writes")
                }
                bound.append(try bind(record, index: index, host: host))
            } catch let rejection as IngestRejection where rejection.statusCode == 400 {
                refused.append(
                    .init(
                        index: index, eventID: json["eventID"]?.stringValue,
                        code: rejection.code == "InvalidRecords" ? "InvalidRecord" : rejection.code,
                        message: rejection.message))
            }
        }
        guard refused.isEmpty else {
            throw IngestRejection(
                status: 400, code: "InvalidRecords",
                message: "\(refused.count) of \(records.count) records cannot be stored; the first: \(refused[0].message)", refused: refused)
        }
        return bound
    }

    func bind(_ record: CloudTrailRecord, index: Int, host: String) throws -> StoredRecord {
        guard EventID.isWellFormed(record.eventID) else {
            throw IngestRejection.badRequest("record \(index): eventID \"\(record.eventID)\" is not a UUID")
        }
        guard let name = record.listedEventName, !name.isEmpty, let source = record.listedEventSource, !source.isEmpty else {
            throw IngestRejection.badRequest("record \(index) (\(record.eventID)): eventName and eventSource must be present and not empty")
        }
        // What the store indexes and lookups list: one line of visible text (a NUL would end the
        // indexed string early, and a lookup for one name would return a record of another).
        let identifiers: [(String, String?)] =
            [
                ("eventName", name), ("eventSource", source), ("userIdentity.userName", record.userNameForLookup),
                ("sessionIssuer.userName", record.userIdentity?.sessionContext?.sessionIssuer?.userName), ("sourceIPAddress", record.sourceIPAddress),
                ("userIdentity.accessKeyId", record.userIdentity?.accessKeyId), ("eventCategory", record.eventCategory),
                ("requestID", record.requestID),
            ] + (record.resources ?? []).flatMap { [("resources.type", $0.type), ("resources.ARN", $0.arn)] }
        for (field, value) in identifiers where value.map({ IdentifierText.containsControlCharacter($0) }) == true {
            throw IngestRejection.badRequest("record \(index) (\(record.eventID)): \(field) holds a control character")
        }
        for claimed in record.allClaimedHostNames where claimed != host {
            throw IngestRejection(
                status: 403, code: "HostMismatch",
                message:
                    "record \(index) (\(record.eventID)) claims host \"\(claimed)\" but the client certificate is for \"\(host)\"; a host can only write its own records"
            )
        }
        var bound = record
        bound.eventID = record.eventID.lowercased()
        bound.recipientAccountId = accountID
        bound.awsRegion = region
        var additional = bound.additionalEventData?.objectValue ?? [:]
        var hostMembers = additional["host"]?.objectValue ?? [:]
        hostMembers["hostname"] = .string(host)
        additional["host"] = .object(hostMembers)
        additional["trailARN"] = .string(trailARN)
        bound.additionalEventData = .object(additional)
        var resources = (bound.resources ?? []).filter { $0.type != RecordResource.hostType }
        resources.append(.host(named: host, accountId: accountID, region: region))
        bound.resources = resources
        let stored: StoredRecord
        do {
            stored = try StoredRecord(record: bound, host: host)
        } catch let error as CloudTrailAPIError {
            throw IngestRejection.badRequest("record \(index) (\(record.eventID)): \(error.message)")
        }
        // What one record may weigh: every lookup page and log file carries whole records.
        guard stored.json.utf8.count <= maxRecordBytes else {
            throw IngestRejection(
                status: 400, code: "RecordTooLarge",
                message: "record \(index) (\(record.eventID)) is \(stored.json.utf8.count) bytes; the limit is \(maxRecordBytes) (--max-record-bytes)"
            )
        }
        return stored
    }

    /// Stamps one of the collector's Insight records and stores it under `host` (the host it is
    /// about, else ``collectorHost``); it keeps CloudTrail's shape: no host member or resource.
    func bindInsight(_ record: CloudTrailRecord, host: String) throws -> StoredRecord {
        var bound = record
        bound.recipientAccountId = accountID
        bound.awsRegion = region
        return try StoredRecord(record: bound, host: host)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \(key.stringValue) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.dataCorrupted:
            return "not valid JSON"
        case let error as JSONValue.ParseError:
            return "not valid JSON (\(error))"
        case let error as RecordFormatError:
            return error.message
        default:
            return "\(error)"
        }
    }
}

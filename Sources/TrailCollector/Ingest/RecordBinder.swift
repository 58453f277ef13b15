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

    public init(accountID: String, region: String, trailARN: String) {
        self.accountID = accountID
        self.region = region
        self.trailARN = trailARN
    }

    /// Decodes a `{"Records": [...]}` body and binds every record to `host`.
    ///
    /// - Throws: ``IngestRejection`` (400 for a malformed body or record, 403 for a foreign host).
    public func bind(body: Data, host: String) throws -> [StoredRecord] {
        let batch: RecordBatch
        do {
            batch = try RecordBatch.decode(from: body)
        } catch {
            throw IngestRejection.badRequest("the body is not {\"Records\": [...]} of CloudTrail records: \(Self.describe(error))")
        }
        return try batch.records.enumerated().map { index, record in
            try bind(record, index: index, host: host)
        }
    }

    func bind(_ record: CloudTrailRecord, index: Int, host: String) throws -> StoredRecord {
        guard EventID.isWellFormed(record.eventID) else {
            throw IngestRejection.badRequest("record \(index): eventID \"\(record.eventID)\" is not a UUID")
        }
        guard !record.eventName.isEmpty, !record.eventSource.isEmpty else {
            throw IngestRejection.badRequest("record \(index) (\(record.eventID)): eventName and eventSource must not be empty")
        }
        // What the store indexes and lookups list: one line of visible text (a NUL would end the
        // indexed string early, and a lookup for one name would return a record of another).
        let identifiers: [(String, String?)] = [
            ("eventName", record.eventName), ("eventSource", record.eventSource), ("userIdentity.userName", record.userNameForLookup),
            ("sessionIssuer.userName", record.userIdentity?.sessionContext?.sessionIssuer?.userName), ("sourceIPAddress", record.sourceIPAddress),
            ("userIdentity.accessKeyId", record.userIdentity?.accessKeyId), ("eventCategory", record.eventCategory), ("requestID", record.requestID),
        ] + (record.resources ?? []).flatMap { [("resources.type", $0.type), ("resources.ARN", $0.arn)] }
        for (field, value) in identifiers where value.map(IdentifierText.containsControlCharacter) == true {
            throw IngestRejection.badRequest("record \(index) (\(record.eventID)): \(field) holds a control character")
        }
        for claimed in record.allClaimedHostNames where claimed != host {
            throw IngestRejection(
                status: 403, code: "HostMismatch",
                message: "record \(index) (\(record.eventID)) claims host \"\(claimed)\" but the client certificate is for \"\(host)\"; a host can only write its own records")
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
        do {
            return try StoredRecord(record: bound, host: host)
        } catch let error as CloudTrailAPIError {
            throw IngestRejection.badRequest("record \(index) (\(record.eventID)): \(error.message)")
        }
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

// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// `{"Records": [...]}`: the body of a CloudTrail log file and of the agent's `POST /v1/records`.
public struct RecordBatch: Sendable, Hashable, Codable {
    public var records: [CloudTrailRecord]

    public init(records: [CloudTrailRecord]) {
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records"
    }

    /// Decodes a `{"Records": [...]}` body.
    ///
    /// - Throws: ``JSONValue/ParseError`` or ``RecordFormatError`` naming the record and member.
    public static func decode(from data: Data) throws -> RecordBatch {
        let document = try JSONValue.parse(data)
        guard let members = document.objectValue, let records = members["Records"]?.arrayValue else {
            throw RecordFormatError("the body must be {\"Records\": [...]}")
        }
        return RecordBatch(
            records: try records.enumerated().map { index, record in
                do {
                    return try CloudTrailRecord(json: record)
                } catch let error as RecordFormatError {
                    throw RecordFormatError("Records[\(index)]: \(error.message)")
                }
            })
    }

    /// Builds the body from records that are already canonical JSON, without decoding them again.
    public static func encode(canonicalRecords: [Data]) -> Data {
        var body = Data("{\"Records\":[".utf8)
        for (index, record) in canonicalRecords.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(record)
        }
        body.append(contentsOf: Array("]}".utf8))
        return body
    }
}

/// The collector's reply to `POST /v1/records`: how many records were new and how many it already had.
public struct IngestResult: Sendable, Hashable, Codable {
    public var accepted: Int
    public var duplicates: Int

    public init(accepted: Int, duplicates: Int) {
        self.accepted = accepted
        self.duplicates = duplicates
    }
}

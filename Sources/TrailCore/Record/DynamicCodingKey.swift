// SPDX-License-Identifier: Apache-2.0

/// A coding key for any member name, so records can keep members this version does not model.
struct DynamicCodingKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { self.stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Decoding and encoding helpers shared by the record types: a modelled member whose value is an
/// explicit `null` is kept among the unmodelled ones, so it encodes back as `null` rather than vanishing.
struct LosslessObjectReader {
    private let container: KeyedDecodingContainer<DynamicCodingKey>
    private(set) var unmodelled: [String: JSONValue]

    init(_ decoder: any Decoder) throws {
        container = try decoder.container(keyedBy: DynamicCodingKey.self)
        var all: [String: JSONValue] = [:]
        for key in container.allKeys {
            all[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        unmodelled = all
    }

    /// Takes a modelled member out of the unmodelled set; `nil` when absent or `null` (then kept).
    mutating func take<T: Decodable>(_ type: T.Type, _ name: String) throws -> T? {
        guard let raw = unmodelled[name] else { return nil }
        if raw == .null { return nil }
        let value = try container.decode(T.self, forKey: DynamicCodingKey(name))
        unmodelled[name] = nil
        return value
    }

    /// Takes a free-form member; an explicit `null` is returned as `.null`.
    mutating func takeJSON(_ name: String) -> JSONValue? {
        guard let raw = unmodelled[name] else { return nil }
        unmodelled[name] = nil
        return raw
    }

    mutating func require<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        guard let value = try take(type, name) else {
            throw DecodingError.keyNotFound(
                DynamicCodingKey(name),
                .init(codingPath: container.codingPath, debugDescription: "required member \"\(name)\" is missing")
            )
        }
        return value
    }
}

struct LosslessObjectWriter {
    private var container: KeyedEncodingContainer<DynamicCodingKey>
    private var written: Set<String> = []

    init(_ encoder: any Encoder) {
        container = encoder.container(keyedBy: DynamicCodingKey.self)
    }

    mutating func put<T: Encodable>(_ value: T?, _ name: String) throws {
        guard let value else { return }
        try container.encode(value, forKey: DynamicCodingKey(name))
        written.insert(name)
    }

    mutating func putAll(_ members: [String: JSONValue]) throws {
        for (name, value) in members where !written.contains(name) {
            try container.encode(value, forKey: DynamicCodingKey(name))
        }
    }
}

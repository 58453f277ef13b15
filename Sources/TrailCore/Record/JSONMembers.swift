// SPDX-License-Identifier: Apache-2.0

/// A record member of the wrong type, or a required one missing.
public struct RecordFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads modelled members out of a JSON object, leaving the rest for `otherMembers`.
///
/// A modelled member whose value is an explicit `null` stays among the others, so it is written
/// back as `null` rather than vanishing.
struct JSONMembers {
    private(set) var remaining: [String: JSONValue]
    let context: String

    init(_ value: JSONValue, context: String) throws {
        guard let members = value.objectValue else {
            throw RecordFormatError("\(context) must be an object, got \(value.typeName)")
        }
        remaining = members
        self.context = context
    }

    mutating func string(_ name: String) throws -> String? {
        guard let value = remaining[name], value != .null else { return nil }
        guard let text = value.stringValue else {
            throw RecordFormatError("\(context).\(name) must be a string, got \(value.typeName)")
        }
        remaining[name] = nil
        return text
    }

    mutating func requiredString(_ name: String) throws -> String {
        guard let text = try string(name) else { throw RecordFormatError("\(context).\(name) is missing") }
        return text
    }

    mutating func bool(_ name: String) throws -> Bool? {
        guard let value = remaining[name], value != .null else { return nil }
        guard case .bool(let flag) = value else {
            throw RecordFormatError("\(context).\(name) must be a boolean, got \(value.typeName)")
        }
        remaining[name] = nil
        return flag
    }

    /// A free-form member, `null` included.
    mutating func json(_ name: String) -> JSONValue? {
        defer { remaining[name] = nil }
        return remaining[name]
    }

    mutating func object<T>(_ name: String, _ make: (JSONValue, String) throws -> T) throws -> T? {
        guard let value = remaining[name], value != .null else { return nil }
        let result = try make(value, "\(context).\(name)")
        remaining[name] = nil
        return result
    }

    mutating func array<T>(_ name: String, _ make: (JSONValue, String) throws -> T) throws -> [T]? {
        guard let value = remaining[name], value != .null else { return nil }
        guard let elements = value.arrayValue else {
            throw RecordFormatError("\(context).\(name) must be an array, got \(value.typeName)")
        }
        let result = try elements.enumerated().map { index, element in try make(element, "\(context).\(name)[\(index)]") }
        remaining[name] = nil
        return result
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Sets `name` when `value` is not `nil`.
    mutating func set(_ name: String, _ value: JSONValue?) {
        if let value { self[name] = value }
    }

    mutating func set(_ name: String, _ value: String?) {
        if let value { self[name] = .string(value) }
    }

    mutating func set(_ name: String, _ value: Bool?) {
        if let value { self[name] = .bool(value) }
    }
}

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

    /// Takes a modelled member out of `remaining` with one hash lookup; an explicit `null` goes back.
    private mutating func take(_ name: String) -> JSONValue? {
        guard let value = remaining.removeValue(forKey: name) else { return nil }
        if value == .null {
            remaining[name] = .null
            return nil
        }
        return value
    }

    mutating func string(_ name: String) throws -> String? {
        guard let value = take(name) else { return nil }
        guard let text = value.stringValue else {
            throw RecordFormatError("\(context).\(name) must be a string, got \(value.typeName)")
        }
        return text
    }

    mutating func requiredString(_ name: String) throws -> String {
        guard let text = try string(name) else { throw RecordFormatError("\(context).\(name) is missing") }
        return text
    }

    mutating func bool(_ name: String) throws -> Bool? {
        guard let value = take(name) else { return nil }
        guard case .bool(let flag) = value else {
            throw RecordFormatError("\(context).\(name) must be a boolean, got \(value.typeName)")
        }
        return flag
    }

    /// A free-form member, `null` included.
    mutating func json(_ name: String) -> JSONValue? {
        remaining.removeValue(forKey: name)
    }

    mutating func object<T>(_ name: String, _ make: (JSONValue, String) throws -> T) throws -> T? {
        guard let value = take(name) else { return nil }
        return try make(value, "\(context).\(name)")
    }

    mutating func array<T>(_ name: String, _ make: (JSONValue, String) throws -> T) throws -> [T]? {
        guard let value = take(name) else { return nil }
        guard let elements = value.arrayValue else {
            throw RecordFormatError("\(context).\(name) must be an array, got \(value.typeName)")
        }
        return try elements.enumerated().map { index, element in try make(element, "\(context).\(name)[\(index)]") }
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

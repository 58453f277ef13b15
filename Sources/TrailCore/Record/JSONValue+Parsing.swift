// SPDX-License-Identifier: Apache-2.0

/// A JSON parser and a canonical serializer for ``JSONValue``, without Foundation's Codable layers.
///
/// The socket and ingest paths parse and write every record; going through `JSONDecoder` and
/// `JSONEncoder` for each cost more than everything else the agent does per event. Canonical
/// output: object keys sorted, no insignificant white space, `/` not escaped, non-ASCII as UTF-8.
extension JSONValue {
    /// Why a document is not JSON, and where.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        /// Byte offset of the problem.
        public var offset: Int
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// Nesting deeper than this is refused (a stack guard).
    public static let maxDepth = 512

    /// Parses one JSON document (RFC 8259); white space may surround it, nothing else.
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws -> JSONValue {
        if let value = try bytes.withContiguousStorageIfAvailable({ buffer in try parse(UnsafeRawBufferPointer(buffer)) }) {
            return value
        }
        return try Array(bytes).withUnsafeBytes { try parse($0) }
    }

    static func parse(_ buffer: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = JSONParser(bytes: buffer)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == buffer.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// The canonical serialization.
    public func serialized() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(to: &output)
        return output
    }

    /// Appends the canonical serialization to `output`.
    public func write(to output: inout [UInt8]) {
        switch self {
        case .null: Self.writeRaw("null", to: &output)
        case .bool(let flag): Self.writeRaw(flag ? "true" : "false", to: &output)
        case .integer(let number): Self.writeInteger(number, to: &output)
        case .number(let number):
            // Swift prints the shortest text that reads back as the same Double ("2.0", "8.8e-05").
            if number.isFinite {
                output.append(contentsOf: String(number).utf8)
            } else {
                Self.writeRaw("null", to: &output)  // JSON has no NaN or infinity
            }
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.count == 1, let (key, value) = members.first {
                // Nothing to sort (a sign-in's outcome): no array either.
                output.append(UInt8(ascii: "{"))
                Self.writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                value.write(to: &output)
                output.append(UInt8(ascii: "}"))
                return
            }
            // Sorting the pairs, not the keys, spares a hash lookup per member.
            var pairs = Array(members)
            Self.writeObject(&pairs, to: &output)
        }
    }

    /// Appends an object with `members` (names unique) in canonical form: sorted (in place) by
    /// name, unless the caller says they already are.
    static func writeObject(_ members: inout [(key: String, value: JSONValue)], sorted: Bool = false, to output: inout [UInt8]) {
        if !sorted { members.sort { $0.key < $1.key } }
        output.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            writeString(member.key, to: &output)
            output.append(UInt8(ascii: ":"))
            member.value.write(to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Appends `number` in decimal (what `String(number)` says, without making the string:
    /// every record has a port, a pid or an offset).
    static func writeInteger(_ number: Int64, to output: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: 19 digits and a sign fit
        withUnsafeMutableBytes(of: &digits) { buffer in
            var magnitude = number.magnitude
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(truncatingIfNeeded: magnitude % 10) + UInt8(ascii: "0")
                magnitude /= 10
            } while magnitude > 0
            if number < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// Appends text fixed in the code (already JSON): the record writers' runs between values.
    static func writeRaw(_ text: StaticString, to output: inout [UInt8]) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }

    static func writeString(_ text: String, to output: inout [UInt8]) {
        // Most strings need no escaping: copy them whole.
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !needsEscaping(UnsafeRawBufferPointer(bytes)) else { return false }
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: bytes)
            output.append(UInt8(ascii: "\""))
            return true
        }
        if copied == true { return }
        output.append(UInt8(ascii: "\""))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): writeRaw(#"\""#, to: &output)
            case UInt8(ascii: "\\"): writeRaw(#"\\"#, to: &output)
            case UInt8(ascii: "\n"): writeRaw(#"\n"#, to: &output)
            case UInt8(ascii: "\r"): writeRaw(#"\r"#, to: &output)
            case UInt8(ascii: "\t"): writeRaw(#"\t"#, to: &output)
            case 8: writeRaw(#"\b"#, to: &output)
            case 12: writeRaw(#"\f"#, to: &output)
            case 0..<32:
                writeRaw(#"\u00"#, to: &output)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 15)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// Whether any byte is a control character, `"` or `\\`: eight bytes at a time (the
    /// has-zero-byte and has-less-than tricks on a 64-bit word), then byte by byte.
    static func needsEscaping(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var next = bytes.baseAddress else { return false }
        var remaining = bytes.count
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while remaining >= 8 {
            let word = next.loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 34)
            let backslash = word ^ (ones &* 92)
            let control = (word &- ones &* 32) & ~word
            let special = control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
            if special & highs != 0 { return true }
            next += 8
            remaining -= 8
        }
        while remaining > 0 {
            let byte = next.load(as: UInt8.self)
            if byte < 32 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            next += 1
            remaining -= 1
        }
        return false
    }
}

/// A recursive-descent JSON parser over a byte buffer.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    func error(_ message: String) -> JSONValue.ParseError {
        JSONValue.ParseError(message: message, offset: position)
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of input") }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] {
            throw error("invalid literal")
        }
        position += count
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw error("nesting deeper than \(JSONValue.maxDepth)") }
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            members[key] = try parseValue(depth: depth)
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            position += 1
            return .object(members)
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw error("nesting deeper than \(JSONValue.maxDepth)") }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            position += 1
            return .array(elements)
        }
    }

    mutating func parseString() throws -> String {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                position += 1
                return try Self.decodeUTF8(slice, at: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 32 { throw error("control character in a string") }
            position += 1
        }
        var scalars: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return try scalars.withUnsafeBytes { try Self.decodeUTF8($0, at: start) }
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unexpected end of input") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(8)
                case UInt8(ascii: "f"): scalars.append(12)
                case UInt8(ascii: "n"): scalars.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "r"): scalars.append(UInt8(ascii: "\r"))
                case UInt8(ascii: "t"): scalars.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw error("unpaired surrogate")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    scalars.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw error("invalid escape")
                }
            default:
                if byte < 32 { throw error("control character in a string") }
                scalars.append(byte)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    static func decodeUTF8(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws -> String {
        // ASCII, most strings, is valid as it is (String(validating:) is generic over the encoding
        // and looks up its metadata on every call).
        if isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        // String(validating:) refuses malformed UTF-8 instead of repairing it.
        guard let text = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw JSONValue.ParseError(message: "invalid UTF-8 in a string", offset: offset)
        }
        return text
    }

    /// Whether every byte is below 0x80: eight at a time, then one by one.
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            offset += 8
        }
        while offset < bytes.count {
            if bytes[offset] >= 0x80 { return false }
            offset += 1
        }
        return true
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = position
        var isInteger = true
        if bytes[position] == 45 { position += 1 }
        guard position < bytes.count else { throw error("invalid number") }
        if bytes[position] == 48 {
            position += 1
        } else if (49...57).contains(bytes[position]) {
            while position < bytes.count, (48...57).contains(bytes[position]) { position += 1 }
        } else {
            throw error("invalid number")
        }
        if position < bytes.count, bytes[position] == 46 {
            isInteger = false
            position += 1
            let digits = position
            while position < bytes.count, (48...57).contains(bytes[position]) { position += 1 }
            guard position > digits else { throw error("invalid number") }
        }
        if position < bytes.count, bytes[position] == 101 || bytes[position] == 69 {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == 43 || bytes[position] == 45 { position += 1 }
            let digits = position
            while position < bytes.count, (48...57).contains(bytes[position]) { position += 1 }
            guard position > digits else { throw error("invalid number") }
        }
        if isInteger, position - start <= 18 {
            // Up to 18 digits cannot overflow: no text to make.
            var value: Int64 = 0
            let negative = bytes[start] == 45
            for offset in (negative ? start + 1 : start)..<position { value = value * 10 + Int64(bytes[offset] - 48) }
            return .integer(negative ? -value : value)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let number = Double(text), number.isFinite else { throw JSONValue.ParseError(message: "number out of range", offset: start) }
        return .number(number)
    }
}

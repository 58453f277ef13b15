// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#endif

/// Log text as the parsers read it: a view of UTF-8 bytes, searched, sliced and compared by byte.
///
/// A `Substring` retains its string at every slice and converts offsets to indices at every step;
/// on the tail path that was about a third of the parsers' cost. A `LogText` is a pointer and a
/// count: slicing it is arithmetic. It does not own its bytes, so it exists only inside
/// ``with(_:_:)``, and what a parser keeps leaves as a `String` (``string``).
///
/// The parsers' separators and needles are ASCII, so every offset found lies on a scalar
/// boundary: a slice of valid UTF-8 is valid UTF-8, and ``string`` is the text's own characters.
struct LogText {
    private let bytes: UnsafeBufferPointer<UInt8>

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// `body` over the UTF-8 of `text`, in place where it is contiguous (native strings and their
    /// slices, which is what the tailer and the journal reader make).
    static func with<Result>(_ text: some StringProtocol, _ body: (LogText) -> Result) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable({ body(LogText($0)) }) { return result }
        return Array(text.utf8).withUnsafeBufferPointer { body(LogText($0)) }
    }

    var count: Int { bytes.count }
    var isEmpty: Bool { bytes.isEmpty }
    var first: UInt8? { bytes.first }
    var last: UInt8? { bytes.last }

    subscript(offset: Int) -> UInt8 { bytes[offset] }

    /// The bytes in `range` (offsets from this text's start).
    subscript(range: Range<Int>) -> LogText { LogText(UnsafeBufferPointer(rebasing: bytes[range])) }

    /// The bytes from `offset` to the end.
    func suffix(from offset: Int) -> LogText { self[offset..<count] }

    /// The bytes before `offset`.
    func prefix(upTo offset: Int) -> LogText { self[0..<offset] }

    func dropFirst(_ length: Int) -> LogText { suffix(from: Swift.min(length, count)) }

    func dropLast(_ length: Int) -> LogText { prefix(upTo: Swift.max(0, count - length)) }

    /// `body` over the bytes themselves (for the byte-level readers, such as ``TrailTime``'s).
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result { body(bytes) }

    /// The text as a string (a copy).
    var string: String { String(decoding: bytes, as: UTF8.self) }

    /// The text as `Int(_:)` reads a string: an optional sign and decimal digits, or `nil`.
    var integer: Int? {
        var offset = 0
        var negative = false
        if let sign = first, sign == 43 || sign == 45 {
            negative = sign == 45
            offset = 1
        }
        guard offset < count else { return nil }
        var value = 0
        while offset < count {
            let byte = bytes[offset]
            guard byte >= 48, byte <= 57 else { return nil }
            let digit = Int(byte - 48)
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
            offset += 1
        }
        return value
    }

    /// The leading ASCII digits.
    var digitPrefix: LogText {
        var end = 0
        while end < count, bytes[end] >= 48, bytes[end] <= 57 { end += 1 }
        return prefix(upTo: end)
    }

    func allSatisfy(_ predicate: (UInt8) -> Bool) -> Bool { bytes.allSatisfy(predicate) }

    func contains(byte: UInt8) -> Bool { firstIndex(of: byte) != nil }

    // MARK: - Searching

    /// The offset of the first `byte`.
    func firstIndex(of byte: UInt8) -> Int? {
        guard let base = bytes.baseAddress, let hit = memchr(base, Int32(byte), count) else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
    }

    /// The offset of the last `byte`.
    func lastIndex(of byte: UInt8) -> Int? {
        bytes.lastIndex(of: byte)
    }

    /// The offsets of the first occurrence of `needle`.
    func range(of needle: StaticString) -> Range<Int>? {
        let length = needle.utf8CodeUnitCount
        guard length > 0 else { return 0..<0 }
        guard let base = bytes.baseAddress, count >= length else { return nil }
        let pattern = needle.utf8Start
        let last = count - length  // the latest start a match can have
        var from = 0
        while from <= last, let hit = memchr(base + from, Int32(pattern.pointee), last - from + 1) {
            let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
            if memcmp(base + at, pattern, length) == 0 { return at..<(at + length) }
            from = at + 1
        }
        return nil
    }

    /// The offsets of the last occurrence of `needle`.
    func lastRange(of needle: StaticString) -> Range<Int>? {
        let length = needle.utf8CodeUnitCount
        guard length > 0, let base = bytes.baseAddress, count >= length else { return nil }
        let pattern = needle.utf8Start
        let first = pattern.pointee
        var at = count - length
        while at >= 0 {
            // The first byte alone rules out nearly every position (memrchr is not in Glibc's module).
            if base[at] == first, memcmp(base + at, pattern, length) == 0 { return at..<(at + length) }
            at -= 1
        }
        return nil
    }

    /// Where `slice` (a part of this text) starts, counted from this text's start.
    func offset(of slice: LogText) -> Int {
        guard let base = bytes.baseAddress, let start = slice.bytes.baseAddress else { return 0 }
        return base.distance(to: start)
    }

    func contains(_ needle: StaticString) -> Bool { range(of: needle) != nil }

    func hasPrefix(_ prefix: StaticString) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard length <= count else { return false }
        guard let base = bytes.baseAddress, length > 0 else { return true }
        return memcmp(base, prefix.utf8Start, length) == 0
    }

    func hasSuffix(_ suffix: StaticString) -> Bool {
        let length = suffix.utf8CodeUnitCount
        guard length <= count else { return false }
        guard let base = bytes.baseAddress, length > 0 else { return true }
        return memcmp(base + (count - length), suffix.utf8Start, length) == 0
    }

    static func == (text: LogText, word: StaticString) -> Bool {
        text.count == word.utf8CodeUnitCount && text.hasPrefix(word)
    }

    static func != (text: LogText, word: StaticString) -> Bool { !(text == word) }

    // MARK: - The parsers' idioms

    /// What follows `prefix` when the text starts with it.
    func after(_ prefix: StaticString) -> LogText? {
        hasPrefix(prefix) ? suffix(from: prefix.utf8CodeUnitCount) : nil
    }

    /// What follows the first occurrence of `marker`.
    func afterFirst(_ marker: StaticString) -> LogText? {
        range(of: marker).map { suffix(from: $0.upperBound) }
    }

    /// The text up to the first space; `nil` when it starts with one or is empty.
    var firstWord: LogText? {
        let end = firstIndex(of: 32) ?? count
        return end == 0 ? nil : prefix(upTo: end)
    }

    /// The text before the next `'` (the rest of a quoted name whose opening quote was consumed).
    var quotedPrefix: String? {
        firstIndex(of: 39).map { prefix(upTo: $0).string }
    }

    var trimmingSpaces: LogText {
        var start = 0
        var end = count
        while start < end, bytes[start] == 32 { start += 1 }
        while end > start, bytes[end - 1] == 32 { end -= 1 }
        return self[start..<end]
    }

    var trimmingTrailingPeriod: LogText {
        last == 46 ? dropLast(1) : self
    }

    /// `split(separator:)` on a byte.
    func split(_ separator: UInt8, maxSplits: Int = Int.max, omittingEmptySubsequences: Bool = true) -> [LogText] {
        var parts: [LogText] = []
        var start = 0
        var offset = 0
        while offset < count {
            if bytes[offset] == separator, parts.count < maxSplits {
                if !(omittingEmptySubsequences && offset == start) {
                    parts.append(self[start..<offset])
                }
                start = offset + 1
            }
            offset += 1
        }
        if !(omittingEmptySubsequences && start == count) { parts.append(self[start..<count]) }
        return parts
    }

    /// Splits on a multi-byte separator (empty parts kept).
    func components(_ separator: StaticString) -> [LogText] {
        var parts: [LogText] = []
        var rest = self
        while let range = rest.range(of: separator) {
            parts.append(rest.prefix(upTo: range.lowerBound))
            rest = rest.suffix(from: range.upperBound)
        }
        parts.append(rest)
        return parts
    }

    /// The space-separated words, one at a time (what `split(32)` returns, without the array).
    struct Words: IteratorProtocol {
        private let text: LogText
        private var position = 0

        init(_ text: LogText) {
            self.text = text
        }

        /// Where the rest starts: the offset just past the last word returned.
        var offset: Int { position }

        mutating func next() -> LogText? {
            var at = position
            while at < text.count, text[at] == 32 { at += 1 }
            let start = at
            while at < text.count, text[at] != 32 { at += 1 }
            position = at
            return start < at ? text[start..<at] : nil
        }
    }

    var words: Words { Words(self) }
}

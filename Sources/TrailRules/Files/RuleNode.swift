// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// A rule file's tree, whatever its syntax: YAML (TrailRulesYAML, each node with its line) or
/// JSON (``RuleFile/load(json:defaultName:)``, for the agent, which links no YAML parser). The
/// rule parsers read this, so a rule means the same in either; values are typed as JSON's.
public indirect enum RuleNode: Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence([RuleNode])

    /// Where a node starts in its file.
    public struct Mark: Sendable, Hashable {
        /// From 1.
        public var line: Int
        public init(line: Int) { self.line = line }
    }

    public struct Scalar: Sendable {
        public var value: JSONValue
        public var mark: Mark?
        public init(value: JSONValue, mark: Mark?) {
            self.value = value
            self.mark = mark
        }
        /// The text of a string, or the JSON text of another value.
        public var string: String { value.stringValue ?? String(decoding: value.serialized(), as: UTF8.self) }
    }

    /// A mapping's members in file order; keys are strings (scalars).
    public struct Mapping: Sendable, Sequence {
        public var members: [(key: RuleNode, value: RuleNode)]
        public var mark: Mark?

        public init(_ members: [(RuleNode, RuleNode)], mark: Mark? = nil) {
            self.members = members.map { (key: $0.0, value: $0.1) }
            self.mark = mark
        }

        public subscript(key: String) -> RuleNode? { members.first { $0.key.string == key }?.value }
        public var count: Int { members.count }
        public var first: (key: RuleNode, value: RuleNode)? { members.first }
        public func makeIterator() -> IndexingIterator<[(key: RuleNode, value: RuleNode)]> { members.makeIterator() }
    }

    /// A plain string scalar without a place in a file.
    public init(_ string: String) { self = .scalar(Scalar(value: .string(string), mark: nil)) }

    public var mark: Mark? {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(let mapping): mapping.mark
        case .sequence: sequenceMark
        }
    }

    /// A sequence's place is that of its first element (neither syntax here keeps more).
    private var sequenceMark: Mark? {
        guard case .sequence(let items) = self else { return nil }
        return items.first?.mark
    }

    /// The text of a string scalar.
    public var string: String? {
        guard case .scalar(let scalar) = self, case .string(let text) = scalar.value else { return nil }
        return text
    }

    /// The node as JSON.
    public static func json(_ node: RuleNode) -> JSONValue {
        switch node {
        case .scalar(let scalar): return scalar.value
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping { members[key.string ?? ""] = json(value) }
            return .object(members)
        case .sequence(let items): return .array(items.map(json))
        }
    }

    /// `value` as a tree without lines (members in key order).
    public init(json value: JSONValue) {
        switch value {
        case .object(let members):
            self = .mapping(Mapping(members.sorted { $0.key < $1.key }.map { (RuleNode($0.key), RuleNode(json: $0.value)) }))
        case .array(let items): self = .sequence(items.map(RuleNode.init(json:)))
        default: self = .scalar(Scalar(value: value, mark: nil))
        }
    }

    /// The line of the node at `path` (`a.b[2].c`, as ``EventPatternError`` names it) under
    /// `node`, or of the nearest node above it that has one.
    static func line(of path: String, under node: RuleNode) -> Int? {
        var current = node
        var line = node.mark?.line
        for component in PathComponents.split(path) {
            switch (component, current) {
            case (.key(let name), .mapping(let mapping)):
                guard let next = mapping[name] else { return line }
                current = next
            case (.index(let index), .sequence(let sequence)) where index < sequence.count:
                current = sequence[index]
            default:
                return line
            }
            line = current.mark?.line ?? line
        }
        return line
    }
}

/// One document of a rule file (a Sigma correlation comes with the rules it references).
public struct RuleDocument: Sendable {
    public var root: RuleNode
    public init(root: RuleNode) { self.root = root }
}

/// `a.b[2].c` as keys and indexes.
enum PathComponents {
    enum Component: Equatable {
        case key(String)
        case index(Int)
    }

    static func split(_ path: String) -> [Component] {
        var components: [Component] = []
        for part in path.split(separator: ".", omittingEmptySubsequences: true) {
            var rest = Substring(part)
            if let bracket = rest.firstIndex(of: "[") {
                if bracket > rest.startIndex { components.append(.key(String(rest[..<bracket]))) }
                rest = rest[bracket...]
                while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                    if let index = Int(rest[rest.index(after: rest.startIndex)..<close]) { components.append(.index(index)) }
                    rest = rest[rest.index(after: close)...]
                }
            } else {
                components.append(.key(String(rest)))
            }
        }
        return components
    }
}

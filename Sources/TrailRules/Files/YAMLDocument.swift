// SPDX-License-Identifier: Apache-2.0

import TrailCore
import Yams

/// A rule file's YAML, composed once, with the line of each node: every error names the line of
/// the part it is about. Values are converted to ``JSONValue`` (YAML's core schema: `true`,
/// numbers and `null` unquoted are typed; everything else is a string).
struct YAMLDocument {
    let root: Node

    init(root: Node) {
        self.root = root
    }

    /// Each document of `text` (a Sigma correlation comes with the rules it references).
    static func all(text: String) throws(RuleFileError) -> [YAMLDocument] {
        var documents: [YAMLDocument] = []
        do {
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                documents.append(YAMLDocument(root: node))
                guard documents.count <= 16 else { throw RuleFileError(line: node.mark?.line, "a rule file holds at most 16 documents") }
            }
        } catch let error as RuleFileError {
            throw error
        } catch let error as YamlError {
            throw Self.describe(error)
        } catch {
            throw RuleFileError(line: nil, "not YAML: \(error)")
        }
        guard !documents.isEmpty else { throw RuleFileError(line: nil, "the file is empty") }
        return documents
    }

    /// The most nodes a value converts to: aliases are resolved as the file is read, and they are
    /// how a small file becomes a huge value.
    static let maxNodes = 100_000

    /// The JSON value of `node`; a mapping's keys must be strings.
    static func json(_ node: Node) throws(RuleFileError) -> JSONValue {
        var budget = maxNodes
        return try json(node, depth: 0, budget: &budget)
    }

    static func json(_ node: Node, depth: Int, budget: inout Int) throws(RuleFileError) -> JSONValue {
        guard depth < 64 else { throw RuleFileError(line: node.mark?.line, "nested more than 64 levels deep") }
        budget -= 1
        guard budget >= 0 else { throw RuleFileError(line: node.mark?.line, "more than \(maxNodes) values (aliases repeating a part?)") }
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let flag = node.bool, ["true", "false"].contains(scalar.string.lowercased()) { return .bool(flag) }
            if let integer = node.int { return .integer(Int64(integer)) }
            if let number = node.float, number.isFinite, scalar.string.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true {
                return .number(number)
            }
            return .string(scalar.string)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let name) = key else { throw RuleFileError(line: key.mark?.line, "a key must be a plain string") }
                guard members[name.string] == nil else { throw RuleFileError(line: key.mark?.line, "\(name.string) is given twice") }
                members[name.string] = try json(value, depth: depth + 1, budget: &budget)
            }
            return .object(members)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for element in sequence { elements.append(try json(element, depth: depth + 1, budget: &budget)) }
            return .array(elements)
        case .alias:
            throw RuleFileError(line: node.mark?.line, "aliases are not allowed in rule files")
        }
    }

    /// The line of the node at `path` (`a.b[2].c`, as ``EventPatternError`` names it) under
    /// `node`, or of the nearest node above it that exists.
    static func line(of path: String, under node: Node) -> Int? {
        var current = node
        var line = node.mark?.line
        for component in PathComponents.split(path) {
            switch (component, current) {
            case (.key(let name), .mapping(let mapping)):
                guard let next = mapping.first(where: { $0.key.string == name })?.value else { return line }
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

    static func describe(_ error: YamlError) -> RuleFileError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return RuleFileError(line: mark.line, "not YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return RuleFileError(line: context.mark.line, "\(duplicates.joined(separator: ", ")) given twice")
        default:
            return RuleFileError(line: nil, "not YAML: \(error)")
        }
    }
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

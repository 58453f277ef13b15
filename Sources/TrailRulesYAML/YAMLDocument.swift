// SPDX-License-Identifier: Apache-2.0

import TrailCore
import TrailRules
import Yams

/// A rule file's YAML, composed once into ``RuleNode``s that keep each node's line: every error
/// names the line of the part it is about. Values are typed by YAML's core schema (`true`,
/// numbers and `null` unquoted are typed; everything else is a string).
enum YAMLDocument {
    /// Each document of `text` (a Sigma correlation comes with the rules it references).
    static func all(text: String) throws(RuleFileError) -> [RuleDocument] {
        var documents: [RuleDocument] = []
        do {
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                guard documents.count < 16 else { throw RuleFileError(line: node.mark?.line, "a rule file holds at most 16 documents") }
                var budget = maxNodes
                documents.append(RuleDocument(root: try convert(node, depth: 0, budget: &budget)))
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

    /// The most nodes a document converts to: aliases are resolved as the file is read, and they
    /// are how a small file becomes a huge value.
    static let maxNodes = 100_000

    static func convert(_ node: Node, depth: Int, budget: inout Int) throws(RuleFileError) -> RuleNode {
        let mark = node.mark.map { RuleNode.Mark(line: $0.line) }
        guard depth < 64 else { throw RuleFileError(line: node.mark?.line, "nested more than 64 levels deep") }
        budget -= 1
        guard budget >= 0 else { throw RuleFileError(line: node.mark?.line, "more than \(maxNodes) values (aliases repeating a part?)") }
        switch node {
        case .scalar(let scalar):
            return .scalar(RuleNode.Scalar(value: value(of: node, scalar), mark: mark))
        case .mapping(let mapping):
            var members: [(RuleNode, RuleNode)] = []
            var seen: Set<String> = []
            for (key, value) in mapping {
                guard case .scalar(let name) = key else { throw RuleFileError(line: key.mark?.line, "a key must be a plain string") }
                guard seen.insert(name.string).inserted else { throw RuleFileError(line: key.mark?.line, "\(name.string) is given twice") }
                let keyNode = RuleNode.scalar(RuleNode.Scalar(value: .string(name.string), mark: key.mark.map { RuleNode.Mark(line: $0.line) }))
                members.append((keyNode, try convert(value, depth: depth + 1, budget: &budget)))
            }
            return .mapping(RuleNode.Mapping(members, mark: mark))
        case .sequence(let sequence):
            var elements: [RuleNode] = []
            for element in sequence { elements.append(try convert(element, depth: depth + 1, budget: &budget)) }
            return .sequence(elements)
        case .alias:
            throw RuleFileError(line: node.mark?.line, "aliases are not allowed in rule files")
        }
    }

    static func value(of node: Node, _ scalar: Node.Scalar) -> JSONValue {
        if scalar.style != .plain { return .string(scalar.string) }
        if node.null != nil { return .null }
        if let flag = node.bool, ["true", "false"].contains(scalar.string.lowercased()) { return .bool(flag) }
        if let integer = node.int { return .integer(Int64(integer)) }
        if let number = node.float, number.isFinite, scalar.string.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true {
            return .number(number)
        }
        return .string(scalar.string)
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

extension RuleFile {
    /// The rule in YAML `text` (HostTrail's format or Sigma's); `defaultName` (the file's name
    /// without `.yml`/`.yaml`) when it names none.
    public static func load(text: String, defaultName: String) throws(RuleFileError) -> Rule {
        guard text.utf8.count <= maxBytes else { throw RuleFileError(line: nil, "a rule file is at most 1 MiB") }
        return try load(documents: try YAMLDocument.all(text: text), defaultName: defaultName)
    }
}

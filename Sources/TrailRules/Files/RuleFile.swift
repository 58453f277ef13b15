// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// Loads one rule file: HostTrail's YAML (`match`, `window`, `suppress`, `mode`, `actions`) or a
/// Sigma rule (`logsource` and `detection`, through ``SigmaFieldMapping``).
///
/// ```yaml
/// name: ssh-brute-force
/// match:
///   detail: {eventSource: [sshd.linux], eventName: [Login], errorCode: [{exists: true}]}
/// window: {type: event_count, group-by: [detail.sourceIPAddress], timespan: 10m, condition: {gte: 5}}
/// suppress: 10m
/// actions:
///   - webhook: {url: "https://hooks.example/trail", secret-file: /etc/hosttrail/webhook.key}
/// ```
public enum RuleFile {
    static let keys: Set<String> = ["name", "description", "match", "window", "suppress", "mode", "actions"]

    /// The largest rule file read.
    public static let maxBytes = 1 << 20

    /// The rule in `documents` (one, or a Sigma correlation with the rules it references);
    /// `defaultName` when it names none. TrailRulesYAML reads YAML text into documents.
    public static func load(documents: [RuleDocument], defaultName: String) throws(RuleFileError) -> Rule {
        guard !documents.isEmpty else { throw RuleFileError(line: nil, "the file is empty") }
        for document in documents {
            guard case .mapping = document.root else { throw RuleFileError(line: document.root.mark?.line, "a rule is a mapping") }
        }
        let sigma = documents.contains { candidate in ["detection", "logsource", "correlation"].contains { isSet($0, in: candidate) } }
        if sigma { return try SigmaRuleFile.load(documents: documents, defaultName: defaultName) }
        guard documents.count == 1, case .mapping(let mapping) = documents[0].root else {
            throw RuleFileError(line: documents[1].root.mark?.line, "one rule a file (several documents are for a Sigma correlation and its rules)")
        }
        let document = documents[0]
        return try hostTrailRule(mapping, document: document, defaultName: defaultName)
    }

    /// The rule in JSON `text` (HostTrail's format written as JSON, which is also YAML): what the
    /// agent reads, since it links no YAML parser. Errors name no line; a key given twice keeps
    /// its last value (YAML refuses it).
    public static func load(json text: String, defaultName: String) throws(RuleFileError) -> Rule {
        guard text.utf8.count <= maxBytes else { throw RuleFileError(line: nil, "a rule file is at most 1 MiB") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(Array(text.utf8))
        } catch {
            throw RuleFileError(line: nil, "not JSON: \(error)")
        }
        // The limits YAML's reader holds a file to (a rule means the same, and is refused the same, in both).
        var budget = 100_000
        func check(_ value: JSONValue, depth: Int) throws(RuleFileError) {
            guard depth < 64 else { throw RuleFileError(line: nil, "nested more than 64 levels deep") }
            budget -= 1
            guard budget >= 0 else { throw RuleFileError(line: nil, "more than 100000 values") }
            switch value {
            case .object(let members): for member in members.values { try check(member, depth: depth + 1) }
            case .array(let items): for item in items { try check(item, depth: depth + 1) }
            default: break
            }
        }
        try check(value, depth: 0)
        return try load(documents: [RuleDocument(root: RuleNode(json: value))], defaultName: defaultName)
    }

    static func isSet(_ key: String, in document: RuleDocument) -> Bool {
        if case .mapping(let mapping) = document.root { return mapping[key] != nil }
        return false
    }

    /// The settings a Sigma rule may carry as well (custom attributes to Sigma).
    static let responseKeys: Set<String> = ["suppress", "mode", "actions"]

    static func response(_ mapping: RuleNode.Mapping) throws(RuleFileError) -> (Rule.Suppression?, Rule.Mode, [RuleAction]) {
        let reader = MappingReader(mapping: mapping, where: "the rule")
        let suppression = try mapping["suppress"].map { node throws(RuleFileError) in try Self.suppression(node) }
        let mode: Rule.Mode
        switch try reader.string("mode") {
        case nil, "enforce": mode = .enforce
        case "dry-run": mode = .dryRun
        case let other?: throw RuleFileError(line: reader.line(of: "mode"), "mode is enforce or dry-run, not \(other)")
        }
        let actions = try mapping["actions"].map { node throws(RuleFileError) in try RuleActionParser.actions(node) } ?? []
        return (suppression, mode, actions)
    }

    static func hostTrailRule(_ mapping: RuleNode.Mapping, document: RuleDocument, defaultName: String) throws(RuleFileError) -> Rule {
        let reader = MappingReader(mapping: mapping, where: "the rule")
        try reader.refuseUnknown(keys)
        let name = try reader.string("name") ?? defaultName
        guard Rule.isValidName(name) else {
            throw RuleFileError(line: reader.line(of: "name"), "the name \"\(name)\" is not 1-64 letters, digits, '.', '-' or '_'")
        }
        guard let matchNode = mapping["match"] else { throw RuleFileError(line: document.root.mark?.line, "a rule needs a match") }
        let matcher = try pattern(matchNode)
        let window = try mapping["window"].map { node throws(RuleFileError) in try Self.window(node) }
        let (suppression, mode, actions) = try response(mapping)
        var fingerprint: [String: JSONValue] = ["match": RuleNode.json(matchNode)]
        if let node = mapping["window"] { fingerprint["window"] = RuleNode.json(node) }
        return Rule(
            name: name, description: try reader.string("description"), matcher: matcher, window: window, suppression: suppression,
            mode: mode, actions: actions, stateFingerprint: String(decoding: JSONValue.object(fingerprint).serialized(), as: UTF8.self))
    }

    static func pattern(_ node: RuleNode) throws(RuleFileError) -> RuleMatcher {
        let json = RuleNode.json(node)
        do {
            return .pattern(try EventPattern(json))
        } catch let error as EventPatternError {
            throw RuleFileError(line: RuleNode.line(of: error.path, under: node), "match: \(error)")
        } catch {
            throw RuleFileError(line: node.mark?.line, "match: \(error)")
        }
    }

    static func window(_ node: RuleNode) throws(RuleFileError) -> RuleWindow {
        guard case .mapping(let mapping) = node else { throw RuleFileError(line: node.mark?.line, "window is a mapping") }
        let reader = MappingReader(mapping: mapping, where: "window")
        try reader.refuseUnknown(["type", "group-by", "timespan", "condition", "field", "events"])
        guard let typeName = try reader.string("type") else { throw RuleFileError(line: node.mark?.line, "window needs a type") }
        guard let kind = RuleWindow.Kind(rawValue: typeName) else {
            throw RuleFileError(
                line: reader.line(of: "type"),
                "window type \(typeName) is not one of \(RuleWindow.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let groupBy = try reader.fieldPaths("group-by") ?? []
        guard let span = mapping["timespan"] else { throw RuleFileError(line: node.mark?.line, "window needs a timespan") }
        guard let milliseconds = RuleDuration.milliseconds(RuleNode.json(span)) else {
            throw RuleFileError(line: span.mark?.line, "timespan is a duration such as 90s, 10m, 1h or 1d (at most a year)")
        }
        var steps: [RuleWindow.Step] = []
        if kind == .temporal || kind == .temporalOrdered {
            guard case .sequence(let list)? = mapping["events"], list.count >= 2 else {
                throw RuleFileError(line: reader.line(of: "events") ?? node.mark?.line, "a \(kind.rawValue) window lists at least two events")
            }
            for item in list { steps.append(try step(item, index: steps.count)) }
            guard Set(steps.map(\.name)).count == steps.count else { throw RuleFileError(line: reader.line(of: "events"), "two events share a name") }
        } else if mapping["events"] != nil {
            throw RuleFileError(line: reader.line(of: "events"), "events belong to temporal and temporal_ordered windows")
        }
        let field = try reader.fieldPath("field")
        if kind == .valueCount, field == nil { throw RuleFileError(line: node.mark?.line, "a value_count window needs a field") }
        if kind != .valueCount, field != nil { throw RuleFileError(line: reader.line(of: "field"), "field belongs to value_count windows") }
        let threshold: Int
        if let condition = mapping["condition"] {
            threshold = try Self.threshold(condition)
        } else if kind == .temporal || kind == .temporalOrdered {
            threshold = steps.count
        } else {
            throw RuleFileError(line: node.mark?.line, "a \(kind.rawValue) window needs a condition such as {gte: 5}")
        }
        if kind == .temporalOrdered, threshold != steps.count {
            throw RuleFileError(line: reader.line(of: "condition"), "a temporal_ordered window needs all its events (condition gte \(steps.count))")
        }
        if kind == .temporal, threshold > steps.count {
            throw RuleFileError(line: reader.line(of: "condition"), "the condition asks for more events than the window lists")
        }
        return RuleWindow(kind: kind, groupBy: groupBy, milliseconds: milliseconds, threshold: threshold, field: field, steps: steps)
    }

    static func step(_ node: RuleNode, index: Int) throws(RuleFileError) -> RuleWindow.Step {
        guard case .mapping(let mapping) = node else { throw RuleFileError(line: node.mark?.line, "an event is a mapping with a name and a match") }
        let reader = MappingReader(mapping: mapping, where: "an event")
        try reader.refuseUnknown(["name", "match", "count"])
        let name = try reader.string("name") ?? "event\(index + 1)"
        guard let match = mapping["match"] else { throw RuleFileError(line: node.mark?.line, "the event \(name) needs a match") }
        let minimum = try reader.integer("count") ?? 1
        guard (1...RuleWindow.maxRecordsPerGroup).contains(minimum) else {
            throw RuleFileError(line: reader.line(of: "count"), "count is from 1 to \(RuleWindow.maxRecordsPerGroup)")
        }
        return RuleWindow.Step(name: name, matcher: try pattern(match), minimum: minimum)
    }

    /// `{gte: n}`, `{gt: n}` or `{eq: n}`: a stream can tell when a count reaches a number, not
    /// that it stays below one before the window ends, so `lt` and `lte` are refused.
    static func threshold(_ node: RuleNode) throws(RuleFileError) -> Int {
        guard case .mapping(let mapping) = node, mapping.count == 1, let (key, value) = mapping.first, let name = key.string else {
            throw RuleFileError(line: node.mark?.line, "condition is one of {gte: n}, {gt: n} or {eq: n}")
        }
        guard case .integer(let number) = RuleNode.json(value), number >= 0, number <= 1_000_000 else {
            throw RuleFileError(line: value.mark?.line, "the condition's count is a whole number from 0 to 1000000")
        }
        switch name {
        case "gte", "eq": return max(1, Int(number))
        case "gt": return Int(number) + 1
        case "lt", "lte":
            throw RuleFileError(
                line: key.mark?.line, "\(name) cannot be decided before a window ends: a rule fires when a count reaches its condition")
        default: throw RuleFileError(line: key.mark?.line, "condition \(name) is not gte, gt or eq")
        }
    }

    static func suppression(_ node: RuleNode) throws(RuleFileError) -> Rule.Suppression {
        if case .scalar = node {
            guard let milliseconds = RuleDuration.milliseconds(RuleNode.json(node)) else {
                throw RuleFileError(line: node.mark?.line, "suppress is a duration such as 10m, or {for: 10m, group-by: [...]}")
            }
            return Rule.Suppression(milliseconds: milliseconds, groupBy: nil)
        }
        guard case .mapping(let mapping) = node else { throw RuleFileError(line: node.mark?.line, "suppress is a duration or a mapping") }
        let reader = MappingReader(mapping: mapping, where: "suppress")
        try reader.refuseUnknown(["for", "group-by"])
        guard let span = mapping["for"], let milliseconds = RuleDuration.milliseconds(RuleNode.json(span)) else {
            throw RuleFileError(line: node.mark?.line, "suppress needs for: a duration such as 10m")
        }
        return Rule.Suppression(milliseconds: milliseconds, groupBy: try reader.fieldPaths("group-by"))
    }
}

/// Reads a YAML mapping's members, each error naming its line.
struct MappingReader {
    let mapping: RuleNode.Mapping
    let place: String

    init(mapping: RuleNode.Mapping, where place: String) {
        self.mapping = mapping
        self.place = place
    }

    func line(of key: String) -> Int? {
        mapping.first { $0.key.string == key }.map { $0.key.mark?.line ?? $0.value.mark?.line } ?? nil
    }

    func refuseUnknown(_ known: Set<String>) throws(RuleFileError) {
        for (key, _) in mapping {
            guard let name = key.string, known.contains(name) else {
                throw RuleFileError(
                    line: key.mark?.line, "\(place) has no \(key.string ?? "such key") (it takes \(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    func string(_ key: String) throws(RuleFileError) -> String? {
        guard let node = mapping[key] else { return nil }
        guard case .string(let text) = RuleNode.json(node) else { throw RuleFileError(line: node.mark?.line, "\(key) is a string") }
        return text
    }

    func integer(_ key: String) throws(RuleFileError) -> Int? {
        guard let node = mapping[key] else { return nil }
        guard case .integer(let number) = RuleNode.json(node), let value = Int(exactly: number) else {
            throw RuleFileError(line: node.mark?.line, "\(key) is a whole number")
        }
        return value
    }

    func fieldPath(_ key: String) throws(RuleFileError) -> FieldPath? {
        guard let node = mapping[key] else { return nil }
        guard let text = try string(key), let path = FieldPath(text) else {
            throw RuleFileError(line: node.mark?.line, "\(key) is a field such as detail.sourceIPAddress")
        }
        return path
    }

    /// A list of fields, or one.
    func fieldPaths(_ key: String) throws(RuleFileError) -> [FieldPath]? {
        guard let node = mapping[key] else { return nil }
        let items: [JSONValue]
        switch RuleNode.json(node) {
        case .array(let list): items = list
        case let single: items = [single]
        }
        guard items.count <= 8 else { throw RuleFileError(line: node.mark?.line, "\(key) lists at most 8 fields") }
        return try items.map { item throws(RuleFileError) in
            guard let text = item.stringValue, let path = FieldPath(text) else {
                throw RuleFileError(line: node.mark?.line, "\(key) lists fields such as detail.sourceIPAddress")
            }
            return path
        }
    }
}

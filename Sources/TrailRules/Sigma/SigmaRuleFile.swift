// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// Sigma rules as Sigma writes them (specification v2.0): a detection rule, or a correlation rule
/// with the rules it references as the other documents of the same file. Those referenced rules
/// do not fire on their own (`generate: true` is refused). `suppress`, `mode` and `actions` may be added
/// as custom attributes. Whatever ``SigmaFieldMapping`` cannot express is refused by name.
enum SigmaRuleFile {
    static func load(documents: [RuleDocument], defaultName: String) throws(RuleFileError) -> Rule {
        let correlations = documents.filter { RuleFile.isSet("correlation", in: $0) }
        guard correlations.count <= 1 else { throw RuleFileError(line: correlations[1].root.mark?.line, "one correlation a file") }
        if correlations.isEmpty {
            guard documents.count == 1 else {
                throw RuleFileError(line: documents[1].root.mark?.line, "one rule a file (several documents are for a correlation and its rules)")
            }
            return try detectionRule(documents[0], defaultName: defaultName)
        }
        var referenced: [String: (detection: SigmaDetection, product: String)] = [:]
        for document in documents where !RuleFile.isSet("correlation", in: document) {
            let rule = try detectionRule(document, defaultName: defaultName)
            guard case .sigma(let detection) = rule.matcher, case .mapping(let mapping) = document.root else { continue }
            let product = try logsource(mapping).product
            for key in ["name", "id"] {
                if let value = mapping[key]?.string { referenced[value] = (detection, product) }
            }
        }
        return try correlationRule(correlations[0], referenced: referenced, defaultName: defaultName)
    }

    static func name(_ mapping: RuleNode.Mapping, defaultName: String) throws(RuleFileError) -> String {
        let reader = MappingReader(mapping: mapping, where: "the rule")
        let name = try reader.string("name") ?? defaultName
        guard Rule.isValidName(name) else {
            throw RuleFileError(line: reader.line(of: "name"), "the name \"\(name)\" is not 1-64 letters, digits, '.', '-' or '_'")
        }
        return name
    }

    static func logsource(_ mapping: RuleNode.Mapping) throws(RuleFileError) -> (product: String, eventSources: Set<String>?) {
        guard case .mapping(let source)? = mapping["logsource"] else { throw RuleFileError(line: nil, "a Sigma rule needs a logsource") }
        let reader = MappingReader(mapping: source, where: "logsource")
        let product = try reader.string("product")
        let service = try reader.string("service")
        let category = try reader.string("category")
        let line = mapping["logsource"]?.mark?.line
        switch (product, service, category) {
        case ("aws", "cloudtrail", nil): return ("aws", nil)
        case ("linux", let service, nil):
            let name = service ?? "syslog"
            guard let sources = SigmaFieldMapping.linuxServices[name] else {
                throw RuleFileError(
                    line: line,
                    "logsource service \(name) has no HostTrail records (linux services: \(SigmaFieldMapping.linuxServices.keys.sorted().joined(separator: ", ")))"
                )
            }
            return ("linux", sources)
        case ("linux", _, let category?):
            throw RuleFileError(
                line: line, "logsource category \(category) has no HostTrail records (they hold parsed events, not processes or files)")
        default:
            throw RuleFileError(
                line: line,
                "logsource \([product, service, category].compactMap { $0 }.joined(separator: "/")) has no HostTrail records (aws/cloudtrail and linux services do)"
            )
        }
    }

    static func detectionRule(_ document: RuleDocument, defaultName: String) throws(RuleFileError) -> Rule {
        guard case .mapping(let mapping) = document.root else { throw RuleFileError(line: document.root.mark?.line, "a rule is a mapping") }
        let name = try name(mapping, defaultName: defaultName)
        let (product, sources) = try logsource(mapping)
        guard let detectionNode = mapping["detection"], case .mapping(let detection) = detectionNode else {
            throw RuleFileError(line: document.root.mark?.line, "a Sigma rule needs a detection")
        }
        var selections: [String: SigmaDetection.Selection] = [:]
        var conditionText: String?
        for (key, value) in detection {
            guard let selectionName = key.string else { continue }
            switch selectionName {
            case "condition":
                switch RuleNode.json(value) {
                case .string(let text): conditionText = text
                case .array(let list) where list.allSatisfy({ $0.stringValue != nil }):
                    conditionText = list.compactMap(\.stringValue).map { "(\($0))" }.joined(separator: " or ")
                default: throw RuleFileError(line: value.mark?.line, "condition is a string")
                }
            case "timeframe":
                throw RuleFileError(line: key.mark?.line, "timeframe is Sigma v1's; write a correlation rule with a timespan")
            default:
                selections[selectionName] = try selection(value, product: product)
            }
        }
        guard let conditionText else { throw RuleFileError(line: detectionNode.mark?.line, "the detection needs a condition") }
        let condition: SigmaCondition
        do {
            condition = try SigmaCondition.parse(conditionText, names: selections.keys.sorted())
        } catch {
            throw RuleFileError(line: detection.first { $0.key.string == "condition" }?.value.mark?.line, error.reason)
        }
        let (suppression, mode, actions) = try RuleFile.response(mapping)
        return Rule(
            name: name, description: try MappingReader(mapping: mapping, where: "the rule").string("title"),
            matcher: .sigma(SigmaDetection(selections: selections, condition: condition, eventSources: sources)), window: nil,
            suppression: suppression, mode: mode, actions: actions, stateFingerprint: Self.fingerprint(document))
    }

    static func fingerprint(_ document: RuleDocument) -> String {
        String(decoding: RuleNode.json(document.root).serialized(), as: UTF8.self)
    }

    static func selection(_ node: RuleNode, product: String) throws(RuleFileError) -> SigmaDetection.Selection {
        switch node {
        case .mapping(let mapping):
            return SigmaDetection.Selection(alternatives: [try fieldTests(mapping, product: product)])
        case .sequence(let list):
            var alternatives: [[SigmaDetection.FieldTest]] = []
            for item in list {
                guard case .mapping(let mapping) = item else {
                    throw RuleFileError(
                        line: item.mark?.line, "keyword searches cannot be mapped: HostTrail records hold parsed fields, not log lines")
                }
                alternatives.append(try fieldTests(mapping, product: product))
            }
            return SigmaDetection.Selection(alternatives: alternatives)
        default:
            throw RuleFileError(line: node.mark?.line, "keyword searches cannot be mapped: HostTrail records hold parsed fields, not log lines")
        }
    }

    static let refusedModifiers: Set<String> = [
        "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide", "lt", "lte", "gt", "gte", "expand", "fieldref", "cased",
    ]

    static func fieldTests(_ mapping: RuleNode.Mapping, product: String) throws(RuleFileError) -> [SigmaDetection.FieldTest] {
        var tests: [SigmaDetection.FieldTest] = []
        for (key, value) in mapping {
            guard let text = key.string else { throw RuleFileError(line: key.mark?.line, "a field name is a string") }
            let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let field = parts[0]
            guard !field.isEmpty else {
                throw RuleFileError(line: key.mark?.line, "keyword searches cannot be mapped: HostTrail records hold parsed fields")
            }
            guard let path = SigmaFieldMapping.path(of: field, product: product) else {
                throw RuleFileError(line: key.mark?.line, "the field \(field) has no mapping onto HostTrail records (docs/rules.md lists them)")
            }
            let modifiers = Array(parts.dropFirst())
            for modifier in modifiers where refusedModifiers.contains(modifier) {
                throw RuleFileError(line: key.mark?.line, "the modifier \(modifier) is not supported")
            }
            let known: Set<String> = ["contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr", "exists", "windash"]
            if let unknown = modifiers.first(where: { !known.contains($0) }) {
                throw RuleFileError(line: key.mark?.line, "the modifier \(unknown) is not a Sigma modifier this supports")
            }
            let raw: [JSONValue]
            switch RuleNode.json(value) {
            case .array(let list): raw = list
            case let single: raw = [single]
            }
            guard !raw.isEmpty else { throw RuleFileError(line: value.mark?.line, "\(field) lists no values") }
            var values: [SigmaDetection.ValueTest] = []
            for item in raw { values += try valueTests(item, modifiers: Set(modifiers), line: value.mark?.line ?? key.mark?.line) }
            tests.append(SigmaDetection.FieldTest(path: path, field: field, values: values, all: modifiers.contains("all")))
        }
        return tests
    }

    static func valueTests(_ value: JSONValue, modifiers: Set<String>, line: Int?) throws(RuleFileError) -> [SigmaDetection.ValueTest] {
        if modifiers.contains("exists") {
            guard case .bool(let wanted) = value else { throw RuleFileError(line: line, "exists takes true or false") }
            return [.exists(wanted)]
        }
        if modifiers.contains("cidr") {
            guard let text = value.stringValue, let block = CIDRBlock(text) else { throw RuleFileError(line: line, "\(value) is not a CIDR block") }
            return [.cidr(block)]
        }
        if modifiers.contains("re") {
            guard let text = value.stringValue, let regex = SigmaRegex(text, ignoringCase: modifiers.contains("i")) else {
                throw RuleFileError(line: line, "\(value) is not a regular expression this supports (POSIX extended)")
            }
            return [.regex(regex)]
        }
        switch value {
        case .null: return [.null]
        case .bool(let flag): return [.bool(flag)]
        case .integer(let number) where modifiers.isDisjoint(with: ["contains", "startswith", "endswith"]): return [.number(Double(number))]
        case .number(let number) where modifiers.isDisjoint(with: ["contains", "startswith", "endswith"]): return [.number(number)]
        case .string, .integer, .number:
            let text: String
            switch value {
            case .string(let string): text = string
            case .integer(let number): text = String(number)
            default: text = String(describing: value.stringValue ?? "")
            }
            // windash: the dash of a command-line flag may be written as /, – and — too.
            let variants = modifiers.contains("windash") ? windashVariants(text) : [text]
            return variants.map { variant in
                .glob(
                    SigmaGlob(
                        variant, prefixAny: modifiers.contains("contains") || modifiers.contains("endswith"),
                        suffixAny: modifiers.contains("contains") || modifiers.contains("startswith")))
            }
        default:
            throw RuleFileError(line: line, "a value is a string, a number, a boolean or null")
        }
    }

    static func windashVariants(_ text: String) -> [String] {
        guard text.contains("-") else { return [text] }
        return ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"].map { dash in String(text.map { $0 == "-" ? Character(dash) : $0 }) }
    }

    static func correlationRule(
        _ document: RuleDocument, referenced: [String: (detection: SigmaDetection, product: String)], defaultName: String
    ) throws(RuleFileError) -> Rule {
        guard case .mapping(let mapping) = document.root, let node = mapping["correlation"], case .mapping(let correlation) = node else {
            throw RuleFileError(line: document.root.mark?.line, "correlation is a mapping")
        }
        let name = try name(mapping, defaultName: defaultName)
        let reader = MappingReader(mapping: correlation, where: "correlation")
        if correlation["aliases"] != nil { throw RuleFileError(line: reader.line(of: "aliases"), "correlation aliases are not supported") }
        if let generate = correlation["generate"], RuleNode.json(generate) != .bool(false) {
            throw RuleFileError(
                line: reader.line(of: "generate"), "generate (other than false) is not supported: give a rule that fires on its own a file of its own"
            )
        }
        try reader.refuseUnknown(["type", "rules", "group-by", "timespan", "condition", "generate", "ordered"])
        guard let typeName = try reader.string("type"), let kind = RuleWindow.Kind(rawValue: typeName) else {
            throw RuleFileError(
                line: reader.line(of: "type") ?? node.mark?.line, "correlation type is event_count, value_count, temporal or temporal_ordered")
        }
        let names: [String]
        switch try correlation["rules"].map({ node throws(RuleFileError) in RuleNode.json(node) }) {
        case .string(let one)?: names = [one]
        case .array(let list)? where list.allSatisfy({ $0.stringValue != nil }): names = list.compactMap(\.stringValue)
        default: throw RuleFileError(line: node.mark?.line, "correlation needs rules: the names or ids of the rules it correlates")
        }
        var steps: [RuleWindow.Step] = []
        var product = "aws"
        for reference in names {
            guard let (detection, ruleProduct) = referenced[reference] else {
                throw RuleFileError(line: reader.line(of: "rules"), "the correlation references \(reference), which is not a rule in this file")
            }
            product = ruleProduct
            steps.append(RuleWindow.Step(name: reference, matcher: .sigma(detection), minimum: 1))
        }
        var groupBy: [FieldPath] = []
        for field in try reader.fieldNames("group-by") {
            guard let path = SigmaFieldMapping.path(of: field, product: product) else {
                throw RuleFileError(line: reader.line(of: "group-by"), "the field \(field) has no mapping onto HostTrail records")
            }
            groupBy.append(path)
        }
        guard let span = correlation["timespan"], let milliseconds = RuleDuration.milliseconds(RuleNode.json(span)) else {
            throw RuleFileError(line: node.mark?.line, "correlation needs a timespan such as 15m")
        }
        var field: FieldPath?
        var threshold = steps.count
        if let conditionNode = correlation["condition"] {
            guard case .mapping(var condition) = conditionNode else { throw RuleFileError(line: conditionNode.mark?.line, "condition is a mapping") }
            if kind == .valueCount {
                guard let fieldName = condition["field"]?.string, let path = SigmaFieldMapping.path(of: fieldName, product: product) else {
                    throw RuleFileError(line: conditionNode.mark?.line, "a value_count condition needs a field with a mapping onto HostTrail records")
                }
                field = path
                condition = RuleNode.Mapping(condition.filter { $0.key.string != "field" })
            }
            threshold = try RuleFile.threshold(.mapping(condition))
        } else if kind == .eventCount || kind == .valueCount {
            throw RuleFileError(line: node.mark?.line, "an \(kind.rawValue) correlation needs a condition")
        }
        if kind == .temporalOrdered, threshold != steps.count {
            throw RuleFileError(line: reader.line(of: "condition"), "a temporal_ordered correlation needs all its rules")
        }
        let window = RuleWindow(
            kind: kind, groupBy: groupBy, milliseconds: milliseconds, threshold: min(threshold, max(1, kind == .temporal ? steps.count : threshold)),
            field: field, steps: kind == .temporal || kind == .temporalOrdered ? steps : [])
        if kind == .temporal || kind == .temporalOrdered, steps.count < 2 {
            throw RuleFileError(line: reader.line(of: "rules"), "a \(kind.rawValue) correlation references at least two rules")
        }
        let (suppression, mode, actions) = try RuleFile.response(mapping)
        return Rule(
            name: name, description: try MappingReader(mapping: mapping, where: "the rule").string("title"),
            matcher: steps.count == 1 ? steps[0].matcher : .any(steps.map(\.matcher)), window: window, suppression: suppression, mode: mode,
            actions: actions, stateFingerprint: fingerprint(document))
    }
}

extension MappingReader {
    /// A list of plain field names, or one.
    func fieldNames(_ key: String) throws(RuleFileError) -> [String] {
        guard let node = mapping[key] else { return [] }
        switch RuleNode.json(node) {
        case .string(let one): return [one]
        case .array(let list) where list.allSatisfy({ $0.stringValue != nil }): return list.compactMap(\.stringValue)
        default: throw RuleFileError(line: node.mark?.line, "\(key) lists field names")
        }
    }
}

// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// A rule's `actions`: a list of one-key mappings, `webhook`, `exec` or `log`.
enum RuleActionParser {
    static func actions(_ node: RuleNode) throws(RuleFileError) -> [RuleAction] {
        guard case .sequence(let list) = node else { throw RuleFileError(line: node.mark?.line, "actions is a list") }
        guard list.count <= 16 else { throw RuleFileError(line: node.mark?.line, "a rule has at most 16 actions") }
        var actions: [RuleAction] = []
        for item in list {
            guard case .mapping(let mapping) = item, mapping.count == 1, let (key, value) = mapping.first, let kind = key.string else {
                throw RuleFileError(line: item.mark?.line, "an action is one of webhook, exec, log or respond, with its settings")
            }
            let settings: RuleNode.Mapping
            switch value {
            case .mapping(let members): settings = members
            case .scalar(let scalar) where kind == "webhook": settings = RuleNode.Mapping([(RuleNode("url"), .scalar(scalar))])
            default: throw RuleFileError(line: value.mark?.line, "\(kind)'s settings are a mapping")
            }
            let reader = MappingReader(mapping: settings, where: kind)
            switch kind {
            case "webhook": actions.append(.webhook(try webhook(reader, line: key.mark?.line)))
            case "exec": actions.append(.exec(try exec(reader, line: key.mark?.line)))
            case "log":
                try reader.refuseUnknown(["priority"])
                let priority = try reader.string("priority") ?? "warning"
                guard RuleAction.Log.priorities.contains(priority) else {
                    throw RuleFileError(line: reader.line(of: "priority"), "priority is one of \(RuleAction.Log.priorities.joined(separator: ", "))")
                }
                actions.append(.log(RuleAction.Log(priority: priority)))
            case "respond": actions.append(.respond(try respond(reader, line: key.mark?.line)))
            default:
                throw RuleFileError(line: key.mark?.line, "\(kind) is not an action (webhook, exec, log or respond)")
            }
        }
        return actions
    }

    static func retry(_ reader: MappingReader, default policy: RuleAction.RetryPolicy) throws(RuleFileError) -> RuleAction.RetryPolicy {
        var policy = policy
        if let attempts = try reader.integer("max-attempts") {
            guard (1...185).contains(attempts) else { throw RuleFileError(line: reader.line(of: "max-attempts"), "max-attempts is from 1 to 185") }
            policy.maxAttempts = attempts
        }
        if let node = reader.mapping["max-age"] {
            guard let milliseconds = RuleDuration.milliseconds(RuleNode.json(node)), milliseconds >= 60_000, milliseconds <= 86_400_000 else {
                throw RuleFileError(line: node.mark?.line, "max-age is a duration from 1m to 24h")
            }
            policy.maxAgeSeconds = milliseconds / 1000
        }
        return policy
    }

    static func timeout(_ reader: MappingReader, default seconds: Int) throws(RuleFileError) -> Int {
        guard let node = reader.mapping["timeout"] else { return seconds }
        guard let milliseconds = RuleDuration.milliseconds(RuleNode.json(node)), milliseconds <= 600_000 else {
            throw RuleFileError(line: node.mark?.line, "timeout is a duration from 1s to 10m")
        }
        return Int(milliseconds / 1000)
    }

    static func webhook(_ reader: MappingReader, line: Int?) throws(RuleFileError) -> RuleAction.Webhook {
        try reader.refuseUnknown(["url", "secret-file", "ca-file", "timeout", "max-attempts", "max-age"])
        guard let url = try reader.string("url") else { throw RuleFileError(line: line, "webhook needs a url") }
        guard url.hasPrefix("https://"), url.count > 8, url.count <= 2048,
            !url.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true })
        else {
            throw RuleFileError(line: reader.line(of: "url"), "a webhook's url is https:// (the body is signed, not secret)")
        }
        for key in ["secret-file", "ca-file"] {
            if let path = try reader.string(key), !path.hasPrefix("/") {
                throw RuleFileError(line: reader.line(of: key), "\(key) is an absolute path")
            }
        }
        return RuleAction.Webhook(
            url: url, secretFile: try reader.string("secret-file"), caFile: try reader.string("ca-file"),
            timeoutSeconds: try timeout(reader, default: 10), retry: try retry(reader, default: .eventBridge))
    }

    static func respond(_ reader: MappingReader, line: Int?) throws(RuleFileError) -> RuleAction.Respond {
        try reader.refuseUnknown(["response", "hosts", "arguments", "duration", "deadline"])
        guard let response = try reader.string("response"), !response.isEmpty, response.utf8.count <= 64,
            response.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw RuleFileError(
                line: reader.line(of: "response") ?? line, "respond needs a response: the name hosts define it under (letters, digits, '.', '-', '_')"
            )
        }
        var hosts = RuleAction.Respond.Hosts.matched
        if let node = reader.mapping["hosts"] {
            switch RuleNode.json(node) {
            case .string("matched"): hosts = .matched
            case .string("all"): hosts = .all
            case .array(let items) where !items.isEmpty && items.count <= 100 && items.allSatisfy({ Self.isHostPattern($0.stringValue) }):
                hosts = .matching(items.compactMap(\.stringValue))
            default:
                throw RuleFileError(line: node.mark?.line, "hosts is matched, all, or a list of host name patterns (* for any characters)")
            }
        }
        var arguments: [String: String] = [:]
        if let node = reader.mapping["arguments"] {
            guard case .object(let members) = RuleNode.json(node), members.count <= 16 else {
                throw RuleFileError(line: node.mark?.line, "arguments is a mapping of at most 16 names to paths (detail.sourceIPAddress) or values")
            }
            for (name, value) in members {
                guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= 256, !name.isEmpty, name.utf8.count <= 64 else {
                    throw RuleFileError(line: node.mark?.line, "argument \(name) is a path (detail.sourceIPAddress) or a text value")
                }
                if text.hasPrefix("detail."), FieldPath(text) == nil {
                    throw RuleFileError(line: node.mark?.line, "argument \(name): \(text) is not a path")
                }
                arguments[name] = text
            }
        }
        var seconds: Int64?
        if let node = reader.mapping["duration"] {
            guard let milliseconds = RuleDuration.milliseconds(RuleNode.json(node)), milliseconds >= 1000, milliseconds <= 366 * 86_400_000
            else {
                throw RuleFileError(line: node.mark?.line, "duration is from 1s to a year")
            }
            seconds = milliseconds / 1000
        }
        var deadline: Int64 = 300
        if let node = reader.mapping["deadline"] {
            guard let milliseconds = RuleDuration.milliseconds(RuleNode.json(node)), milliseconds >= 1000, milliseconds <= 86_400_000 else {
                throw RuleFileError(line: node.mark?.line, "deadline is from 1s to 24h")
            }
            deadline = milliseconds / 1000
        }
        return RuleAction.Respond(response: response, hosts: hosts, arguments: arguments, seconds: seconds, deadlineSeconds: deadline)
    }

    static func isHostPattern(_ text: String?) -> Bool {
        guard let text, !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.*".contains($0)) }
    }

    static func exec(_ reader: MappingReader, line: Int?) throws(RuleFileError) -> RuleAction.Exec {
        try reader.refuseUnknown(["command", "user", "timeout", "max-attempts", "max-age"])
        guard let node = reader.mapping["command"] else { throw RuleFileError(line: line, "exec needs a command") }
        let command: [String]
        switch RuleNode.json(node) {
        case .string(let program): command = [program]
        case .array(let items) where items.allSatisfy({ $0.stringValue != nil }): command = items.compactMap(\.stringValue)
        default: throw RuleFileError(line: node.mark?.line, "command is a program or a list of the program and its arguments")
        }
        guard let program = command.first, program.hasPrefix("/") else {
            throw RuleFileError(line: node.mark?.line, "the command's program is an absolute path (no shell runs it)")
        }
        let user = try reader.string("user") ?? "nobody"
        guard user != "root", !user.isEmpty, user.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw RuleFileError(line: reader.line(of: "user"), "user is an unprivileged account's name (not root)")
        }
        return RuleAction.Exec(
            command: command, user: user, timeoutSeconds: try timeout(reader, default: 30), retry: try retry(reader, default: .once))
    }
}

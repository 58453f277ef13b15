// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// `hosttrail rules list` and `hosttrail actions list` as tables. Rule files and job errors can
/// hold record text (a group key an attacker chose), so every cell is escaped.
public enum RulesView {
    public static func rules(_ answer: JSONValue) -> String {
        let rows = (answer["Rules"]?.arrayValue ?? []).map { rule -> [String] in
            [
                text(rule["Name"]), text(rule["Mode"]), text(rule["Window"]), text(rule["Matched"]), text(rule["Fired"]),
                text(rule["Suppressed"]), text(rule["Groups"]), text(rule["Evicted"]), text(rule["LastFired"]),
                (rule["Actions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ","),
            ]
        }
        var lines = EventTable.aligned(
            [["NAME", "MODE", "WINDOW", "MATCHED", "FIRED", "SUPPRESSED", "GROUPS", "EVICTED", "LAST FIRED", "ACTIONS"]]
                + rows.map { $0.map(IdentifierText.escapingControlCharacters) })
        for refused in answer["Refused"]?.arrayValue ?? [] {
            let line = refused["Line"]?.integerValue.map { "line \($0): " } ?? ""
            lines.append(IdentifierText.escapingControlCharacters("refused: \(text(refused["File"])): \(line)\(text(refused["Reason"]))"))
        }
        return lines.joined(separator: "\n")
    }

    public static func jobs(_ answer: JSONValue) -> String {
        let rows = (answer["Jobs"]?.arrayValue ?? []).map { job -> [String] in
            [
                text(job["Id"]), text(job["Rule"]), text(job["Action"]), text(job["State"]), text(job["Attempts"]),
                text(job["State"]) == "pending" ? text(job["NextAttemptAt"]) : text(job["CreatedAt"]), text(job["LastError"]), text(job["Target"]),
            ].map(IdentifierText.escapingControlCharacters)
        }
        return EventTable.aligned([["ID", "RULE", "ACTION", "STATE", "ATTEMPTS", "NEXT/CREATED", "LAST ERROR", "TARGET"]] + rows).joined(
            separator: "\n")
    }

    /// `hosttrail responses list`: each request's host, response, arguments and state, then the
    /// hosts that take requests. Arguments hold record text (an address, an account name).
    public static func responses(_ answer: JSONValue) -> String {
        let rows = (answer["Requests"]?.arrayValue ?? []).map { request -> [String] in
            let arguments = (request["Arguments"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(text($0.value))" }
            let state = text(request["State"]) + (request["ErrorCode"]?.stringValue.map { " (\($0))" } ?? "")
            return [
                text(request["Id"]), text(request["Host"]), text(request["Response"]), arguments.joined(separator: " "), state,
                text(request["ExpiresAt"]), text(request["Rule"]), text(request["CreatedAt"]),
            ].map(IdentifierText.escapingControlCharacters)
        }
        var lines = EventTable.aligned([["ID", "HOST", "RESPONSE", "ARGUMENTS", "STATE", "EXPIRES", "RULE", "CREATED"]] + rows)
        let hosts = (answer["Hosts"]?.arrayValue ?? []).map { host -> [String] in
            [text(host["Host"]), (host["Responses"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ","), text(host["LastSeen"])]
                .map(IdentifierText.escapingControlCharacters)
        }
        if !hosts.isEmpty { lines += [""] + EventTable.aligned([["HOST", "DEFINES", "LAST POLL"]] + hosts) }
        return lines.joined(separator: "\n")
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case .integer(let number)?: String(number)
        case nil, .null?: "-"
        case let other?: String(decoding: other.serialized(), as: UTF8.self)
        }
    }
}

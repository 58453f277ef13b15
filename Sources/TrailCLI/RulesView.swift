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

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case .integer(let number)?: String(number)
        case nil, .null?: "-"
        case let other?: String(decoding: other.serialized(), as: UTF8.self)
        }
    }
}

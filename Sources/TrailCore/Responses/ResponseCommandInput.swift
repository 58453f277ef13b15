// SPDX-License-Identifier: Apache-2.0

/// What a `command` response's program reads on its standard input: the shape of Wazuh 5's
/// active-response scripts (`command` `enable`/`disable`, flat field paths in
/// `parameters.alert`), so a migrating operator's scripts keep working.
///
/// ```json
/// {"version": 1, "origin": {"name": "web-01", "module": "hosttrail-agent"}, "command": "enable",
///  "parameters": {"extra_args": [], "program": "/usr/local/sbin/notify",
///   "alert": {"source.ip": "203.0.113.9", "user.name": "alice", "rule.name": "ssh-brute-force",
///             "hosttrail.request_id": "…", "hosttrail.event_ids": ["…"], "hosttrail.duration_seconds": 600}}}
/// ```
public enum ResponseCommandInput {
    public static func json(_ action: ResponseAction, enable: Bool, host: String) -> JSONValue {
        guard case .command(let argv, let revert, _) = action.target else { return .null }
        let request = action.request
        var alert: [String: JSONValue] = [
            "hosttrail.request_id": .string(request.id), "hosttrail.response": .string(request.response),
            "hosttrail.event_ids": .array(request.eventIDs.map(JSONValue.string)), "hosttrail.duration_seconds": .integer(action.seconds),
        ]
        if let rule = request.rule { alert["rule.name"] = .string(rule) }
        for (name, value) in request.arguments {
            switch name {
            case "address": alert["source.ip"] = .string(value)
            case "account": alert["user.name"] = .string(value)
            default: alert["hosttrail.arguments.\(name)"] = .string(value)
            }
        }
        let program = enable ? argv : revert
        return [
            "version": 1, "origin": ["name": .string(host), "module": "hosttrail-agent"], "command": .string(enable ? "enable" : "disable"),
            "parameters": [
                "extra_args": .array(program.dropFirst().map(JSONValue.string)), "program": .string(program.first ?? ""), "alert": .object(alert),
            ],
        ]
    }
}

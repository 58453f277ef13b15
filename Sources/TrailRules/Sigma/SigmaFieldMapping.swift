// SPDX-License-Identifier: Apache-2.0

/// Where Sigma's fields are in a HostTrail record's envelope (the processing pipeline of a Sigma
/// backend, fixed and documented in docs/rules.md):
///
/// - `product: aws, service: cloudtrail`: the fields are CloudTrail's own, under `detail`
///   (`eventName` → `detail.eventName`, `userIdentity.arn` → `detail.userIdentity.arn`).
/// - `product: linux`: the services HostTrail records (`sshd`, `sudo`, `su`, `auth`, `cron`,
///   `login`, `systemd`, `syslog`) with the fields below; CloudTrail's record fields work too.
///   Categories (`process_creation`, `file_event`, …) and keyword searches are refused: the
///   records hold parsed events, not processes or log lines.
enum SigmaFieldMapping {
    /// The event sources each Linux service's rules look at.
    static let linuxServices: [String: Set<String>] = [
        "sshd": ["sshd.linux"],
        "sudo": ["sudo.linux"],
        "su": ["su.linux"],
        "cron": ["cron.linux"],
        "login": ["login.linux", "logind.linux"],
        "systemd": ["systemd.linux"],
        "auth": ["sshd.linux", "sudo.linux", "su.linux", "login.linux", "logind.linux", "accounts.linux", "pam.linux"],
        "syslog": [
            "sshd.linux", "sudo.linux", "su.linux", "login.linux", "logind.linux", "accounts.linux", "cron.linux", "systemd.linux",
            "apt.linux", "dpkg.linux", "pam.linux",
        ],
    ]

    /// Linux rules' field names (as Sigma's Linux rules and its taxonomy write them) → paths.
    static let linuxFields: [String: String] = [
        "user": "detail.userIdentity.userName", "User": "detail.userIdentity.userName", "USER": "detail.userIdentity.userName",
        "user_name": "detail.userIdentity.userName", "user.name": "detail.userIdentity.userName",
        "TargetUserName": "detail.userIdentity.userName",
        "invoking_user": "detail.userIdentity.sessionContext.sessionIssuer.userName",
        "SubjectUserName": "detail.userIdentity.sessionContext.sessionIssuer.userName",
        "client_ip": "detail.sourceIPAddress", "src_ip": "detail.sourceIPAddress", "source.ip": "detail.sourceIPAddress",
        "SourceIp": "detail.sourceIPAddress", "IpAddress": "detail.sourceIPAddress",
        "host": "detail.additionalEventData.host.hostname", "hostname": "detail.additionalEventData.host.hostname",
        "Computer": "detail.additionalEventData.host.hostname", "host.name": "detail.additionalEventData.host.hostname",
        "CommandLine": "detail.requestParameters.command", "command": "detail.requestParameters.command",
        "tty": "detail.requestParameters.tty", "port": "detail.requestParameters.port",
        "auth_method": "detail.requestParameters.authMethod",
        "outcome": "detail.errorCode", "error": "detail.errorCode",
    ]

    /// CloudTrail's record fields, which every product's rules may use as they are.
    static let recordFields: Set<String> = [
        "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
        "errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData", "requestID", "eventID",
        "readOnly", "resources", "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
        "eventCategory", "sessionCredentialFromConsole", "tlsDetails", "insightDetails",
    ]

    /// The path of `field` for rules of `product`, or `nil` when it has none.
    static func path(of field: String, product: String) -> FieldPath? {
        if let mapped = product == "linux" ? linuxFields[field] : nil { return FieldPath(mapped) }
        guard let first = field.split(separator: ".").first, recordFields.contains(String(first)) else { return nil }
        return FieldPath("detail." + field)
    }
}

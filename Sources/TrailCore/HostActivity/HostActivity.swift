// SPDX-License-Identifier: Apache-2.0

/// One thing that happened on the host, as a parser understood it from a log line or a journal
/// entry: what the record will say, before the host, time and position are added.
public struct HostActivity: Sendable, Hashable {
    /// `sshd.linux`, `sudo.linux`, `su.linux`, `accounts.linux`, `logind.linux`, `systemd.linux`,
    /// `dpkg.linux`, `cron.linux`, `login.linux`.
    public var eventSource: String
    public var eventName: String
    /// The account the activity ran as (for sudo and su: the target account).
    public var userName: String?
    /// The uid of `userName`, when the source says it.
    public var uid: Int?
    /// For sudo and su: who asked (becomes `sessionContext.sessionIssuer`).
    public var invokedBy: String?
    /// The uid of whoever asked, when the line gives it (PAM's `by (uid=1002)`): the record names
    /// the account when `invokedBy` does not (``HostRecordBuilder/accountNames``).
    public var invokerUID: Int?
    /// The remote address for SSH; `nil` for local activity (the record says `localhost`).
    public var sourceIPAddress: String?
    public var errorCode: String?
    public var errorMessage: String?
    public var readOnly: Bool
    /// `AwsApiCall`, `AwsConsoleSignIn` (logins) or `AwsServiceEvent` (what services do by themselves).
    public var eventType: String
    public var requestParameters: [String: JSONValue]
    /// The outcome, where CloudTrail's record of the same kind has one (`{"ConsoleLogin": "Success"}`
    /// for a sign-in, so queries written for CloudTrail sign-ins read logins).
    public var responseElements: [String: JSONValue]?
    /// The user name came from an unauthenticated client that named an account that does not
    /// exist; it is hidden by default, as CloudTrail does (people type passwords into that prompt).
    public var userNameIsUnverified: Bool
    /// Where that name lies in the message (UTF-8 offsets): when it is hidden, only these bytes
    /// are, and the rest of what the program wrote (the address, the port) stays.
    public var unverifiedNameRange: Range<Int>?
    /// The line does not say who acted; the account of the process that logged it did (`passwd`
    /// changing a password). The journal says which (`_UID`); a log file does not.
    public var actorIsLoggingProcess: Bool

    public init(
        eventSource: String, eventName: String, userName: String? = nil, uid: Int? = nil, invokedBy: String? = nil,
        sourceIPAddress: String? = nil, errorCode: String? = nil, errorMessage: String? = nil, readOnly: Bool = false,
        eventType: String = "AwsApiCall", requestParameters: [String: JSONValue] = [:], responseElements: [String: JSONValue]? = nil,
        userNameIsUnverified: Bool = false, unverifiedNameRange: Range<Int>? = nil, invokerUID: Int? = nil, actorIsLoggingProcess: Bool = false
    ) {
        self.eventSource = eventSource
        self.eventName = eventName
        self.userName = userName
        self.uid = uid
        self.invokedBy = invokedBy
        self.sourceIPAddress = sourceIPAddress
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.readOnly = readOnly
        self.eventType = eventType
        self.requestParameters = requestParameters
        self.responseElements = responseElements
        self.userNameIsUnverified = userNameIsUnverified
        self.unverifiedNameRange = unverifiedNameRange
        self.invokerUID = invokerUID
        self.actorIsLoggingProcess = actorIsLoggingProcess
    }

    /// The `userName` CloudTrail writes for a sign-in attempt with an account name that does not exist.
    public static let hiddenUserName = "HIDDEN_DUE_TO_SECURITY_REASONS"
}

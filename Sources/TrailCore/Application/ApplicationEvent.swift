// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// One event an application posts to the agent's socket, validated.
///
/// Applications describe what they did; they never say who they are. Identity comes from the
/// kernel (``PeerCredentials``) when the event becomes a record. What a client claims in
/// `userIdentity` is not trusted: its `userName` is kept as the end user the application says it
/// acted for (`sessionContext.sourceIdentity`), everything else in it is dropped.
public struct ApplicationEvent: Sendable, Hashable {
    public var eventSource: String?
    public var eventName: String
    public var eventTime: Date?
    public var eventCategory: String?
    public var readOnly: Bool?
    public var requestID: String?
    public var requestParameters: JSONValue?
    public var responseElements: JSONValue?
    public var additionalEventData: JSONValue?
    public var errorCode: String?
    public var errorMessage: String?
    public var sourceIPAddress: String?
    public var userAgent: String?
    public var resources: [RecordResource]?
    /// `userIdentity.userName` as the client claimed it: the end user it acted for.
    public var claimedEndUser: String?

    /// Limits the socket enforces, like CloudTrail's.
    public enum Limits {
        /// One event's JSON, as CloudTrail allows.
        public static let maxEventBytes = 256 * 1024
        /// Events in one request.
        public static let maxEventsPerRequest = 1000
        /// Short string members (`eventName`, `eventSource`, `requestID`, `errorCode`, …).
        public static let maxShortStringBytes = 1024
        /// How deeply an event's objects and arrays may nest: the record ships two levels deeper
        /// (`{"Records":[…]}`), and the collector's parser stops at ``JSONValue/maxDepth``. An event
        /// the agent took but the collector could not read would take its whole batch with it.
        public static let maxNestingDepth = JSONValue.maxDepth - 2
    }

    /// CloudTrail members that the agent or the collector set (`eventID`, `eventVersion`,
    /// `recipientAccountId`, …): accepted and ignored, so a client can post a record it already has
    /// in CloudTrail's shape. The members a client may send are those of ``Given``.
    static let ignoredMembers: Set<String> = [
        "eventVersion", "eventID", "eventType", "awsRegion", "recipientAccountId", "managementEvent",
        "apiVersion", "sharedEventID",
    ]
    static let eventCategories: Set<String> = ["Management", "Data"]

    /// Validates one event object.
    ///
    /// - Parameters:
    ///   - value: The event as decoded from the request.
    ///   - index: Its position in the request, for error messages.
    /// - Throws: ``EventValidationError`` naming the field at fault.
    public init(validating value: JSONValue, index: Int) throws {
        guard let members = value.objectValue else {
            throw EventValidationError(
                .invalidRequest, "event \(index) must be a JSON object, got \(value.typeName)", index: index)
        }
        func fail(_ code: EventValidationError.Code, _ field: String, _ message: String) -> EventValidationError {
            EventValidationError(code, message, index: index, field: field)
        }
        guard value.nestingDepth <= Limits.maxNestingDepth else {
            throw EventValidationError(
                .invalidRequest, "event \(index) nests objects and arrays deeper than \(Limits.maxNestingDepth) levels", index: index)
        }
        // One pass over the members instead of a hash lookup for every name an event may carry.
        var given = Given()
        var unknown: String?
        for (name, value) in members {
            switch name {
            case "eventSource": given.eventSource = value
            case "eventName": given.eventName = value
            case "eventTime": given.eventTime = value
            case "eventCategory": given.eventCategory = value
            case "readOnly": given.readOnly = value
            case "requestID": given.requestID = value
            case "requestParameters": given.requestParameters = value
            case "responseElements": given.responseElements = value
            case "additionalEventData": given.additionalEventData = value
            case "errorCode": given.errorCode = value
            case "errorMessage": given.errorMessage = value
            case "sourceIPAddress": given.sourceIPAddress = value
            case "userAgent": given.userAgent = value
            case "resources": given.resources = value
            case "userIdentity": given.userIdentity = value
            case _ where Self.ignoredMembers.contains(name):
                continue
            default:
                // The first unknown name in sorted order, so the message does not depend on hashing.
                if unknown.map({ name < $0 }) ?? true { unknown = name }
            }
        }
        if let name = unknown {
            throw fail(.unknownField, name, "unknown field \"\(name)\"")
        }
        /// `identifier`: one line of visible text (``IdentifierText``); a message may hold line breaks but no other control character.
        func string(
            _ name: String, _ raw: JSONValue?, required: Bool = false, maxBytes: Int = Limits.maxShortStringBytes, identifier: Bool = true
        ) throws -> String? {
            guard let raw, raw != .null else {
                if required { throw fail(.missingField, name, "\(name) is required") }
                return nil
            }
            guard let text = raw.stringValue else {
                throw fail(.invalidFieldType, name, "\(name) must be a string, got \(raw.typeName)")
            }
            if required && text.isEmpty { throw fail(.invalidFieldValue, name, "\(name) must not be empty") }
            guard text.utf8.count <= maxBytes else {
                throw fail(.invalidFieldValue, name, "\(name) is longer than \(maxBytes) bytes")
            }
            if IdentifierText.containsControlCharacter(text, allowingLineBreaks: !identifier) {
                throw fail(.invalidFieldValue, name, "\(name) must not hold control characters")
            }
            return text
        }
        func object(_ name: String, _ raw: JSONValue?) throws -> JSONValue? {
            guard let raw else { return nil }
            switch raw {
            case .null, .object: return raw
            default: throw fail(.invalidFieldType, name, "\(name) must be an object or null, got \(raw.typeName)")
            }
        }

        eventName = try string("eventName", given.eventName, required: true)!
        eventSource = try string("eventSource", given.eventSource)
        if let eventSource, !Self.isValidEventSource(eventSource) {
            throw fail(
                .invalidFieldValue, "eventSource",
                "eventSource must be a DNS-style name like billing.example.com (letters, digits, '-' and '_' in labels joined by single dots)")
        }
        if let text = try string("eventTime", given.eventTime) {
            guard let date = TrailTime.parseISO8601(text) else {
                throw fail(
                    .invalidFieldValue, "eventTime",
                    "eventTime \"\(text)\" is not an ISO 8601 time with a zone, like 2026-11-24T16:30:30Z")
            }
            eventTime = date
        }
        eventCategory = try string("eventCategory", given.eventCategory)
        if let eventCategory, !Self.eventCategories.contains(eventCategory) {
            throw fail(
                .invalidFieldValue, "eventCategory",
                "eventCategory must be one of \(Self.eventCategories.sorted().joined(separator: ", ")), got \"\(eventCategory)\"")
        }
        if let raw = given.readOnly, raw != .null {
            guard case .bool(let flag) = raw else {
                throw fail(.invalidFieldType, "readOnly", "readOnly must be a boolean, got \(raw.typeName)")
            }
            readOnly = flag
        }
        requestID = try string("requestID", given.requestID)
        requestParameters = try object("requestParameters", given.requestParameters)
        responseElements = try object("responseElements", given.responseElements)
        additionalEventData = try object("additionalEventData", given.additionalEventData)
        errorCode = try string("errorCode", given.errorCode)
        errorMessage = try string("errorMessage", given.errorMessage, identifier: false)
        sourceIPAddress = try string("sourceIPAddress", given.sourceIPAddress)
        userAgent = try string("userAgent", given.userAgent)
        if let raw = given.resources, raw != .null {
            guard let entries = raw.arrayValue else {
                throw fail(.invalidFieldType, "resources", "resources must be an array, got \(raw.typeName)")
            }
            resources = try entries.enumerated().map { position, entry in
                guard let entry = entry.objectValue else {
                    throw fail(.invalidFieldType, "resources", "resources[\(position)] must be an object")
                }
                let type = entry["type"]?.stringValue
                if type == RecordResource.hostType {
                    throw fail(.invalidFieldValue, "resources", "resources[\(position)]: type \(RecordResource.hostType) is set by the agent")
                }
                var others = entry
                others["ARN"] = nil
                others["accountId"] = nil
                others["type"] = nil
                return RecordResource(arn: entry["ARN"]?.stringValue, accountId: entry["accountId"]?.stringValue, type: type, otherMembers: others)
            }
        }
        if let raw = given.userIdentity, raw != .null {
            guard let identity = raw.objectValue else {
                throw fail(.invalidFieldType, "userIdentity", "userIdentity must be an object, got \(raw.typeName)")
            }
            if let name = identity["userName"], name != .null {
                guard let text = name.stringValue, text.utf8.count <= Limits.maxShortStringBytes else {
                    throw fail(.invalidFieldType, "userIdentity.userName", "userIdentity.userName must be a string of at most 1024 bytes")
                }
                if IdentifierText.containsControlCharacter(text) {
                    throw fail(.invalidFieldValue, "userIdentity.userName", "userIdentity.userName must not hold control characters")
                }
                claimedEndUser = text
            }
        }
    }

    /// The members an event may carry, as given.
    private struct Given {
        var eventSource, eventName, eventTime, eventCategory, readOnly, requestID, requestParameters: JSONValue?
        var responseElements, additionalEventData, errorCode, errorMessage, sourceIPAddress, userAgent: JSONValue?
        var resources, userIdentity: JSONValue?
    }

    /// Event sources are DNS-style names: `billing.example.com`, labels of letters, digits, `-`
    /// and `_` joined by single dots. No empty label, so no leading or trailing dot: `sshd.linux.`
    /// would pass a suffix check for `.linux` and still read as the agent's own source.
    static func isValidEventSource(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253, text.utf8.first != 46, text.utf8.last != 46 else { return false }
        var previous: UInt8 = 0
        for byte in text.utf8 {
            let allowed =
                (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 46 || byte == 45 || byte == 95
            guard allowed, !(byte == 46 && previous == 46) else { return false }
            previous = byte
        }
        return true
    }
}

// SPDX-License-Identifier: Apache-2.0

/// The members of a CloudTrail record HostTrail models, in canonical order (by name, as `String.<`
/// orders them): the one place a record's layout is written down. The model
/// (``CloudTrailRecord``) and the fast builders (host and application records) all write through
/// ``CanonicalRecordWriter``, which keeps this order (checked in debug builds). A new member is a
/// case here, in its place, and a case in ``CloudTrailRecord/value(of:)`` (which the compiler asks for).
public enum CloudTrailMember: Int, CaseIterable, Comparable, Sendable {
    case additionalEventData
    case apiVersion
    case awsRegion
    case errorCode
    case errorMessage
    case eventCategory
    case eventID
    case eventName
    case eventSource
    case eventTime
    case eventType
    case eventVersion
    case insightDetails
    case managementEvent
    case readOnly
    case recipientAccountId
    case requestID
    case requestParameters
    case resources
    case responseElements
    case sharedEventID
    case sourceIPAddress
    case userAgent
    case userIdentity

    /// `,"name":`, what comes before the member's value when another member precedes it (the
    /// first member drops the comma): one append a member.
    var separatedKey: StaticString {
        switch self {
        case .additionalEventData: #","additionalEventData":"#
        case .apiVersion: #","apiVersion":"#
        case .awsRegion: #","awsRegion":"#
        case .errorCode: #","errorCode":"#
        case .errorMessage: #","errorMessage":"#
        case .eventCategory: #","eventCategory":"#
        case .eventID: #","eventID":"#
        case .eventName: #","eventName":"#
        case .eventSource: #","eventSource":"#
        case .eventTime: #","eventTime":"#
        case .eventType: #","eventType":"#
        case .eventVersion: #","eventVersion":"#
        case .insightDetails: #","insightDetails":"#
        case .managementEvent: #","managementEvent":"#
        case .readOnly: #","readOnly":"#
        case .recipientAccountId: #","recipientAccountId":"#
        case .requestID: #","requestID":"#
        case .requestParameters: #","requestParameters":"#
        case .resources: #","resources":"#
        case .responseElements: #","responseElements":"#
        case .sharedEventID: #","sharedEventID":"#
        case .sourceIPAddress: #","sourceIPAddress":"#
        case .userAgent: #","userAgent":"#
        case .userIdentity: #","userIdentity":"#
        }
    }

    /// The member's name.
    public var name: String { Self.names[rawValue] }

    private static let names: [String] = allCases.map { String($0.separatedKey.description.dropFirst(2).dropLast(2)) }

    public static func < (left: CloudTrailMember, right: CloudTrailMember) -> Bool { left.rawValue < right.rawValue }
}

/// Writes one record's members straight into bytes, in ``CloudTrailMember`` order: `key` before
/// each value, `end` after the last. A member written out of order, or twice, stops a debug build.
public struct CanonicalRecordWriter {
    private var last: CloudTrailMember?

    public init() {}

    /// Writes `{"name":` or `,"name":`.
    @inline(__always)
    public mutating func key(_ member: CloudTrailMember, to out: inout [UInt8]) {
        assert(last.map { $0 < member } ?? true, "\(member.name) written after \(last!.name): see CloudTrailMember for the order")
        member.separatedKey.withUTF8Buffer { key in
            if last == nil {
                out.append(UInt8(ascii: "{"))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: key.dropFirst()))
            } else {
                out.append(contentsOf: key)
            }
        }
        last = member
    }

    /// `key`, then `value` as a JSON string.
    @inline(__always)
    public mutating func string(_ member: CloudTrailMember, _ value: String, to out: inout [UInt8]) {
        key(member, to: &out)
        JSONValue.writeString(value, to: &out)
    }

    /// `key`, then `json` (already JSON) as it is.
    @inline(__always)
    public mutating func raw(_ member: CloudTrailMember, _ json: StaticString, to out: inout [UInt8]) {
        key(member, to: &out)
        JSONValue.writeRaw(json, to: &out)
    }

    /// Closes the object (`{}` when nothing was written).
    public func end(to out: inout [UInt8]) {
        if last == nil { out.append(UInt8(ascii: "{")) }
        out.append(UInt8(ascii: "}"))
    }
}

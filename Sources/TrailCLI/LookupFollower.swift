// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// What `hosttrail tail` does each interval: looks up the events of the last `window` and hands
/// back those it has not shown yet, oldest first.
///
/// Events are looked up by event time, so one stored late (a host that was offline, a spool
/// catching up) is still shown while its time is within `window`; later than that it is only
/// found by `hosttrail lookup`.
public struct LookupFollower {
    let client: LookupClient
    let attributes: [LookupAttribute]?
    let window: TimeInterval
    /// Nothing older than this is shown (the `--since` of the command).
    let since: Date
    /// Events shown (``identity(of:)``), with their event times, forgotten once out of the window.
    private var shown: [String: Date] = [:]
    /// A poll reads at most this many events; the rest wait for the next one.
    static let maxEventsPerPoll = 2000

    public init(client: LookupClient, attributes: [LookupAttribute]?, since: Date, window: TimeInterval) {
        self.client = client
        self.attributes = attributes
        self.since = since
        self.window = window
    }

    /// Takes every event already stored as shown, so only events stored from now on are printed
    /// (`hosttrail tail` without `--since`).
    public mutating func skipWhatIsStored(now: Date) throws {
        _ = try poll(now: now)
    }

    public mutating func poll(now: Date) throws -> [LookupEvent] {
        let start = max(since, now.addingTimeInterval(-window))
        let request = LookupEventsRequest(
            lookupAttributes: attributes, startTime: Date(timeIntervalSince1970: start.timeIntervalSince1970.rounded(.down)), endTime: nil)
        let events = try client.lookup(request, maxResults: Self.maxEventsPerPoll)
        let fresh = events.filter { shown[Self.identity(of: $0)] == nil && Date(timeIntervalSince1970: $0.eventTime) >= since }
        for event in fresh { shown[Self.identity(of: event)] = Date(timeIntervalSince1970: event.eventTime) }
        shown = shown.filter { $0.value >= start.addingTimeInterval(-1) }
        // Lookups are newest first; a tail reads oldest first.
        return fresh.sorted { ($0.eventTime, $0.eventId) < ($1.eventTime, $1.eventId) }
    }

    /// Polls every `interval` until the process ends, writing each new event with `write`; a
    /// failed poll is reported to `report` and retried at the next interval.
    public mutating func follow(every interval: Duration, write: (LookupEvent) -> Void, report: (LookupClient.Failure) -> Void) -> Never {
        while true {
            do {
                for event in try poll(now: Date()) { write(event) }
            } catch let failure as LookupClient.Failure {
                report(failure)
            } catch {
                report(LookupClient.Failure(description: "\(error)"))
            }
            Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
        }
    }

    /// An event ID is unique per host only: two hosts' records under one ID (one of them forged,
    /// as the collector's `EventIDCollision` says) are two events to show. The host is the
    /// `HostTrail::Host` resource the collector gives every record.
    static func identity(of event: LookupEvent) -> String {
        let host = event.resources.first { $0.resourceType == RecordResource.hostType }?.resourceName ?? ""
        return event.eventId + " " + host
    }
}

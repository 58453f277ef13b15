// SPDX-License-Identifier: Apache-2.0

/// What the store knows of one host from what it sent: kept as records are stored (table `hosts`,
/// migration `v8-hosts`), so `hosttrail status` reads one row a host, not the events.
public struct HostStatus: Sendable, Hashable {
    public var host: String
    /// ms since the epoch.
    public var firstReceivedAt: Int64
    public var lastReceivedAt: Int64
    /// The newest event time among its records (ms).
    public var newestEventTime: Int64
    /// Records received (not what retention has left).
    public var recordsReceived: Int64
    /// Its newest `agent.hosttrail Heartbeat` record's JSON, and that record's event time (ms).
    public var heartbeat: String?
    public var heartbeatTime: Int64?
}

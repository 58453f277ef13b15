// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// What a caller of the CloudTrail API may read: the whole fleet, or only the hosts and event
/// sources named.
///
/// An access key reads what its `hosts=`/`event-sources=` allow (everything without them). A host's
/// client certificate reads its own host's records only — a compromised host learns nothing of the
/// fleet — unless the configuration names its CN as a fleet reader (`--fleet-reader`).
public struct LookupScope: Sendable, Hashable {
    /// `nil`: every host.
    public var hosts: [String]?
    /// `nil`: every event source.
    public var eventSources: [String]?

    public static let fleet = LookupScope(hosts: nil, eventSources: nil)

    public init(hosts: [String]?, eventSources: [String]?) {
        self.hosts = hosts
        self.eventSources = eventSources
    }

    /// What `key` may read.
    public init(key: AccessKey) {
        self.init(hosts: key.hosts, eventSources: key.eventSources)
    }

    /// What the client certificate with CN `host` may read.
    public init(certificateHost host: String, fleetReaders: Set<String>) {
        self.init(hosts: fleetReaders.contains(host) ? nil : [host], eventSources: nil)
    }
}

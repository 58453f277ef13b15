// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailCollector

struct CollectorConfigurationTests {
    /// Connections stay below the descriptor limit, leaving a quarter (256 at least) for the
    /// store and the archive; one address gets at most a quarter of the rest.
    @Test func connectionCapsLeaveDescriptorsForTheCollector() {
        let configuration = CollectorConfiguration()
        #expect(configuration.connectionCaps(descriptorLimit: 65_536) == (4096, 512))
        #expect(configuration.connectionCaps(descriptorLimit: 1024) == (768, 192))
        #expect(configuration.connectionCaps(descriptorLimit: 300) == (44, 11))
        #expect(configuration.connectionCaps(descriptorLimit: 10) == (1, 1))
    }
}

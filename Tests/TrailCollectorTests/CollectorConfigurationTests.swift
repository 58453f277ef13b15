// SPDX-License-Identifier: Apache-2.0

import NIOCore
import Testing
import TrailCore
import TrailTestSupport

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

    /// The per-address cap counts an IPv6 client by its /64 (one host can use all of it) and an
    /// IPv4 client by its address, mapped into IPv6 or not.
    @Test func thePerAddressCapCountsIPv6ByItsSlash64() throws {
        func client(_ address: String) throws -> String { ConnectionCapHandler.client(try SocketAddress(ipAddress: address, port: 1)) }
        #expect(try client("2001:db8:1:2::1") == "2001:db8:1:2::/64")
        #expect(try client("2001:db8:1:2:ffff:ffff:ffff:fffe") == "2001:db8:1:2::/64")
        #expect(try client("2001:db8:1:3::1") == "2001:db8:1:3::/64")
        #expect(try client("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(try client("192.0.2.7") == "192.0.2.7")
    }

    /// Counts per client come and go with their connections; refusals are logged once in 10 s.
    @Test func theTallyCountsConnectionsAndThrottlesWarnings() {
        let tally = ConnectionTally<String>()
        #expect(tally.open() == 1 && tally.assign(to: "a") == 1)
        #expect(tally.open() == 2 && tally.assign(to: "a") == 2)
        tally.close(assignedTo: "a")
        #expect(tally.open() == 2 && tally.assign(to: "a") == 2)
        #expect(tally.assign(to: "b") == 1)
        let now = ContinuousClock.now
        #expect(tally.shouldWarn(now: now))
        #expect(!tally.shouldWarn(now: now + .seconds(9)))
        #expect(tally.shouldWarn(now: now + .seconds(10)))
    }

    /// Each key's documented default is the default: writing it in the file changes nothing.
    @Test(arguments: CollectorConfiguration.keys.filter { $0.defaultValue != nil })
    func theDocumentedDefaultIsTheDefault(key: ConfigurationKey) throws {
        let base = try ConfigSettings(toml: "", file: "collector.toml", knownKeys: CollectorConfiguration.knownKeys)
        var explicit = base
        explicit.setFlag(key.name, key.defaultValue)
        #expect(try CollectorConfiguration(settings: explicit) == CollectorConfiguration(settings: base), "\(key.name)")
    }

    /// The README's flag table and the example collector.toml name every key, and no other.
    @Test func theREADMEAndTheExampleFileNameEveryKey() throws {
        let problems = try ConfigurationDocuments.problems(
            keys: CollectorConfiguration.keys.names, tableHeader: "| collector flag | default |", exampleFile: "collector.toml")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Each integer key takes its table's bounds and refuses one past each; a value of another
    /// type is refused for every integer and flag key.
    @Test(arguments: CollectorConfiguration.keys.filter { if case .text = $0.kind { false } else if case .list = $0.kind { false } else { true } })
    func theTableSaysWhatTheParserTakes(key: ConfigurationKey) throws {
        let base = try ConfigSettings(toml: "", file: "collector.toml", knownKeys: CollectorConfiguration.knownKeys)
        let problems = ConfigurationDocuments.kindProblems(of: key) { value in
            var values = base
            values.setFlag(key.name, value)
            _ = try CollectorConfiguration(settings: values)
        }
        #expect(problems.isEmpty, "\(problems)")
    }
}

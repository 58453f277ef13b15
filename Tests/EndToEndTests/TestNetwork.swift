// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailTestSupport

/// Machines on one private network, made of network namespaces: a bridge in the test's own
/// namespace (its address is where the collector listens) and one namespace per machine on a veth
/// pair, each with an address of a private /24 chosen at random. Every name starts with the
/// network's random prefix; ``remove()`` deletes them all.
final class TestNetwork: @unchecked Sendable {
    // @unchecked: used by one serialized test at a time.
    let prefix = "ht" + String(UInt16.random(in: 0x1000...0xFFFF), radix: 16)
    let subnet = "10.231.\(Int.random(in: 1...254))"
    private(set) var machines: [String: (namespace: String, address: String)] = [:]
    private var links: [String] = []

    var bridge: String { prefix + "br" }
    var gateway: String { subnet + ".1" }

    /// - Throws: When a namespace or link cannot be made; what was made is removed.
    init(machines names: [String]) throws {
        do {
            try make(names)
        } catch {
            remove()
            throw error
        }
    }

    private func make(_ names: [String]) throws {
        try Self.ip(["link", "add", bridge, "type", "bridge"])
        try Self.ip(["addr", "add", gateway + "/24", "dev", bridge])
        try Self.ip(["link", "set", bridge, "up"])
        for (index, name) in names.enumerated() {
            let namespace = "\(prefix)-\(name)"
            let outside = "\(prefix)v\(index)"
            let inside = "\(prefix)p\(index)"
            let address = "\(subnet).\(11 + index)"
            try Self.ip(["netns", "add", namespace])
            machines[name] = (namespace, address)
            try Self.ip(["link", "add", outside, "type", "veth", "peer", "name", inside])
            links.append(outside)
            try Self.ip(["link", "set", inside, "netns", namespace])
            try Self.ip(["link", "set", outside, "master", bridge, "up"])
            try Self.ip(["-n", namespace, "addr", "add", address + "/24", "dev", inside])
            try Self.ip(["-n", namespace, "link", "set", inside, "up"])
            try Self.ip(["-n", namespace, "link", "set", "lo", "up"])
        }
    }

    func namespace(_ machine: String) -> String { machines[machine]!.namespace }
    func address(_ machine: String) -> String { machines[machine]!.address }

    /// `argv` run in `machine`'s namespace.
    func command(in machine: String, _ argv: [String]) -> (executable: String, arguments: [String]) {
        ("/usr/sbin/ip", ["netns", "exec", namespace(machine)] + argv)
    }

    func run(in machine: String, _ argv: [String], stdin: Data? = nil, timeout: TimeInterval = 30) throws -> Command.Result {
        let (executable, arguments) = command(in: machine, argv)
        return try Command.run(executable, arguments, stdin: stdin, timeout: timeout, unblockingSignals: true)
    }

    /// Whether a TCP connection from `machine` to `address:port` is accepted within `seconds`
    /// (a dropped SYN is never answered: the attempt times out).
    func connects(from machine: String, to address: String, port: Int, within seconds: Double = 1) throws -> Bool {
        let probe =
            "import socket,sys\ntry:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()\nexcept OSError:\n sys.exit(1)"
        return try run(in: machine, ["/usr/bin/python3", "-c", probe, address, String(port), String(seconds)], timeout: seconds + 10).status == 0
    }

    /// Ends every process left in the namespaces (an sshd session waiting for a client whose
    /// packets a ban dropped), then deletes them: a namespace lives on while a process is in it.
    func remove() {
        for (namespace, _) in machines.values {
            let pids = (try? Command.run("/usr/sbin/ip", ["netns", "pids", namespace]))?.stdout.split(separator: "\n").compactMap { Int32($0) } ?? []
            for pid in pids { kill(pid, SIGKILL) }
            _ = try? Command.run("/usr/sbin/ip", ["netns", "delete", namespace])
        }
        // The kernel frees a pair with its namespace, but not at once: deleted here, now.
        for link in links { _ = try? Command.run("/usr/sbin/ip", ["link", "delete", link]) }
        _ = try? Command.run("/usr/sbin/ip", ["link", "delete", bridge])
    }

    static func ip(_ arguments: [String]) throws {
        let result = try Command.run("/usr/sbin/ip", arguments)
        guard result.status == 0 else { throw TestProcess.Failure(description: "ip \(arguments.joined(separator: " ")): \(result)") }
    }
}

// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// `hosttrail-agent responses purge` (the package's purge; a host leaving the fleet): undoes what
/// the responses in the book still hold — account locks ended (unless locked before), command
/// responses' revert programs run — then deletes the agent's nftables table with every ban in it,
/// and the book. With the agent stopped: nothing here is recorded (there is no agent to ship it).
public enum ResponsePurge {
    /// Lines saying what was done.
    public static func purge(spoolDirectory: String, firewallTable: String, host: String) -> [String] {
        var lines: [String] = []
        let file = ResponseBookFile(directory: spoolDirectory)
        let executor = ResponseExecutor(firewall: NftablesFirewall(table: firewallTable), host: host)
        do {
            let book = try file.load()
            for active in book.active.values.sorted(by: { $0.requestID < $1.requestID }) {
                if case .address = active.action.target { continue }  // the table goes below
                do {
                    _ = try executor.end(active)
                    lines.append("ended \(active.action.request.response) of request \(active.requestID)")
                } catch {
                    lines.append("could not end \(active.action.request.response) of request \(active.requestID): \(error)")
                }
            }
        } catch {
            lines.append("the responses book \(file.path) cannot be read (\(error)); only the firewall table is removed")
        }
        if access(executor.firewall.program, F_OK) != 0 && errno == ENOENT {
            lines.append("the nftables table inet \(firewallTable) was not deleted: \(executor.firewall.program) is not installed")
        } else {
            do {
                try executor.firewall.purge()
                lines.append("deleted the nftables table inet \(firewallTable)")
            } catch {
                lines.append("could not delete the nftables table inet \(firewallTable): \(error)")
            }
        }
        if FileManager.default.fileExists(atPath: file.path) {
            try? FileManager.default.removeItem(atPath: file.path)
            lines.append("removed \(file.path)")
        }
        return lines
    }
}

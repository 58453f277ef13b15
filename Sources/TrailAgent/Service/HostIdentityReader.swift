// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// Reads this host's identity: `/etc/machine-id` and the boot id.
enum HostIdentityReader {
    /// - Throws: ``AgentError`` `host-identity` when there is no machine id (event IDs need it).
    static func read(hostname: String?, machineIDPath: String = "/etc/machine-id") throws -> HostIdentity {
        let machineID =
            (try? String(contentsOfFile: machineIDPath, encoding: .utf8))?
            .trimmingWhitespaceAndNewlines() ?? ""
        guard machineID.count == 32, machineID.allSatisfy(\.isHexDigit) else {
            throw AgentError(
                .hostIdentity, "no valid machine id; run systemd-machine-id-setup (event IDs are derived from it)", path: machineIDPath)
        }
        let bootID = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingWhitespaceAndNewlines()
            .filter { $0 != "-" }
        return HostIdentity(hostname: hostname, machineID: machineID, bootID: bootID)
    }
}

// SPDX-License-Identifier: Apache-2.0

/// The version every HostTrail binary reports and writes into `AgentStarted`.
public enum HostTrailVersion {
    public static let current = "0.1.0"
}

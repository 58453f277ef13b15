// SPDX-License-Identifier: Apache-2.0

import TrailCore
import TrailRules

extension AgentConfiguration {
    /// What `hosttrail-agent validate` reports and what makes a reload keep the running
    /// configuration: files that cannot be read, and (unless `ignoringResponses`) response
    /// definitions and host rules that are refused. One list, so the two agree.
    public func problems(ignoringResponses: Bool = false) -> [ConfigurationError] {
        ignoringResponses
            ? checkFiles()
            : problems(responses: ResponseDirectory(path: responsesDirectory), hostRules: HostRuleDirectory(path: hostRulesDirectory))
    }

    /// The same, for directories already read.
    func problems(responses: ResponseDirectory, hostRules: HostRuleDirectory) -> [ConfigurationError] {
        checkFiles() + responses.refused
            + hostRules.refused.map { ConfigurationError(.invalidValue, file: $0.file, key: "host-rules-dir", reason: $0.error.description) }
    }
}

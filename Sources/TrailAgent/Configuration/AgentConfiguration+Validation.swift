// SPDX-License-Identifier: Apache-2.0

import TrailCore
import TrailRules

extension AgentConfiguration {
    /// What `hosttrail-agent validate` reports and what makes a reload keep the running
    /// configuration: files that cannot be read, and (unless `ignoringResponses`) response
    /// definitions and host rules that are refused. One list, so the two agree.
    public func problems(ignoringResponses: Bool = false) -> [ConfigurationError] {
        var problems = checkFiles()
        if !ignoringResponses {
            problems += ResponseDirectory(path: responsesDirectory).refused
            problems += HostRuleDirectory(path: hostRulesDirectory).refused.map {
                ConfigurationError(.invalidValue, file: $0.file, key: "host-rules-dir", reason: $0.error.description)
            }
        }
        return problems
    }
}

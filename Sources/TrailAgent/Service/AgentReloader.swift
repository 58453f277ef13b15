// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization
import TrailCore
import TrailSystemd

/// A reload (SIGHUP, ``SystemdReloadService``): reads the configuration again and applies what can change while
/// the agent runs (the keys declared `reload: .live`: rate limits, event-source claims, event
/// selectors, tailed files, the log level), and the response definitions and host rules from their directories. Each other key
/// whose value changed is named in the log with "restart needed" and keeps its running value.
///
/// A configuration that does not validate (``AgentConfiguration/problems(ignoringResponses:)``,
/// what `hosttrail-agent validate` reports) changes nothing: the running one stays, and the log
/// says why.
final class AgentReloader: Sendable {
    /// Where the live settings go.
    struct Targets: Sendable {
        var rateLimiter: ApplicationRateLimiter
        var applicationRecords: LiveValue<ApplicationRecordBuilder>
        var eventSelectors: LiveValue<EventSelectors>
        var tailFiles: LiveValue<[String]>
        var responses: ResponseService?
        var hostRules: HostRuleEvaluator?
        /// What heartbeats report: the hash of the settings in force.
        var configurationHash: LiveValue<String>
    }

    private let load: @Sendable () throws -> ConfigSettings
    private let targets: Targets
    private let logger: Logger
    /// The settings in force: what a reload compares the file with.
    private let running: Mutex<RunningSettings>

    /// - Parameter load: Reads the settings as at start: the file again, the same flags.
    init(settings: ConfigSettings, load: @escaping @Sendable () throws -> ConfigSettings, targets: Targets, logger: Logger) {
        running = Mutex(RunningSettings(settings, keys: AgentConfiguration.keys))
        self.load = load
        self.targets = targets
        self.logger = logger
    }

    /// What one reload did.
    enum Outcome: Equatable {
        case reloaded(live: [String], restartNeeded: [String])
        case refused([String])
    }

    @discardableResult
    func reload() -> Outcome {
        let settings: ConfigSettings
        let configuration: AgentConfiguration
        do {
            settings = try load()
            configuration = try AgentConfiguration(settings: settings)
        } catch {
            logger.error("configuration not reloaded; the running configuration stays", metadata: ["error": "\(error)"])
            return .refused(["\(error)"])
        }
        // The directories are read once: what is checked is what is applied.
        let responseDirectory = ResponseDirectory(path: configuration.responsesDirectory)
        let hostRuleDirectory = HostRuleDirectory(path: configuration.hostRulesDirectory)
        let problems = configuration.problems(responses: responseDirectory, hostRules: hostRuleDirectory)
        guard problems.isEmpty else {
            for problem in problems {
                logger.error("configuration not reloaded; the running configuration stays", metadata: ["error": "\(problem)"])
            }
            return .refused(problems.map(\.description))
        }
        let (changes, hash) = running.withLock { running in (running.take(settings), running.settings.hash) }
        targets.configurationHash.set(hash)
        var restartNeeded = changes.restartNeeded
        // Live keys: applied.
        // A new rate or burst refills every bucket; an unchanged one keeps the throttled throttled.
        if changes.live.contains("rate-limit") || changes.live.contains("rate-limit-burst") {
            targets.rateLimiter.reconfigure(rate: Double(configuration.rateLimit), burst: Double(configuration.rateLimitBurst))
        }
        var records = targets.applicationRecords.current
        records.claims = configuration.eventSourceClaims
        targets.applicationRecords.set(records)
        targets.eventSelectors.set(configuration.eventSelectors)
        targets.tailFiles.set(configuration.tailFiles)
        DaemonLogging.setLevel(((try? settings.string("log-level")) ?? nil) ?? "info")
        // The directories' contents, read again whether or not their paths changed.
        let definitions = responseDirectory.definitions
        if let responses = targets.responses {
            responses.replaceDefinitions(definitions)
        } else if !definitions.isEmpty {
            restartNeeded.append("responses-dir (responses defined where none were at start)")
        }
        let rules = hostRuleDirectory.rules
        if let hostRules = targets.hostRules {
            hostRules.replaceRules(rules)
        } else if !rules.isEmpty {
            restartNeeded.append("host-rules-dir (host rules where none were evaluated at start)")
        }
        for key in restartNeeded {
            logger.warning("restart needed: a changed setting is not applied while the agent runs", metadata: ["key": "\(key)"])
        }
        logger.notice(
            "configuration reloaded",
            metadata: [
                "changed": "\(changes.live.joined(separator: ","))", "agent.config-hash": "\(hash)",
                "restart-needed": "\(restartNeeded.joined(separator: ","))",
                "responses": "\(definitions.map(\.name).joined(separator: ","))", "host-rules": "\(rules.map(\.name).joined(separator: ","))",
            ])
        return .reloaded(live: changes.live, restartNeeded: restartNeeded)
    }
}

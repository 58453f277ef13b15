// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization
import TrailCore
import TrailSystemd

/// A reload (SIGHUP, ``SystemdReloadService``): reads the configuration again and applies the keys declared
/// `reload: .live` (the API's access keys and fleet readers, the log level); every other changed
/// key is named in the log with "restart needed". The revocation list and the rules reload on
/// the same signal from their own files (``RevokedHosts``, ``RulesService``). A configuration that
/// does not parse changes nothing, and the log says why.
final class CollectorReloader: Sendable {
    private let load: @Sendable () throws -> ConfigSettings
    private let apiAccess: LiveValue<APIAccess>
    private let logger: Logger
    /// The settings in force: what a reload compares the file with.
    private let running: Mutex<RunningSettings>

    init(settings: ConfigSettings, load: @escaping @Sendable () throws -> ConfigSettings, apiAccess: LiveValue<APIAccess>, logger: Logger) {
        running = Mutex(RunningSettings(settings, keys: CollectorConfiguration.keys))
        self.load = load
        self.apiAccess = apiAccess
        self.logger = logger
    }

    func reload() {
        let settings: ConfigSettings
        let configuration: CollectorConfiguration
        do {
            settings = try load()
            configuration = try CollectorConfiguration(settings: settings)
        } catch {
            logger.error("configuration not reloaded; the running configuration stays", metadata: ["error": "\(error)"])
            return
        }
        let changes = running.withLock { $0.take(settings) }
        apiAccess.set(APIAccess(accessKeys: configuration.accessKeys, fleetReaders: configuration.fleetReaders))
        DaemonLogging.setLevel(((try? settings.string("log-level")) ?? nil) ?? "info")
        for key in changes.restartNeeded {
            logger.warning("restart needed: a changed setting is not applied while the collector runs", metadata: ["key": "\(key)"])
        }
        logger.notice(
            "configuration reloaded",
            metadata: [
                "changed": "\(changes.live.joined(separator: ","))", "restart-needed": "\(changes.restartNeeded.joined(separator: ","))",
                "access-keys": "\(configuration.accessKeys.keys.count)",
            ])
    }
}

/// Who may call the CloudTrail API: SigV4 access keys, and the hosts whose certificate reads the
/// whole fleet. A reload replaces both.
struct APIAccess: Sendable {
    var accessKeys: AccessKeys
    var fleetReaders: Set<String>
}

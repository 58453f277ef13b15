// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import TrailCore

/// Writes `AgentStarted` when the agent starts and `AgentStopped` when it stops.
///
/// It runs after the shipper in the service group, so on shutdown it stops first and its
/// `AgentStopped` is in the spool before the shipper's final drain.
final class AgentLifecycleService: Service {
    private let spool: Spool
    private let builder: AgentRecordBuilder
    private let logger: Logger

    init(spool: Spool, builder: AgentRecordBuilder, logger: Logger) {
        self.spool = spool
        self.builder = builder
        self.logger = logger
    }

    func run() async throws {
        try spool.append([try builder.agentStarted(now: Date()).canonicalJSON()])
        logger.info("agent started", metadata: ["agent.version": "\(builder.version)", "agent.config-hash": "\(builder.configurationHash)"])
        let reason: String
        do {
            try await gracefulShutdown()
            reason = "shutdown"
        } catch {
            reason = "error"
        }
        do {
            try spool.append([try builder.agentStopped(now: Date(), reason: reason).canonicalJSON()])
        } catch {
            logger.error("cannot record AgentStopped", metadata: ["error": "\(error)"])
        }
        logger.info("agent stopping", metadata: ["reason": "\(reason)"])
    }
}

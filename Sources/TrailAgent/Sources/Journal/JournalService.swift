// SPDX-License-Identifier: Apache-2.0

import ServiceLifecycle

/// The journal reader as a service of the agent's group: its thread stops on graceful shutdown.
struct JournalService: Service {
    let reader: JournalReader

    func run() async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await reader.run()
        } onCancelOrGracefulShutdown: {
            reader.requestStop()
        }
    }
}

// SPDX-License-Identifier: Apache-2.0

import ServiceLifecycle

/// The journal reader as a service of the agent's group: its thread stops on graceful shutdown.
struct JournalService: Service {
    let reader: JournalReader

    func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await reader.run()
        } onCancelOrGracefulShutdown: {
            reader.requestStop()
        }
    }
}

// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization

/// Makes every source's ``SourceContext`` over the agent's one sink and readiness board, and
/// keeps them for the counters the agent logs.
final class SourceContexts: Sendable {
    let sink: any RecordSink
    let readiness: SourceReadiness
    private let logger: Logger
    private let made = Mutex<[SourceContext]>([])

    init(sink: any RecordSink, readiness: SourceReadiness, logger: Logger) {
        self.sink = sink
        self.readiness = readiness
        self.logger = logger
    }

    /// The context of the source called `name`; `awaitedForReadiness: false` for a source
    /// `READY=1` does not wait for; `sink` for one that must bypass the usual sink (records
    /// replayed from the dead-letter list are not evaluated by host rules a second time).
    /// A name made before (a tailed file a reload dropped and asks for again) gets its context back.
    func make(_ name: String, awaitedForReadiness: Bool = true, sink: (any RecordSink)? = nil) -> SourceContext {
        made.withLock { made in
            if let existing = made.first(where: { $0.name == name }) { return existing }
            let context = SourceContext(name: name, sink: sink ?? self.sink, readiness: awaitedForReadiness ? readiness : nil, logger: logger)
            made.append(context)
            return context
        }
    }

    var all: [SourceContext] { made.withLock { $0 } }
}

// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import TrailCore
import TrailTestSupport

/// Posts events to an agent's socket at a steady rate, as a well-behaved application does: each
/// event has its own request ID, and an event whose reply never came (the agent died, or answered
/// 503) is sent again with the same request ID until it is acknowledged. The event IDs of every
/// `202` are kept: what the agent promised to deliver.
final class EventFeeder: @unchecked Sendable {
    // @unchecked: `thread` is set once in start(); shared state is in Mutexes.
    let socket: String
    let source: String
    let interval: TimeInterval
    private let acknowledged = Mutex<[Int: String]>([:])
    private let stopping = Mutex(false)
    private let statuses = Mutex<[Int: Int]>([:])
    private let finished = DispatchSemaphore(value: 0)

    init(socket: String, source: String = "fault.example.com", interval: TimeInterval = 0.005) {
        self.socket = socket
        self.source = source
        self.interval = interval
    }

    func start() {
        let thread = Thread { [self] in
            var n = 0
            while !stopping.withLock({ $0 }) {
                let body = #"{"eventSource":"\#(source)","eventName":"Feed","requestID":"feed-\#(n)","requestParameters":{"n":\#(n)}}"#
                guard let reply = SocketHTTPClient.post(socket: socket, body: body, timeout: 5) else {
                    statuses.withLock { $0[0, default: 0] += 1 }
                    Thread.sleep(forTimeInterval: 0.02)  // the agent is down: retry the same event
                    continue
                }
                statuses.withLock { $0[reply.status, default: 0] += 1 }
                if reply.status == 202, let data = reply.body.data(using: .utf8),
                    let id = (try? JSONDecoder().decode(JSONValue.self, from: data))?["eventIDs"]?.arrayValue?.first?.stringValue
                {
                    acknowledged.withLock { $0[n] = id }
                    n += 1
                    Thread.sleep(forTimeInterval: interval)
                } else {
                    Thread.sleep(forTimeInterval: reply.status == 503 ? 0.2 : 0.02)
                }
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops after the event in progress is acknowledged; returns the acknowledged event IDs by n.
    func stop() -> [Int: String] {
        stopping.withLock { $0 = true }
        finished.wait()
        return acknowledged.withLock { $0 }
    }

    var acknowledgedCount: Int { acknowledged.withLock { $0.count } }
    var statusCounts: [Int: Int] { statuses.withLock { $0 } }
}

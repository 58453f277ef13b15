// SPDX-License-Identifier: Apache-2.0

/// The spool, with the host rules shown every batch it commits (after it is durable, so a rule
/// acts only on what the trail holds).
final class RuleTeeSink: RecordSink {
    let sink: any RecordSink
    let evaluator: HostRuleEvaluator

    init(sink: any RecordSink, evaluator: HostRuleEvaluator) {
        self.sink = sink
        self.evaluator = evaluator
    }

    var checkpoints: [String: String] { sink.checkpoints }

    func submit(
        _ batch: SourceBatch, checkpoint: (source: String, position: String)?, completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let evaluator = self.evaluator
        sink.submit(batch, checkpoint: checkpoint) { result in
            if case .success = result { evaluator.committed(batch.frames) }
            completion(result)
        }
    }
}

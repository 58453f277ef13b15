// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// A counting window with Sigma's correlation semantics (v2.0): records that match the rule are
/// grouped by the values of `groupBy`; a group fires when, within `milliseconds` of its newest
/// record, the condition holds, and then starts counting again.
public struct RuleWindow: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// At least `threshold` records.
        case eventCount = "event_count"
        /// At least `threshold` distinct values of `field`.
        case valueCount = "value_count"
        /// At least `threshold` of the steps seen (each its `minimum` times), in any order.
        case temporal
        /// Every step seen, each its `minimum` times, in the order written.
        case temporalOrdered = "temporal_ordered"
    }

    /// One kind of record a temporal window waits for.
    public struct Step: Sendable {
        public var name: String
        public var matcher: RuleMatcher
        /// How many of it the step needs (default 1).
        public var minimum: Int
    }

    public var kind: Kind
    public var groupBy: [FieldPath]
    public var milliseconds: Int64
    public var threshold: Int
    /// `value_count`'s field.
    public var field: FieldPath?
    /// `temporal` and `temporal_ordered`'s steps.
    public var steps: [Step]

    /// The most records a group holds; older ones beyond it are dropped (and counted) first.
    public static let maxRecordsPerGroup = 1000
}

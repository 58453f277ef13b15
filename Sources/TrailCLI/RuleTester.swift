// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore
import TrailRules
import TrailRulesYAML

/// `hosttrail rules test` and `backtest`: a rule file run over given events, offline, with its
/// windows, as the collector would run it (EventBridge's `TestEventPattern`, and more).
public struct RuleTester {
    public let rule: Rule
    var engine: RuleEngine
    public private(set) var events = 0
    public private(set) var matched = 0
    public private(set) var firings: [RuleFiring] = []

    /// Loads the rule in `path`.
    public init(rulePath path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw UsageError("cannot read the rule file \(path)")
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            rule = try RuleFile.load(text: text, defaultName: name)
        } catch {
            throw UsageError("\(path): \(error)")
        }
        engine = RuleEngine(rules: [rule])
    }

    /// The events in a file: a record, a list of them, `{"Records": [...]}`, or EventBridge
    /// envelopes of records; each as a rule sees it.
    public static func events(inFile path: String) throws -> [RuleEvent] {
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(data))
        } catch {
            throw UsageError("\(path) is not JSON: \(error)")
        }
        let items = json["Records"]?.arrayValue ?? json.arrayValue ?? [json]
        return try items.enumerated().map { index, item in
            let record = item["detail-type"] != nil ? (item["detail"] ?? .null) : item
            guard let event = RuleEvent(recordJSON: record, host: record["additionalEventData"]?["host"]?["hostname"]?.stringValue ?? "-") else {
                throw UsageError("\(path), event \(index + 1): not a CloudTrail record (it needs eventID and an ISO 8601 eventTime)")
            }
            return event
        }
    }

    /// Takes `event`; whether the rule matched it, and what it fired.
    @discardableResult
    public mutating func take(_ event: RuleEvent) -> (matched: Bool, fired: [RuleFiring]) {
        events += 1
        let isMatch = rule.matcher.matches(event)
        if isMatch { matched += 1 }
        let fired = engine.evaluate(event)
        firings += fired
        return (isMatch, fired)
    }

    /// A firing on one line: when, the group, the count and the window, escaped.
    public static func describe(_ firing: RuleFiring) -> String {
        let group = firing.groupKey.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(decoding: $0.value.serialized(), as: UTF8.self))" }
        var text = "\(TrailTime.formatEpochSeconds(firing.windowEnd / 1000))  fires"
        if !group.isEmpty { text += "  \(group.joined(separator: " "))" }
        text += "  count \(firing.count)"
        if firing.windowMilliseconds != nil { text += "  from \(TrailTime.formatEpochSeconds(firing.windowStart / 1000))" }
        text += "  (\(firing.mode == .dryRun ? "dry-run" : "enforce"), match \(firing.id))"
        return IdentifierText.escapingControlCharacters(text)
    }

    public var summary: String {
        "\(events) events, \(matched) matched, \(firings.count) firings"
            + (engine.counters[rule.name].map { $0.suppressed > 0 ? ", \($0.suppressed) suppressed" : "" } ?? "")
    }
}

// SPDX-License-Identifier: Apache-2.0

import GRDB
import TrailCore

/// Insights' reads: counts to resume from at start, attributions and series when an Insight is
/// written or shown. None is on the ingest path (Insights count what the pipeline hands them).
extension SQLiteEventStore {
    public func insightCounts(from: Int64, to: Int64) async throws -> [InsightCount] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT event_time / 60000, event_source, event_name, host, username, read_only, error_code, source_ip,
                        invoking_user, count(*)
                    FROM (SELECT event_time, event_source, event_name, host, username, read_only,
                            json_extract(record, '$.errorCode') AS error_code, source_ip, invoking_user
                          FROM events WHERE event_time >= ? AND event_time < ? AND event_category != 'Insight'
                            AND event_source NOT IN ('collector.hosttrail', 'rules.hosttrail'))
                    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1
                    """, arguments: [from, to])
            return rows.map { row in
                InsightCount(
                    minute: row[0], eventSource: row[1], eventName: row[2], host: row[3], userName: row[4], readOnly: row[5], errorCode: row[6],
                    sourceIPAddress: row[7], invokingUser: row[8], count: row[9])
            }
        }
    }

    public func insightAttributions(of key: InsightKey, from: Int64, to: Int64) async throws -> [String: [(value: String, count: Int)]] {
        let matching = Self.matching(key, from: from, to: to)
        // CloudTrail lists a record without an error under errorCode "null".
        let values: [String: SQL] = [
            "userIdentityArn": "json_extract(record, '$.userIdentity.arn')", "userAgent": "json_extract(record, '$.userAgent')",
            "errorCode": "coalesce(json_extract(record, '$.errorCode'), 'null')", "host": "host", "sourceIPAddress": "source_ip",
        ]
        return try await pool.read { db in
            var result: [String: [(value: String, count: Int)]] = [:]
            for attribute in InsightRecordBuilder.attributes {
                guard let value = values[attribute] else { continue }
                let sql: SQL = """
                    SELECT \(value) AS value, count(*) FROM events WHERE \(matching) AND value IS NOT NULL
                    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT \(InsightRecordBuilder.topValues)
                    """
                result[attribute] = try Row.fetchAll(db, SQLRequest<Row>(literal: sql)).map { (value: $0[0], count: $0[1]) }
            }
            return result
        }
    }

    public func insightSeries(of key: InsightKey, from: Int64, to: Int64, periodSeconds: Int64, hosts: [String]?) async throws -> [(
        start: Int64, count: Int
    )] {
        var matching = Self.matching(key, from: from, to: to)
        if let hosts { matching = "\(matching) AND host IN \(hosts)" }
        let period = periodSeconds * 1000
        let sql: SQL = "SELECT event_time / \(period), count(*) FROM events WHERE \(matching) GROUP BY 1 ORDER BY 1"
        return try await pool.read { db in
            try Row.fetchAll(db, SQLRequest<Row>(literal: sql)).map { (start: ($0[0] as Int64) * periodSeconds, count: $0[1]) }
        }
    }

    /// The records `key` counts in `[from, to)`, walked by `events_by_name` (a host's activity by `events_by_host`).
    static func matching(_ key: InsightKey, from: Int64, to: Int64) -> SQL {
        var clauses: [SQL] = ["event_time >= \(from)", "event_time < \(to)", "event_category != 'Insight'"]
        switch key.measure {
        case .calls: clauses += ["event_name = \(key.eventName)", "event_source = \(key.eventSource)", "read_only = 0"]
        case .errors(let code):
            clauses += ["event_name = \(key.eventName)", "event_source = \(key.eventSource)", "json_extract(record, '$.errorCode') = \(code)"]
        case .activity: break
        }
        switch key.scope {
        case .fleet: break
        case .host(let host): clauses.append("host = \(host)")
        case .user(let user): clauses.append("username = \(user)")
        }
        return clauses.joined(separator: " AND ")
    }
}

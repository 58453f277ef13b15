// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The Insights detector on generated fleets, for `make bench`; prints one JSON line.
///
/// - `quality HOSTS DAYS SEED`: each host's activity on a daily and weekly rhythm (a daytime rate
///   log-uniform in 8–40 a minute, a quarter at night, half at weekends) with Poisson noise, and
///   one burst a host of ten minutes at five times its slot's rate, at a random minute after the
///   first week. Recall (a Start within the burst), false Starts per 1,000 key-days, and the
///   delay from onset to the Start (minutes until the record, whose minute must close first).
/// - `cost KEYS`: 1,000 keys over a full week (every hour-of-week slot filled): the resident memory
///   per key at its largest; then KEYS keys at a steady rhythm for two hours: the time to close a
///   minute, and the resident memory per key (resident: allocator slack included).
@main
enum InsightsBench {
    static func main() {
        let arguments = CommandLine.arguments
        switch (arguments.count, arguments.dropFirst().first) {
        case (5, "quality"):
            guard let hosts = Int(arguments[2]), let days = Int(arguments[3]), let seed = UInt64(arguments[4]), days > 8 else { usage() }
            quality(hosts: hosts, days: days, seed: seed)
        case (3, "cost"):
            guard let keys = Int(arguments[2]) else { usage() }
            cost(keys: keys)
        default: usage()
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: hosttrail-insights-bench quality HOSTS DAYS SEED | cost KEYS\n".utf8))
        exit(2)
    }

    typealias Noise = SeededNoise

    static let monday = WorkingWeek.monday

    /// Working hours at the host's rate, nights at a quarter, weekends at half.
    static func rhythm(_ minute: Int64, base: Double) -> Double {
        WorkingWeek.rate(at: minute, day: base, night: base / 4)
    }

    static func quality(hosts: Int, days: Int, seed: UInt64) {
        var noise = Noise(seed: seed)
        let names = (0..<hosts).map { "host-\($0)" }
        let rates = (0..<hosts).map { _ in exp(log(8.0) + noise.next() * (log(40.0) - log(8.0))) }
        let burstLength: Int64 = 10
        let onsets = (0..<hosts).map { _ in monday + 8 * 1440 + Int64(noise.next() * Double((days - 9) * 1440)) }
        var detector = InsightDetector<String>()
        var starts: [Int: [Int64]] = [:]  // host → decided minutes' onsets matched
        var delays: [Double] = []
        var falseStarts = 0
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        // INSIGHTS_BENCH_DEBUG=1: each false Start and each missed burst on standard error.
        let debug = ProcessInfo.processInfo.environment["INSIGHTS_BENCH_DEBUG"] != nil
        let began = Date()
        for minute in monday..<(monday + Int64(days) * 1440) {
            for host in 0..<hosts {
                let mean = rhythm(minute, base: rates[host])
                var count = noise.poisson(mean)
                if minute >= onsets[host] && minute < onsets[host] + burstLength { count += noise.poisson(4 * mean) }
                if count > 0 { detector.count(names[host], minute: minute, by: count) }

            }
            for decision in detector.close(minute: minute) where decision.state == .start {
                let host = index[decision.key]!
                let onset = onsets[host]
                if decision.direction == .rise && decision.startMinute >= onset - 1 && decision.startMinute < onset + burstLength {
                    if starts[host] == nil { delays.append(Double(decision.minute + 1 - onset)) }
                    starts[host, default: []].append(decision.minute)
                } else {
                    falseStarts += 1
                    if debug {
                        FileHandle.standardError.write(
                            Data(
                                "false start \(decision) rate \(rates[host]) onset \(onset) hour \((decision.startMinute / 60) % 24) weekday \(((decision.startMinute / 1440) + 3) % 7)\n"
                                    .utf8))
                    }
                }
            }
        }
        let seconds = Date().timeIntervalSince(began)
        if debug {
            for host in 0..<hosts where starts[host] == nil {
                let onset = onsets[host]
                FileHandle.standardError.write(
                    Data(
                        "missed host \(host) rate \(rates[host]) mean \(rhythm(onset, base: rates[host])) hour \((onset / 60) % 24) weekday \(((onset / 1440) + 3) % 7)\n"
                            .utf8))
            }
        }
        delays.sort()
        let keyDays = Double(hosts * days)
        let result: [String: Any] = [
            "hosts": hosts, "days": days, "keyDays": keyDays, "bursts": hosts, "detected": starts.count,
            "recall": Double(starts.count) / Double(hosts), "missed": hosts - starts.count, "falseStarts": falseStarts,
            "falseStartsPer1000KeyDays": Double(falseStarts) / keyDays * 1000,
            "medianDelayMinutes": delays.isEmpty ? -1 : delays[delays.count / 2],
            "p90DelayMinutes": delays.isEmpty ? -1 : delays[min(delays.count - 1, delays.count * 9 / 10)],
            "keyMinutesPerSecond": keyDays * 1440 / seconds, "seconds": seconds,
        ]
        print(String(decoding: try! JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Resident bytes of this process (`/proc/self/statm`).
    static func heapBytes() -> Int {
        let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func cost(keys: Int) {
        var noise = Noise(seed: 1)
        // A week fills every slot: the most a key holds. Measured first, on a heap not yet reused.
        let weekKeys = 1000
        let weekNames = (0..<weekKeys).map { "week-\($0)" }
        let weekBefore = heapBytes()
        var week = InsightDetector<String>()
        for minute in monday..<(monday + 7 * 1440) {
            for key in weekNames { week.count(key, minute: minute, by: 1 + noise.poisson(2)) }
            _ = week.close(minute: minute)
        }
        let bytesPerKeyWeek = Double(heapBytes() - weekBefore) / Double(weekKeys)
        var settings = InsightDetector<String>.Settings()
        settings.maximumKeys = keys + 1
        let names = (0..<keys).map { "key-\($0)" }
        let before = heapBytes()
        var detector = InsightDetector<String>(settings: settings)
        var closes: [Double] = []
        for minute in monday..<(monday + 120) {
            for key in names { detector.count(key, minute: minute, by: 1 + noise.poisson(2)) }
            let began = DispatchTime.now().uptimeNanoseconds
            _ = detector.close(minute: minute)
            closes.append(Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6)
        }
        let bytesPerKeyTwoHours = Double(heapBytes() - before) / Double(keys)
        closes.sort()
        let result: [String: Any] = [
            "keys": keys, "closeMedianMs": closes[closes.count / 2], "closeP99Ms": closes[closes.count * 99 / 100],
            "bytesPerKeyTwoHours": bytesPerKeyTwoHours, "bytesPerKeyFullWeek": bytesPerKeyWeek,
            "followed": detector.keyCount + week.keyCount,
        ]
        print(String(decoding: try! JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}

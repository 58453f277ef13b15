// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// Says who asked for what dpkg did: apt's history stanzas (one per run, with its command line
/// and `Requested-By`) become records of their own, and each dpkg.log line is matched to the apt
/// run it belongs to. The file source composes one for all its files.
///
/// History files are polled last and committed first (``FileTailService``): apt writes a run's
/// stanza (all but its `End-Date`) before it starts dpkg, so every dpkg line read in a round has
/// its run in the history read after it.
struct AptRunCorrelator {
    /// The stanza being read of each apt history file, by path.
    private var stanzas: [String: AptHistoryParser.Assembler] = [:]
    /// apt's latest finished runs, newest last.
    private var finishedRuns: [AptRun] = []
    /// Per dpkg log, the start of the newest apt run one of its lines was matched to: apt runs
    /// never overlap (apt's lock), so a later line cannot belong to an earlier run, even in the
    /// same second (history.log has whole seconds; dpkg.log's order says more).
    private var latestMatchedRun: [String: Date] = [:]
    static let finishedRunsKept = 32

    /// Remembers the runs at the end of a history file: a dpkg line committed just before a crash
    /// may belong to a run whose stanza is behind the history file's checkpoint.
    mutating func recall(historyFile path: String, utcOffsetSeconds: Int) {
        remember(Self.runsAtTheEnd(of: path, utcOffsetSeconds: utcOffsetSeconds))
    }

    /// Takes one line of an apt history file; a finished stanza's outcome once its `End-Date`
    /// line arrives, else `nil`. The stanza's position is its `Start-Date` line's, so reading it
    /// again yields the same event ID.
    mutating func historyLine(
        _ line: LogFileFollower.Line, path: String, identity: LogFileIdentity, lines: HostRecordBuilder.Origin.FileLines,
        converter: LogLineConverter, utcOffsetSeconds: Int, notBefore: Date?
    ) -> LogLineConverter.Outcome? {
        guard
            let stanza = stanzas[path, default: AptHistoryParser.Assembler()].feed(line.text, positionKey: identity.positionKey, offset: line.offset)
        else { return nil }
        let outcome = converter.convertAptStanza(
            stanza.fields, utcOffsetSeconds: utcOffsetSeconds, notBefore: notBefore, origin: lines.origin(offset: stanza.start))
        remember(AptRun(fields: stanza.fields, utcOffsetSeconds: utcOffsetSeconds).map { [$0] } ?? [])
        return outcome
    }

    /// Converts one dpkg.log line, naming the apt run it belongs to.
    mutating func dpkgLine(
        _ text: Substring, path: String, converter: LogLineConverter, reference: Date, utcOffsetSeconds: Int, notBefore: Date?,
        origin: HostRecordBuilder.Origin
    ) -> LogLineConverter.Outcome {
        let latest = latestMatchedRun[path] ?? .distantPast
        let outcome = converter.convert(
            text, format: .dpkg, reference: reference, utcOffsetSeconds: utcOffsetSeconds, notBefore: notBefore, origin: origin,
            aptRuns: runs(utcOffsetSeconds: utcOffsetSeconds).filter { $0.start >= latest })
        if case .record(let record) = outcome, let started = record.activity.requestParameters["aptRun"]?["startTime"]?.stringValue,
            let start = TrailTime.parseISO8601(started)
        {
            latestMatchedRun[path] = max(latest, start)
        }
        return outcome
    }

    /// Where an unfinished stanza of `path` starts: a restart must read it again from there.
    func pendingStart(of path: String) -> (positionKey: String, offset: Int)? {
        stanzas[path]?.pendingStart
    }

    private mutating func remember(_ runs: [AptRun]) {
        finishedRuns.append(contentsOf: runs)
        finishedRuns.removeFirst(max(0, finishedRuns.count - Self.finishedRunsKept))
    }

    /// The finished runs and those being read now (their stanzas lack only the `End-Date`).
    private func runs(utcOffsetSeconds: Int) -> [AptRun] {
        finishedRuns + stanzas.values.compactMap { AptRun(fields: $0.pendingFields, utcOffsetSeconds: utcOffsetSeconds) }
    }

    /// The runs described in the last 64 KiB of an apt history file (none when it cannot be read).
    static func runsAtTheEnd(of path: String, utcOffsetSeconds: Int) -> [AptRun] {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { Glibc.close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return [] }
        let start = max(0, Int(status.st_size) - 65_536)
        var data = [UInt8](repeating: 0, count: Int(status.st_size) - start)
        let read = data.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(start)) }
        guard read >= 0 else { return [] }
        data.removeLast(data.count - read)
        var assembler = AptHistoryParser.Assembler()
        var runs: [AptRun] = []
        // The first line may be cut; the assembler ignores everything before a Start-Date.
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let stanza = assembler.feed(line, positionKey: "", offset: 0),
                let run = AptRun(fields: stanza.fields, utcOffsetSeconds: utcOffsetSeconds)
            {
                runs.append(run)
            }
        }
        if let open = AptRun(fields: assembler.pendingFields, utcOffsetSeconds: utcOffsetSeconds) { runs.append(open) }
        return runs
    }
}

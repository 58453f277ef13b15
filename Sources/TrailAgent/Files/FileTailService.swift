// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Logging
import ServiceLifecycle
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// Tails the configured log files (auth.log, secure, dpkg.log by default), converts their lines
/// into records, and commits each chunk of records together with the file's checkpoint, so a
/// restart resumes exactly after the last line whose record is in the spool.
///
/// Polls every ``AgentConfiguration/filePollInterval`` (and at once again while there is more to
/// read). Under the spool's `block` policy a full spool makes it wait, never skip.
final class FileTailService: Service, @unchecked Sendable {
    // @unchecked: the followers and counters are touched only by the task running `run()`.
    /// `notBefore`: the first-start cutoff (`--read-from boot`), only for a file without a checkpoint:
    /// a file resumed after a reboot must keep the lines logged before it.
    /// `converts`: `false` for a file watched for tampering only (auth.log while the journal is read).
    private let followers: [(follower: LogFileFollower, format: LogLineConverter.Format, notBefore: Date?, converts: Bool)]
    private let spool: Spool
    private let converter: LogLineConverter
    private let agentRecords: AgentRecordBuilder
    private let pollInterval: Duration
    private let readiness: SourceReadiness
    private let logger: Logger
    private var tamperSequence = 0
    /// The stanza being read of each apt history file, by path.
    private var aptStanzas: [String: AptHistoryParser.Assembler] = [:]
    /// apt's latest finished runs, newest last, to say who asked for what dpkg logs.
    private var finishedAptRuns: [AptRun] = []
    /// Per dpkg log, the start of the newest apt run one of its lines was matched to: apt runs
    /// never overlap (apt's lock), so a later line cannot belong to an earlier run, even in the
    /// same second (history.log has whole seconds; dpkg.log's order says more).
    private var latestMatchedAptRun: [String: Date] = [:]
    /// One SSH attempt, one record: per file, by path.
    private var sshLogins: [String: SSHLoginTracker] = [:]
    static let finishedAptRunsKept = 32
    private var counters = Counters()
    /// The last chunk's frame buffer, reused while lines keep coming: a new one of a few MiB a
    /// chunk is faulted in page by page and handed back to the kernel after. Dropped when a poll
    /// finds nothing or a chunk used less than a quarter of it, so an idle agent holds none.
    private var spareFrames: [UInt8] = []

    struct Counters {
        var lines = 0
        var records = 0
        var ignored = 0
        var unknown = 0
        var unparsed = 0
        var beforeStart = 0
        var excluded = 0
        var oversized = 0
        /// Lines of files watched for tampering only.
        var watched = 0

        mutating func add(_ other: Counters) {
            lines += other.lines
            records += other.records
            ignored += other.ignored
            unknown += other.unknown
            unparsed += other.unparsed
            beforeStart += other.beforeStart
            excluded += other.excluded
            oversized += other.oversized
            watched += other.watched
        }
    }

    /// The spool checkpoint source name of a tailed file.
    static func source(_ path: String) -> String { "file:" + path }

    /// What a line's position starts with, before its byte offset: `ino=<inode>;head=<hash>;offset=`.
    /// Event IDs are derived from it, so records read again after an upgrade are deduplicated
    /// only while this stays byte for byte the same (a test pins it).
    static func positionPrefix(_ identity: LogFileIdentity) -> String { identity.positionKey + ";offset=" }

    init(
        configuration: AgentConfiguration, spool: Spool, host: HostIdentity, agentRecords: AgentRecordBuilder, readiness: SourceReadiness,
        logger: Logger
    ) {
        let firstStart: LogFileFollower.StartAt = configuration.readFrom == .end ? .end : .beginning
        // Without a checkpoint, `boot` reads only what the current boot logged.
        let bootCutoff = configuration.readFrom == .boot ? BootTime.current() : nil
        let journaldRunning = FileManager.default.fileExists(atPath: "/run/systemd/journal/socket")
        followers = configuration.tailFiles.map { path in
            let checkpoint = spool.checkpoints[Self.source(path)].flatMap(LogFileCheckpoint.init(encoded:))
            return (
                LogFileFollower(path: path, checkpoint: checkpoint, startAt: firstStart), LogLineConverter.Format(path: path),
                checkpoint == nil ? bootCutoff : nil, configuration.convertsLines(of: path, journaldRunning: journaldRunning)
            )
        }
        self.spool = spool
        converter = LogLineConverter(
            builder: HostRecordBuilder(host: host, hideUnverifiedUserNames: configuration.hideUnknownUserNames, accountNames: .system),
            selectors: configuration.eventSelectors)
        self.agentRecords = agentRecords
        pollInterval = configuration.filePollInterval
        self.readiness = readiness
        self.logger = logger
    }

    func run() async throws {
        guard !followers.isEmpty else {
            // Nothing to tail; returning early would end the whole service group.
            try? await gracefulShutdown()
            return
        }
        logger.info(
            "tailing log files",
            metadata: [
                "files": "\(followers.filter(\.converts).map(\.follower.path).joined(separator: ", "))",
                "watchedOnly": "\(followers.filter { !$0.converts }.map(\.follower.path).joined(separator: ", "))",
            ])
        // A dpkg line committed just before a crash may belong to a run whose stanza is behind the
        // history file's checkpoint: the runs at the end of each history file are read once here.
        for (follower, format, _, converts) in followers where format == .aptHistory && converts {
            rememberFinished(Self.aptRunsAtTheEnd(of: follower.path, utcOffsetSeconds: TimeZone.current.secondsFromGMT()))
        }
        // History files are polled last and committed first: apt writes a run's stanza (all but
        // its End-Date) before it starts dpkg, so every dpkg line read in a round has its run in
        // the history read after it, and is converted knowing who asked.
        let pollOrder = followers.indices.sorted { (followers[$0].format == .aptHistory ? 1 : 0) < (followers[$1].format == .aptHistory ? 1 : 0) }
        do {
            try await cancelWhenGracefulShutdown {
                var positioned = false
                while true {
                    let chunks = pollOrder.compactMap { index in self.followers[index].follower.poll().map { (index, $0) } }
                    if !positioned {
                        // Every file is open at its checkpoint or its start (or waited for): a line
                        // written from now on is read.
                        positioned = true
                        for (follower, _, _, _) in self.followers { self.readiness.mark(Self.source(follower.path), .ready) }
                    }
                    if chunks.isEmpty {
                        self.spareFrames = []
                        try await Task.sleep(for: self.pollInterval)
                        continue
                    }
                    for (index, chunk) in chunks.reversed() {
                        let (follower, format, notBefore, converts) = self.followers[index]
                        try await self.commit(chunk, of: follower, format: format, notBefore: notBefore, converts: converts)
                    }
                }
            }
        } catch is CancellationError {
        }
        logger.info(
            "stopped tailing",
            metadata: [
                "files.lines": "\(counters.lines)", "files.records": "\(counters.records)", "files.ignored": "\(counters.ignored)",
                "files.unknown": "\(counters.unknown)", "files.unparsed": "\(counters.unparsed)", "files.excluded": "\(counters.excluded)",
                "files.oversized": "\(counters.oversized)",
                "files.watchedOnly": "\(counters.watched)",
            ])
    }

    private func commit(
        _ chunk: LogFileFollower.Chunk, of follower: LogFileFollower, format: LogLineConverter.Format, notBefore: Date?, converts: Bool
    ) async throws {
        let path = follower.path
        let now = Date()
        let offset = TimeZone.current.secondsFromGMT(for: now)
        // Records are written straight into spool frames.
        var frames = spareFrames
        spareFrames = []  // `frames` is the only reference: no copy when it is appended to
        frames.removeAll(keepingCapacity: true)
        var recordCount = 0
        func add(_ writeRecord: (inout [UInt8]) -> Void) {
            SpoolFrame.append(.record, to: &frames, writePayload: writeRecord)
            recordCount += 1
        }
        // Counted here and added to the service's counters once a chunk: a stored property of a
        // class is checked for exclusive access at run time on every `+= 1`.
        var counts = Counters()
        defer { counters.add(counts) }
        counts.lines += chunk.lines.count
        counts.oversized += chunk.oversizedLines
        if chunk.oversizedLines > 0 {
            logger.warning("skipped over-long lines", metadata: ["file": "\(path)", "lines": "\(chunk.oversizedLines)"])
        }
        if !converts {
            counts.watched += chunk.lines.count
        } else if let identity = chunk.identity {
            // Room for a typical record (1.1–1.3 KB) a line: growing a 10 MB buffer copies it.
            frames.reserveCapacity(chunk.lines.count * 1536)
            let source = Self.source(path)
            let positionPrefix = Self.positionPrefix(identity)
            // The origin names the file read (`auth.log.3.gz`); the event ID, the configured path's
            // source and the file's identity, whichever name it is read by.
            let lines = converter.builder.fileLines(source: source, path: chunk.fileName ?? path, positionPrefix: positionPrefix)
            var logins = sshLogins.removeValue(forKey: path) ?? SSHLoginTracker()
            defer { sshLogins[path] = logins }
            for line in chunk.lines {
                let origin = lines.origin(offset: line.offset)
                let outcome: LogLineConverter.Outcome
                if format == .aptHistory {
                    guard
                        let stanza = aptStanzas[path, default: AptHistoryParser.Assembler()].feed(
                            line.text, positionKey: identity.positionKey, offset: line.offset)
                    else { continue }
                    // The stanza's position is its Start-Date line's: reading it again yields the same event ID.
                    let stanzaOrigin = HostRecordBuilder.Origin.fileLine(
                        source: source, position: positionPrefix + String(stanza.start), path: chunk.fileName ?? path, offset: stanza.start)
                    outcome = converter.convertAptStanza(stanza.fields, utcOffsetSeconds: offset, notBefore: notBefore, origin: stanzaOrigin)
                    rememberFinished(AptRun(fields: stanza.fields, utcOffsetSeconds: offset).map { [$0] } ?? [])
                } else if format == .dpkg {
                    let latest = latestMatchedAptRun[path] ?? .distantPast
                    outcome = converter.convert(
                        line.text, format: format, reference: now, utcOffsetSeconds: offset, notBefore: notBefore, origin: origin,
                        aptRuns: aptRuns(utcOffsetSeconds: offset).filter { $0.start >= latest })
                    if case .record(let record) = outcome, let started = record.activity.requestParameters["aptRun"]?["startTime"]?.stringValue,
                        let start = TrailTime.parseISO8601(started)
                    {
                        latestMatchedAptRun[path] = max(latest, start)
                    }
                } else {
                    outcome = converter.convert(
                        line.text, format: format, reference: now, utcOffsetSeconds: offset, notBefore: notBefore, origin: origin)
                }
                switch consume outcome {  // the record is not copied (a copy retains each of its strings)
                case .record(let record):
                    switch logins.fold(record) {
                    case .keep:
                        add { record.writeCanonicalJSON(to: &$0) }
                    case .drop:
                        counts.ignored += 1  // another record of the same attempt says it all
                        continue
                    case .link(let link):
                        var linked = record
                        link.apply(to: &linked)
                        add { linked.writeCanonicalJSON(to: &$0) }
                    }
                    counts.records += 1
                case .ignored: counts.ignored += 1
                case .unknown: counts.unknown += 1
                case .unparsed: counts.unparsed += 1
                case .beforeStart: counts.beforeStart += 1
                case .excluded: counts.excluded += 1
                }
            }
        }
        for event in chunk.events {
            switch event {
            case .rotated:
                logger.info("log file rotated", metadata: ["file": "\(path)"])
            case .truncated(explained: true, _):
                logger.info("log file rotated by copy and truncate", metadata: ["file": "\(path)"])
            case .truncated(explained: false, let previous):
                logger.warning("log file shrank without a rotation", metadata: ["file": "\(path)", "offset": "\(previous)"])
                tamperSequence += 1
                let record = try agentRecords.logFileTampered(
                    eventName: "LogTruncated", path: path, details: ["previousOffset": .integer(Int64(previous))], now: now,
                    sequence: tamperSequence
                ).canonicalJSON()
                add { $0.append(contentsOf: record) }
            case .removed:
                logger.warning("log file deleted", metadata: ["file": "\(path)"])
                tamperSequence += 1
                let record = try agentRecords.logFileTampered(eventName: "LogRemoved", path: path, details: [:], now: now, sequence: tamperSequence)
                    .canonicalJSON()
                add { $0.append(contentsOf: record) }
            case .unreadable(let error):
                logger.error(
                    "cannot read a log file; waiting until it can be read",
                    metadata: ["file": "\(path)", "error": "\(String(cString: strerror(error)))"])
            case .lostPlace(let lost):
                // No rotation holds the file the checkpoint names: the lines it held after the
                // checkpoint are lost, and the trail says so.
                logger.warning(
                    "no rotation holds the file the checkpoint names (rotated away and deleted while the agent was down); its lines after the checkpoint are lost; reading on from the rotations written since",
                    metadata: ["file": "\(path)", "lostFile": "\(lost.identity?.positionKey ?? "-")", "offset": "\(lost.offset)"])
                tamperSequence += 1
                var details: [String: JSONValue] = ["lostFileOffset": .integer(Int64(lost.offset))]
                if let identity = lost.identity { details["lostFile"] = .string(identity.positionKey) }
                if let savedAt = lost.savedAt { details["lastReadAt"] = .string(TrailTime.format(Date(timeIntervalSince1970: savedAt))) }
                let record = try agentRecords.logFileTampered(eventName: "LogGap", path: path, details: details, now: now, sequence: tamperSequence)
                    .canonicalJSON()
                add { $0.append(contentsOf: record) }
            }
        }
        logger.debug(
            "file chunk",
            metadata: [
                "file": "\(path)", "lines": "\(chunk.lines.count)", "first": "\(chunk.lines.first.map { String($0.text.suffix(40)) } ?? "-")",
                "from": "\(chunk.identity?.positionKey ?? "-")",
                "checkpoint": "\(chunk.checkpoint.identity?.positionKey ?? "-")@\(chunk.checkpoint.offset)",
            ])
        var saved = chunk.checkpoint
        saved.savedAt = now.timeIntervalSince1970
        // An unfinished apt stanza: a restart must read it again from its Start-Date line.
        if let pending = aptStanzas[path]?.pendingStart, pending.positionKey == saved.identity?.positionKey, pending.offset < saved.offset {
            saved.offset = pending.offset
        }
        let checkpoint = (source: Self.source(path), position: saved.encoded)
        while true {
            let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
                spool.append(frames: frames, records: recordCount, checkpoint: checkpoint) { continuation.resume(returning: $0) }
            }
            switch result {
            case .success:
                // The spool let go of its reference before completing, so the storage is kept —
                // while chunks fill a good part of it: a trickle after a burst holds no MiBs.
                let used = frames.count
                frames.removeAll(keepingCapacity: true)
                if used >= frames.capacity / 4 { spareFrames = frames }
                return
            case .failure(let error):
                // Full (block policy) or unwritable: the lines wait in the file; nothing is skipped.
                if !(error is Spool.Full) { logger.error("cannot spool log file records", metadata: ["file": "\(path)", "error": "\(error)"]) }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func rememberFinished(_ runs: [AptRun]) {
        finishedAptRuns.append(contentsOf: runs)
        finishedAptRuns.removeFirst(max(0, finishedAptRuns.count - Self.finishedAptRunsKept))
    }

    /// The finished runs and those being read now (their stanzas lack only the `End-Date`).
    private func aptRuns(utcOffsetSeconds: Int) -> [AptRun] {
        finishedAptRuns + aptStanzas.values.compactMap { AptRun(fields: $0.pendingFields, utcOffsetSeconds: utcOffsetSeconds) }
    }

    /// The runs described in the last 64 KiB of an apt history file (none when it cannot be read).
    static func aptRunsAtTheEnd(of path: String, utcOffsetSeconds: Int) -> [AptRun] {
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

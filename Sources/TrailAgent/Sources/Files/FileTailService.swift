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
/// read). Each file is a source of its own (`file:<path>`, its checkpoint and readiness line); a
/// full spool makes it wait (``SourceContext``), never skip.
final class FileTailService: Service, @unchecked Sendable {
    // @unchecked: the files and counters are touched only by the task running `run()`.
    struct TailedFile {
        let follower: LogFileFollower
        let format: LogLineConverter.Format
        /// The first-start cutoff (`--read-from boot`), only for a file without a checkpoint: a
        /// file resumed after a reboot must keep the lines logged before it.
        let notBefore: Date?
        /// `false` for a file watched for tampering only (auth.log while the journal is read).
        let converts: Bool
        let context: SourceContext
    }
    private var files: [TailedFile]
    /// The files a reload asks for; taken at the next poll (``takeTailFiles()``).
    private let liveTailFiles: LiveValue<[String]>?
    /// Where a dropped file's source stops being reported.
    private let readiness: SourceReadiness
    /// Makes the ``TailedFile`` of a path, at start and when a reload adds one.
    private let makeFile: (String) -> TailedFile
    private var converter: LogLineConverter
    /// The event selectors a reload sets; taken at the next poll.
    private let liveSelectors: LiveValue<EventSelectors>?
    private let agentRecords: AgentRecordBuilder
    private let pollInterval: Duration
    private let logger: Logger
    private var tamperSequence = 0
    private var aptRuns = AptRunCorrelator()
    /// One SSH attempt, one record: per file, by path.
    private var sshLogins: [String: SSHLoginTracker] = [:]
    private var counters = Counters()
    /// The last chunk's batch storage, reused while lines keep coming: a new one of a few MiB a
    /// chunk is faulted in page by page and handed back to the kernel after. Dropped when a poll
    /// finds nothing or a chunk used less than a quarter of it, so an idle agent holds none.
    private var spare = SourceBatch()

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
        configuration: AgentConfiguration, contexts: SourceContexts, host: HostIdentity, agentRecords: AgentRecordBuilder,
        liveSelectors: LiveValue<EventSelectors>? = nil, liveTailFiles: LiveValue<[String]>? = nil, logger: Logger
    ) {
        self.liveSelectors = liveSelectors
        self.liveTailFiles = liveTailFiles
        readiness = contexts.readiness
        let firstStart: LogFileFollower.StartAt = configuration.readFrom == .end ? .end : .beginning
        // Without a checkpoint, `boot` reads only what the current boot logged.
        let bootCutoff = configuration.readFrom == .boot ? BootTime.current() : nil
        let journaldRunning = FileManager.default.fileExists(atPath: "/run/systemd/journal/socket")
        makeFile = { path in
            let context = contexts.make(Self.source(path))
            let checkpoint = context.savedCheckpoint.flatMap(LogFileCheckpoint.init(encoded:))
            return TailedFile(
                follower: LogFileFollower(path: path, checkpoint: checkpoint, startAt: firstStart), format: LogLineConverter.Format(path: path),
                notBefore: checkpoint == nil ? bootCutoff : nil, converts: configuration.convertsLines(of: path, journaldRunning: journaldRunning),
                context: context)
        }
        files = configuration.tailFiles.map(makeFile)
        converter = LogLineConverter(
            builder: HostRecordBuilder(host: host, hideUnverifiedUserNames: configuration.hideUnknownUserNames, accountNames: .system),
            selectors: configuration.eventSelectors)
        self.agentRecords = agentRecords
        pollInterval = configuration.filePollInterval
        self.logger = logger
    }

    func run() async throws {
        guard !files.isEmpty || liveTailFiles != nil else {
            // Nothing to tail; returning early would end the whole service group.
            try? await gracefulShutdown()
            return
        }
        logger.info(
            "tailing log files",
            metadata: [
                "files": "\(files.filter(\.converts).map(\.follower.path).joined(separator: ", "))",
                "watchedOnly": "\(files.filter { !$0.converts }.map(\.follower.path).joined(separator: ", "))",
            ])
        for file in files where file.format == .aptHistory && file.converts {
            aptRuns.recall(historyFile: file.follower.path, utcOffsetSeconds: TimeZone.current.secondsFromGMT())
        }
        // History files are polled last and committed first (``AptRunCorrelator``): every dpkg
        // line read in a round is converted knowing who asked.
        do {
            try await cancelWhenGracefulShutdown {
                var pollOrder = Self.pollOrder(self.files)
                var positioned = false
                while true {
                    if let new = self.liveSelectors?.current, new != self.converter.selectors { self.converter.selectors = new }
                    if self.takeTailFiles() {
                        pollOrder = Self.pollOrder(self.files)
                        positioned = false
                    }
                    let chunks = pollOrder.compactMap { index in self.files[index].follower.poll().map { (index, $0) } }
                    if !positioned {
                        // Every file is open at its checkpoint or its start (or waited for): a line
                        // written from now on is read.
                        positioned = true
                        for file in self.files { file.context.markReady() }
                    }
                    if chunks.isEmpty {
                        self.spare = SourceBatch()
                        try await Task.sleep(for: self.pollInterval)
                        continue
                    }
                    for (index, chunk) in chunks.reversed() { try await self.commit(chunk, of: self.files[index]) }
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

    /// History files are polled last and committed first (``AptRunCorrelator``).
    static func pollOrder(_ files: [TailedFile]) -> [Int] {
        files.indices.sorted { (files[$0].format == .aptHistory ? 1 : 0) < (files[$1].format == .aptHistory ? 1 : 0) }
    }

    /// Takes a reload's list of files: a file no longer listed is closed and stops being reported
    /// (its last checkpoint stays in the spool), a new one is opened at its saved checkpoint or as a
    /// first start would. A file dropped and listed again in one run resumes from the checkpoint
    /// the spool had at start: lines read twice keep their event IDs, and the collector stores them
    /// once. `true` when the list changed.
    private func takeTailFiles() -> Bool {
        guard let wanted = liveTailFiles?.current, wanted != files.map(\.follower.path) else { return false }
        var kept: [TailedFile] = []
        for path in wanted {
            if let file = files.first(where: { $0.follower.path == path }) {
                kept.append(file)
                continue
            }
            let file = makeFile(path)
            readiness.register(file.context.name)  // a context made before (dropped, listed again) is not registered anew
            if file.format == .aptHistory && file.converts {
                aptRuns.recall(historyFile: path, utcOffsetSeconds: TimeZone.current.secondsFromGMT())
            }
            kept.append(file)
        }
        for file in files where !wanted.contains(file.follower.path) { readiness.unregister(file.context.name) }
        files = kept
        logger.notice("tailed files replaced", metadata: ["files": "\(wanted.joined(separator: ", "))"])
        return true
    }

    private func commit(_ chunk: LogFileFollower.Chunk, of file: TailedFile) async throws {
        let path = file.follower.path
        let (format, notBefore) = (file.format, file.notBefore)
        let now = Date()
        let offset = TimeZone.current.secondsFromGMT(for: now)
        // Records are written straight into the batch's frames.
        var batch = spare
        spare = SourceBatch()  // `batch` is the only reference: no copy when it is appended to
        // Counted here and added to the service's counters once a chunk: a stored property of a
        // class is checked for exclusive access at run time on every `+= 1`.
        var counts = Counters()
        defer { counters.add(counts) }
        counts.lines += chunk.lines.count
        file.context.countRead(chunk.lines.count)
        counts.oversized += chunk.oversizedLines
        if chunk.oversizedLines > 0 {
            logger.warning("skipped over-long lines", metadata: ["file": "\(path)", "lines": "\(chunk.oversizedLines)"])
        }
        if !file.converts {
            counts.watched += chunk.lines.count
        } else if let identity = chunk.identity {
            // Room for a typical record (1.1–1.3 KB) a line: growing a 10 MB buffer copies it.
            batch.reserveCapacity(chunk.lines.count * 1536)
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
                        let stanza = aptRuns.historyLine(
                            line, path: path, identity: identity, lines: lines, converter: converter, utcOffsetSeconds: offset, notBefore: notBefore)
                    else { continue }
                    outcome = stanza
                } else if format == .dpkg {
                    outcome = aptRuns.dpkgLine(
                        line.text, path: path, converter: converter, reference: now, utcOffsetSeconds: offset, notBefore: notBefore, origin: origin)
                } else {
                    outcome = converter.convert(
                        line.text, format: format, reference: now, utcOffsetSeconds: offset, notBefore: notBefore, origin: origin)
                }
                switch consume outcome {  // the record is not copied (a copy retains each of its strings)
                case .record(let record):
                    switch logins.fold(record) {
                    case .keep:
                        batch.add { record.writeCanonicalJSON(to: &$0) }
                    case .drop:
                        counts.ignored += 1  // another record of the same attempt says it all
                        continue
                    case .link(let link):
                        var linked = record
                        link.apply(to: &linked)
                        batch.add { linked.writeCanonicalJSON(to: &$0) }
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
                batch.add(record)
            case .removed:
                logger.warning("log file deleted", metadata: ["file": "\(path)"])
                tamperSequence += 1
                let record = try agentRecords.logFileTampered(eventName: "LogRemoved", path: path, details: [:], now: now, sequence: tamperSequence)
                    .canonicalJSON()
                batch.add(record)
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
                batch.add(record)
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
        if let pending = aptRuns.pendingStart(of: path), pending.positionKey == saved.identity?.positionKey, pending.offset < saved.offset {
            saved.offset = pending.offset
        }
        try await file.context.commit(batch, checkpoint: saved.encoded)
        // The spool let go of its reference before completing, so the storage is kept.
        batch.recycle()
        spare = batch
    }
}

// SPDX-License-Identifier: Apache-2.0

import Dispatch
import FoundationEssentials
import Logging
import Synchronization
import TrailCore
import TrailSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// Reads journald on one dedicated thread (the `sd_journal` handle never leaves it), converts the
/// entries the parsers understand into records, and commits each batch together with the cursor
/// of the last entry read, so a restart resumes exactly after it.
///
/// The checklist is rsyslog's imjournal (see `docs/ARCHITECTURE.md`): resume with
/// `sd_journal_test_cursor` so the saved entry is not read twice; a cursor the journal no longer
/// holds means reading from the oldest entry and a `JournalGap` record; `SD_JOURNAL_INVALIDATE`
/// (files added or removed) means reopen and re-seek; matches go into `sd_journal_add_match`, and
/// the cursor advances past entries that produce no record. A journal file truncated under the
/// reader (SIGBUS on its mapping, see ``JournalFaultGuard``) means discarding the batch being read,
/// a `JournalTruncated` record, and reopening at the last committed cursor.
final class JournalReader: @unchecked Sendable {
    // @unchecked: `stopRequested` is atomic; everything else is used by the reader thread only.
    private let directory: String?
    private let readFrom: AgentConfiguration.ReadFrom
    private let context: SourceContext
    private var converter: JournalEntryConverter
    /// The event selectors a reload sets; taken between batches (``selectorsChanged()``).
    private let liveSelectors: LiveValue<EventSelectors>?
    private let agentRecords: AgentRecordBuilder
    private let logger: Logger

    /// The journal's name among the agent's sources.
    static let sourceName = JournalEntryConverter.source
    private let stopRequested = Atomic<Bool>(false)
    private(set) var counters = Counters()
    /// One SSH attempt, one record (reader thread only).
    private var sshLogins = SSHLoginTracker()

    /// Entries per committed batch at most.
    static let batchEntries = 2000
    /// How long one `sd_journal_wait` lasts, bounding how late a stop is noticed.
    static let waitMicroseconds: UInt64 = 250_000
    /// How often a journal with no files at all (no journald yet) is opened again.
    static let reopenEmptyAfter: Duration = .seconds(5)

    struct Counters {
        var entries = 0
        var records = 0
        var ignored = 0
        var unknown = 0
        var excluded = 0
        var reopened = 0
        var gaps = 0
        var truncations = 0
    }

    /// The batch being read touched a page its journal file no longer has.
    struct TruncatedUnderReader: Error, CustomStringConvertible {
        var description: String { "a journal file was truncated while it was being read (SIGBUS); the batch being read is discarded" }
    }

    init(
        directory: String?, readFrom: AgentConfiguration.ReadFrom, context: SourceContext, converter: JournalEntryConverter,
        liveSelectors: LiveValue<EventSelectors>? = nil, agentRecords: AgentRecordBuilder, logger: Logger
    ) {
        self.liveSelectors = liveSelectors
        self.directory = directory
        self.readFrom = readFrom
        self.context = context
        self.converter = converter
        self.agentRecords = agentRecords
        self.logger = logger
    }

    /// Runs the reader thread until ``requestStop()``.
    ///
    /// - Throws: ``AgentError`` when no thread can be started for it.
    func run() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            do {
                try DedicatedThread.start(name: "ht-journal") {
                    self.readUntilStopped()
                    continuation.resume()
                }
            } catch {
                continuation.resume(throwing: AgentError(.journal, "cannot start the journal reader's thread", underlyingError: error))
            }
        }
    }

    /// Asks the thread to stop; it does within one wait (250 ms) or one commit.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    private var stopping: Bool { stopRequested.load(ordering: .acquiring) }

    // MARK: - The reader thread

    /// The cursor of the last entry whose batch is committed (or, before any, where reading began).
    private var cursor: String?

    /// `--read-from end` found no entry to stand on: a reopening before the first commit then reads
    /// from the head instead of skipping to the end again.
    private var endHeldNothing = false

    /// ``JournalFaultGuard/faults`` when last looked at (the agent has one journal reader).
    private var faultsSeen = 0

    private func readUntilStopped() {
        if !JournalFaultGuard.guardCurrentThread() { logger.warning("the journal reader is not guarded against truncated journal files") }
        defer { JournalFaultGuard.unguardCurrentThread() }
        faultsSeen = JournalFaultGuard.faults
        cursor = context.savedCheckpoint
        var lastError: String?
        var following = false
        logger.info("reading the journal", metadata: ["directory": "\(directory ?? "local")", "resume": "\(cursor != nil)"])
        while !stopping {
            do {
                let journal = try JournalHandle(directory: directory)
                try restrict(journal)
                let onUnreadEntry = try position(journal)
                if !following {
                    following = true
                    context.markReady()
                    logger.info("following the journal")
                }
                lastError = nil
                if try follow(journal, onUnreadEntry: onUnreadEntry) { counters.reopened += 1 }
                recordTruncation()
            } catch {
                // Logged once per distinct failure, then retried every second.
                if !recordTruncation() && lastError != "\(error)" {
                    logger.error("cannot read the journal; retrying", metadata: ["error": "\(error)"])
                }
                if !following { context.markFailed("\(error)") }
                lastError = "\(error)"
                DedicatedThread.sleep(for: .seconds(1))
            }
        }
        logger.info(
            "stopped reading the journal",
            metadata: [
                "journal.entries": "\(counters.entries)", "journal.records": "\(counters.records)", "journal.ignored": "\(counters.ignored)",
                "journal.unknown": "\(counters.unknown)", "journal.excluded": "\(counters.excluded)", "journal.reopened": "\(counters.reopened)",
                "journal.gaps": "\(counters.gaps)",
                "journal.truncations": "\(counters.truncations)",
            ])
    }

    /// Commits a `JournalTruncated` record when SIGBUS faults were absorbed since last asked, and
    /// says whether there were. Called with no batch in flight, after the handle is closed.
    @discardableResult
    private func recordTruncation() -> Bool {
        let faults = JournalFaultGuard.faults
        guard faults != faultsSeen else { return false }
        defer { faultsSeen = faults }
        counters.truncations += 1
        logger.error(
            "a journal file was truncated while it was being read; reopening the journal at the last committed entry",
            metadata: ["faults": "\(faults - faultsSeen)", "cursor": "\(cursor ?? "-")"])
        let record = agentRecords.journalTruncated(lastCursor: cursor, faults: faults - faultsSeen, now: Date(), sequence: counters.truncations)
        if let json = try? record.canonicalJSON() { _ = commit(SourceBatch([json]), checkpoint: nil) }
        return true
    }

    /// Only entries some parser or `include` selector reads: the identifiers the parsers know and
    /// the selectors name, anything logged to the auth and authpriv facilities (PAM lines of other
    /// programs, as auth.log would hold), and the units the selectors name. No matches at all when
    /// an `include` selector names neither identifiers nor units.
    private func restrict(_ journal: JournalHandle) throws(JournalError) {
        guard let includes = converter.selectors.journalIncludes else { return }
        var groups = [("SYSLOG_IDENTIFIER", includes.identifiers), ("SYSLOG_FACILITY", ["4", "10"])]
        if !includes.units.isEmpty { groups.append(("_SYSTEMD_UNIT", includes.units)) }
        try journal.match(anyOf: groups)
    }

    /// Positions the journal where reading goes on. Returns whether it now stands on an entry not
    /// read yet (read it before moving on); otherwise the next `next()` gives the first new entry.
    private func position(_ journal: JournalHandle) throws -> Bool {
        // No journal files yet (journald not started, or not flushed after boot): nothing to decide
        // about; a cursor that looks lost now may be found once the files are there.
        guard journal.hasFiles else { return false }
        if let saved = cursor {
            // Whether the saved entry still exists is asked without matches: the entry may not
            // match them (the configuration changed) and still be there.
            journal.flushMatches()
            var exists = false
            if (try? journal.seek(cursor: saved)) != nil, try journal.next() { exists = journal.isAt(cursor: saved) }
            try restrict(journal)
            if exists {
                try journal.seek(cursor: saved)
                guard try journal.next() else { return false }
                return !journal.isAt(cursor: saved)
            }
            try journal.seekHead()
            try reportGap(journal, lostCursor: saved)
            return false
        }
        switch readFrom {
        case .beginning:
            try journal.seekHead()
        case .boot:
            if let boot = BootTime.current() {
                try journal.seek(realtimeMicroseconds: UInt64(max(0, boot.timeIntervalSince1970) * 1_000_000))
            } else {
                try journal.seekHead()
            }
        case .end:
            // Nothing the matches pass was there at the first opening: whatever a later opening (a
            // rotation, a new file) finds before the first commit came after the start.
            if endHeldNothing {
                try journal.seekHead()
                break
            }
            // seek_tail then next() can hand out old entries (systemd#9934); previous() does not.
            try journal.seekTail()
            if try journal.previous() { cursor = try journal.cursor() } else { endHeldNothing = true }
        }
        return false
    }

    /// Commits a `JournalGap` record at once (the cursor stays: a crash now reports the same gap,
    /// stored once by its event ID).
    private func reportGap(_ journal: JournalHandle, lostCursor: String) throws {
        counters.gaps += 1
        var oldest: String?
        if try journal.next() {
            oldest = TrailTime.format(Date(timeIntervalSince1970: Double(try journal.realtimeMicroseconds()) / 1_000_000))
            try journal.seekHead()
        }
        let lostSince = JournalEntry.realtimeMicroseconds(ofCursor: lostCursor).map {
            TrailTime.format(Date(timeIntervalSince1970: Double($0) / 1_000_000))
        }
        logger.warning(
            "the journal no longer holds the saved cursor (vacuumed or rotated away); reading from the oldest entry",
            metadata: ["cursor": "\(lostCursor)", "lastRead": "\(lostSince ?? "-")", "oldest": "\(oldest ?? "-")"])
        let record = agentRecords.journalGap(lostCursor: lostCursor, lostSince: lostSince, resumedAt: oldest, now: Date())
        _ = commit(SourceBatch([try record.canonicalJSON()]), checkpoint: nil)
    }

    /// Reads and commits until a stop (returns `false`) or until the journal must be reopened (`true`).
    ///
    /// One batch may be committing while the next is read (the spool commits in order, so the
    /// checkpoints stay in order); it is waited for before the next is sent, before waiting on the
    /// journal and before returning.
    private func follow(_ journal: JournalHandle, onUnreadEntry: Bool) throws -> Bool {
        var unread = onUnreadEntry
        var batch = SourceBatch()
        var entries = 0
        var inFlight: SourceContext.PendingCommit?
        let opened = ContinuousClock.now
        if !journal.hasFiles {
            // Opened before journald made any file: the directories may not even be watched, and
            // the position is decided only once there are files. Open again in a while.
            while !stopping && ContinuousClock.now - opened < Self.reopenEmptyAfter {
                if try journal.wait(timeoutMicroseconds: Self.waitMicroseconds) == .invalidated { return true }
            }
            return !stopping
        }
        defer { if let inFlight { _ = finish(inFlight) } }
        while !stopping {
            if try unread || journal.next() {
                unread = false
                entries += 1
                try read(journal, into: &batch)
                if entries < Self.batchEntries { continue }
            }
            if entries > 0 {
                // Nothing read from a page laid over a truncated file's mapping is committed.
                if JournalFaultGuard.faults != faultsSeen { throw TruncatedUnderReader() }
                // The batch ends at the current entry: its cursor is the checkpoint.
                let checkpoint = try journal.cursor()
                if let previous = inFlight {
                    inFlight = nil
                    guard finish(previous) else { return false }
                }
                inFlight = context.start(batch, checkpoint: checkpoint)
                context.countRead(entries)
                batch = SourceBatch()
                entries = 0
                // New selectors: reopened at the batch's cursor, with their matches.
                if selectorsChanged() { return true }
                continue
            }
            if let previous = inFlight {
                inFlight = nil
                guard finish(previous) else { return false }
            }
            // Caught up: a fault in the last reads is handled now, not at the next batch.
            if JournalFaultGuard.faults != faultsSeen { throw TruncatedUnderReader() }
            if selectorsChanged() { return true }
            if try journal.wait(timeoutMicroseconds: Self.waitMicroseconds) == .invalidated { return true }
        }
        return false
    }

    /// Takes a reload's event selectors, if they differ from those in use: `true` when the journal
    /// must be reopened for their matches.
    private func selectorsChanged() -> Bool {
        guard let new = liveSelectors?.current, new != converter.selectors else { return false }
        converter.selectors = new
        logger.notice("event selectors replaced; the journal is reopened at its last committed entry")
        return true
    }

    /// Waits for `pending` to commit (submitted again while the spool refuses it) and moves the
    /// cursor to its checkpoint. `false` when a stop came first.
    private func finish(_ pending: SourceContext.PendingCommit) -> Bool {
        guard context.wait(for: pending, stopping: { stopping }) else { return false }
        if let checkpoint = pending.checkpoint { cursor = checkpoint }
        return true
    }

    private func read(_ journal: JournalHandle, into batch: inout SourceBatch) throws {
        counters.entries += 1
        let fields = EntryFields(journal)
        let identifier = fields.identifier ?? fields.command ?? ""
        let message = fields.message ?? ""
        let unit = fields.unit ?? fields.systemdUnit
        var sender = JournalSender(uid: fields.uid, effectiveCapabilities: fields.effectiveCapabilities)
        // Only a non-root sender with capabilities needs it: sudo, su, passwd — or a process in a
        // user namespace of its own, which has them all.
        if sender.uid != 0, (sender.effectiveCapabilities ?? 0) != 0 {
            sender.executableIsSetUserIDRoot = fields.executable.map(Self.isSetUserIDRoot)
        }
        let (selected, outcome) = converter.activity(identifier: identifier, message: message, unit: unit, sender: sender)
        guard let activity = selected else {
            switch outcome {
            case .excluded: counters.excluded += 1
            case .ignored: counters.ignored += 1
            default: counters.unknown += 1
            }
            return
        }
        let entry = JournalEntry(
            cursor: try journal.cursor(), realtimeMicroseconds: try journal.realtimeMicroseconds(),
            sourceRealtimeMicroseconds: fields.sourceRealtime.flatMap { UInt64($0) }, identifier: identifier, message: message,
            // journald's `_PID`, not the logger's own `SYSLOG_PID` claim: it ties sshd's lines together.
            pid: (fields.pid ?? fields.syslogPID).flatMap { Int($0) }, unit: unit, bootID: fields.bootID, transport: fields.transport,
            sender: sender)
        var record = converter.record(for: activity, entry: entry)
        switch sshLogins.fold(record) {
        case .keep: break
        case .drop:
            counters.ignored += 1  // another record of the same attempt says it all
            return
        case .link(let link): link.apply(to: &record)
        }
        batch.add { record.writeCanonicalJSON(to: &$0) }
        counters.records += 1
    }

    /// Whether `path` (an entry's `_EXE`) is a set-user-ID file owned by root: what no account can
    /// make, so a process running one with its powers is the program. journald reads `_EXE` in
    /// the sender's mount namespace; a path that is set-user-ID root here is taken as that file.
    static func isSetUserIDRoot(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_uid == 0 && status.st_mode & S_ISUID != 0
    }

    /// The fields of an entry a record uses, taken in one pass over the entry (see
    /// systemd.journal-fields(7)); values are decoded as UTF-8 with invalid bytes replaced.
    struct EntryFields {
        var identifier: String?
        var command: String?
        var message: String?
        var syslogPID: String?
        var pid: String?
        var unit: String?
        var systemdUnit: String?
        var bootID: String?
        var transport: String?
        var sourceRealtime: String?
        var uid: String?
        var effectiveCapabilities: String?
        var executable: String?

        init(_ journal: JournalHandle) {
            journal.forEachField { name, value in
                func text() -> String { String(decoding: value, as: UTF8.self) }
                switch Self.index(of: name) {
                case 0: identifier = text()
                case 1: command = text()
                case 2: message = text()
                case 3: syslogPID = text()
                case 4: pid = text()
                case 5: unit = text()
                case 6: systemdUnit = text()
                case 7: bootID = text()
                case 8: transport = text()
                case 9: sourceRealtime = text()
                case 10: uid = text()
                case 11: effectiveCapabilities = text()
                case 12: executable = text()
                default: break
                }
            }
        }

        /// The names above, as static strings compared by their bytes (no String per field).
        static let names: [StaticString] = [
            "SYSLOG_IDENTIFIER", "_COMM", "MESSAGE", "SYSLOG_PID", "_PID", "UNIT", "_SYSTEMD_UNIT", "_BOOT_ID", "_TRANSPORT",
            "_SOURCE_REALTIME_TIMESTAMP", "_UID", "_CAP_EFFECTIVE", "_EXE",
        ]

        /// The position of `name` in ``names``.
        static func index(of name: UnsafeBufferPointer<UInt8>) -> Int? {
            for (index, candidate) in names.enumerated() where candidate.utf8CodeUnitCount == name.count {
                if memcmp(candidate.utf8Start, name.baseAddress!, name.count) == 0 { return index }
            }
            return nil
        }
    }

    /// Commits records with the checkpoint; under the `block` policy a full spool makes it wait.
    /// `false` when a stop came first (nothing committed; the entries are read again next start).
    private func commit(_ batch: SourceBatch, checkpoint: String?) -> Bool {
        finish(context.start(batch, checkpoint: checkpoint))
    }
}

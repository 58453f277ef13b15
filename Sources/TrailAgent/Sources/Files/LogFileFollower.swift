// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Follows one log file by path across logrotate's rename-and-create, `copytruncate`,
/// `delaycompress` and `compress`, and across agent restarts, without losing or repeating a line.
///
/// - Rename and create: the old file stays open and is read to its end; the agent moves to the new
///   file once the old one has stopped growing for ``rotationGrace`` (a writer may still append
///   to it until it reopens). Compressing the renamed file later does not matter: the open
///   descriptor still reads it.
/// - `copytruncate`: the file shrinks (or starts with a different first line). If the copy
///   (`PATH.1`) starts like the file did and holds more than was read, the rest is read from the
///   copy first; then the file is read again from its start.
/// - A restart resumes at the checkpoint: in the file itself if it is still the same, else in
///   `PATH.1` when that is the file the checkpoint names (rotated while the agent was down).
/// - A shrink or a disappearance that no rotation explains is reported (``Event/truncated`` with
///   `explained == false`, ``Event/removed``): wiping auth.log is what an intruder does. A path that
///   never existed is waited for silently.
///
/// Not thread-safe: one task polls it. Positions handed out are offsets of line starts in the
/// file named by ``LogFileIdentity``.
final class LogFileFollower {
    /// A complete line (without its newline) and where it starts.
    struct Line {
        var offset: Int
        var text: Substring
    }

    enum Event: Equatable {
        case truncated(explained: Bool, previousOffset: Int)
        case removed
        case rotated
        /// The checkpoint's file can no longer be found (rotated away and deleted, or deleted while
        /// the agent was down): what it held after the checkpoint is lost. Reading goes on in the
        /// rotations written since, then the path.
        case lostPlace(LogFileCheckpoint)
        /// The path exists but cannot be opened (reported once until it can).
        case unreadable(errno: Int32)
    }

    struct Chunk {
        /// The file the lines come from (`nil` only when there are none).
        var identity: LogFileIdentity?
        /// Its name: the path, or the rotation read (`auth.log.3.gz`).
        var fileName: String?
        var lines: [Line]
        /// The checkpoint to commit with these lines.
        var checkpoint: LogFileCheckpoint
        var events: [Event]
        /// Lines cut because they were longer than ``maxLineBytes``.
        var oversizedLines: Int
    }

    enum StartAt: Equatable {
        case beginning
        case end
    }

    /// The follower's one clock, passed to each poll: the monotonic instant paces the rotation
    /// grace; the wall-clock date is compared with files' modification times (copies made since).
    struct Now {
        var instant: ContinuousClock.Instant
        var date: Date

        static var current: Now { Now(instant: .now, date: Date()) }
    }

    let path: String
    let rotationGrace: Duration
    let maxLineBytes: Int
    static let readSize = 256 * 1024
    /// Reused for every read (allocated on the first).
    private var buffer: [UInt8] = []

    private struct Stream {
        var file: OpenFile
        /// The name it was opened by: the path, or a rotation's.
        var name: String
        var identity: LogFileIdentity?
        /// Offset just past the last complete line handed out.
        var offset: Int
        /// Bytes read past `offset` that do not end in a newline yet.
        var carry: [UInt8] = []
        /// Skipping the rest of an oversized line.
        var discarding = false
        var lastGrowth: ContinuousClock.Instant
        /// A file that will not grow (a copy, or a rotated file read after a restart).
        var finished = false
        /// Since when this live file has been seen empty (no identity yet): a copy of it made
        /// after this, by a copytruncate between two polls, holds lines it never showed.
        var emptySince: Date?

        /// Reads the file again from its start, as whatever it now holds (after a truncation).
        mutating func restartFromBeginning(now: Now) {
            offset = 0
            carry = []
            discarding = false
            identity = LogFileIdentity.of(file)  // the live file (never a decompressed copy)
            emptySince = identity == nil ? now.date : nil
        }
    }

    private var stream: Stream?
    /// Rotated files to read whole after the current one, oldest first (catching up after a
    /// restart). Opened when the catch-up is planned, so later rotations cannot swap them.
    private var catchUp: [(file: OpenFile, name: String)] = []
    /// The live file to go on with once the finished ones are read (opened at the same moment).
    private var nextLive: Stream?
    /// When the catch-up was planned: a rotation newer than this was made while catching up.
    private var plannedAt: Date?
    /// The files read (or planned to be) by their heads, so a new copy is told from one already
    /// read, and a compressed rotation's lines keep the inode the file had when it was live.
    private var known: [String: LogFileIdentity] = [:]
    /// The heads in `known`, oldest first: past ``knownCapacity`` the oldest are forgotten (files
    /// long deleted), so months of rotations never stop new ones from being remembered.
    private var knownOrder: [String] = []
    static let knownCapacity = 4096
    private var pendingEvents: [Event] = []
    private var removedReported = false
    private var unreadableReported = false
    /// Lines handed out by a switch between files (the unfinished last line of the old one).
    private var pendingLines: [Line] = []
    private var startAt: StartAt
    private var resume: LogFileCheckpoint?
    /// The checkpoint last handed out: a poll that would not move it returns nothing.
    private var lastCheckpoint = LogFileCheckpoint(identity: nil, offset: 0)

    init(path: String, checkpoint: LogFileCheckpoint?, startAt: StartAt, rotationGrace: Duration = .seconds(1), maxLineBytes: Int = 1 << 20) {
        self.path = path
        self.rotationGrace = rotationGrace
        self.maxLineBytes = maxLineBytes
        self.startAt = startAt
        self.resume = checkpoint
    }

    /// Reads what is new. Returns `nil` when there is nothing to commit (poll again later).
    func poll(now: Now = .current) -> Chunk? {
        if stream == nil { openInitially(now: now) }
        // While older files are caught up on, learn the waiting live file's identity as soon as it
        // has a first line, so a copytruncate in the meantime is noticed when its turn comes.
        if var live = nextLive, live.identity == nil {
            live.identity = LogFileIdentity.of(live.file)
            nextLive = live
        }
        if let current = stream, !current.finished, current.identity == nil, let since = current.emptySince,
            current.file.size > 0, let copy = newCopy(since: since, live: current)
        {
            var copied = Stream(
                file: copy.file, name: copy.name, identity: identity(of: copy.file, name: copy.name), offset: 0, lastGrowth: now.instant)
            copied.finished = true
            remember(copied.identity)
            nextLive = current
            stream = copied
        }
        var lines: [Line] = []
        var oversized = 0
        var identity: LogFileIdentity?
        var fileName: String?
        if var current = stream {
            let grew = read(&current, into: &lines, oversized: &oversized, now: now)
            identity = current.identity
            fileName = current.name
            if current.identity != nil {
                current.emptySince = nil
                remember(current.identity)
            }
            stream = current
            if !grew {
                checkRotation(now: now)
                lines += pendingLines
                pendingLines = []
            }
        }
        let events = pendingEvents
        pendingEvents = []
        // Where reading continues: in the stream just switched to, if the poll ended with a switch.
        let checkpoint = LogFileCheckpoint(identity: stream?.identity, offset: stream?.offset ?? 0)
        if lines.isEmpty && events.isEmpty && oversized == 0 && checkpoint.samePlace(as: lastCheckpoint) { return nil }
        lastCheckpoint = checkpoint
        return Chunk(identity: identity, fileName: fileName, lines: lines, checkpoint: checkpoint, events: events, oversizedLines: oversized)
    }

    // MARK: - Opening

    private func openInitially(now: Now) {
        if let checkpoint = resume {
            resume = nil
            lastCheckpoint = checkpoint
            if checkpoint.identity != nil, let found = locate(checkpoint, now: now) {
                stream = found
                return
            }
            if checkpoint.identity != nil { pendingEvents.append(.lostPlace(checkpoint)) }
            // The checkpoint's file is gone, or it was the path's empty new file: whatever was
            // written after the checkpoint is in the rotations last modified since, then the path.
            if let savedAt = checkpoint.savedAt {
                let newer = RotatedLogFiles.chain(of: path).filter { Self.modified($0) > savedAt }.reversed()
                let opened = newer.compactMap { name in RotatedLogFiles.open(name).map { (file: $0, name: name) } }
                if let first = opened.first {
                    var rotated = Stream(
                        file: first.file, name: first.name, identity: identity(of: first.file, name: first.name), offset: 0, lastGrowth: now.instant)
                    rotated.finished = true
                    stream = rotated
                    catchUp = Array(opened.dropFirst())
                    plannedAt = now.date.addingTimeInterval(-1)
                    for file in opened { remember(identity(of: file.file, name: file.name)) }
                    if let live = OpenFile(path: path) {
                        nextLive = liveStream(live, now: now)
                    }
                    return
                }
            }
            startAt = .beginning
        }
        guard let file = openPath() else {
            // A file that appears later holds only lines written after the start: all of them are read.
            if access(path, F_OK) != 0 { startAt = .beginning }
            return
        }
        let offset = startAt == .end ? file.size : 0
        var opened = Stream(file: file, name: path, identity: LogFileIdentity.of(file), offset: offset, lastGrowth: now.instant)
        if opened.identity == nil { opened.emptySince = now.date }
        if startAt == .end, opened.identity == nil {
            opened.offset = 0  // no complete first line yet: nothing to skip
        }
        stream = opened
    }

    /// Finds the file a checkpoint names: the path itself, else the rotation that holds its
    /// content (any scheme, newest first, perhaps compressed), with the newer rotations, each
    /// opened once as it was compared, kept for the catch-up.
    private func locate(_ checkpoint: LogFileCheckpoint, now: Now) -> Stream? {
        guard let wanted = checkpoint.identity else { return nil }
        if let file = OpenFile(path: path), let identity = LogFileIdentity.of(file), identity.inode == wanted.inode,
            identity.head == wanted.head, file.size >= checkpoint.offset
        {
            return Stream(file: file, name: path, identity: wanted, offset: checkpoint.offset, lastGrowth: now.instant)
        }
        var newer: [(file: OpenFile, name: String)] = []
        for candidate in RotatedLogFiles.chain(of: path) {
            guard let file = RotatedLogFiles.open(candidate) else { continue }
            if wanted.sameContent(file), file.size >= checkpoint.offset {
                // Rotated (perhaps compressed) while the agent was down: finish it, then every
                // newer rotation, then the path.
                var found = Stream(file: file, name: candidate, identity: wanted, offset: checkpoint.offset, lastGrowth: now.instant)
                found.finished = true
                catchUp = newer.reversed()
                plannedAt = now.date.addingTimeInterval(-1)  // ctime has coarse granularity
                remember(wanted)
                for rotated in catchUp { remember(identity(of: rotated.file, name: rotated.name)) }
                if let live = OpenFile(path: path) {
                    nextLive = liveStream(live, now: now)
                }
                return found
            }
            newer.append((file, candidate))
        }
        return nil
    }

    // MARK: - Reading

    /// Reads complete lines; returns whether any byte was read.
    private func read(_ stream: inout Stream, into lines: inout [Line], oversized: inout Int, now: Now) -> Bool {
        var grew = false
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.readSize) }
        while true {
            let position = stream.offset + stream.carry.count
            let file = stream.file
            var failure: SystemCall.Failure?
            let count = buffer.withUnsafeMutableBytes { bytes -> Int in
                do throws(SystemCall.Failure) {
                    return try file.read(into: bytes, at: position)
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure {
                // A read error (the path is a directory, an I/O error) is reported once, not taken for EOF.
                if !unreadableReported {
                    unreadableReported = true
                    pendingEvents.append(.unreadable(errno: failure.errno))
                }
                break
            }
            guard count > 0 else { break }
            grew = true
            stream.lastGrowth = now.instant
            if stream.identity == nil { stream.identity = LogFileIdentity.of(stream.file) }
            let lineStart = buffer.withUnsafeBytes {
                split(UnsafeRawBufferPointer(rebasing: $0[..<count]), stream: &stream, into: &lines, oversized: &oversized)
            }
            if lineStart < count {
                if stream.discarding {
                    stream.offset += count - lineStart
                } else {
                    stream.carry.append(contentsOf: buffer[lineStart..<count])
                    if stream.carry.count > maxLineBytes {
                        // Too long to keep: skip to its end, and count it when the newline comes.
                        oversized += 1
                        stream.offset += stream.carry.count
                        stream.carry = []
                        stream.discarding = true
                    }
                }
            }
            if lines.count >= 10_000 { break }  // hand out a chunk; the next poll continues
        }
        return grew
    }

    /// Hands out the complete lines in `bytes` (read just past `stream`'s carry) and returns where
    /// the unfinished rest starts.
    ///
    /// The lines lying wholly in `bytes` are slices of one string when it is valid UTF-8: a string
    /// per line had cost two allocations and two copies of every line. Invalid UTF-8 is repaired
    /// line by line, as before.
    private func split(_ bytes: UnsafeRawBufferPointer, stream: inout Stream, into lines: inout [Line], oversized: inout Int) -> Int {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        var lineStart = 0
        var shared: (text: String, start: Int)?
        var sharedIsInvalid = false
        while lineStart < bytes.count, let found = memchr(base + lineStart, Int32(UInt8(ascii: "\n")), bytes.count - lineStart) {
            let index = base.distance(to: UnsafeRawPointer(found))
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<index])
            if stream.discarding {
                stream.discarding = false
            } else if stream.carry.count + line.count > maxLineBytes {
                oversized += 1
            } else if !stream.carry.isEmpty {
                // Begun in an earlier read: joined from the carried bytes.
                var whole = stream.carry
                whole.append(contentsOf: line)
                lines.append(Line(offset: stream.offset, text: Substring(String(decoding: whole, as: UTF8.self))))
            } else {
                if shared == nil && !sharedIsInvalid {
                    // Up to the last newline: everything that is a complete line.
                    var end = bytes.count
                    while bytes[end - 1] != UInt8(ascii: "\n") { end -= 1 }
                    if let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<(end - 1)]), as: UTF8.self) {
                        shared = (text, lineStart)
                    } else {
                        sharedIsInvalid = true
                    }
                }
                if let shared {
                    let utf8 = shared.text.utf8
                    let from = utf8.index(utf8.startIndex, offsetBy: lineStart - shared.start)
                    let to = utf8.index(from, offsetBy: line.count)
                    lines.append(Line(offset: stream.offset, text: Substring(utf8[from..<to])))
                } else {
                    lines.append(Line(offset: stream.offset, text: Substring(String(decoding: line, as: UTF8.self))))
                }
            }
            stream.offset += stream.carry.count + line.count + 1
            stream.carry = []
            lineStart = index + 1
        }
        return lineStart
    }

    // MARK: - Rotation, truncation, removal

    private func checkRotation(now: Now) {
        guard let current = stream else { return }
        if current.finished {
            // A copy or a rotated file read to its end: go on with the next newer rotation, or the path.
            finishCurrent()
            if !catchUp.isEmpty {
                let next = catchUp.removeFirst()
                var rotated = Stream(
                    file: next.file, name: next.name, identity: identity(of: next.file, name: next.name), offset: 0, lastGrowth: now.instant)
                rotated.finished = true
                stream = rotated
            } else if var live = nextLive {
                // The file that was live when the catch-up began; if it has been renamed away since,
                // the usual checks find that out on the next polls. If it was truncated (copytruncate)
                // meanwhile, what it held is in the copy: read that first.
                nextLive = nil
                live.lastGrowth = now.instant
                if let identity = live.identity, !identity.sameContent(live.file) {
                    live.identity = LogFileIdentity.of(live.file)
                    if let copy = RotatedLogFiles.chain(of: path).lazy.compactMap({ name -> (file: OpenFile, name: String)? in
                        guard let file = RotatedLogFiles.open(name), identity.sameContent(file) else { return nil }
                        return (file, name)
                    }).first {
                        var copied = Stream(file: copy.file, name: copy.name, identity: identity, offset: 0, lastGrowth: now.instant)
                        copied.finished = true
                        stream = copied
                        nextLive = live
                        remember(identity)
                        return
                    }
                    pendingEvents.append(.truncated(explained: false, previousOffset: 0))
                } else if let plannedAt, let copy = newCopy(since: plannedAt, live: live) {
                    // The live file was written, copied and truncated before it was looked at
                    // (its identity, if learned at all, is of what came after): its lines are in the copy.
                    var copied = Stream(
                        file: copy.file, name: copy.name, identity: identity(of: copy.file, name: copy.name), offset: 0, lastGrowth: now.instant)
                    copied.finished = true
                    stream = copied
                    nextLive = live
                    remember(copied.identity)
                    return
                }
                plannedAt = nil
                stream = live
            } else {
                openPathFromStart(now: now)
            }
            return
        }
        var pathInfo = stat()
        let pathExists = stat(path, &pathInfo) == 0
        let info = current.file.status ?? stat()
        if pathExists && UInt64(pathInfo.st_ino) == UInt64(info.st_ino) && UInt64(pathInfo.st_dev) == UInt64(info.st_dev) {
            removedReported = false
            checkTruncation(now: now)
            return
        }
        // The path now names another file, or none: renamed away (rotation) or deleted.
        if !pathExists {
            let renamed = Self.rotatedNames(path).contains { name in
                var rotated = stat()
                return stat(name, &rotated) == 0 && UInt64(rotated.st_ino) == UInt64(info.st_ino)
            }
            if !renamed && !removedReported && info.st_nlink == 0 {
                removedReported = true
                pendingEvents.append(.removed)
            }
            return  // keep reading the open file until the path comes back
        }
        guard now.instant - current.lastGrowth >= rotationGrace else { return }
        pendingEvents.append(.rotated)
        // Opened before the rotations are listed: if it is rotated meanwhile, it is in the list
        // and left out of it, and the usual checks catch up from it later.
        let live = openPath()
        let newer = rotationsNewer(than: current, info: info, live: live)
        finishCurrent()
        guard let oldest = newer.first else {
            if let live {
                stream = liveStream(live, now: now)
            }
            return
        }
        // Behind by more than one rotation: go on with the file rotated right after this one, read
        // like the current file was (a writer may still be appending to it until it reopens), and
        // leave it the same way after the grace: one rotation at a time, then the path.
        stream = Stream(
            file: oldest.file, name: oldest.name, identity: identity(of: oldest.file, name: oldest.name), offset: 0, lastGrowth: now.instant)
    }

    /// The rotations made after `current`'s own, opened, oldest first: empty when `current` is
    /// the newest rotation (the usual case) or is not found among them (then nothing is guessed).
    private func rotationsNewer(than current: Stream, info: stat, live: OpenFile?) -> [(file: OpenFile, name: String)] {
        let liveInfo = live?.status ?? stat()
        var newer: [(file: OpenFile, name: String)] = []
        for name in RotatedLogFiles.chain(of: path) {
            var candidate = stat()
            if !RotatedLogFiles.isCompressed(name), stat(name, &candidate) == 0 {
                if UInt64(candidate.st_ino) == UInt64(info.st_ino) && UInt64(candidate.st_dev) == UInt64(info.st_dev) {
                    return newer.reversed()
                }
                if live != nil && UInt64(candidate.st_ino) == UInt64(liveInfo.st_ino) { continue }
            }
            guard let file = RotatedLogFiles.open(name) else { continue }
            if let identity = current.identity, identity.sameContent(file) {
                return newer.reversed()  // the current file, compressed since
            }
            newer.append((file, name))
        }
        return []
    }

    /// The newest rotation, if it was last written after `since`, is none of the files read, and
    /// is not the live file itself (renamed, perhaps compressed): a copytruncate's copy.
    private func newCopy(since: Date, live: Stream) -> (file: OpenFile, name: String)? {
        guard let newest = RotatedLogFiles.chain(of: path).first, Self.modified(newest) >= since.timeIntervalSince1970 else { return nil }
        guard let file = RotatedLogFiles.open(newest) else { return nil }
        let head = LogFileIdentity.of(file)?.head
        let liveHead = LogFileIdentity.of(live.file)?.head
        if let head, known[head] == nil, head != liveHead { return (file, newest) }
        return nil
    }

    private func checkTruncation(now: Now) {
        guard var current = stream, let identity = current.identity else {
            // No identity yet: a file that shrank before its first line was complete starts over.
            if var current = stream, current.file.size < current.offset + current.carry.count {
                current.restartFromBeginning(now: now)
                stream = current
            }
            return
        }
        let shrank = current.file.size < current.offset + current.carry.count
        guard shrank || !identity.sameContent(current.file) else { return }
        // copytruncate: the copy holds what was written before the truncation.
        let previous = current.offset
        // The copy is the newest rotation, whatever its scheme (`PATH.1`, `PATH-20261204`, compressed at once).
        let named = Self.rotatedNames(path)
        let candidates = named + RotatedLogFiles.chain(of: path).prefix(3).filter { !named.contains($0) }
        for candidate in candidates {
            guard let file = RotatedLogFiles.open(candidate), identity.sameContent(file) else { continue }
            pendingEvents.append(.truncated(explained: true, previousOffset: previous))
            current.restartFromBeginning(now: now)
            if file.size > previous {
                var copy = Stream(file: file, name: candidate, identity: identity, offset: previous, lastGrowth: now.instant)
                copy.finished = true
                stream = copy
                nextLive = current  // then the truncated file itself, from its start
            } else {
                stream = current
            }
            return
        }
        pendingEvents.append(.truncated(explained: false, previousOffset: previous))
        current.restartFromBeginning(now: now)
        stream = current
    }

    /// Leaves a file that will not grow again; an unfinished last line in it is handed out as a
    /// line (its writer died mid-line), not dropped.
    private func finishCurrent() {
        if let current = stream, !current.carry.isEmpty && !current.discarding && current.identity != nil {
            pendingLines.append(Line(offset: current.offset, text: Substring(String(decoding: current.carry, as: UTF8.self))))
        }
        stream = nil
    }

    /// A live file from its start; an empty one remembers since when it has been seen empty.
    private func liveStream(_ file: OpenFile, now: Now) -> Stream {
        var opened = Stream(file: file, name: path, identity: LogFileIdentity.of(file), offset: 0, lastGrowth: now.instant)
        if opened.identity == nil { opened.emptySince = now.date }
        return opened
    }

    /// Opens the path; a path that exists but cannot be read is reported once, one that does not
    /// exist is waited for quietly.
    private func openPath() -> OpenFile? {
        if let file = OpenFile(path: path) {
            unreadableReported = false
            return file
        }
        let error = errno
        if error != ENOENT && !unreadableReported {
            unreadableReported = true
            pendingEvents.append(.unreadable(errno: error))
        }
        return nil
    }

    private func openPathFromStart(now: Now) {
        guard let file = openPath() else { return }
        stream = liveStream(file, now: now)
    }

    /// The identity of the rotation `name` opened as `file`. A compressed one is read from a
    /// temporary copy whose inode says nothing: it takes the inode of the file it was when that
    /// file was read live (same head), else none, and its lines' event IDs then derive from its
    /// head and their offsets alone (``LogFileIdentity/positionKey``).
    private func identity(of file: OpenFile, name: String) -> LogFileIdentity? {
        guard var identity = LogFileIdentity.of(file) else { return nil }
        if RotatedLogFiles.isCompressed(name) {
            if let seen = known[identity.head], seen.inode != 0 { return seen }
            identity.device = 0
            identity.inode = 0
        }
        return identity
    }

    /// Keeps `identity` among the files known by head (the one with a real inode wins).
    private func remember(_ identity: LogFileIdentity?) {
        guard let identity else { return }
        if let seen = known[identity.head], seen.inode != 0 { return }
        if known.updateValue(identity, forKey: identity.head) == nil { knownOrder.append(identity.head) }
        guard knownOrder.count > Self.knownCapacity else { return }
        let forgotten = knownOrder.count - Self.knownCapacity * 3 / 4
        for head in knownOrder.prefix(forgotten) { known[head] = nil }
        knownOrder.removeFirst(forgotten)
    }

    // MARK: - Files

    /// A file's last modification, in seconds since the epoch (0 when it cannot be read).
    static func modified(_ path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// Where logrotate puts the previous file: `PATH.1` (Debian's default), `PATH.0`, and the
    /// `dateext` form of today and yesterday are not guessed; `PATH.1` covers rename and copytruncate.
    static func rotatedNames(_ path: String) -> [String] {
        [path + ".1", path + ".0"]
    }
}

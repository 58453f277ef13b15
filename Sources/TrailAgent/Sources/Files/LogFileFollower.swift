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

    let path: String
    let rotationGrace: Duration
    let maxLineBytes: Int
    static let readSize = 256 * 1024
    /// Reused for every read (allocated on the first).
    private var buffer: [UInt8] = []

    private struct Stream {
        var descriptor: Int32
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
        mutating func restartFromBeginning() {
            offset = 0
            carry = []
            discarding = false
            identity = LogFileIdentity.of(descriptor: descriptor)  // the live file (never a decompressed copy)
            emptySince = identity == nil ? Date() : nil
        }
    }

    private var stream: Stream?
    /// Rotated files to read whole after the current one, oldest first (catching up after a
    /// restart). Opened when the catch-up is planned, so later rotations cannot swap them.
    private var catchUp: [(descriptor: Int32, name: String)] = []
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

    deinit {
        if let stream { close(stream.descriptor) }
        if let nextLive { close(nextLive.descriptor) }
        catchUp.forEach { close($0.descriptor) }
    }

    /// Reads what is new. Returns `nil` when there is nothing to commit (poll again later).
    func poll(now: ContinuousClock.Instant = .now) -> Chunk? {
        if stream == nil { openInitially(now: now) }
        // While older files are caught up on, learn the waiting live file's identity as soon as it
        // has a first line, so a copytruncate in the meantime is noticed when its turn comes.
        if var live = nextLive, live.identity == nil {
            live.identity = LogFileIdentity.of(descriptor: live.descriptor)
            nextLive = live
        }
        if let current = stream, !current.finished, current.identity == nil, let since = current.emptySince,
            Self.size(current.descriptor) > 0, let copy = newCopy(since: since, live: current)
        {
            var copied = Stream(
                descriptor: copy.descriptor, name: copy.name, identity: identity(of: copy.descriptor, name: copy.name), offset: 0, lastGrowth: now)
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

    private func openInitially(now: ContinuousClock.Instant) {
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
                let opened = newer.compactMap { name in RotatedLogFiles.open(name).map { (descriptor: $0, name: name) } }
                if let first = opened.first {
                    var rotated = Stream(
                        descriptor: first.descriptor, name: first.name, identity: identity(of: first.descriptor, name: first.name), offset: 0,
                        lastGrowth: now)
                    rotated.finished = true
                    stream = rotated
                    catchUp = Array(opened.dropFirst())
                    plannedAt = Date().addingTimeInterval(-1)
                    for file in opened { remember(identity(of: file.descriptor, name: file.name)) }
                    if let live = Self.open(path) {
                        nextLive = liveStream(live, now: now)
                    }
                    return
                }
            }
            startAt = .beginning
        }
        guard let descriptor = openPath() else {
            // A file that appears later holds only lines written after the start: all of them are read.
            if access(path, F_OK) != 0 { startAt = .beginning }
            return
        }
        var info = stat()
        fstat(descriptor, &info)
        let offset = startAt == .end ? Int(info.st_size) : 0
        var opened = Stream(descriptor: descriptor, name: path, identity: LogFileIdentity.of(descriptor: descriptor), offset: offset, lastGrowth: now)
        if opened.identity == nil { opened.emptySince = Date() }
        if startAt == .end, opened.identity == nil {
            opened.offset = 0  // no complete first line yet: nothing to skip
        }
        stream = opened
    }

    /// Finds the file a checkpoint names: the path itself, else the rotation that holds its
    /// content (any scheme, newest first, perhaps compressed), with the newer rotations, each
    /// opened once as it was compared, kept for the catch-up.
    private func locate(_ checkpoint: LogFileCheckpoint, now: ContinuousClock.Instant) -> Stream? {
        guard let wanted = checkpoint.identity else { return nil }
        if let descriptor = Self.open(path) {
            if let identity = LogFileIdentity.of(descriptor: descriptor), identity.inode == wanted.inode,
                identity.head == wanted.head, Self.size(descriptor) >= checkpoint.offset
            {
                return Stream(descriptor: descriptor, name: path, identity: wanted, offset: checkpoint.offset, lastGrowth: now)
            }
            close(descriptor)
        }
        var newer: [(descriptor: Int32, name: String)] = []
        for candidate in RotatedLogFiles.chain(of: path) {
            guard let descriptor = RotatedLogFiles.open(candidate) else { continue }
            if wanted.sameContent(descriptor: descriptor), Self.size(descriptor) >= checkpoint.offset {
                // Rotated (perhaps compressed) while the agent was down: finish it, then every
                // newer rotation, then the path.
                var found = Stream(descriptor: descriptor, name: candidate, identity: wanted, offset: checkpoint.offset, lastGrowth: now)
                found.finished = true
                catchUp = newer.reversed()
                plannedAt = Date().addingTimeInterval(-1)  // ctime has coarse granularity
                remember(wanted)
                for file in catchUp { remember(identity(of: file.descriptor, name: file.name)) }
                if let live = Self.open(path) {
                    nextLive = liveStream(live, now: now)
                }
                return found
            }
            newer.append((descriptor, candidate))
        }
        for file in newer { close(file.descriptor) }
        return nil
    }

    // MARK: - Reading

    /// Reads complete lines; returns whether any byte was read.
    private func read(_ stream: inout Stream, into lines: inout [Line], oversized: inout Int, now: ContinuousClock.Instant) -> Bool {
        var grew = false
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.readSize) }
        while true {
            let position = stream.offset + stream.carry.count
            let count = buffer.withUnsafeMutableBytes { pread(stream.descriptor, $0.baseAddress!, Self.readSize, off_t(position)) }
            guard count > 0 else {
                // A read error (the path is a directory, an I/O error) is reported once, not taken for EOF.
                if count < 0 && !unreadableReported {
                    unreadableReported = true
                    pendingEvents.append(.unreadable(errno: errno))
                }
                break
            }
            grew = true
            stream.lastGrowth = now
            if stream.identity == nil { stream.identity = LogFileIdentity.of(descriptor: stream.descriptor) }
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
        while lineStart < bytes.count, let found = memchr(base + lineStart, 10, bytes.count - lineStart) {
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
                    while bytes[end - 1] != 10 { end -= 1 }
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

    private func checkRotation(now: ContinuousClock.Instant) {
        guard let current = stream else { return }
        if current.finished {
            // A copy or a rotated file read to its end: go on with the next newer rotation, or the path.
            finishCurrent()
            if !catchUp.isEmpty {
                let next = catchUp.removeFirst()
                var rotated = Stream(
                    descriptor: next.descriptor, name: next.name, identity: identity(of: next.descriptor, name: next.name), offset: 0, lastGrowth: now
                )
                rotated.finished = true
                stream = rotated
            } else if var live = nextLive {
                // The file that was live when the catch-up began; if it has been renamed away since,
                // the usual checks find that out on the next polls. If it was truncated (copytruncate)
                // meanwhile, what it held is in the copy: read that first.
                nextLive = nil
                live.lastGrowth = now
                if let identity = live.identity, !identity.sameContent(descriptor: live.descriptor) {
                    live.identity = LogFileIdentity.of(descriptor: live.descriptor)
                    if let copy = RotatedLogFiles.chain(of: path).lazy.compactMap({ name -> (descriptor: Int32, name: String)? in
                        guard let descriptor = RotatedLogFiles.open(name) else { return nil }
                        if identity.sameContent(descriptor: descriptor) { return (descriptor, name) }
                        close(descriptor)
                        return nil
                    }).first {
                        var copied = Stream(descriptor: copy.descriptor, name: copy.name, identity: identity, offset: 0, lastGrowth: now)
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
                        descriptor: copy.descriptor, name: copy.name, identity: identity(of: copy.descriptor, name: copy.name), offset: 0,
                        lastGrowth: now)
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
        var info = stat()
        fstat(current.descriptor, &info)
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
        guard now - current.lastGrowth >= rotationGrace else { return }
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
        for file in newer.dropFirst() { close(file.descriptor) }
        if let live { close(live) }
        stream = Stream(
            descriptor: oldest.descriptor, name: oldest.name, identity: identity(of: oldest.descriptor, name: oldest.name), offset: 0, lastGrowth: now
        )
    }

    /// The rotations made after `current`'s own, opened, oldest first: empty when `current` is
    /// the newest rotation (the usual case) or is not found among them (then nothing is guessed).
    private func rotationsNewer(than current: Stream, info: stat, live: Int32?) -> [(descriptor: Int32, name: String)] {
        var liveInfo = stat()
        if let live { fstat(live, &liveInfo) }
        var newer: [(descriptor: Int32, name: String)] = []
        for name in RotatedLogFiles.chain(of: path) {
            var candidate = stat()
            if !RotatedLogFiles.isCompressed(name), stat(name, &candidate) == 0 {
                if UInt64(candidate.st_ino) == UInt64(info.st_ino) && UInt64(candidate.st_dev) == UInt64(info.st_dev) {
                    return newer.reversed()
                }
                if live != nil && UInt64(candidate.st_ino) == UInt64(liveInfo.st_ino) { continue }
            }
            guard let descriptor = RotatedLogFiles.open(name) else { continue }
            if let identity = current.identity, identity.sameContent(descriptor: descriptor) {
                close(descriptor)  // the current file, compressed since
                return newer.reversed()
            }
            newer.append((descriptor, name))
        }
        for file in newer { close(file.descriptor) }
        return []
    }

    /// The newest rotation, if it was last written after `since`, is none of the files read, and
    /// is not the live file itself (renamed, perhaps compressed): a copytruncate's copy.
    private func newCopy(since: Date, live: Stream) -> (descriptor: Int32, name: String)? {
        guard let newest = RotatedLogFiles.chain(of: path).first, Self.modified(newest) >= since.timeIntervalSince1970 else { return nil }
        guard let descriptor = RotatedLogFiles.open(newest) else { return nil }
        let head = LogFileIdentity.of(descriptor: descriptor)?.head
        let liveHead = LogFileIdentity.of(descriptor: live.descriptor)?.head
        if let head, known[head] == nil, head != liveHead { return (descriptor, newest) }
        close(descriptor)
        return nil
    }

    private func checkTruncation(now: ContinuousClock.Instant) {
        guard var current = stream, let identity = current.identity else {
            // No identity yet: a file that shrank before its first line was complete starts over.
            if var current = stream, Self.size(current.descriptor) < current.offset + current.carry.count {
                current.restartFromBeginning()
                stream = current
            }
            return
        }
        let size = Self.size(current.descriptor)
        let shrank = size < current.offset + current.carry.count
        guard shrank || !identity.sameContent(descriptor: current.descriptor) else { return }
        // copytruncate: the copy holds what was written before the truncation.
        let previous = current.offset
        // The copy is the newest rotation, whatever its scheme (`PATH.1`, `PATH-20261204`, compressed at once).
        let named = Self.rotatedNames(path)
        let candidates = named + RotatedLogFiles.chain(of: path).prefix(3).filter { !named.contains($0) }
        for candidate in candidates {
            guard let descriptor = RotatedLogFiles.open(candidate) else { continue }
            if identity.sameContent(descriptor: descriptor) {
                pendingEvents.append(.truncated(explained: true, previousOffset: previous))
                current.restartFromBeginning()
                if Self.size(descriptor) > previous {
                    var copy = Stream(descriptor: descriptor, name: candidate, identity: identity, offset: previous, lastGrowth: now)
                    copy.finished = true
                    stream = copy
                    nextLive = current  // then the truncated file itself, from its start
                } else {
                    close(descriptor)
                    stream = current
                }
                return
            }
            close(descriptor)
        }
        pendingEvents.append(.truncated(explained: false, previousOffset: previous))
        current.restartFromBeginning()
        stream = current
    }

    /// Closes a file that will not grow again; an unfinished last line in it is handed out as a
    /// line (its writer died mid-line), not dropped.
    private func finishCurrent() {
        if let current = stream {
            if !current.carry.isEmpty && !current.discarding && current.identity != nil {
                pendingLines.append(Line(offset: current.offset, text: Substring(String(decoding: current.carry, as: UTF8.self))))
            }
            close(current.descriptor)
        }
        stream = nil
    }

    /// A live file from its start; an empty one remembers since when it has been seen empty.
    private func liveStream(_ descriptor: Int32, now: ContinuousClock.Instant) -> Stream {
        var opened = Stream(descriptor: descriptor, name: path, identity: LogFileIdentity.of(descriptor: descriptor), offset: 0, lastGrowth: now)
        if opened.identity == nil { opened.emptySince = Date() }
        return opened
    }

    /// Opens the path; a path that exists but cannot be read is reported once, one that does not
    /// exist is waited for quietly.
    private func openPath() -> Int32? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            unreadableReported = false
            return descriptor
        }
        let error = errno
        if error != ENOENT && !unreadableReported {
            unreadableReported = true
            pendingEvents.append(.unreadable(errno: error))
        }
        return nil
    }

    private func openPathFromStart(now: ContinuousClock.Instant) {
        guard let descriptor = openPath() else { return }
        var opened = Stream(descriptor: descriptor, name: path, identity: LogFileIdentity.of(descriptor: descriptor), offset: 0, lastGrowth: now)
        if opened.identity == nil { opened.emptySince = Date() }
        stream = opened
    }

    /// The identity of the rotation `name` opened as `descriptor`. A compressed one is read from a
    /// temporary copy whose inode says nothing: it takes the inode of the file it was when that
    /// file was read live (same head), else none, and its lines' event IDs then derive from its
    /// head and their offsets alone (``LogFileIdentity/positionKey``).
    private func identity(of descriptor: Int32, name: String) -> LogFileIdentity? {
        guard var identity = LogFileIdentity.of(descriptor: descriptor) else { return nil }
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

    static func open(_ path: String) -> Int32? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        return descriptor >= 0 ? descriptor : nil
    }

    /// A file's last modification, in seconds since the epoch (0 when it cannot be read).
    static func modified(_ path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    static func size(_ descriptor: Int32) -> Int {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Where logrotate puts the previous file: `PATH.1` (Debian's default), `PATH.0`, and the
    /// `dateext` form of today and yesterday are not guessed; `PATH.1` covers rename and copytruncate.
    static func rotatedNames(_ path: String) -> [String] {
        [path + ".1", path + ".0"]
    }
}

// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The tamper-evident archive, with real processes: a collector writing log files and signed
/// digests from what a real agent shipped, `hosttrail validate` on the untouched archive and on
/// copies tampered with in every way the issue names, crashes while writing, a key rotation, and
/// the stock `aws cloudtrail validate-logs` on the bucket copy in `moto_server`.
@Suite(.serialized, .endToEnd)
struct ArchiveTests {
    static let archiveFlags = ["--log-file-interval", "1s", "--digest-interval", "5s"]
    static let keyID = "AKIDARCHIVETEST"
    static let secret = "archive-test-secret-0123456789"

    static func validate(_ fleet: Fleet, _ directory: String, keys: [String], extra: [String] = []) throws -> Command.Result {
        try Command.run(
            TestBinaries.cli,
            ["validate", "--dir", directory, "--state-file", fleet.directory.file("state-\(UUID().uuidString.prefix(6)).json")]
                + keys.flatMap { ["--public-key", $0] } + extra)
    }

    /// The public key files the collector wrote, oldest first.
    static func publicKeys(_ fleet: Fleet) throws -> [String] {
        let directory = fleet.directory.file("collector/keys")
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".pub.pem") }.sorted().map {
            directory + "/" + $0
        }
    }

    /// Posts `count` events in three requests a bit over a log file interval apart (several log
    /// files, several digests), and waits until they are stored.
    static func feed(_ fleet: Fleet, count: Int, name: String) throws {
        for part in 0..<3 {
            let range = (part * count / 3)..<((part + 1) * count / 3)
            let batch =
                "{\"events\":["
                + range.map { #"{"eventSource":"archive.example.com","eventName":"\#(name)","requestParameters":{"n":\#($0)}}"# }
                .joined(separator: ",") + "]}"
            #expect(try fleet.post(batch).status == 202)
            Thread.sleep(forTimeInterval: 1.3)
        }
        #expect(try fleet.records(["--event-name", name], atLeast: count, timeout: 30).count == count)
    }

    /// Every record of every log file under `directory`, by event ID, with how often each appears.
    static func archivedEventIDs(_ directory: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            guard path.contains("/CloudTrail/"), path.hasSuffix(".json.gz") else { continue }
            let text = try Command.run("gzip", ["-dc", directory + "/" + path])
            let records = try #require(try JSONValue.parse(Array(text.stdout.utf8))["Records"]?.arrayValue)
            for record in records { counts[try #require(record["eventID"]?.stringValue), default: 0] += 1 }
        }
        return counts
    }

    static func digestCount(_ archive: String) throws -> Int {
        var count = 0
        let enumerator = FileManager.default.enumerator(atPath: archive)
        while let path = enumerator?.nextObject() as? String {
            if path.contains("/CloudTrail-Digest/") && path.hasSuffix(".json.gz") { count += 1 }
        }
        return count
    }

    static func storedEventIDs(_ fleet: Fleet) throws -> Set<String> {
        let result = try Command.run("sqlite3", ["-readonly", fleet.directory.file("collector/events.sqlite"), "SELECT event_id FROM events"])
        #expect(result.status == 0)
        return Set(result.stdout.split(separator: "\n").map(String.init))
    }

    /// Tampers with a copy of the archive; prints the path it changed.
    static let tamper = #"""
        import glob, gzip, json, hashlib, os, re, shutil, sys
        mode, root = sys.argv[1], sys.argv[2]
        logs = sorted(glob.glob(root + '/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz'))
        digests = sorted(glob.glob(root + '/AWSLogs/*/CloudTrail-Digest/*/*/*/*/*.json.gz'))
        listing = [d for d in digests if json.loads(gzip.open(d).read())['logFiles']]
        rel = lambda p: p[len(root) + 1:]
        def write(p, b):
            with gzip.open(p, 'wb') as f: f.write(b)
        if mode == 'flip-byte':
            p = logs[0]; b = bytearray(gzip.open(p).read()); i = b.index(b'"eventName":"') + 13; b[i] ^= 1; write(p, bytes(b)); print(rel(p))
        elif mode == 'delete-log':
            os.remove(logs[1]); print(rel(logs[1]))
        elif mode == 'add-log':
            # Named as if delivered two minutes before the first log file: a period digests already cover.
            import datetime
            stamp = re.search(r'_(\d{8}T\d{4})Z_', logs[0]).group(1)
            earlier = (datetime.datetime.strptime(stamp, '%Y%m%dT%H%M') - datetime.timedelta(minutes=2)).strftime('%Y%m%dT%H%M')
            p = re.sub(r'_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$', '_%sZ_AddedAfterTheFact.json.gz' % earlier, logs[0]); shutil.copy(logs[0], p); print(rel(p))
        elif mode == 'swap-logs':
            a, b = logs[0], logs[1]; os.rename(a, a + '.x'); os.rename(b, a); os.rename(a + '.x', b); print(rel(a))
        elif mode == 'edit-digest':
            p = listing[0]; d = json.loads(gzip.open(p).read()); d['logFiles'] = d['logFiles'][1:] + d['logFiles'][:1]
            d['newestEventTime'] = '2001-01-01T00:00:00Z'; write(p, json.dumps(d).encode()); print(rel(p))
        elif mode == 'escape-key':
            p = listing[0]; d = json.loads(gzip.open(p).read()); d['logFiles'][0]['s3Object'] = '../../../../../etc/passwd'
            write(p, json.dumps(d).encode()); print(rel(p))
        elif mode == 'delete-digest':
            p = digests[len(digests) // 2]; os.remove(p); os.remove(p + '.sig'); print(rel(p))
        elif mode == 'move-digest':
            p = digests[-1]; q = re.sub(r'/(\d\d)/(\d\d)/([^/]+)$', r'/\1/01/\3', p)
            if q == p: q = re.sub(r'/(\d\d)/(\d\d)/([^/]+)$', r'/\1/02/\3', p)
            os.makedirs(os.path.dirname(q), exist_ok=True); os.rename(p, q); os.rename(p + '.sig', q + '.sig'); print(rel(p))
        elif mode == 'sign-with-another-key':
            import rsa
            p = digests[-1]; raw = gzip.open(p).read(); d = json.loads(raw)
            text = '%s\n%s/%s\n%s\n%s' % (d['digestEndTime'], d['digestS3Bucket'], d['digestS3Object'], hashlib.sha256(raw).hexdigest(), d['previousDigestSignature'] or 'null')
            _, private = rsa.newkeys(2048)
            open(p + '.sig', 'w').write(rsa.sign(text.encode(), private, 'SHA-256').hex()); print(rel(p))
        """#

    @Test func anUntouchedArchiveValidatesAndEveryTamperingIsNamed() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: Self.archiveFlags)
        try fleet.startAgent()
        try Self.feed(fleet, count: 300, name: "Archived")
        // Two scheduled digests, then the final one at the stop: a chain of three or more.
        let archive = fleet.directory.file("collector/archive")
        let deadline = Date().addingTimeInterval(20)
        while try Self.digestCount(archive) < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.5) }
        fleet.agents["web-01"]?.stop()
        #expect(fleet.collector?.stop() == 0)
        #expect(try Self.digestCount(archive) >= 3)

        // Every stored record is in exactly one log file.
        let archived = try Self.archivedEventIDs(archive)
        let stored = try Self.storedEventIDs(fleet)
        #expect(stored.count >= 300)
        #expect(Set(archived.keys) == stored)
        #expect(archived.values.allSatisfy { $0 == 1 })

        let keys = try Self.publicKeys(fleet)
        #expect(keys.count == 1)
        let clean = try Self.validate(fleet, archive, keys: keys)
        #expect(clean.status == 0, "\(clean)")
        #expect(!clean.stdout.contains("INVALID"))
        let digests = try #require(clean.stdout.firstMatch(of: /(\d+)\/(\d+) digest files valid/))
        #expect(digests.1 == digests.2 && Int(digests.1)! >= 2, "\(clean.stdout)")
        let logs = try #require(clean.stdout.firstMatch(of: /(\d+)\/(\d+) log files valid/))
        #expect(logs.1 == logs.2 && Int(logs.1)! >= 3, "\(clean.stdout)")

        // Each tampering on a fresh copy, each with its own message naming the file.
        let expectations: [(mode: String, message: String)] = [
            ("flip-byte", "changed (its SHA-256 is not the one in"),
            ("delete-log", "not found (listed in"),
            ("add-log", "not listed in any digest (added after the fact)"),
            ("swap-logs", "has the content listed for"),
            ("edit-digest", "the signature does not verify"),
            ("delete-digest", "not found ("),
            ("move-digest", "has been moved from its original location"),
            ("escape-key", "which is not a key of this archive"),
            ("sign-with-another-key", "the signature does not verify"),
        ]
        for (mode, message) in expectations {
            let copy = fleet.directory.file("tampered-\(mode)")
            #expect(try Command.run("cp", ["-a", archive, copy]).status == 0)
            let tampered = try Command.run("python3", ["-c", Self.tamper, mode, copy])
            #expect(tampered.status == 0, "\(tampered)")
            let path = tampered.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let result = try Self.validate(fleet, copy, keys: keys)
            #expect(result.status == 1, "\(mode): \(result)")
            let line = result.stdout.split(separator: "\n").first { $0.contains("INVALID") && $0.contains(path) && $0.contains(message) }
            #expect(line != nil, "\(mode): no INVALID line naming \(path) with \"\(message)\":\n\(result.stdout)")
        }

        // A digest signed by a key that is not trusted (another collector's) is refused by name.
        let other = fleet.directory.file("other-keys")
        #expect(try Command.run(TestBinaries.collector, ["rotate-signing-key", "--data-dir", other]).status == 0)
        let otherKey = try #require(try FileManager.default.contentsOfDirectory(atPath: other + "/keys").first { $0.hasSuffix(".pub.pem") })
        let untrusted = try Self.validate(fleet, archive, keys: [other + "/keys/" + otherKey])
        #expect(untrusted.status == 1)
        #expect(untrusted.stdout.contains("which is not a trusted key"), "\(untrusted)")
        // And no key at all is a usage error, not a pass.
        let none = try Command.run(TestBinaries.cli, ["validate", "--dir", archive])
        #expect(none.status != 0 && none.stderr.contains("no trusted public key"), "\(none)")
    }

    /// `--quick` re-reads only what changed by path, inode, size and modification time, and says
    /// how many files it trusted unread; by default every file is read, so an edit in place that
    /// keeps all four (which `--quick` cannot see) is found.
    @Test func quickRunsTrustOnlyWhatTheySayAndFullRunsReadEverything() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: Self.archiveFlags)
        try fleet.startAgent()
        try Self.feed(fleet, count: 90, name: "Remembered")
        fleet.agents["web-01"]?.stop()
        #expect(fleet.collector?.stop() == 0)
        let archive = fleet.directory.file("collector/archive")
        let keys = try Self.publicKeys(fleet)
        let state = fleet.directory.file("state.json")
        let first = try Self.validate(fleet, archive, keys: keys, extra: ["--state-file", state, "--quick"])
        #expect(first.status == 0 && !first.stdout.contains("trusted, not read"), "\(first)")
        let second = try Self.validate(fleet, archive, keys: keys, extra: ["--state-file", state, "--quick"])
        let valid = try #require(second.stdout.firstMatch(of: /(\d+)\/(\d+) log files valid/), "\(second)")
        let trusted = try #require(second.stdout.firstMatch(of: /(\d+) of them trusted, not read/), "\(second)")
        #expect(valid.2 == trusted.1)
        // A byte changed in place, with the size, inode and modification time kept.
        let edited = try Command.run("python3", ["-c", Self.editInPlace, archive])
        #expect(edited.status == 0, "\(edited)")
        let quick = try Self.validate(fleet, archive, keys: keys, extra: ["--state-file", state, "--quick"])
        #expect(quick.status == 0 && quick.stdout.contains("trusted, not read"), "\(quick)")
        let full = try Self.validate(fleet, archive, keys: keys, extra: ["--state-file", state])
        #expect(full.status == 1 && full.stdout.contains(edited.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(full)")
        #expect(!full.stdout.contains("trusted, not read"))
        // A file rewritten with other bytes is read again by a quick run too.
        let tampered = try Command.run("python3", ["-c", Self.tamper, "flip-byte", archive])
        let third = try Self.validate(fleet, archive, keys: keys, extra: ["--state-file", state, "--quick"])
        #expect(third.status == 1 && third.stdout.contains(tampered.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(third)")
        // A time range as validate-logs takes it: digests ending before --start-time or starting
        // after --end-time are left out, and a range with none is a failure, not a pass.
        let future = try Self.validate(fleet, archive, keys: keys, extra: ["--start-time", TrailTime.format(Date().addingTimeInterval(3600))])
        #expect(
            future.status == 1 && future.stdout.contains("0/0 digest files valid") && future.stdout.contains("no digest files found"), "\(future)")
        let past = try Self.validate(
            fleet, archive, keys: keys, extra: ["--start-time", "2001-01-01T00:00:00Z", "--end-time", "2001-01-02T00:00:00Z"])
        #expect(past.status == 1 && past.stdout.contains("no digest files found"), "\(past)")
        let backwards = try Self.validate(fleet, archive, keys: keys, extra: ["--start-time", "1h", "--end-time", "2h"])
        #expect(backwards.status != 0 && backwards.stderr.contains("--start-time is after --end-time"), "\(backwards)")
    }

    /// Flips the last byte of the first log file's gzip stream in place, keeping its size, inode
    /// and modification time; prints the file's path under the archive.
    static let editInPlace = #"""
        import os, sys
        root = sys.argv[1]
        files = sorted(os.path.join(d, n) for d, _, ns in os.walk(root) for n in ns if n.endswith(".json.gz") and "/CloudTrail/" in os.path.join(d, n))
        path = files[-1]
        status = os.stat(path)
        with open(path, "r+b") as f:
            f.seek(-9, 2)
            byte = f.read(1)
            f.seek(-9, 2)
            f.write(bytes([byte[0] ^ 0xFF]))
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
        after = os.stat(path)
        assert (after.st_ino, after.st_size, after.st_mtime_ns) == (status.st_ino, status.st_size, status.st_mtime_ns)
        print(os.path.relpath(path, root))
        """#

    @Test func aCollectorKilledWhileArchivingWritesEachRecordOnceAndTheChainHolds() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port, extra: Self.archiveFlags)
        try fleet.startAgent()
        var sent = 0
        for round in 0..<6 {
            let batch =
                "{\"events\":["
                + (0..<50).map { #"{"eventSource":"archive.example.com","eventName":"Crashed","requestParameters":{"n":\#(round * 50 + $0)}}"# }
                .joined(separator: ",") + "]}"
            #expect(try fleet.post(batch).status == 202)
            sent += 50
            Thread.sleep(forTimeInterval: Double.random(in: 0.5...2.5))
            fleet.collector?.crash()
            try fleet.startCollector(port: port, extra: Self.archiveFlags)
        }
        #expect(try fleet.records(["--event-name", "Crashed"], atLeast: sent, timeout: 60).count == sent)
        Thread.sleep(forTimeInterval: 1.5)
        fleet.agents["web-01"]?.stop()
        #expect(fleet.collector?.stop() == 0)
        let archive = fleet.directory.file("collector/archive")
        let archived = try Self.archivedEventIDs(archive)
        let stored = try Self.storedEventIDs(fleet)
        #expect(Set(archived.keys) == stored, "\(stored.subtracting(archived.keys).count) stored records in no log file")
        let repeated = archived.filter { $0.value > 1 }
        #expect(repeated.isEmpty, "\(repeated.count) records in more than one log file")
        let result = try Self.validate(fleet, archive, keys: try Self.publicKeys(fleet))
        #expect(result.status == 0, "\(result)")
    }

    @Test func aRotatedKeyKeepsEarlierDigestsVerifiable() throws {
        let fleet = try Fleet()
        let started = Date()
        let collectorFlags = Self.archiveFlags + ["--access-key", "\(Self.keyID):\(Self.secret)"]
        try fleet.startCollector(extra: collectorFlags)
        try fleet.startAgent()
        try Self.feed(fleet, count: 30, name: "BeforeRotation")
        #expect(fleet.collector?.stop() == 0)
        let rotated = try Command.run(TestBinaries.collector, ["rotate-signing-key", "--data-dir", fleet.directory.file("collector")])
        #expect(rotated.status == 0, "\(rotated)")
        try fleet.startCollector(extra: collectorFlags)
        fleet.agents["web-01"]?.stop()
        try fleet.startAgent()
        try Self.feed(fleet, count: 30, name: "AfterRotation")
        Thread.sleep(forTimeInterval: 5.5)
        let keys = try Self.publicKeys(fleet)
        try #require(keys.count == 2)
        let archive = fleet.directory.file("collector/archive")
        // Trusted keys from the collector's ListPublicKeys, SigV4-signed: both keys are listed.
        let fromCollector = try Command.run(
            TestBinaries.cli,
            [
                "validate", "--dir", archive, "--collector", fleet.collectorURL, "--ca", fleet.certificates + "/ca.pem",
                "--state-file", fleet.directory.file("state-collector.json"),
            ],
            environment: ["AWS_ACCESS_KEY_ID": Self.keyID, "AWS_SECRET_ACCESS_KEY": Self.secret])
        #expect(fromCollector.status == 0, "\(fromCollector)")
        // ListPublicKeys lists the keys valid in the range asked for: both since the test began.
        let listed = try CloudTrailAPITests.aws(
            fleet, ["list-public-keys", "--start-time", TrailTime.format(started.addingTimeInterval(-60))], keyID: Self.keyID, secret: Self.secret)
        #expect(try JSONValue.parse(Array(listed.stdout.utf8))["PublicKeyList"]?.arrayValue?.count == 2, "\(listed)")
        // With only the new key, the digests before the rotation are refused by name.
        let newOnly = try Self.validate(fleet, archive, keys: [keys[1]])
        #expect(newOnly.status == 1 && newOnly.stdout.contains("which is not a trusted key"), "\(newOnly)")
        #expect(try Self.validate(fleet, archive, keys: keys).status == 0)
    }

    @Test func theStockValidateLogsPassesOnTheBucketCopyAndFailsOnATamperedOne() throws {
        let fleet = try Fleet()
        let motoPort = try FreePort.find()
        let moto = try TestProcess(
            "/usr/bin/env", ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "\(motoPort)"], logPath: fleet.directory.file("moto.log"))
        defer { moto.stop() }
        // moto says "Port N is in use" and exits when the port is not ours: waitForLog then fails.
        try moto.waitForLog("Running on http://127.0.0.1:\(motoPort)")
        let motoURL = "http://127.0.0.1:\(motoPort)"
        let s3Environment = [
            "AWS_ACCESS_KEY_ID": Self.keyID, "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
        ]
        func s3(_ arguments: [String]) throws -> Command.Result {
            try Command.run("python3", ["-m", "awscli"] + arguments + ["--endpoint-url", motoURL], environment: s3Environment, timeout: 120)
        }
        #expect(try s3(["s3api", "create-bucket", "--bucket", "fleet-trail"]).status == 0)
        let credentials = fleet.directory.file("s3-credentials")
        try Data("\(Self.keyID) \(Self.secret)\n".utf8).write(to: URL(fileURLWithPath: credentials))
        chmod(credentials, 0o600)
        let started = Date()
        try fleet.startCollector(
            extra: Self.archiveFlags + [
                "--s3-endpoint", motoURL, "--s3-bucket", "fleet-trail", "--s3-prefix", "audit", "--s3-credentials-file", credentials,
                "--access-key", "\(Self.keyID):\(Self.secret)",
            ])
        try fleet.startAgent()
        try Self.feed(fleet, count: 120, name: "Uploaded")
        // Until a digest lists every log file written so far and the bucket holds all of it.
        let archive = fleet.directory.file("collector/archive/audit")
        let deadline = Date().addingTimeInterval(60)
        var objects: [String] = []
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 1)
            let local = try Self.validate(fleet, archive, keys: try Self.publicKeys(fleet))
            let listing = try s3([
                "s3api", "list-objects", "--bucket", "fleet-trail", "--prefix", "audit/AWSLogs/", "--query", "Contents[].Key", "--output", "text",
            ])
            objects = listing.stdout.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.hasSuffix(".json.gz") }
            var files: [String] = []
            let enumerator = FileManager.default.enumerator(atPath: archive)
            while let path = enumerator?.nextObject() as? String {
                if path.hasSuffix(".json.gz") { files.append("audit/" + path) }
            }
            if local.status == 0 && !local.stdout.contains("newer than the newest digest") && Set(files).isSubset(of: Set(objects))
                && files.count >= 4
            {
                break
            }
        }
        let endpointEnvironment = s3Environment.merging([
            "AWS_ENDPOINT_URL_S3": motoURL, "AWS_CA_BUNDLE": fleet.certificates + "/ca.pem", "AWS_DEFAULT_REGION": "eu-west-1",
        ]) { _, new in new }
        func validateLogs() throws -> Command.Result {
            try Command.run(
                "python3",
                [
                    "-m", "awscli", "cloudtrail", "validate-logs", "--trail-arn", "arn:aws:cloudtrail:eu-west-1:123456789012:trail/e2e-trail",
                    "--start-time", TrailTime.format(started.addingTimeInterval(-60)), "--endpoint-url", fleet.collectorURL, "--verbose",
                ],
                environment: endpointEnvironment, timeout: 180)
        }
        let clean = try validateLogs()
        #expect(clean.status == 0, "\(clean)")
        #expect(!clean.stdout.contains("INVALID"), "\(clean)")
        let counts = try #require(clean.stdout.firstMatch(of: /(\d+)\/(\d+) digest files valid/), "\(clean)")
        #expect(counts.1 == counts.2 && Int(counts.1)! >= 1)
        #expect(clean.stdout.contains("log files valid"), "\(clean)")

        // hosttrail validate over the bucket: a local copy of it, checked like a directory.
        func validateBucket() throws -> Command.Result {
            try Command.run(
                TestBinaries.cli,
                [
                    "validate", "--s3-endpoint", motoURL, "--s3-bucket", "fleet-trail", "--s3-prefix", "audit", "--s3-cache",
                    fleet.directory.file("s3-copy"),
                    "--state-file", fleet.directory.file("s3-state.json"),
                ] + (try Self.publicKeys(fleet)).flatMap { ["--public-key", $0] },
                environment: s3Environment)
        }
        func copied(_ result: Command.Result) -> Int? {
            result.stdout.firstMatch(of: /Copied (\d+) of/).flatMap { Int($0.1) }
        }
        let bucketClean = try validateBucket()
        #expect(bucketClean.status == 0, "\(bucketClean)")
        // The collector keeps writing a digest every 5 s, so a re-run may fetch one or two new
        // objects, never the ones it already has.
        let again = try validateBucket()
        #expect((copied(again) ?? 99) <= 2 && (copied(again) ?? 99) < (copied(bucketClean) ?? 0), "\(bucketClean)\n\(again)")

        // A digest's signature replaced by a metadata-only copy (neither ETag nor size changes):
        // the copy is read again, the digest found invalid, and valid again once it is restored.
        let digest = try #require(objects.first { $0.contains("/CloudTrail-Digest/") })
        let original = try s3([
            "s3api", "head-object", "--bucket", "fleet-trail", "--key", digest, "--query", "Metadata.signature", "--output", "text",
        ])
        .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func setSignature(_ signature: String) throws {
            let copy = try s3([
                "s3api", "copy-object", "--bucket", "fleet-trail", "--key", digest, "--copy-source", "fleet-trail/\(digest)",
                "--metadata", #"{"signature":"\#(signature)","signature-algorithm":"\#(DigestFile.signatureAlgorithm)"}"#,
                "--content-type", "application/x-gzip", "--metadata-directive", "REPLACE",
            ])
            #expect(copy.status == 0, "\(copy)")
        }
        try setSignature(String(original.reversed()))
        let swapped = try validateBucket()
        #expect(
            swapped.status == 1 && swapped.stdout.contains("INVALID") && swapped.stdout.contains(String(digest.dropFirst("audit/".count))),
            "\(swapped)")
        try setSignature(original)
        let restored = try validateBucket()
        #expect(restored.status == 0, "\(restored)")

        // One log file in the bucket replaced by other bytes: the stock validator names it.
        let victim = try #require(objects.first { $0.contains("/CloudTrail/") })
        let forged = fleet.directory.file("forged.json.gz")
        #expect(try Command.run("sh", ["-c", "printf '{\"Records\":[]}' | gzip > \(forged)"]).status == 0)
        #expect(try s3(["s3api", "put-object", "--bucket", "fleet-trail", "--key", victim, "--body", forged]).status == 0)
        let tampered = try validateLogs()
        #expect(tampered.status != 0, "\(tampered)")
        #expect((tampered.stdout + tampered.stderr).contains("INVALID: hash value doesn't match"), "\(tampered)")
        #expect((tampered.stdout + tampered.stderr).contains(victim), "\(tampered)")
        // And so does hosttrail validate, fetching only the replaced object again.
        let bucketTampered = try validateBucket()
        #expect(bucketTampered.status == 1 && (1...3).contains(copied(bucketTampered) ?? 0), "\(bucketTampered)")
        let victimPath = String(victim.dropFirst("audit/".count))
        #expect(bucketTampered.stdout.contains("INVALID: log file \(victimPath): changed"), "\(bucketTampered)")
    }
}

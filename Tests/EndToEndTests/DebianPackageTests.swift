// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The Debian packages (`scripts/build-debs.sh`, `packaging/debian/`), end to end: built from the
/// release binaries in two versions and checked with lintian; then, in a clean Debian 12 chroot
/// (`scripts/debian-root.sh`), installed with apt (their Depends resolved from the mirror),
/// `systemd-analyze verify` on the installed units, the installed collector and agent shipping an
/// event, an upgrade that keeps edited conffiles and the records pending in the agent's spool,
/// `dpkg -r` keeping the data and `dpkg -P` removing it; and the maintainer scripts' systemd steps
/// (start only when configured, try-restart on upgrade, stop on removal) against a stub systemctl.
///
/// Assumes `make release` (or `make deb`) ran: the packages are made from `.build/release`, and
/// the tests fail, naming the binary, when one is missing. Runs as root (chroot, mount) with the
/// Debian mirror reachable (apt in the chroot; the first debootstrap, cached afterwards in
/// /var/cache/hosttrail-tests). `scripts/deps.sh` installs lintian, debootstrap and patchelf.
@Suite(.serialized, .timeLimit(.minutes(20)))
struct DebianPackageTests {
    static let root = TestBinaries.packageRoot()
    static let packageNames = ["hosttrail-agent", "hosttrail-collector", "hosttrail-cli"]
    /// Each package's binary.
    static let binaries = ["hosttrail-agent": "hosttrail-agent", "hosttrail-collector": "hosttrail-collector", "hosttrail-cli": "hosttrail"]

    /// Both versions' packages, built once for the suite's tests (a build takes a minute or two).
    static let built: Result<BuiltDebianPackages, any Error> = Result { try BuiltDebianPackages.build(root: DebianPackageTests.root) }

    @Test func packagesHoldWhatTheyShouldAndPassLintian() throws {
        let packages = try Self.built.get()
        #expect(packages.old.values.allSatisfy { $0.hasSuffix("_\(packages.oldVersion)_amd64.deb") }, "\(packages.old)")
        #expect(packages.new.values.allSatisfy { $0.hasSuffix("_\(packages.newVersion)_amd64.deb") }, "\(packages.new)")

        for package in Self.packageNames {
            let deb = try #require(packages.old[package])
            let binary = try #require(Self.binaries[package])
            let section = package == "hosttrail-cli" ? "1" : "8"
            func field(_ name: String) throws -> String {
                let result = try Command.run("dpkg-deb", ["-f", deb, name])
                try #require(result.status == 0, "dpkg-deb -f \(deb) \(name): \(result)")
                return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(try field("Package") == package)
            #expect(try field("Version") == packages.oldVersion)
            #expect(try field("Architecture") == "amd64")
            #expect(try field("Section") == "admin")
            #expect(try field("Priority") == "optional")
            #expect(try !field("Maintainer").isEmpty)
            #expect(try !field("Description").isEmpty)
            let installedSize = Int(try field("Installed-Size")) ?? 0
            #expect(installedSize > 1000, "Installed-Size \(installedSize)")

            // Depends names the package of every shared library the binary loads, and the glibc
            // its packed relocations need.
            let depends = try field("Depends")
            for library in try Self.neededLibraryPackages(Self.root + "/.build/release/" + binary) {
                #expect(depends.contains(library), "\(package) loads a library of \(library); Depends: \(depends)")
            }
            #expect(depends.contains("libc6 (>= 2.36)"), "\(depends)")
            if package != "hosttrail-cli" { #expect(depends.contains("procps") && depends.contains("passwd"), "\(depends)") }
            if package == "hosttrail-cli" { #expect(!depends.contains("libsystemd0") && !depends.contains("libsqlite3-0"), "\(depends)") }

            let listing = try Command.run("dpkg-deb", ["-c", deb])
            try #require(listing.status == 0, "\(listing)")
            let files = Set(listing.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map { String($0.dropFirst()) } })
            var expected = [
                "/usr/bin/\(binary)", "/usr/share/man/man\(section)/\(binary).\(section).gz",
                "/usr/share/bash-completion/completions/\(binary)", "/usr/share/zsh/vendor-completions/_\(binary)",
                "/usr/share/fish/vendor_completions.d/\(binary).fish", "/usr/share/doc/\(package)/copyright",
                "/usr/share/doc/\(package)/changelog.Debian.gz", "/usr/share/doc/\(package)/README.Debian",
            ]
            var conffiles: [String] = []
            if package != "hosttrail-cli" {
                let component = package == "hosttrail-agent" ? "agent" : "collector"
                expected += [
                    "/usr/lib/systemd/system/\(package).service", "/usr/lib/sysusers.d/\(package).conf",
                    "/usr/lib/tmpfiles.d/\(package).conf", "/etc/hosttrail/\(component).toml",
                ]
                conffiles.append("/etc/hosttrail/\(component).toml")
            }
            if package == "hosttrail-agent" {
                for example in try FileManager.default.contentsOfDirectory(atPath: Self.root + "/packaging/responses") {
                    expected.append("/usr/share/doc/hosttrail-agent/examples/responses.d/" + example)
                    #expect(!files.contains("/etc/hosttrail/responses.d/" + example), "\(example) must not be active")
                }
                expected += [
                    "/usr/share/doc/hosttrail-agent/examples/systemd/responses-block-address.conf",
                    "/usr/share/doc/hosttrail-agent/examples/systemd/responses-lock-account.conf",
                ]
                #expect(!files.contains { $0.hasPrefix("/etc/systemd/") || $0.contains(".service.d/") }, "a drop-in is active")
            }
            if package == "hosttrail-collector" {
                for rule in try FileManager.default.contentsOfDirectory(atPath: Self.root + "/packaging/rules") where rule.hasSuffix(".yml") {
                    expected.append("/etc/hosttrail/rules.d/" + rule)
                    conffiles.append("/etc/hosttrail/rules.d/" + rule)
                }
            }
            for file in expected { #expect(files.contains(file), "\(package) lacks \(file)") }
            let control = try Command.run("dpkg-deb", ["--info", deb, "conffiles"])
            let listed = control.status == 0 ? Set(control.stdout.split(separator: "\n").map(String.init)) : []
            #expect(listed == Set(conffiles), "conffiles of \(package): \(control)")

            // Stripped, no RUNPATH, and it runs; completions and a man page with every command.
            let extracted = try TemporaryDirectory(prefix: "deb")
            defer { extracted.remove() }
            try #require(try Command.run("dpkg-deb", ["-x", deb, extracted.path]).status == 0)
            let installed = extracted.path + "/usr/bin/" + binary
            let sections = try Command.run("readelf", ["-S", "--wide", installed])
            #expect(sections.status == 0 && !sections.stdout.contains(".symtab") && !sections.stdout.contains(".debug_info"), "not stripped")
            let dynamic = try Command.run("readelf", ["-d", installed])
            #expect(dynamic.status == 0 && !dynamic.stdout.contains("RUNPATH") && !dynamic.stdout.contains("RPATH"), "\(dynamic.stdout)")
            let version = try Command.run(installed, ["--version"])
            #expect(version.status == 0 && !version.stdout.isEmpty, "\(version)")
            let bash = try String(contentsOfFile: extracted.path + "/usr/share/bash-completion/completions/" + binary, encoding: .utf8)
            #expect(!bash.hasPrefix("#!") && bash.contains("complete"), "bash completion")
            let zsh = try String(contentsOfFile: extracted.path + "/usr/share/zsh/vendor-completions/_" + binary, encoding: .utf8)
            #expect(zsh.hasPrefix("#compdef \(binary)"), "zsh completion")
            let page = try Command.run("gzip", ["-dc", extracted.path + "/usr/share/man/man\(section)/\(binary).\(section).gz"])
            #expect(page.status == 0 && page.stdout.contains(".SH NAME") && page.stdout.contains(".SH \"COMMAND OPTIONS\""), "man page")
            let commands: [String] =
                switch package {
                case "hosttrail-agent": ["run", "spool dead-letter replay", "responses purge"]
                case "hosttrail-collector": ["run", "rotate-signing-key"]
                default: ["lookup", "send", "dev-certs"]
                }
            for command in commands {
                let title = ".SS \"\(binary) \(command)\"".replacingOccurrences(of: "-", with: "\\-")
                #expect(page.stdout.contains(title), "the man page of \(binary) has no section \(title)")
            }
            let copyright = try String(contentsOfFile: extracted.path + "/usr/share/doc/\(package)/copyright", encoding: .utf8)
            #expect(copyright.hasPrefix("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"))
            #expect(copyright.contains("License: Apache-2.0\n"))
        }

        let oldDebs = Self.packageNames.compactMap { packages.old[$0] }
        let lintian = try Command.run("/bin/bash", [Self.root + "/scripts/lint-debs.sh"] + oldDebs, timeout: 1800)
        let errors = lintian.stdout.split(separator: "\n").filter { $0.hasPrefix("E: ") }
        #expect(lintian.status == 0 && errors.isEmpty, "lintian errors:\n\(errors.joined(separator: "\n"))\n\(lintian.stderr)")
        #expect(lintian.stdout.contains("lint-debs: 0 errors"), "\(lintian.stdout)")
    }

    @Test func installUpgradeRemoveAndPurgeInAChroot() throws {
        let packages = try Self.built.get()
        let root = try DebianRoot(packages: packages)
        defer { root.close() }

        // Installed with apt in a root without systemd: Depends resolve, the scripts' fallbacks
        // (groupadd/useradd, mkdir) make the account and the directories, nothing starts.
        try root.must(["apt-get", "update", "-qq"], timeout: 600)
        try root.must(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + root.debs(.old, Self.packageNames), timeout: 900)
        for package in Self.packageNames { #expect(try root.version(package) == packages.oldVersion) }
        #expect(try root.run(["getent", "passwd", "hosttrail"]).status == 0)
        #expect(try root.run(["getent", "group", "hosttrail"]).status == 0)
        #expect(try root.must(["stat", "-c", "%a %U", "/var/lib/hosttrail/spool"]).stdout == "750 root\n")
        #expect(try root.must(["stat", "-c", "%a %U", "/var/lib/hosttrail/collector"]).stdout == "750 hosttrail\n")
        for unit in ["hosttrail-agent.service", "hosttrail-collector.service"] {
            #expect(root.exists("/etc/systemd/system/multi-user.target.wants/" + unit), "\(unit) not enabled")
        }
        #expect(try Command.run("pgrep", ["-f", "^/usr/bin/hosttrail-(agent|collector)"]).status == 1, "the installation started a daemon")

        // systemd-analyze verify on the installed units, against the installed binaries and man pages.
        try root.must(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "systemd", "man-db"], timeout: 900)
        for unit in ["hosttrail-agent.service", "hosttrail-collector.service"] {
            let verify = try root.run(["systemd-analyze", "verify", "/usr/lib/systemd/system/" + unit])
            let warnings = verify.stderr.split(separator: "\n").filter {
                !$0.contains("Failed to connect to bus") && !$0.contains("systemd/system.conf")
            }
            #expect(verify.status == 0 && warnings.isEmpty, "systemd-analyze verify \(unit): \(verify)")
        }

        // Certificates from the installed CLI; configurations edited; the daemons from /usr/bin.
        try root.configure()
        try root.must(["hosttrail-agent", "validate", "--ignore-responses", "--config", "/etc/hosttrail/agent.toml"])
        try root.must([
            "runuser", "-u", "hosttrail", "--", "hosttrail-collector", "validate", "--ignore-rules", "--config", "/etc/hosttrail/collector.toml",
        ])
        var collector = try root.startCollector()
        var agent = try root.startAgent()

        let first = try root.must(["hosttrail", "send", "--event-source", DebianRoot.eventSource, "--event-name", "PackageCheck", "--param", "n:=0"])
        let firstID = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try root.waitForStored(1).map(\.eventID) == [firstID])

        // The collector away and the agent's spool (1 MiB, `block`) filled until it refuses; rules.d
        // edited; the upgrade under the running agent.
        collector.stop()
        var accepted = 0
        var full = false
        for request in 0..<100 where !full {
            let events = (0..<100).map { index in
                #"{"eventSource":"\#(DebianRoot.eventSource)","eventName":"PackageCheck","requestParameters":{"n":\#(1 + request * 100 + index),"pad":"\#(String(repeating: "x", count: 200))"}}"#
            }
            let status = try root.post(#"{"events":[\#(events.joined(separator: ","))]}"#)
            if status == 202 { accepted += 100 } else { full = status == 503 }
        }
        #expect(full && accepted >= 500, "the spool never filled: \(accepted) accepted")
        #expect(try root.pendingRecords() >= accepted)
        try FileManager.default.removeItem(atPath: root.path + "/etc/hosttrail/rules.d/any-insight.yml")
        let editedRule = try root.read("/etc/hosttrail/rules.d/ssh-brute-force.yml") + "# kept by the upgrade\n"
        try root.write(editedRule, to: "/etc/hosttrail/rules.d/ssh-brute-force.yml")
        let agentConfig = try root.read("/etc/hosttrail/agent.toml")
        let collectorConfig = try root.read("/etc/hosttrail/collector.toml")

        try root.must(["dpkg", "-i"] + root.debs(.new, Self.packageNames), timeout: 600)
        for package in Self.packageNames { #expect(try root.version(package) == packages.newVersion) }
        #expect(try root.read("/etc/hosttrail/agent.toml") == agentConfig)
        #expect(try root.read("/etc/hosttrail/collector.toml") == collectorConfig)
        #expect(try root.read("/etc/hosttrail/rules.d/ssh-brute-force.yml") == editedRule)
        #expect(!root.exists("/etc/hosttrail/rules.d/any-insight.yml"), "a deleted conffile came back")
        let leftovers = try Command.run("find", [root.path + "/etc/hosttrail", "-name", "*.dpkg-*"])
        #expect(leftovers.status == 0 && leftovers.stdout.isEmpty, "\(leftovers.stdout)")

        // The new agent binary finds the records where the old one left them; all arrive, once.
        agent.stop()
        agent = try root.startAgent()
        #expect(try root.pendingRecords() >= accepted)
        collector = try root.startCollector()
        let stored = try root.waitForStored(1 + accepted, timeout: 120)
        #expect(stored.count == 1 + accepted, "\(stored.count) of \(1 + accepted) stored:\n\(agent.log)")
        #expect(Set(stored.map(\.eventID)).count == stored.count, "an event stored twice")
        #expect(Set(stored.compactMap { $0.requestParameters?["n"]?.integerValue }) == Set((0...accepted).map { Int64($0) }))
        agent.stop()
        collector.stop()

        // dpkg -r: programs gone; data, configuration, keys and the account kept.
        let removal = try root.must(["dpkg", "-r"] + Self.packageNames, timeout: 300)
        // The root has no nftables: the prerm's purge says so plainly.
        #expect(removal.stdout.contains("the nftables table inet hosttrail was not deleted: /usr/sbin/nft is not installed"), "\(removal)")
        let programs = [
            "/usr/bin/hosttrail-agent", "/usr/bin/hosttrail-collector", "/usr/bin/hosttrail", "/usr/lib/systemd/system/hosttrail-agent.service",
        ]
        for gone in programs {
            #expect(!root.exists(gone), "dpkg -r left \(gone)")
        }
        for kept in [
            "/var/lib/hosttrail/spool", "/var/lib/hosttrail/collector/events.sqlite", "/etc/hosttrail/agent.toml", "/etc/hosttrail/collector.toml",
            "/etc/hosttrail/agent-key.pem", "/etc/hosttrail/collector-key.pem", "/etc/hosttrail/ca.pem", "/etc/hosttrail/rules.d/ssh-brute-force.yml",
        ] {
            #expect(root.exists(kept), "dpkg -r removed \(kept)")
        }
        #expect(try root.read("/etc/hosttrail/agent.toml") == agentConfig)
        #expect(try root.run(["getent", "passwd", "hosttrail"]).status == 0, "dpkg -r removed the user")

        // dpkg -P: everything of theirs gone.
        try root.must(["dpkg", "-P"] + Self.packageNames, timeout: 300)
        for gone in [
            "/var/lib/hosttrail", "/etc/hosttrail", "/run/hosttrail", "/etc/systemd/system/multi-user.target.wants/hosttrail-agent.service",
            "/etc/systemd/system/multi-user.target.wants/hosttrail-collector.service",
        ] {
            #expect(!root.exists(gone), "dpkg -P left \(gone)")
        }
        #expect(try root.run(["getent", "passwd", "hosttrail"]).status == 2, "dpkg -P left the user")
        #expect(try root.run(["getent", "group", "hosttrail"]).status == 2, "dpkg -P left the group")
    }

    /// The scripts' systemd steps, with `/run/systemd/system` present (systemd "runs") and, in a
    /// root without systemd, a stub /usr/sbin/systemctl that logs every call, says every unit is
    /// enabled and none active (/usr/sbin: apt runs dpkg with PATH=/usr/sbin:/usr/bin:/sbin:/bin).
    @Test func maintainerScriptsStartOnlyConfiguredDaemonsAndRestartRunningOnes() throws {
        let packages = try Self.built.get()
        let root = try DebianRoot(packages: packages)
        defer { root.close() }
        try FileManager.default.createDirectory(atPath: root.path + "/run/systemd/system", withIntermediateDirectories: true)
        let stub = """
            #!/bin/sh
            echo "systemctl $*" >>/tmp/systemctl.log
            case " $* " in *" is-enabled "*) echo enabled ;; *" is-active "*) exit 3 ;; esac
            exit 0

            """
        try root.write(stub, to: "/usr/sbin/systemctl")
        try root.must(["chmod", "0755", "/usr/sbin/systemctl"])
        func calls(during action: () throws -> Void) throws -> [String] {
            try root.write("", to: "/tmp/systemctl.log")
            try action()
            return try root.read("/tmp/systemctl.log").split(separator: "\n").map(String.init)
        }
        /// Whether a logged call ends with `action unit` (`systemctl --quiet --system start UNIT`).
        func called(_ log: [String], _ action: String, _ unit: String) -> Bool {
            log.contains { $0.split(separator: " ").map(String.init).suffix(2) == [action, unit] }
        }

        // First installation, not configured: enabled, daemon-reload, not started, and a note.
        try root.must(["apt-get", "update", "-qq"], timeout: 600)
        var output = ""
        var log = try calls {
            let install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + root.debs(.old, Self.packageNames)
            output = try root.must(install, timeout: 900).stdout
        }
        #expect(log.contains { $0.contains("daemon-reload") }, "\(log)")
        for unit in ["hosttrail-agent.service", "hosttrail-collector.service"] {
            #expect(!called(log, "start", unit), "an unconfigured daemon was started: \(log)")
        }
        #expect(output.contains("hosttrail-agent: not started") && output.contains("hosttrail-collector: not started"), "\(output)")
        try root.must(["hosttrail", "dev-certs", "--out", "/root/certs", "--host", "web-01"])

        // Upgrade: try-restart, which restarts only a running daemon; nothing stopped or started.
        log = try calls { _ = try root.must(["dpkg", "-i"] + root.debs(.new, ["hosttrail-agent", "hosttrail-collector"]), timeout: 600) }
        for unit in ["hosttrail-agent.service", "hosttrail-collector.service"] {
            #expect(called(log, "try-restart", unit), "\(unit) not try-restarted: \(log)")
            #expect(!called(log, "stop", unit) && !called(log, "start", unit), "\(log)")
        }

        // Removal stops both.
        log = try calls { _ = try root.must(["dpkg", "-P"] + Self.packageNames, timeout: 300) }
        for unit in ["hosttrail-agent.service", "hosttrail-collector.service"] { #expect(called(log, "stop", unit), "\(unit) not stopped: \(log)") }

        // Configured before the first installation (as configuration management leaves a host;
        // dpkg keeps the existing files): both started.
        try root.must(["groupadd", "--system", "hosttrail"])
        try FileManager.default.createDirectory(atPath: root.path + "/etc/hosttrail", withIntermediateDirectories: true)
        try root.installCertificates()
        let port = try FreePort.find()
        try root.write("collector = \"https://127.0.0.1:\(port)\"\njournal = false\n", to: "/etc/hosttrail/agent.toml")
        try root.write("listen = \"127.0.0.1:\(port)\"\n", to: "/etc/hosttrail/collector.toml")
        log = try calls {
            _ = try root.must(["dpkg", "-i", "--force-confold"] + root.debs(.old, ["hosttrail-agent", "hosttrail-collector"]), timeout: 600)
        }
        for unit in ["hosttrail-agent.service", "hosttrail-collector.service"] { #expect(called(log, "start", unit), "\(unit) not started: \(log)") }
        try root.must(["dpkg", "-P", "hosttrail-agent", "hosttrail-collector"], timeout: 300)
        #expect(!root.exists("/etc/hosttrail") && !root.exists("/var/lib/hosttrail"))
    }

    /// The Debian packages of the shared libraries `binary` loads (`objdump -p`, `dpkg -S` on this host).
    static func neededLibraryPackages(_ binary: String) throws -> Set<String> {
        let headers = try Command.run("objdump", ["-p", binary], timeout: 120)
        try #require(headers.status == 0, "objdump -p \(binary): \(headers.stderr)")
        var packages: Set<String> = []
        for line in headers.stdout.split(separator: "\n") where line.contains("NEEDED") {
            guard let soname = line.split(separator: " ").last else { continue }
            let owner = try Command.run("dpkg", ["-S", "*/" + soname])
            try #require(owner.status == 0, "no package has \(soname): \(owner)")
            if let name = owner.stdout.split(separator: "\n").first?.split(separator: ":").first { packages.insert(String(name)) }
        }
        try #require(!packages.isEmpty, "objdump found no NEEDED entries in \(binary)")
        return packages
    }
}

/// The .deb files of two versions, made by `scripts/build-debs.sh` from `.build/release`.
struct BuiltDebianPackages: Sendable {
    var old: [String: String]
    var new: [String: String]
    var oldVersion: String
    var newVersion: String

    static func build(root: String) throws -> BuiltDebianPackages {
        let release = root + "/.build/release"
        for binary in ["hosttrail-agent", "hosttrail-collector", "hosttrail"] {
            guard FileManager.default.isExecutableFile(atPath: release + "/" + binary) else {
                throw TestProcess.Failure(description: "\(release)/\(binary) is missing: run `make release` (or `make deb`) first")
            }
        }
        let tools = try Command.run("/bin/bash", [root + "/scripts/deps.sh"], timeout: 1200)
        guard tools.status == 0 else { throw TestProcess.Failure(description: "scripts/deps.sh: \(tools)") }
        let output = root + "/.build/deb-test"
        try? FileManager.default.removeItem(atPath: output)
        return BuiltDebianPackages(
            old: try debs(root: root, ["--out", output + "/old"]),
            new: try debs(root: root, ["--version", HostTrailVersion.current + "+1", "--out", output + "/new"]),
            oldVersion: HostTrailVersion.current + "-1", newVersion: HostTrailVersion.current + "+1-1")
    }

    /// The paths `build-debs.sh` printed, by package name.
    static func debs(root: String, _ arguments: [String]) throws -> [String: String] {
        let result = try Command.run("/bin/bash", [root + "/scripts/build-debs.sh"] + arguments, timeout: 1200)
        guard result.status == 0 else {
            throw TestProcess.Failure(description: "scripts/build-debs.sh \(arguments.joined(separator: " ")): \(result)")
        }
        var paths: [String: String] = [:]
        for line in result.stdout.split(separator: "\n").map(String.init) where line.hasSuffix(".deb") {
            paths[String(URL(fileURLWithPath: line).lastPathComponent.prefix { $0 != "_" })] = line
        }
        guard Set(paths.keys) == Set(DebianPackageTests.packageNames), paths.values.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else {
            throw TestProcess.Failure(description: "scripts/build-debs.sh made \(paths), not the three packages: \(result)")
        }
        return paths
    }
}

/// A clean Debian 12 root (`scripts/debian-root.sh`) with /proc mounted and both versions' packages
/// in /tmp/debs-old and /tmp/debs-new. ``close()`` stops the daemons it started, unmounts /proc and
/// deletes the root (never through a mount: if /proc stays mounted, so does the directory).
final class DebianRoot {
    // Used by one test at a time.
    enum Version: String { case old = "debs-old", new = "debs-new" }

    static let eventSource = "pkgcheck.example.com"
    /// A Debian host's PATH for root.
    static let searchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    let directory: TemporaryDirectory
    let path: String
    let packages: BuiltDebianPackages
    private var daemons: [TestProcess] = []
    private var procMounted = false
    private(set) var port = 0

    init(packages: BuiltDebianPackages) throws {
        self.packages = packages
        directory = try TemporaryDirectory(prefix: "debroot")
        path = directory.file("root")
        do {
            let made = try Command.run("/bin/bash", [DebianPackageTests.root + "/scripts/debian-root.sh", path], timeout: 1800)
            guard made.status == 0 else { throw TestProcess.Failure(description: "scripts/debian-root.sh \(path): \(made)") }
            let mount = try Command.run("/bin/mount", ["-t", "proc", "proc", path + "/proc"])
            guard mount.status == 0 else { throw TestProcess.Failure(description: "mount -t proc: \(mount)") }
            procMounted = true
            for (version, debs) in [(Version.old, packages.old), (Version.new, packages.new)] {
                let folder = path + "/tmp/" + version.rawValue
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for deb in debs.values {
                    try FileManager.default.copyItem(atPath: deb, toPath: folder + "/" + URL(fileURLWithPath: deb).lastPathComponent)
                }
            }
        } catch {
            close()
            throw error
        }
    }

    /// The chroot's paths of `packages`' .deb files of `version`.
    func debs(_ version: Version, _ names: [String]) -> [String] {
        let debs = version == .old ? packages.old : packages.new
        return names.compactMap { debs[$0] }.map { "/tmp/\(version.rawValue)/" + URL(fileURLWithPath: $0).lastPathComponent }
    }

    /// `arguments` run in the root (apt and dpkg without questions).
    @discardableResult
    func run(_ arguments: [String], timeout: TimeInterval = 120) throws -> Command.Result {
        try Command.run(
            "/usr/sbin/chroot", [path] + arguments, environment: ["PATH": Self.searchPath, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"],
            timeout: timeout)
    }

    /// ``run(_:timeout:)``, which must exit 0.
    @discardableResult
    func must(_ arguments: [String], timeout: TimeInterval = 120) throws -> Command.Result {
        let result = try run(arguments, timeout: timeout)
        guard result.status == 0 else { throw TestProcess.Failure(description: "chroot \(path) \(arguments.joined(separator: " ")): \(result)") }
        return result
    }

    func version(_ package: String) throws -> String { try must(["dpkg-query", "-W", "-f=${Version}", package]).stdout }

    /// Whether `file` (a path in the root) exists; a symbolic link counts, wherever it points.
    func exists(_ file: String) -> Bool {
        var information = stat()
        return lstat(path + file, &information) == 0
    }

    func read(_ file: String) throws -> String { try String(contentsOfFile: path + file, encoding: .utf8) }
    func write(_ text: String, to file: String) throws { try text.write(toFile: path + file, atomically: false, encoding: .utf8) }

    /// The CA, the collector's certificate and key (readable by the hosttrail group) and web-01's
    /// as the agent's, from `hosttrail dev-certs` in /root/certs, where the configurations expect them.
    func installCertificates() throws {
        if !exists("/root/certs/ca.pem") { try must(["hosttrail", "dev-certs", "--out", "/root/certs", "--host", "web-01"]) }
        try must(["install", "-m", "0644", "/root/certs/ca.pem", "/etc/hosttrail/ca.pem"])
        try must(["install", "-m", "0644", "/root/certs/collector.pem", "/etc/hosttrail/collector.pem"])
        try must(["install", "-m", "0640", "-g", "hosttrail", "/root/certs/collector-key.pem", "/etc/hosttrail/collector-key.pem"])
        try must(["install", "-m", "0644", "/root/certs/web-01.pem", "/etc/hosttrail/agent.pem"])
        try must(["install", "-m", "0600", "/root/certs/web-01-key.pem", "/etc/hosttrail/agent-key.pem"])
    }

    /// Certificates in place; the shipped configurations edited: the agent's collector (the shipped
    /// placeholder replaced), no journal (a chroot has none); the collector's listener on a free port.
    func configure() throws {
        try installCertificates()
        port = try FreePort.find()
        let agent = try read("/etc/hosttrail/agent.toml")
        let placeholder = "collector = \"https://collector.example.com:8443\""
        guard agent.contains(placeholder) else { throw TestProcess.Failure(description: "the shipped agent.toml has no \(placeholder)") }
        let edited = agent.replacingOccurrences(of: placeholder, with: "collector = \"https://127.0.0.1:\(port)\"")
        try write(edited + "\n# DebianPackageTests\njournal = false\nspool-max-bytes = 1048576\n", to: "/etc/hosttrail/agent.toml")
        // The metrics listener on a free port, not the default 127.0.0.1:9479 another test may hold.
        let collector =
            try read("/etc/hosttrail/collector.toml")
            + "\n# DebianPackageTests\nlisten = \"127.0.0.1:\(port)\"\nmetrics-listen = \"127.0.0.1:0\"\n"
        try write(collector, to: "/etc/hosttrail/collector.toml")
    }

    /// A daemon in the root (as `user`), its output in the test's directory.
    func start(_ name: String, _ arguments: [String], user: String? = nil) throws -> TestProcess {
        let process = try TestProcess(
            "/usr/sbin/chroot", (user.map { ["--userspec=\($0):\($0)"] } ?? []) + [path] + arguments,
            logPath: directory.file("\(name)-\(UUID().uuidString.prefix(6)).log"), environment: ["PATH": Self.searchPath], unblockingSignals: true)
        daemons.append(process)
        return process
    }

    /// The installed collector, as its unit runs it (user hosttrail, the installed configuration).
    func startCollector() throws -> TestProcess {
        let collector = try start("collector", ["/usr/bin/hosttrail-collector", "--config", "/etc/hosttrail/collector.toml"], user: "hosttrail")
        try collector.waitForLog("listening on https://127\\.0\\.0\\.1:\(port)")
        return collector
    }

    /// The installed agent, as its unit runs it (root, the installed configuration).
    func startAgent() throws -> TestProcess {
        let agent = try start("agent", ["/usr/bin/hosttrail-agent", "--config", "/etc/hosttrail/agent.toml"])
        try agent.waitForLog("application socket listening")
        return agent
    }

    /// POSTs `body` to the agent's socket; the HTTP status.
    func post(_ body: String) throws -> Int {
        let file = directory.file("request-\(UUID().uuidString.prefix(6)).json")
        try body.write(toFile: file, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try Command.run(
            "curl",
            [
                "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", path + "/run/hosttrail/api.sock", "-H",
                "Content-Type: application/json", "--data-binary", "@" + file, "http://localhost/v1/events",
            ])
        return Int(result.stdout) ?? -1
    }

    /// Records the agent's spool holds for the collector (`GET /v1/health` on its socket).
    func pendingRecords() throws -> Int64 {
        let health = try Command.run("curl", ["-sS", "--unix-socket", path + "/run/hosttrail/api.sock", "http://localhost/v1/health"])
        guard health.status == 0 else { throw TestProcess.Failure(description: "GET /v1/health: \(health)") }
        let body = try JSONValue.parse(Array(health.stdout.utf8))
        guard let pending = body["pendingRecords"]?.integerValue ?? body["spool"]?["pendingRecords"]?.integerValue else {
            throw TestProcess.Failure(description: "no pendingRecords in \(health.stdout)")
        }
        return pending
    }

    /// The events of ``eventSource`` the collector has, by the installed `hosttrail lookup`.
    func stored() throws -> [CloudTrailRecord] {
        let lookup = try must([
            "hosttrail", "lookup", "--collector", "https://127.0.0.1:\(port)", "--ca", "/etc/hosttrail/ca.pem", "--cert", "/etc/hosttrail/agent.pem",
            "--key", "/etc/hosttrail/agent-key.pem", "--event-source", Self.eventSource, "--output", "json",
        ])
        return try JSONDecoder().decode([CloudTrailRecord].self, from: Data(lookup.stdout.utf8))
    }

    /// Polls ``stored()`` until `count` events are there or `timeout` passes.
    func waitForStored(_ count: Int, timeout: TimeInterval = 60) throws -> [CloudTrailRecord] {
        let deadline = Date().addingTimeInterval(timeout)
        var found = try stored()
        while found.count < count && Date() < deadline {
            usleep(200_000)
            found = try stored()
        }
        return found
    }

    func close() {
        for daemon in daemons { daemon.stop() }
        daemons = []
        if procMounted {
            let unmounted = (try? Command.run("/bin/umount", [path + "/proc"]))?.status == 0
            if unmounted || (try? Command.run("/bin/umount", ["-l", path + "/proc"]))?.status == 0 { procMounted = false }
        }
        if !procMounted { _ = try? Command.run("/bin/rm", ["-rf", "--one-file-system", directory.path], timeout: 300) }
    }

    deinit { close() }
}

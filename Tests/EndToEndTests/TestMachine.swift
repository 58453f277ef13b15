// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailTestSupport

/// A machine of a ``TestNetwork``: an sshd on its address whose syslog goes to the machine's own
/// rsyslog (an isolated instance writing `auth.log` in the traditional format), so two machines'
/// logins never mix, and nothing of them reaches the host's journal. sshd runs in a mount
/// namespace of its own where `/dev/log` is that rsyslog's socket.
final class TestMachine: @unchecked Sendable {
    // @unchecked: used by one serialized test at a time.
    let name: String
    let address: String
    let authLog: String
    let rsyslog: TestProcess
    let sshd: TestProcess

    init(_ name: String, network: TestNetwork, directory: TemporaryDirectory) throws {
        self.name = name
        address = network.address(name)
        let folder = directory.file("machine-\(name)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let socket = folder + "/log"
        authLog = folder + "/auth.log"
        guard FileManager.default.fileExists(atPath: "/dev/log") else {
            throw TestProcess.Failure(description: "/dev/log is missing: start the host's journald or rsyslog (scripts/host-services.sh)")
        }
        let configuration = """
            global(workDirectory="\(folder)")
            module(load="imuxsock" SysSock.Use="off")
            input(type="imuxsock" Socket="\(socket)" CreatePath="on")
            $ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat
            auth,authpriv.* \(authLog)

            """
        try Data(configuration.utf8).write(to: URL(fileURLWithPath: folder + "/rsyslog.conf"))
        rsyslog = try TestProcess(
            "/usr/sbin/rsyslogd", ["-n", "-f", folder + "/rsyslog.conf", "-i", folder + "/rsyslogd.pid"], logPath: folder + "/rsyslogd.out",
            unblockingSignals: true)
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline else { throw TestProcess.Failure(description: "rsyslogd made no socket: \(rsyslog.log)") }
            usleep(20_000)
        }
        let (executable, arguments) = network.command(
            in: name,
            [
                "/usr/bin/unshare", "--mount", "/bin/sh", "-c", #"mount --bind "$0" /dev/log && exec "$@""#, socket,
                "/usr/sbin/sshd", "-D", "-p", "22", "-o", "ListenAddress=\(address)", "-o", "PasswordAuthentication=yes", "-o", "PidFile=none",
                "-o", "MaxStartups=100", "-o", "LoginGraceTime=20",
            ])
        sshd = try TestProcess(executable, arguments, logPath: folder + "/sshd.out", closesInheritedFiles: true)
        while (try? String(contentsOfFile: authLog, encoding: .utf8))?.contains("Server listening on \(address)") != true {
            guard Date() < deadline.addingTimeInterval(10) else {
                throw TestProcess.Failure(description: "sshd on \(address) did not start: \(sshd.log)")
            }
            usleep(20_000)
        }
    }

    func stop() {
        _ = sshd.stop()
        _ = rsyslog.stop()
    }

    /// `ssh user@machine true` with `password` from `machine`'s namespace (or this one); the exit status.
    static func ssh(_ user: String, password: String, to address: String, from machine: String?, network: TestNetwork) throws -> Int32 {
        let argv = [
            "/usr/bin/sshpass", "-p", password, "/usr/bin/ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=5",
            "-o", "LogLevel=ERROR", "\(user)@\(address)", "true",
        ]
        if let machine { return try network.run(in: machine, argv).status }
        return try Command.run(argv[0], Array(argv.dropFirst()), timeout: 30, unblockingSignals: true).status
    }
}

// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore

struct ControlGroupTests {
    @Test(
        arguments: [
            ("0::/system.slice/nginx.service\n", "nginx.service", nil),
            ("0::/system.slice/system-getty.slice/getty@tty1.service\n", "getty@tty1.service", nil),
            ("0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope", nil),
            ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/backup.service\n", "backup.service", "user@1000.service"),
            ("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", "init.scope", "user@1000.service"),
            ("0::/\n", nil, nil),
            ("0::/system.slice\n", nil, nil),
            // cgroup v1: the name=systemd hierarchy names the unit.
            ("12:pids:/system.slice/ssh.service\n1:name=systemd:/system.slice/ssh.service\n0::/\n", nil, nil),
            ("12:pids:/system.slice/ssh.service\n1:name=systemd:/system.slice/ssh.service\n", "ssh.service", nil),
            // A container's view.
            ("0::/docker/3f2a9c/system.slice/cron.service\n", "cron.service", nil),
        ] as [(String, String?, String?)])
    func theUnitIsTheInnermostServiceOrScope(text: String, unit: String?, manager: String?) throws {
        let group = try #require(ControlGroup(procText: text))
        #expect(group.unit == unit)
        #expect(group.userManager == manager)
    }

    @Test func textThatIsNotACgroupFileIsNil() {
        #expect(ControlGroup(procText: "") == nil)
        #expect(ControlGroup(procText: "garbage\n\u{0}\n") == nil)
        #expect(ControlGroup(procText: "3:cpu:relative/path\n") == nil)
    }
}

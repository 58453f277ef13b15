// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailSystemd

/// logfmt and JSON lines carry hostile values (an attacker's SSH user name) without letting them
/// forge a line, a key or a field.
struct DaemonLogHandlerTests {
    static let hostile = "root\" level=critical msg=\"forged\nfake line\u{1B}[31m\\"

    @Test func logfmtQuotesAndEscapesEveryValueThatNeedsIt() {
        let line = DaemonLogHandler.logfmt([("msg", "failed login"), ("user", Self.hostile), ("count", "3"), ("empty", "")])
        #expect(line == #"msg="failed login" user="root\" level=critical msg=\"forged\nfake line\u001b[31m\\" count=3 empty="""#)
        #expect(!line.contains("\n") && !line.contains("\u{1B}"))
    }

    @Test func logfmtQuotesAndEscapesC1ControlsAndLineSeparators() {
        #expect(DaemonLogHandler.logfmt([("user", "a\u{9B}31mb\u{2028}c")]) == #"user="a\u009b31mb\u2028c""#)
        #expect(DaemonLogHandler.logfmt([("user", "zoë")]) == #"user="zoë""#)
    }

    @Test func logfmtKeysAreHeldToPlainCharacters() {
        #expect(DaemonLogHandler.logfmt([("a key=x", "v")]) == "a_key_x=v")
    }

    @Test func jsonLinesAreOneObjectWithEscapedStrings() {
        let line = DaemonLogHandler.json([("time", "2026-12-05T00:00:00.000Z"), ("user", Self.hostile), ("sep", "\u{2028}")])
        #expect(line == #"{"time":"2026-12-05T00:00:00.000Z","user":"root\" level=critical msg=\"forged\nfake line\u001b[31m\\","sep":"\u2028"}"#)
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        let stamp = DaemonLogHandler.timestamp()
        #expect(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(stamp)")
    }
}

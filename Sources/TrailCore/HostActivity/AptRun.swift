// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// One apt run as `history.log` describes it, used to say who asked for the package changes dpkg
/// then logs as root.
///
/// apt writes a stanza's `Start-Date`, `Commandline`, `Requested-By` and package lists before it
/// starts dpkg and only its `End-Date` after (checked with a package whose `preinst` copied
/// history.log), so a run is known, and matchable, while dpkg is still working.
public struct AptRun: Sendable, Hashable {
    public var start: Date
    /// `nil` while the run is still going (or was interrupted).
    public var end: Date?
    public var commandLine: String?
    /// `Requested-By`: the user behind sudo; `nil` when root ran apt itself.
    public var requestedBy: String?
    public var requestedByUID: Int?
    /// The packages apt named to install, reinstall, upgrade or downgrade, without architecture
    /// (apt says `:amd64` where dpkg says `:all`).
    public var installs: Set<String>
    /// The packages apt named to remove or purge.
    public var removals: Set<String>

    /// The run a stanza's fields (complete or so far) describe; `nil` without a readable `Start-Date`.
    public init?(fields: [(String, String)], utcOffsetSeconds: Int) {
        var start: Date?
        installs = []
        removals = []
        for (key, value) in fields {
            switch key {
            case "Start-Date": start = start ?? AptHistoryParser.parseDate(value, utcOffsetSeconds: utcOffsetSeconds)
            case "End-Date": end = AptHistoryParser.parseDate(value, utcOffsetSeconds: utcOffsetSeconds)
            case "Commandline": commandLine = value
            case "Requested-By":
                let (name, uid) = AptHistoryParser.requester(value)
                requestedBy = name
                requestedByUID = uid
            default:
                guard AptHistoryParser.actions.contains(where: { $0.field == key }) else { continue }
                for package in AptHistoryParser.packages(value) {
                    guard case .string(let name)? = package["package"] else { continue }
                    if key == "Remove" || key == "Purge" { removals.insert(name) } else { installs.insert(name) }
                }
            }
        }
        guard let start else { return nil }
        self.start = start
    }

    /// How long a run without an `End-Date` is taken to be going: apt killed mid-run never writes
    /// one, and a `dpkg -i` days later must not be pinned on that run's requester.
    static let longestRun: TimeInterval = 6 * 3600

    /// The most recent run that named `package` for this kind of change and was going at `time`.
    ///
    /// No slack is needed: apt reads the clock for `Start-Date` before it starts dpkg and for
    /// `End-Date` after dpkg finished, and all three write whole seconds of the same clock.
    /// - Parameter removes: dpkg removed or purged the package (else installed or upgraded it).
    public static func matching(package: String, removes: Bool, at time: Date, in runs: [AptRun]) -> AptRun? {
        runs.filter { run in
            let end = run.end ?? run.start.addingTimeInterval(longestRun)
            return (removes ? run.removals : run.installs).contains(package) && run.start <= time && time <= end
        }.max { $0.start < $1.start }
    }

    /// Says in a dpkg activity which apt run caused it: who asked (as the session issuer, like sudo)
    /// and the run's command line and start.
    public func attribute(_ activity: HostActivity) -> HostActivity {
        var attributed = activity
        if let requestedBy { attributed.invokedBy = requestedBy }
        var run: [String: JSONValue] = ["startTime": .string(TrailTime.format(start))]
        if let commandLine { run["commandLine"] = .string(commandLine) }
        if let requestedBy { run["requestedBy"] = .string(requestedBy) }
        if let requestedByUID { run["requestedByUid"] = .integer(Int64(requestedByUID)) }
        attributed.requestParameters["aptRun"] = .object(run)
        return attributed
    }
}

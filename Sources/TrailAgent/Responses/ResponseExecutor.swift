// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// Carries out a decided ``ResponseAction`` and ends it: the firewall for addresses, the account
/// tools for accounts, the host's own program for commands. Each returns what its record keeps.
struct ResponseExecutor: Sendable {
    var firewall: NftablesFirewall
    var accounts = AccountLock()
    var host: String

    func perform(_ action: ResponseAction) throws(ResponseFailure) -> [String: JSONValue] {
        switch action.target {
        case .address(let address):
            try firewall.block(address, seconds: action.seconds)
            return ["table": .string("inet \(firewall.table)"), "set": .string(NftablesFirewall.set(of: address))]
        case .account(let name, let uid):
            return try accounts.lock(name, uid: uid)
        case .command(let argv, _, let timeout):
            return try run(argv, action: action, enable: true, timeoutSeconds: timeout)
        }
    }

    /// Ends `active`: unblocks, unlocks (unless it was locked before), or runs the revert program.
    func end(_ active: ResponseBook.Active) throws(ResponseFailure) -> [String: JSONValue] {
        switch active.action.target {
        case .address(let address):
            try firewall.unblock(address)
            return [:]
        case .account(let name, _):
            guard !active.wasLockedBefore else { return ["leftLocked": .string("the password was locked before the response")] }
            try accounts.unlock(name)
            return [:]
        case .command(_, let revert, let timeout):
            guard !revert.isEmpty else { return [:] }
            return try run(revert, action: active.action, enable: false, timeoutSeconds: timeout)
        }
    }

    private func run(_ argv: [String], action: ResponseAction, enable: Bool, timeoutSeconds: Int) throws(ResponseFailure) -> [String: JSONValue] {
        let input = ResponseCommandInput.json(action, enable: enable, host: host).serialized() + [0x0A]
        let result: ChildProgram.Result
        do {
            result = try ChildProgram.run(argv, input: input, timeout: .seconds(timeoutSeconds))
        } catch {
            throw ResponseFailure(code: "ProgramNotStarted", message: "\(error)")
        }
        let details: [String: JSONValue] = [
            "command": .array(argv.map(JSONValue.string)), "exitCode": result.exitCode.map { .integer(Int64($0)) } ?? .null,
            "output": .string(result.output),
        ]
        if result.timedOut { throw ResponseFailure(code: "ProgramTimedOut", message: "killed after \(timeoutSeconds) s", details: details) }
        guard result.succeeded else {
            throw ResponseFailure(
                code: "ProgramFailed", message: "exited \(result.exitCode.map(String.init) ?? "on a signal"): \(result.output.prefix(256))",
                details: details)
        }
        return details
    }
}

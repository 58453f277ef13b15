// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import TrailCLI
import TrailCore

struct Responses: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Host responses: what was asked of which host and where it stands; revert one everywhere.",
        subcommands: [ListResponses.self, RevertResponse.self])
}

struct ListResponses: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Requests to hosts, newest first, and the hosts that take them.")

    @OptionGroup var connection: CollectorConnection
    @Flag(help: "Only requests queued, delivered or in force.") var active = false
    @Option(name: .customLong("max-results"), help: "At most this many (default 100).") var maxResults = 100
    @Option(help: "table or json.") var output: String = "table"

    func run() throws {
        do {
            let answer = try connection.client().rulesCall(
                "ListResponses", ["MaxResults": .integer(Int64(maxResults)), "Active": .bool(active)])
            print(output == "json" ? String(decoding: answer.serialized(), as: UTF8.self) : RulesView.responses(answer))
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail responses list: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct RevertResponse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert", abstract: "Undo a request, or every request of a group, on every host it was sent to.")

    @OptionGroup var connection: CollectorConnection
    @Argument(help: "A request's ID (rsp-…@host) or a group's (rsp-…), from hosttrail responses list.") var id: String

    func run() throws {
        do {
            let answer = try connection.client().rulesCall("RevertResponse", ["Id": .string(id)])
            let reverts = answer["Reverts"]?.arrayValue?.count ?? 0
            let cancelled = answer["Cancelled"]?.integerValue ?? 0
            print(
                IdentifierText.escapingControlCharacters("\(id): \(reverts) revert request(s) queued, \(cancelled) undelivered request(s) cancelled"))
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail responses revert: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

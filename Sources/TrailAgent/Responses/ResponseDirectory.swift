// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// The responses this host performs: `NAME.toml` files in the responses directory, each a
/// ``ResponseDefinition`` named by its file. A file that does not parse is refused by name (its
/// response is then not performed); the others stand.
public struct ResponseDirectory: Sendable {
    public var definitions: [ResponseDefinition] = []
    public var refused: [ConfigurationError] = []

    public init(path: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".toml") }.sorted()
        for file in names {
            let full = path + "/" + file
            do {
                let text = try String(contentsOfFile: full, encoding: .utf8)
                let settings = try ConfigSettings(toml: text, file: full, knownKeys: ResponseDefinition.keys)
                definitions.append(try ResponseDefinition(name: String(file.dropLast(5)), settings: settings))
            } catch let error as ConfigurationError {
                refused.append(error.file == nil ? ConfigurationError(error.code, file: full, key: error.key, reason: error.reason) : error)
            } catch {
                refused.append(ConfigurationError(.unreadableFile, file: full, reason: "\(error)"))
            }
        }
    }
}

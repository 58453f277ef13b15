// SPDX-License-Identifier: Apache-2.0

/// How a component finds its configuration file, before any file is read.
public enum ConfigFileLoader {
    /// Decides which file to read: the one given with `--config` (which must exist), else the
    /// default path when it exists, else none.
    ///
    /// - Parameters:
    ///   - explicit: The `--config` value.
    ///   - defaultPath: The component's default file.
    ///   - readFile: Reads a file's text, or returns `nil` when it does not exist.
    /// - Returns: The settings from the file (empty without one).
    /// - Throws: ``ConfigurationError`` when an explicit file is missing or a file does not parse.
    public static func load(
        explicit: String?,
        defaultPath: String,
        knownKeys: Set<String>,
        readFile: (String) throws -> String?
    ) throws -> ConfigSettings {
        let path = explicit ?? defaultPath
        let text: String?
        do {
            text = try readFile(path)
        } catch {
            throw ConfigurationError(.unreadableFile, file: path, reason: "cannot read: \(error)")
        }
        guard let text else {
            if explicit != nil {
                throw ConfigurationError(.unreadableFile, file: path, reason: "no such file")
            }
            return ConfigSettings()
        }
        return try ConfigSettings(toml: text, file: path, knownKeys: knownKeys)
    }
}

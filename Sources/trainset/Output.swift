import Foundation

/// Standard error, for progress and diagnostics that must not mix with a command's output.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Whether standard error is a terminal, so progress can redraw one line instead of scrolling.
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}

/// JSON with sorted keys and snake_case names, the convention of every machine-readable output.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

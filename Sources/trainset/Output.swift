import Foundation

/// Standard error, for progress and diagnostics that must not mix with a command's output.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Whether standard error is a terminal, so progress can redraw one line instead of scrolling.
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}

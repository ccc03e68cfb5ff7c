import Foundation

/// The real example datasets in `shared/data`, found by walking up from this file (a checkout
/// next to `shared/`, or a worktree deeper down); tests that read them are disabled (with a
/// message) when no such folder exists.
enum SharedData {
    static let root: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared/data")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "/nonexistent/shared/data")
    }()

    static let available = FileManager.default.fileExists(atPath: root.path)

    static func idr(_ relative: String) -> URL {
        root.appendingPathComponent("idr-annotation-csv").appendingPathComponent(relative)
    }

    static let dsb = root.appendingPathComponent("dsb2018-nuclei-instance-masks")
}

/// A fresh directory removed when the value goes away, so tests never share files.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("avdb-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Creates `relative` (and its parent directories) holding `contents`.
    @discardableResult
    func write(_ relative: String, _ contents: String = "") throws -> URL {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: file)
        return file
    }
}

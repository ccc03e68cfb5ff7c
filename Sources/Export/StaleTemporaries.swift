import Foundation

/// Temporary files of exports that were killed before they could clean up.
enum StaleTemporaries {
    /// Removes the `.<bundle>.tmp-<pid>-*` files in `directory` whose writing process no longer
    /// exists. A SIGKILLed or power-cut export cannot remove its own temporary files, so the next
    /// export of the same bundle does. Files of a live process (a concurrent export) are kept, and
    /// so are files whose pid cannot be read: deleting is only safe when the writer is gone.
    static func remove(forBundle name: String, in directory: URL) {
        let prefix = ".\(name).tmp-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let field = entry.dropFirst(prefix.count).split(separator: "-", maxSplits: 1).first,
                  let pid = pid_t(field), pid > 0, kill(pid, 0) == -1, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(entry))
        }
    }
}

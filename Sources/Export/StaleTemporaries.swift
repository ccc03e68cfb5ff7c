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
                  let pid = pid_t(field), pid > 0, isGone(pid) else { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(entry))
        }
    }

    /// Whether `pid` no longer runs: it does not exist, or it is a zombie. A killed export whose
    /// supervisor died first is reparented, and stays a zombie until its new parent reaps it,
    /// which some init processes do late or never; it writes nothing more either way.
    private static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) == -1 { return errno == ESRCH }
        // /proc/<pid>/stat: "pid (command) state ..."; the command may contain spaces and ')'.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}

import Foundation
import Testing

/// The CLI runs every command in a supervised child (CrashIsolation.Supervisor). What a user sees
/// must not change because of it, and the child must never outlive the command the user started.
@Suite struct SupervisorTests {
    private func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func exitStatusAndOutputPassThrough() throws {
        let ws = try ExportWorkspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let export = try run(["export", "recipe.yaml"], in: ws.root)
        #expect(export.status == 0)
        #expect(export.stdout == ws.url("out/tiny.h5").path + "\n" || export.stdout == "out/tiny.h5\n", "\(export.stdout)")
        let missing = try run(["validate", "missing.h5"], in: ws.root)
        #expect(missing.status == 1)
        #expect(missing.stderr == "missing.h5: cannot open the file: file does not exist\nmissing.h5: INVALID (1 problem)\n")
        let usage = try run(["validate", "--no-such-flag"], in: ws.root)
        #expect(usage.status == 64, "argument errors keep ArgumentParser's status")
    }

    @Test func killingTheCommandStopsItsChild() throws {
        let ws = try ExportWorkspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = ["export", "recipe.yaml", "--quiet"]
        process.currentDirectoryURL = ws.root
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let parent = process.processIdentifier
        // The child announces itself by its environment; wait until it exists.
        var child: pid_t?
        for _ in 0..<200 where child == nil {
            child = Self.supervisedChildren(of: parent).first
            if child == nil { usleep(5_000) }
        }
        let started = try #require(child, "no supervised child of \(parent) appeared")
        kill(parent, SIGKILL)
        process.waitUntilExit()
        // The kernel kills the child with its parent (PR_SET_PDEATHSIG); allow for scheduling.
        var running = true
        for _ in 0..<200 where running {
            running = Self.isRunning(started)
            if running { usleep(5_000) }
        }
        #expect(!running, "the supervised child \(started) outlived its killed parent \(parent)")
    }

    static func executable() throws -> URL {
        guard let url = CrashSafetyTests.executable else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "trainset next to \(CommandLine.arguments[0])"])
        }
        return url
    }

    /// Processes whose environment says `TRAINSET_SUPERVISED=<parent>`.
    static func supervisedChildren(of parent: pid_t) -> [pid_t] {
        let marker = Data("TRAINSET_SUPERVISED=\(parent)\0".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environ.range(of: marker) != nil
        }
    }

    /// Exists and is not a zombie.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }
}

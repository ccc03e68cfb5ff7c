import BundleFormat
import Export
import Foundation
import Testing

/// An export killed at any moment, or stopped by a full disk, never leaves a file under the
/// bundle's final name that fails validation, and the next export succeeds (issue 8).
@Suite(.serialized) struct CrashSafetyTests {
    /// The built `trainset` executable, next to the test bundle (`swift build --build-tests`).
    static var executable: URL? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("trainset")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    func start(_ arguments: [String], in directory: URL) throws -> Process {
        let process = Process()
        guard let executable = Self.executable else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "trainset next to \(CommandLine.arguments[0])"])
        }
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Temporary files of any export of `tiny.h5` in `out/`.
    func temporaries(_ ws: ExportWorkspace) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: ws.url("out").path)) ?? []).filter { $0.hasPrefix(".tiny.h5.tmp-") }
    }

    @Test func sigkillAtTwentySeededMomentsNeverPublishesABrokenBundle() throws {
        let ws = try ExportWorkspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let bundle = ws.url("out/tiny.h5")
        let arguments = ["export", "recipe.yaml", "--overwrite", "--quiet"]

        // How long a whole export takes here, so that the kills spread over all of it
        // (start-up, reading, writing, validating, publishing) and a little after. The median
        // of three runs: one run on a loaded machine (or a cold first run) can take several
        // times as long, and kills spread over that would mostly land after the export ended.
        var durations: [Double] = []
        for _ in 0..<3 {
            let began = Date()
            let full = try start(arguments, in: ws.root)
            full.waitUntilExit()
            durations.append(Date().timeIntervalSince(began))
            try #require(full.terminationStatus == 0)
        }
        let duration = durations.sorted()[1]

        var rng = SplitMix64(seed: 8)
        var killedWhileRunning = 0, killedBeforePublishing = 0
        for moment in 0..<20 {
            // Half the runs start from an empty directory, half replace the previous bundle.
            if moment % 2 == 0 {
                for name in Self.published { try? FileManager.default.removeItem(at: ws.url("out/\(name)")) }
            }
            let delay = duration * 1.2 * Double(rng.next() % 1000) / 1000
            let process = try start(arguments, in: ws.root)
            usleep(useconds_t(delay * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killedWhileRunning += 1 }

            if FileManager.default.fileExists(atPath: bundle.path) {
                let report = BundleValidator.validate(bundle)
                #expect(report.isValid, "kill \(moment) after \(delay) s left an invalid tiny.h5: \(report.problems)")
                // Sidecars are published before the bundle, so a bundle never lacks them.
                for name in Self.published {
                    #expect(FileManager.default.fileExists(atPath: ws.url("out/\(name)").path), "kill \(moment): \(name) missing")
                }
            } else {
                killedBeforePublishing += 1
            }

            let rerun = try start(arguments, in: ws.root)
            rerun.waitUntilExit()
            #expect(rerun.terminationStatus == 0, "re-run after kill \(moment) failed")
            #expect(BundleValidator.validate(bundle).isValid)
            // The re-run removed what the killed run left behind.
            #expect(temporaries(ws) == [], "kill \(moment): temporary files remain")
        }
        print("crash safety: \(killedWhileRunning) of 20 kills hit a running export (\(killedBeforePublishing) before "
              + "the bundle existed); one export takes \(String(format: "%.2f", duration)) s")
        // Kills after the process ended would test nothing; the spread must hit most runs.
        #expect(killedWhileRunning >= 12)
        #expect(killedBeforePublishing >= 4)
    }

    static let published = ["tiny.h5", "tiny.h5.manifest.json", "tiny.h5.croissant.json", "tiny.h5.datasheet.md", "tiny.h5.tiles.csv"]

    @Test func staleTemporariesOfDeadProcessesAreRemovedLiveOnesKept() throws {
        let ws = try ExportWorkspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        try FileManager.default.createDirectory(at: ws.url("out"), withIntermediateDirectories: true)
        // A pid that surely belonged to a process that has exited.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let dead = gone.processIdentifier
        let alive = getpid()
        let stale = [".tiny.h5.tmp-\(dead)-17", ".tiny.h5.tmp-\(dead)-17.manifest.json", ".tiny.h5.tmp-\(dead)-17.tiny.h5.tiles.csv"]
        let kept = [".tiny.h5.tmp-\(alive)-18", ".other.h5.tmp-\(dead)-19", ".tiny.h5.tmp-notapid-20"]
        for name in stale + kept { try Data("partial".utf8).write(to: ws.url("out/\(name)")) }

        _ = try ws.export()
        #expect(temporaries(ws).sorted() == [".tiny.h5.tmp-\(alive)-18", ".tiny.h5.tmp-notapid-20"])
        #expect(FileManager.default.fileExists(atPath: ws.url("out/.other.h5.tmp-\(dead)-19").path))
    }

    @Test func fullDiskGivesOneLineErrorAndLeavesNothing() throws {
        let ws = try ExportWorkspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let seedSize = try SeedBundle.shared.get().bytes.count
        let mountPoint = ws.url("out")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        // Half the bundle's size: the disk fills while tiles are written.
        let size = "\(max(8, seedSize / 2048))k"
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint.path]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            print("full disk: skipped: cannot mount a tmpfs here (mount exited \(mount.terminationStatus); needs root)")
            return
        }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint.path]
            try? umount.run()
            umount.waitUntilExit()
        }
        // Through the CLI, in a child process: a failed HDF5 write leaves the library holding the
        // file, and its exit-time cleanup must happen in the process that failed (as for a user),
        // not in this test process after the tmpfs is unmounted.
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["export", "recipe.yaml", "--quiet"]
        process.currentDirectoryURL = ws.root
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print("full disk: \(text)")
        #expect(process.terminationReason == .exit && process.terminationStatus == 1,
                "the export did not fail cleanly: \(process.terminationReason) \(process.terminationStatus)")
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1, "\(text)")
        #expect(text.contains("out/tiny.h5"))
        #expect(text.localizedCaseInsensitiveContains("no space"), "the error does not say the disk is full: \(text)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: mountPoint.path)) ?? ["?"]) == [])
    }
}

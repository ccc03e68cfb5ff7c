import BundleFormat
import CrashIsolation
import Export
import Foundation
import Raster
import Testing

/// A small labelled dataset exported through `Planner` and `Exporter`, as `trainset export`
/// does: two uint16 TIFFs from the image fixtures, a plate/well table and a recipe.
struct ExportWorkspace {
    let root: URL

    static let table = """
        Plate,Well,Phenotype
        P1,A01,round
        P1,A02,elongated

        """

    static func recipe(output: String = "out/tiny.h5") -> String {
        """
        recipe_version: 1
        dataset: {name: tiny, version: 0.1.0}
        seed: 7
        inputs:
          root: data
          annotations:
            file: table.csv
            keys: [Plate, Well]
            image_path: "images/{Plate}/{Well}.tif"
            rows_without_image: error
            images_without_row: error
        labels:
          image_class:
            column: Phenotype
            classes: [round, elongated]
        tiling:
          size: 32
          stride: 24
          edge: reflect
        output:
          path: \(output)

        """
    }

    /// Creates the dataset in a new temporary directory; the caller removes `root`.
    init(recipe: String = Self.recipe()) throws {
        root = try Paths.temporaryDirectory("fuzz-export")
        let fm = FileManager.default
        try fm.createDirectory(at: url("data/images/P1"), withIntermediateDirectories: true)
        try Data(Self.table.utf8).write(to: url("data/table.csv"))
        try Data(recipe.utf8).write(to: url("recipe.yaml"))
        let images = Paths.fixtures.appendingPathComponent("images")
        try fm.copyItem(at: images.appendingPathComponent("u16_gray.tif"), to: url("data/images/P1/A01.tif"))
        try fm.copyItem(at: images.appendingPathComponent("u16_lzw_predictor.tif"), to: url("data/images/P1/A02.tif"))
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    func export() throws(ExportError) -> ExportResult {
        try Exporter.run(try Planner.plan(recipeAt: url("recipe.yaml")))
    }
}

/// What a mutated bundle must reproduce whenever the validator calls it valid.
struct BundleContents: Sendable, Equatable {
    var manifest: String
    var tiles: [ImageBuffer]
    var tables: [Table]

    init(_ url: URL) throws(BundleError) {
        let reader = try BundleReader(opening: url)
        manifest = try reader.manifestText
        tiles = try (0..<reader.tileCount).map { (i) throws(BundleError) in try reader.tileImage(i) }
        tables = try [BundleLayout.tiles, BundleLayout.classes, BundleLayout.sources].map { (path) throws(BundleError) in
            try reader.table(at: path)
        }
    }
}

/// The exported seed bundle, made once per test process.
struct SeedBundle: Sendable {
    var bytes: [UInt8]
    var contents: BundleContents

    static let shared: Result<SeedBundle, any Error> = Result {
        let ws = try ExportWorkspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let result = try ws.export()
        return SeedBundle(bytes: Array(try Data(contentsOf: result.bundle)), contents: try BundleContents(result.bundle))
    }
}

extension FuzzTarget {
    /// The bundle reader and validator behind `validate`, `verify` and `merge`, run as `trainset
    /// validate` does it: in the CLI's supervised child process, because libhdf5 1.10.8 crashes
    /// (endless recursion) on some damaged object headers, which no in-process check survives.
    /// A mutated bundle that validates must read back exactly as the original: wrong data must
    /// never pass silently. The 2 000 mutations run in batches (`BundleFuzzTests`); this one-file
    /// check judges the seed and the regression corpus.
    static let bundle = FuzzTarget(name: "bundle", fileName: "input.h5",
                                   kinds: Mutation.Kind.allCases.filter { $0 != .textTokens }, seeds: {
        .success([FuzzInput(name: "tiny.h5", bytes: try SeedBundle.shared.get().bytes)])
    }, check: { input, file in
        if let problem = write(input.bytes, to: file) { return .wrong(problem) }
        return BundleBatch.validate([file])[0]
    })
}

/// `trainset validate --json` over several files in one process, restarted after each file
/// whose reading crashed the process; a verdict per file.
enum BundleBatch {
    /// A libhdf5 recursion runs until the stack is exhausted; a 1 MiB stack (the CLI needs far
    /// less) gets there in a fraction of the time the default 8 MiB takes, on the same files.
    static let stackKiB = 1024
    /// Per file; a valid tiny bundle validates in well under a second in a debug build.
    static let secondsPerFile = 10.0
    /// The watchdog's limit on one libhdf5 call, well inside `secondsPerFile`.
    static let callLimit = 3.0

    static func validate(_ files: [URL]) -> [Verdict] {
        guard let seed = try? SeedBundle.shared.get() else { return files.map { _ in .wrong("no seed bundle") } }
        var verdicts: [Verdict] = []
        var rest = files[...]
        while !rest.isEmpty {
            let run: Run
            do {
                run = try Run(Array(rest))
            } catch {
                return verdicts + rest.map { _ in .wrong("cannot run trainset: \(error)") }
            }
            for report in run.reports {
                let file = rest.removeFirst()
                guard report.bundle == file.path else {
                    verdicts.append(.wrong("report for \(report.bundle), expected \(file.path)"))
                    continue
                }
                verdicts.append(judge(report, file, seed))
            }
            guard !rest.isEmpty else { break }
            // The process stopped before the remaining files: it must be a supervised crash
            // report naming the next file, with exit status 1.
            let file = rest.removeFirst()
            let lines = run.stderr.split(separator: "\n").map(String.init)
            if run.timedOut {
                verdicts.append(.wrong("validation did not finish within \(Int(secondsPerFile)) s a file (hang)"))
            } else if run.status == 1, let last = lines.last,
                      last.hasPrefix("error: \(file.path): trainset crashed") || last.hasPrefix("error: \(file.path): libhdf5 made no progress") {
                // A crashing library may print its last words first (glibc's "free(): invalid
                // pointer" when libhdf5 corrupts its heap); the supervisor's line is the verdict.
                verdicts.append(.rejected(last))
            } else {
                verdicts.append(.wrong("trainset validate stopped (\(run.reason) \(run.status)) without a report: \(run.stderr)"))
            }
        }
        return verdicts
    }

    private static func judge(_ report: Run.Report, _ file: URL, _ seed: SeedBundle) -> Verdict {
        if let bad = report.problems.first(where: { $0.isEmpty || $0.contains("\n") }) {
            return .wrong("a validation problem is not one line: \(bad.debugDescription)")
        }
        guard report.valid else { return .rejected(report.problems.joined(separator: "; ")) }
        // Validated in the child, so this process can read it without the crash risk.
        do throws(BundleError) {
            return try BundleContents(file) == seed.contents ? .accepted : .wrong("validates, but reads back different data")
        } catch {
            return .wrong("valid, but the reader fails: \(error)")
        }
    }

    /// One `trainset validate --json FILE...` process.
    private struct Run {
        struct Report: Decodable {
            var bundle: String
            var valid: Bool
            var problems: [String]
        }

        var reports: [Report] = []
        var stderr = ""
        var status: Int32 = 0
        var reason = Process.TerminationReason.exit
        var timedOut = false

        init(_ files: [URL]) throws {
            guard let executable = CrashSafetyTests.executable else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "trainset next to \(CommandLine.arguments[0])"])
            }
            let process = Process()
            // The watchdog stops a libhdf5 call that loops for ever (a damaged global heap
            // does that); a valid tiny bundle needs milliseconds per call.
            process.environment = ProcessInfo.processInfo.environment.merging(
                [Watchdog.limitKey: String(Int(BundleBatch.callLimit))]) { _, new in new }
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -s \(BundleBatch.stackKiB) && exec \"$0\" \"$@\"", executable.path,
                                 "validate", "--json"] + files.map(\.path)
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let lines = LineReader(out.fileHandleForReading), errors = LineReader(err.fileHandleForReading)
            // Each file has its own time limit: the clock restarts with every report. For several
            // files a report is one line (JSON Lines); one file gets one pretty-printed object.
            var texts: [String] = []
            while files.count == 1 || texts.count < files.count {
                guard let next = lines.next(timeout: BundleBatch.secondsPerFile) else {
                    timedOut = true
                    // SIGKILL: the process may have inherited an ignored SIGTERM; its supervised
                    // child follows through the supervisor's lifeline.
                    kill(process.processIdentifier, SIGKILL)
                    break
                }
                guard let line = next else { break }
                texts.append(line)
            }
            process.waitUntilExit()
            status = process.terminationStatus
            reason = process.terminationReason
            stderr = errors.all().joined(separator: "\n")
            let objects = files.count == 1 ? [texts.joined(separator: "\n")] : texts
            reports = objects.compactMap { try? JSONDecoder().decode(Report.self, from: Data($0.utf8)) }
        }
    }

    /// Reads a pipe line by line on another thread.
    private final class LineReader: @unchecked Sendable {
        // Guarded by `lock`; `available` counts lines (and the end) not yet taken.
        private var lines: [String?] = []
        private let lock = NSLock()
        private let available = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread {
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        self.push(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                    if chunk.isEmpty { break }
                }
                if !pending.isEmpty { self.push(String(decoding: pending, as: UTF8.self)) }
                self.push(nil)
            }.start()
        }

        private func push(_ line: String?) {
            lock.withLock { lines.append(line) }
            available.signal()
        }

        /// The next line, `.some(nil)` at the end, or nil when nothing came within `timeout` s.
        func next(timeout: Double) -> String?? {
            guard available.wait(timeout: .now() + timeout) == .success else { return nil }
            return lock.withLock { lines.removeFirst() }
        }

        /// Every line up to the end.
        func all() -> [String] {
            var out: [String] = []
            while true {
                available.wait()
                guard let line = lock.withLock({ lines.removeFirst() }) else { return out }
                out.append(line)
            }
        }
    }
}

/// The bundle reader under fuzz (issue 8): the exported seed, then `FuzzHarness.count` seeded
/// mutations of it, each validated by `trainset validate` in batches. Every input must validate
/// and read back as the seed, or be refused in one line (a report's problems, or the
/// supervisor's crash line when libhdf5 itself crashed), within the time limit.
@Suite struct BundleFuzzTests {
    static let batchSize = 100

    @Test func mutatedBundlesValidateAsTheSeedOrAreRefusedCleanly() throws {
        let target = FuzzTarget.bundle
        guard case .success(let seeds) = try target.seeds() else { Issue.record("no seed bundle"); return }
        let directory = try Paths.temporaryDirectory("fuzz-bundle")
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputs = FuzzHarness.inputs(format: target.name, seeds: seeds, count: FuzzHarness.count, kinds: target.kinds)
        var stats = FuzzStats(format: target.name)
        var crashes = 0
        let start = Date()
        for first in stride(from: 0, to: inputs.count, by: Self.batchSize) {
            let batch = Array(inputs[first..<min(inputs.count, first + Self.batchSize)])
            var files: [URL] = []
            for (i, input) in batch.enumerated() {
                let file = directory.appendingPathComponent("input-\(first + i).h5")
                if let problem = write(input.bytes, to: file) { Issue.record("\(problem)"); return }
                files.append(file)
            }
            let began = Date()
            let verdicts = BundleBatch.validate(files)
            let took = Date().timeIntervalSince(began)
            if took > stats.slowest.seconds { stats.slowest = ("the batch of inputs \(first)..<\(first + batch.count)", took) }
            for (file, (input, verdict)) in zip(files, zip(batch, verdicts)) {
                stats.inputs += 1
                switch verdict {
                case .accepted: stats.accepted += 1
                case .rejected(let line):
                    stats.rejected += 1
                    if line.contains("trainset crashed") || line.contains("the watchdog stopped it") { crashes += 1 }
                case .wrong(let what):
                    // Kept for reproduction (the mutation name rebuilds it too).
                    let kept = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-bundle-wrong-\(stats.inputs).h5")
                    try? FileManager.default.removeItem(at: kept)
                    try? FileManager.default.copyItem(at: file, to: kept)
                    Issue.record("fuzz bundle: \(input.name): \(what) (input kept at \(kept.path))")
                }
            }
            for file in files { try? FileManager.default.removeItem(at: file) }
        }
        stats.seconds = Date().timeIntervalSince(start)
        print("\(stats); \(crashes) of the refusals were libhdf5 crashes or endless loops isolated by the supervisor")
        #expect(stats.inputs == inputs.count)
        #expect(stats.rejected > 0)
    }
}

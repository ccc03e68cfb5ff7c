import Foundation
import Testing

/// What one input did.
enum Verdict: Sendable, Equatable {
    /// The reader accepted the input and every consistency check on its result held.
    case accepted
    /// The reader refused the input with this error description.
    case rejected(String)
    /// The reader returned, but something about the result is wrong (inconsistent sizes, data
    /// that differs from the original although validation passed, a multi-line error…).
    case wrong(String)
}

/// Where things are: fixtures in the repository, the shared real data next to the clone.
enum Paths {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = tests.appendingPathComponent("Fixtures")
    static let repository = tests.deletingLastPathComponent()
    static let regressions = fixtures.appendingPathComponent("fuzz-regressions")

    /// `…/shared/data`, found by walking up from this file, or nil when this clone has no
    /// shared data next to it (the tests that need it then skip with a message).
    static let sharedData: URL? = {
        var directory = repository
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/data")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }()

    /// Files in `directory` (not recursive) whose names end in one of `suffixes`, sorted.
    static func files(in directory: URL, suffixes: [String]) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { name in suffixes.contains { name.hasSuffix($0) } }
            .map { directory.appendingPathComponent($0) }
    }

    /// A fresh temporary directory; callers remove it.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trainset-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A named input: a seed file, or a seed file with one mutation applied.
struct FuzzInput: Sendable {
    var name: String
    var bytes: [UInt8]
}

/// Counts of one run, printed so that rates can be read off the test log.
struct FuzzStats: CustomStringConvertible {
    var format: String
    var inputs = 0
    var accepted = 0
    var rejected = 0
    var seconds = 0.0
    var slowest = (name: "", seconds: 0.0)

    var description: String {
        let rate = seconds > 0 ? Double(inputs) / seconds : 0
        return "fuzz \(format): \(inputs) inputs in \(String(format: "%.1f", seconds)) s (\(Int(rate))/s), "
            + "\(rejected) rejected, \(accepted) accepted; slowest \(String(format: "%.3f", slowest.seconds)) s (\(slowest.name))"
    }
}

/// Runs inputs one at a time on a private queue with a per-input time limit, so a hang fails
/// the test naming the input instead of stalling the run. A trap still kills the process:
/// set `FUZZ_TRACE=1` to print each input's name before it runs and keep its bytes in
/// `$TMPDIR/fuzz-last-<format>.bin`.
enum FuzzHarness {
    /// Per-input limit; the slowest real input takes well under a second in a debug build.
    static let timeLimit: Double = 10
    static let trace = ProcessInfo.processInfo.environment["FUZZ_TRACE"] == "1"

    /// Mutated inputs per format; `FUZZ_COUNT` raises it for a longer local run.
    static var count: Int { Int(ProcessInfo.processInfo.environment["FUZZ_COUNT"] ?? "") ?? 2000 }

    static func run(format: String, inputs: [FuzzInput], body: @escaping @Sendable (FuzzInput) -> Verdict) -> FuzzStats {
        let queue = DispatchQueue(label: "fuzz.\(format)")
        var stats = FuzzStats(format: format)
        let start = Date()
        for input in inputs {
            if trace {
                // Left behind when the input traps: the reproducer for the regression corpus.
                try? Data(input.bytes).write(to: FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-last-\(format).bin"))
                FileHandle.standardError.write(Data("fuzz \(format): \(input.name)\n".utf8))
            }
            let box = VerdictBox()
            let done = DispatchSemaphore(value: 0)
            let began = Date()
            queue.async {
                box.value = body(input)
                done.signal()
            }
            guard done.wait(timeout: .now() + timeLimit) == .success else {
                Issue.record("fuzz \(format): \(input.name) did not finish within \(Int(timeLimit)) s (hang); the remaining inputs were not run")
                break
            }
            let took = Date().timeIntervalSince(began)
            if took > stats.slowest.seconds { stats.slowest = (input.name, took) }
            stats.inputs += 1
            switch box.value {
            case .accepted: stats.accepted += 1
            case .rejected(let description):
                stats.rejected += 1
                if description.isEmpty || description.contains("\n") {
                    Issue.record("fuzz \(format): \(input.name): the error is not one line: \(description.debugDescription)")
                }
            case .wrong(let what): Issue.record("fuzz \(format): \(input.name): \(what)")
            case nil: preconditionFailure("the body signalled without a verdict")
            }
        }
        stats.seconds = Date().timeIntervalSince(start)
        print(stats)
        return stats
    }

    /// The seeds unchanged, then `count` mutations spread over the seeds in turn.
    static func inputs(format: String, seeds: [FuzzInput], count: Int, kinds: [Mutation.Kind] = Mutation.Kind.allCases) -> [FuzzInput] {
        precondition(!seeds.isEmpty, "no seeds for \(format)")
        let mutations = Mutation.schedule(format: format, count: count, kinds: kinds)
        return seeds + mutations.enumerated().map { i, mutation in
            let seed = seeds[(i / kinds.count) % seeds.count]
            return FuzzInput(name: "\(seed.name) \(mutation)", bytes: mutation.apply(to: seed.bytes))
        }
    }
}

private final class VerdictBox: @unchecked Sendable {
    // Written on the fuzz queue before the semaphore is signalled, read after the wait: the
    // semaphore orders the two accesses.
    var value: Verdict?
}

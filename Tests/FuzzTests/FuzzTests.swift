import Foundation
import Testing

/// Deterministic mutation fuzzing of every reader (issue 8): the real seed files unchanged,
/// then `FuzzHarness.count` seeded mutations of them. Every input must be accepted with a
/// consistent result or refused with a one-line error of the reader's own type, within the
/// per-input time limit. A failure names the seed and mutation (`kind#seed`), which
/// `Mutation.apply` turns back into the same bytes.
@Suite struct FuzzTests {
    @Test(arguments: FuzzTarget.inProcess)
    func mutatedInputsAreAcceptedConsistentlyOrRefusedCleanly(target: FuzzTarget) throws {
        let seeds: [FuzzInput]
        switch try target.seeds() {
        case .success(let found): seeds = found
        case .failure(let skip):
            print("fuzz \(target.name): skipped: \(skip.message)")
            return
        }
        let directory = try Paths.temporaryDirectory("fuzz-\(target.name)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(target.fileName)
        let check = target.check

        // The seeds must be good: otherwise every mutation is rejected for the seed's fault
        // and the run explores nothing.
        for seed in seeds {
            #expect(check(seed, file) == .accepted, "fuzz \(target.name): seed \(seed.name) is not accepted")
        }
        let inputs = FuzzHarness.inputs(format: target.name, seeds: seeds, count: FuzzHarness.count, kinds: target.kinds)
        let stats = FuzzHarness.run(format: target.name, inputs: inputs) { check($0, file) }

        #expect(stats.inputs == inputs.count)
        // The mutations must reach the checks that refuse input; a run where nothing is
        // refused means the inputs never reached the reader's checks.
        #expect(stats.rejected > 0)
    }
}

/// Inputs that once crashed, hung or were misread, kept under
/// `Tests/Fixtures/fuzz-regressions/<target>/` (see the README there). Each must now be refused
/// with a one-line error of the reader's type.
@Suite struct FuzzRegressionTests {
    static var cases: [(target: String, file: String)] {
        FuzzTarget.all.flatMap { target in
            Paths.files(in: Paths.regressions.appendingPathComponent(target.name), suffixes: [""])
                .map { (target.name, $0.lastPathComponent) }
        }
    }

    @Test func everyRegressionFolderNamesATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Paths.regressions.path)
            .filter { !$0.hasPrefix(".") && $0 != "README.md" }
        #expect(folders.filter { FuzzTarget.named($0) == nil } == [])
        #expect(!Self.cases.isEmpty)
    }

    @Test(arguments: cases)
    func reproducerIsRefused(target name: String, file: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let bytes = Array(try Data(contentsOf: Paths.regressions.appendingPathComponent("\(name)/\(file)")))
        let directory = try Paths.temporaryDirectory("fuzz-regression")
        defer { try? FileManager.default.removeItem(at: directory) }
        let check = target.check
        let stats = FuzzHarness.run(format: name, inputs: [FuzzInput(name: file, bytes: bytes)]) {
            check($0, directory.appendingPathComponent(target.fileName))
        }
        #expect(stats.rejected == 1, "\(name)/\(file) was not refused")
    }
}

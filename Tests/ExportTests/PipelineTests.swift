import BundleFormat
import Crypto
import Foundation
import Testing
@testable import Export

/// The concurrent export: the bundle's content does not depend on the number of worker threads
/// or OpenBLAS threads; inputs are hashed from the read that decodes them; failures are the
/// earliest row's, whatever the scheduling.
@Suite(.serialized) struct PipelineTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The dsb2018-augmented sample (six real DSB 2018 images, instance masks from one PNG per
    /// nucleus) with channel mixing and stain jitter added (which ran on OpenBLAS until
    /// 2026-12-04, and still must not depend on its thread count).
    static func augmentedSample() throws -> Workspace {
        let ws = try Workspace()
        let sample = repository.appendingPathComponent("samples/dsb2018-augmented/recipe.yaml")
        var recipe = try String(contentsOf: sample, encoding: .utf8)
        recipe = recipe.replacingOccurrences(
            of: "  root: ../dsb2018-nuclei/data",
            with: "  root: \(repository.appendingPathComponent("samples/dsb2018-nuclei/data").path)")
        recipe = recipe.replacingOccurrences(
            of: "output:\n",
            with: "    - channel_mix: {probability: 1, strength: 0.1}\n"
                + "    - stain_jitter: {probability: 0.5, alpha: 0.05, beta: 0.02}\noutput:\n")
        try #require(recipe.contains("stain_jitter") && recipe.contains(repository.path))
        try ws.write("recipe.yaml", recipe)
        return ws
    }

    func export(_ ws: Workspace, _ name: String, _ options: ExportOptions,
                hashing: InputHashing = .whileExporting) throws -> ExportResult {
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"), output: ws.url("out/\(name).h5").path, hashing: hashing)
        return try Exporter.run(plan, options: options)
    }

    @Test func oneOrTwoWorkersAndBLASThreadsGiveTheSameBundle() throws {
        let ws = try Self.augmentedSample()
        let runs = try [(1, 1), (2, 1), (1, 2), (2, 2)].map { workers, blas in
            try export(ws, "w\(workers)b\(blas)", ExportOptions(workers: workers, blasThreads: blas))
        }
        let reference = runs[0].manifest
        #expect(reference.counts.tiles == 177)
        for run in runs.dropFirst() {
            #expect(run.manifest.contentHash == reference.contentHash)
            #expect(run.manifest.datasets == reference.datasets)
        }
        // The tables record the same draws for every row, so no tile was built twice or swapped.
        let parameters = try runs.map { try BundleReader(opening: $0.bundle).table(at: "/tiles")["parameters"] }
        #expect(parameters.allSatisfy { $0 == parameters[0] })
        #expect(BundleValidator.validate(runs[3].bundle).isValid)
    }

    /// The augmentation kernels are rewritten for speed from time to time; each rewrite must
    /// give the same bits. These are the content hashes of the dsb2018-augmented sample (flip,
    /// quarter turns, bilinear affine, blur, brightness/contrast/gamma on real uint8 images)
    /// as the straightforward kernels computed it (commit 7ae81f9, `pow` per sample, every tap
    /// bounds-checked), and of the bccd-boxes sample (boxes, a Hann stitching window). A
    /// different value means every such bundle changed: that needs a new spec version, not a
    /// new expected value here.
    ///
    /// The expected values come from a release build and the tests run a debug one, so this
    /// also catches results that depend on the build configuration (the Hann stitching window
    /// once did: the optimizer turned `pow(s, 2)` into `s * s` in release builds only).
    @Test(arguments: [
        ("dsb2018-augmented", "sha256:a02c1d136c812c6455a181803774a5f3746e972071c899e794ae1cb7f7ff5775"),
        ("bccd-boxes", "sha256:2c128b0f07f22f14750f840b330b8fce550ae773852a3e664840433e74a09a0f"),
    ])
    func sampleKeepsItsContentHash(sample: String, expected: String) throws {
        let ws = try Workspace()
        let folder = Self.repository.appendingPathComponent("samples/\(sample)")
        let recipe = try String(contentsOf: folder.appendingPathComponent("recipe.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  root: ../dsb2018-nuclei/data",
                                  with: "  root: \(Self.repository.appendingPathComponent("samples/dsb2018-nuclei/data").path)")
            .replacingOccurrences(of: "  root: data\n", with: "  root: \(folder.appendingPathComponent("data").path)\n")
        try ws.write("recipe.yaml", recipe)
        let result = try export(ws, "golden", ExportOptions(workers: 2))
        #expect(result.manifest.contentHash == expected)
    }

    /// The augmented sample with channel mixing and stain jitter added. These steps ran on
    /// OpenBLAS until 2026-12-04, and the bundle's hash then depended on the kernel OpenBLAS
    /// picked for the CPU (`OPENBLAS_CORETYPE=Prescott` and `=Haswell` gave two); every machine
    /// must give this one (specs/augmentation/v1.md §6.1, channel mixing).
    @Test func mixingSampleKeepsItsContentHashOnEveryCPU() throws {
        let result = try export(try Self.augmentedSample(), "mixing", ExportOptions(workers: 2))
        #expect(result.manifest.contentHash == "sha256:0ff80be496bdbaf513a9983f2be0fd014b36b63be5e4a8ca73e1ab156bf48a84")
    }

    @Test func inputsAreHashedFromTheReadThatDecodesThem() throws {
        let ws = try Self.augmentedSample()
        let deferred = try Planner.plan(recipeAt: ws.url("recipe.yaml"), output: ws.url("out/a.h5").path,
                                        hashing: .whileExporting)
        // Images and per-nucleus mask files wait for the export; nothing else is read for pixels here.
        #expect(deferred.pendingInputs.count == deferred.inputs.count)
        #expect(deferred.pendingInputs.count > deferred.sources.count)
        let result = try Exporter.run(deferred, options: ExportOptions(workers: 2))
        let planned = try export(ws, "b", ExportOptions(workers: 1), hashing: .all)
        #expect(result.manifest.inputs == planned.manifest.inputs)
        #expect(result.manifest.contentHash == planned.manifest.contentHash)
        for input in result.manifest.inputs.prefix(12) {
            let data = try Data(contentsOf: deferred.root.appendingPathComponent(input.path))
            #expect(input.sha256 == SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined())
            #expect(input.bytes == Int64(data.count))
        }
        #expect(result.manifest.libraries.contains { $0.name == "deflate" && $0.version.hasPrefix("zlib ") })
    }

    @Test func anInputChangedAfterPlanningIsNotExported() throws {
        let ws = try Workspace.plateDataset()
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"))
        // Same size and header, other pixels: only the hash can tell.
        let image = ws.url("data/images/P1/A02.tif")
        var bytes = try Data(contentsOf: image)
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: image)
        let error = #expect(throws: ExportError.self) { try Exporter.run(plan, options: ExportOptions(workers: 2)) }
        #expect(error?.code == .input)
        #expect(error?.location.hasSuffix("data/images/P1/A02.tif") == true, "\(String(describing: error))")
        #expect(error?.message.contains("changed since the export was planned") == true)
        #expect(ws.outputEntries().isEmpty)
    }

    @Test(arguments: [1, 3])
    func theEarliestBrokenImageIsReportedWhateverTheWorkers(workers: Int) throws {
        let ws = try Workspace.plateDataset()
        var table = Workspace.table
        for well in ["A03", "A04", "A05", "A06"] { table += "P1,\(well),round,more\n" }
        try ws.write("data/table.csv", table)
        for well in ["A03", "A05"] { try ws.copy(fixture: "u16_gray.tif", to: "data/images/P1/\(well).tif") }
        // Headers that plan, strips that do not decode: the failures happen on the workers.
        for well in ["A04", "A06"] { try ws.copy(fixture: "bad_corrupt_lzw.tif", to: "data/images/P1/\(well).tif") }
        let plan: ExportPlan
        do {
            plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"), hashing: .whileExporting)
        } catch {
            Issue.record("the corrupt strips were found while planning: \(error)")
            return
        }
        let error = #expect(throws: ExportError.self) { try Exporter.run(plan, options: ExportOptions(workers: workers)) }
        #expect(error?.location.hasSuffix("data/images/P1/A04.tif") == true, "\(String(describing: error))")
        #expect(ws.outputEntries().isEmpty)
    }

    @Test func progressCountsEveryRowOnce() throws {
        let ws = try Self.augmentedSample()
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"), output: ws.url("out/p.h5").path, hashing: .whileExporting)
        var written: [Int] = [], sources: [Int] = [], validated = false
        _ = try Exporter.run(plan, options: ExportOptions(workers: 2)) { event in
            switch event {
            case .tilesWritten(let tiles, let total, let bytes):
                #expect(total == 177 && bytes > 0)
                written.append(tiles)
            case .sourceDone(let index, _, _, _): sources.append(index)
            case .validating: validated = true
            default: break
            }
        }
        #expect(written.last == 177)
        #expect(written == written.sorted())
        #expect(sources == Array(0..<6))
        #expect(validated)
    }
}

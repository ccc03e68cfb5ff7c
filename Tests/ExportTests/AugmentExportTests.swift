import BundleFormat
import Foundation
import Testing
import Tiling
@testable import Export

/// Augmentation through the whole export: K variants per grid tile, recorded parameters that
/// replay bit for bit, and content that does not depend on the BLAS thread count.
@Suite(.serialized) struct AugmentExportTests {
    static let section = """
        augmentation:
          variants: 2
          steps:
            - flip: {horizontal: 0.5, vertical: 0.5}
            - affine: {probability: 1, rotation: [-20, 20], scale: [0.9, 1.1], shear: [0, 0], translate: [0, 0],
                       interpolation: bilinear}
            - channel_mix: {probability: 1, strength: 0.1}
            - gaussian_noise: {probability: 1, sigma: [0.01, 0.02]}

        """

    static func augmentedDataset(_ section: String = section) throws -> Workspace {
        let ws = try Workspace.plateDataset()
        // Two channels so channel mixing runs its BLAS path.
        try ws.copy(fixture: "u16_ome_channels.ome.tif", to: "data/images/P1/A01.tif")
        try ws.copy(fixture: "u16_ome_channels.ome.tif", to: "data/images/P1/A02.tif")
        try ws.write("recipe.yaml", Workspace.recipe + section)
        return ws
    }

    @Test func everyGridTileHasKVariantsThatReplayExactly() throws {
        let ws = try Self.augmentedDataset()
        let result = try ws.export()
        // 2 images × 6 grid tiles × 2 variants.
        #expect(result.manifest.counts.tiles == 24)
        #expect(result.manifest.counts.perClass.map(\.tiles) == [12, 12])
        let tiles = try BundleReader(opening: result.bundle).table(at: "/tiles")
        #expect(tiles["augmentation"] == .int32(Array(repeating: [0, 1], count: 12).flatMap { $0 }))
        guard case .string(let keys)? = tiles["key"], case .string(let parameters)? = tiles["parameters"] else {
            Issue.record("no key/parameters columns: \(tiles.columns.map(\.name))")
            return
        }
        #expect(keys[0] == keys[1] && keys[0] != keys[2])
        #expect(parameters[0] != parameters[1], "two variants drew the same parameters")
        #expect(parameters.allSatisfy { $0.contains("affine") })

        let replayed = try Replayer.replay(bundle: result.bundle, inputs: ws.url("data"), tiles: Array(0..<24))
        #expect(replayed.count == 24)
        #expect(replayed.filter { !$0.passed }.isEmpty, "\(replayed.filter { !$0.passed })")
        // Augmented pixels are not the plain crop.
        let plain = try Workspace.plateDataset()
        let first = try BundleReader(opening: plain.export().bundle).tileImage(0)
        #expect(try BundleReader(opening: result.bundle).tileImage(0) != first)
    }

    @Test func replayDetectsATamperedTile() throws {
        let ws = try Self.augmentedDataset()
        let result = try ws.export()
        // Replaying against a different input changes the pixels: replay must say so.
        // Same size, channels and type, different pixels (the reader goes by content, not extension).
        try ws.copy(fixture: "gray_alpha16.png", to: "data/images/P1/A01.tif")
        let replayed = try Replayer.replay(bundle: result.bundle, inputs: ws.url("data"), tiles: [0, 23])
        #expect(!replayed[0].pixelsMatch)
        #expect(replayed[1].passed)
    }

    @Test func contentHashDoesNotDependOnBLASThreads() throws {
        let ws = try Self.augmentedDataset()
        let one = try ws.export(output: "out/one.h5", options: ExportOptions(workers: 1, blasThreads: 1))
        let two = try ws.export(output: "out/two.h5", options: ExportOptions(workers: 1, blasThreads: 2))
        #expect(one.manifest.contentHash == two.manifest.contentHash)
    }

    @Test func renamingAnInputKeepsTheDraws() throws {
        let ws = try Self.augmentedDataset()
        let before = try BundleReader(opening: ws.export(output: "out/a.h5").bundle).table(at: "/tiles")["parameters"]
        // Same bytes under another well name: tile keys come from content, so the draws stay.
        try ws.write("data/table.csv", Workspace.table.replacingOccurrences(of: "A02", with: "A09"))
        try FileManager.default.moveItem(at: ws.url("data/images/P1/A02.tif"), to: ws.url("data/images/P1/A09.tif"))
        let after = try BundleReader(opening: ws.export(output: "out/b.h5").bundle).table(at: "/tiles")["parameters"]
        #expect(before == after)
    }

    /// `rounding: each_step` is recorded by the recipe in the bundle, so replay rounds the same
    /// way; it changes the pixels (the content hash) but neither the draws nor the masks.
    @Test func eachStepRoundingReplaysExactly() throws {
        let steps = Self.section + "    - blur: {probability: 1, sigma: [0.8, 1.2]}\n"
            + "    - intensity: {probability: 1, brightness: 0, contrast: 1, gamma: [0.8, 1.2]}\n"
        let floatWorkspace = try Self.augmentedDataset(steps)
        let float = try floatWorkspace.export()
        let ws = try Self.augmentedDataset(steps.replacingOccurrences(of: "  variants: 2", with: "  variants: 2\n  rounding: each_step"))
        let result = try ws.export()
        #expect(result.manifest.contentHash != float.manifest.contentHash)
        let a = try BundleReader(opening: float.bundle), b = try BundleReader(opening: result.bundle)
        #expect(try a.table(at: "/tiles")["parameters"] == b.table(at: "/tiles")["parameters"])
        #expect(try a.tileImage(0) != b.tileImage(0))
        let replayed = try Replayer.replay(bundle: result.bundle, inputs: ws.url("data"), tiles: Array(0 ..< 24))
        #expect(replayed.count == 24 && replayed.allSatisfy(\.passed), "\(replayed.filter { !$0.passed })")
    }

    @Test(arguments: [
        ("    - flip: {horizontal: 0.5, vertical: 0.5}", "    - flip: {horizontal: 0.5, vertikal: 0.5}",
         "augmentation.steps[0].flip: missing required key 'vertical'"),
        ("  variants: 2", "  variants: 0", "augmentation: variants must be at least 1, got 0"),
        ("sigma: [0.01, 0.02]", "sigma: [0.02, 0.01]",
         "augmentation.steps[3].gaussian_noise: sigma must be a range [lower, upper] within 0.0…10.0, got [0.02, 0.01]"),
        ("  variants: 2", "  variant: 2", "variant"),
        ("  variants: 2", "  variants: 2\n  rounding: always", "augmentation.rounding: 'always' is not one of 'end', 'each_step'"),
        ("interpolation: bilinear", "interpolation: bilinar",
         "augmentation.steps[1].affine.interpolation: 'bilinar' is not one of 'bilinear', 'bicubic'; did you mean 'bilinear'?"),
        ("  variants: 2", "  variants: 2\n  rounding: eachstep",
         "augmentation.rounding: 'eachstep' is not one of 'end', 'each_step'; did you mean 'each_step'?"),
    ])
    func brokenAugmentationIsNamed(original: String, replacement: String, expected: String) throws {
        let ws = try Self.augmentedDataset(Self.section.replacingOccurrences(of: original, with: replacement))
        guard let error = ws.failingExport() else { Issue.record("accepted \(replacement)"); return }
        #expect(error.code == .recipe, "\(error)")
        #expect(error.description.contains(expected), "\(error)")
        #expect(error.location.contains("recipe.yaml:"), "\(error)")
        #expect(!error.description.contains("\n"))
        if let step = expected.firstRange(of: /steps\[(\d)\]/), let index = Int(expected[step].dropFirst(6).dropLast()) {
            // The line is within the step: from the index-th line starting a step to the next.
            let lines = try String(contentsOf: ws.url("recipe.yaml"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            let starts = lines.indices.filter { lines[$0].hasPrefix("    - ") }.map { $0 + 1 } + [lines.count + 1]
            let line = Int(error.location.split(separator: ":").last ?? "") ?? 0
            #expect(starts[index] <= line && line < starts[index + 1], "\(error): not in step \(index)")
        }
    }
}

import BundleFormat
import Export
import Foundation
import Testing

/// Issue 8: the label and macro images of whole-slide files, which can show a patient's name,
/// are never exported.
@Suite struct AssociatedImageTests {
    @Test func slideLabelAndMacroNeverReachTheBundle() throws {
        let root = try Paths.temporaryDirectory("slides")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let slide = Paths.fixtures.appendingPathComponent("images/wsi_associated.tif")
        for name in ["a.tif", "b.tif"] { try FileManager.default.copyItem(at: slide, to: data.appendingPathComponent(name)) }
        try Data("""
            recipe_version: 1
            dataset: {name: slides, version: 0.1.0}
            inputs: {root: data, images: "*.tif"}
            tiling: {size: 16, stride: 16, edge: drop}
            output: {path: out/slides.h5}

            """.utf8).write(to: root.appendingPathComponent("recipe.yaml"))
        let result = try Exporter.run(try Planner.plan(recipeAt: root.appendingPathComponent("recipe.yaml")))
        // The 64 x 48 full-resolution page gives 4 x 3 tiles per slide; the label is 32 x 24
        // and the macro 64 x 24, so any of their pages would have changed the count.
        let reader = try BundleReader(opening: result.bundle)
        #expect(reader.tileCount == 24)
        for i in 0..<reader.tileCount {
            guard case .uint8(let samples) = try reader.tileImage(i).pixels else { Issue.record("not uint8"); return }
            // make_image_fixtures.py: the slide's image is >= 8 everywhere, the label ink is 3.
            #expect(!samples.contains(3), "tile \(i) holds label ink")
        }
        #expect(result.manifest.warnings.contains(
            "2 whole-slide images (e.g. a.tif) hold label or macro images, which can show a patient's name; "
                + "they were not read and are not in the bundle"), "\(result.manifest.warnings)")
    }
}

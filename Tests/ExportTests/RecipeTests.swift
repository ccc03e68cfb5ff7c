import Foundation
import Testing
@testable import Export

@Suite struct RecipeTests {
    static let minimal = """
        recipe_version: 1
        dataset: {name: demo, version: 1.2.3}
        inputs:
          root: data
          images: "*.png"
        tiling:
          size: 64
        output:
          path: out/demo.h5
        """

    @Test func minimalRecipeGetsDefaults() throws {
        let r = try Recipe.parse(Self.minimal, file: "r.yaml")
        #expect(r.dataset.version == "1.2.3")
        #expect(r.tiling.width == 64 && r.tiling.height == 64)
        #expect(r.tiling.strideX == 64 && r.tiling.strideY == 64)
        #expect(r.tiling.edge == .drop)
        #expect(r.output.deflateLevel == 6 && r.output.shuffle)
        #expect(r.seed == 0)
        #expect(r.inputs.images == "*.png")
    }

    @Test func samplesParse() throws {
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../samples").standardizedFileURL
        let idr = try Recipe.load(samples.appendingPathComponent("idr0035-moa/recipe.yaml")).recipe
        #expect(idr.inputs.annotations?.keys == ["Plate", "Well"])
        #expect(idr.labels.imageClass?.classes.count == 12)
        #expect(idr.tiling.strideX == 48 && idr.tiling.edge == .reflect)
        let dsb = try Recipe.load(samples.appendingPathComponent("dsb2018-nuclei/recipe.yaml")).recipe
        #expect(dsb.labels.instanceMasks == .objectsDirectory("stage1_train/{stem}/masks"))
        #expect(dsb.channels.select == [0, 1, 2])
    }

    /// Each broken recipe must fail with one line that names the recipe file, the line and the key.
    @Test(arguments: [
        ("tilling:\n  size: 64", "unknown key 'tilling'; did you mean 'tiling'?", "bad.yaml:6: "),
        ("tiling:\n  size: big", "tiling.size: expected an integer, got 'big'", "bad.yaml:7: "),
        ("tiling:\n  size: 64\n  edge: mirror", "tiling.edge: 'mirror' is not one of drop, reflect, constant", "bad.yaml:8: "),
        ("tiling:\n  size: 64\n  pad_value: 3", "tiling.pad_value: only applies with edge: constant", "bad.yaml:8: "),
        ("tiling:\n  size: [64]", "tiling.size: expected an integer or [width, height]", "bad.yaml:7: "),
        ("tiling:\n  size: 0", "tiling.size: must be at least 1, got 0", "bad.yaml:7: "),
    ])
    func brokenTilingIsNamed(tiling: String, expected: String, location: String) {
        let text = Self.minimal.replacingOccurrences(of: "tiling:\n  size: 64", with: tiling)
        do {
            _ = try Recipe.parse(text, file: "bad.yaml")
            Issue.record("expected an error for \(tiling)")
        } catch {
            #expect(error.code == .recipe)
            #expect(error.description.hasPrefix("bad.yaml"))
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(error.description.hasPrefix(location), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(arguments: [
        ("recipe_version: 1", "recipe_version: 2", "version 2 is not supported"),
        ("dataset: {name: demo, version: 1.2.3}", "dataset: {name: demo, version: one}", "not a semantic version"),
        ("dataset: {name: demo, version: 1.2.3}", "dataset: {name: demo}", "missing required key 'dataset.version'"),
        ("  images: \"*.png\"", "  images: [a, b]", "inputs.images: expected a string"),
        ("  images: \"*.png\"", "  pictures: \"*.png\"", "unknown key 'inputs.pictures'"),
        ("output:\n  path: out/demo.h5", "output:\n  path: out/demo.h5\n  deflate_level: 11", "must be at most 9"),
        ("recipe_version: 1", "recipe_version: 1\nseed: -4", "seed: expected a non-negative integer"),
        ("recipe_version: 1", "recipe_version: 1\n  bad indent: [", "not valid YAML"),
    ])
    func brokenFieldsAreNamed(original: String, replacement: String, expected: String) {
        let text = Self.minimal.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.minimal)
        do {
            _ = try Recipe.parse(text, file: "bad.yaml")
            Issue.record("expected an error for \(replacement)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func imageClassNeedsATable() {
        let text = Self.minimal + "\nlabels:\n  image_class:\n    column: MoA\n    classes: [a]"
        #expect(throws: ExportError.self) { try Recipe.parse(text, file: "r.yaml") }
    }

    @Test func semanticVersionOrder() {
        #expect(SemanticVersion("1.10.0")! > SemanticVersion("1.9.3")!)
        #expect(SemanticVersion("1.0") == nil)
        #expect(SemanticVersion("01.a.0") == nil)
    }
}

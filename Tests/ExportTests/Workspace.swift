import Export
import Foundation

/// A throwaway dataset directory for export tests: a recipe, an annotation table and images
/// copied from the image fixtures, removed when the test ends.
final class Workspace {
    let root: URL
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/images").standardizedFileURL

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("trainset-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    func write(_ relative: String, _ text: String) throws {
        let target = url(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: target)
    }

    /// `<checkout>/../shared/data/<relative>` (`Repository.shared` walks up to it, so a clone at
    /// any depth works); nil when the checkout has no shared data or the data lacks `relative`.
    static func sharedData(_ relative: String) -> URL? {
        guard let candidate = Repository.shared?.appendingPathComponent(relative),
              FileManager.default.fileExists(atPath: candidate.path) else { return nil }
        return candidate
    }

    /// Copies `Tests/Fixtures/images/<fixture>` to `relative`.
    func copy(fixture: String, to relative: String) throws {
        let target = url(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(fixture), to: target)
    }

    /// Every entry of the output directory (hidden ones included), to prove nothing was left.
    func outputEntries() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: url("out").path))?.sorted() ?? []
    }

    /// What an export publishes for a bundle named `name`, sorted.
    static func published(_ name: String) -> [String] {
        [name, "\(name).croissant.json", "\(name).datasheet.md", "\(name).manifest.json", "\(name).tiles.csv"]
    }

    /// A plate/well dataset: two 64x48 uint16 TIFFs, a table with a phenotype per well and a
    /// recipe labelling them; the recipe text can be edited before use.
    static let table = #"""
        Plate,Well,Phenotype,Comment
        P1,A01,round,"first, with a comma"
        P1,A02,elongated,"second ""quoted"""

        """#

    static let recipe = """
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
          path: out/tiny.h5

        """

    static func plateDataset() throws -> Workspace {
        let ws = try Workspace()
        try ws.write("data/table.csv", table)
        try ws.write("recipe.yaml", recipe)
        try ws.copy(fixture: "u16_gray.tif", to: "data/images/P1/A01.tif")
        try ws.copy(fixture: "u16_lzw_predictor.tif", to: "data/images/P1/A02.tif")
        return ws
    }

    /// Plans and runs the export of `recipe.yaml`.
    func export(output: String? = nil, overwrite: Bool = false) throws(ExportError) -> ExportResult {
        let plan = try Planner.plan(recipeAt: url("recipe.yaml"), output: output.map { url($0).path }, overwrite: overwrite)
        return try Exporter.run(plan)
    }

    /// Runs the export expecting it to fail, and returns the error.
    func failingExport() -> ExportError? {
        do {
            _ = try export()
            return nil
        } catch {
            return error
        }
    }
}

import BundleFormat
import Export
import Foundation
import Raster

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
    /// The bundle reader and validator behind `validate`, `verify` and `merge`. A mutated
    /// bundle that validates must read back exactly as the original: wrong data must never
    /// pass silently.
    static let bundle = FuzzTarget(name: "bundle", fileName: "input.h5",
                                   kinds: Mutation.Kind.allCases.filter { $0 != .textTokens }, seeds: {
        .success([FuzzInput(name: "tiny.h5", bytes: try SeedBundle.shared.get().bytes)])
    }, check: { input, file in
        guard let seed = try? SeedBundle.shared.get() else { return .wrong("no seed bundle") }
        if let problem = write(input.bytes, to: file) { return .wrong(problem) }
        let report = BundleValidator.validate(file)
        if let bad = report.problems.first(where: { $0.isEmpty || $0.contains("\n") }) {
            return .wrong("a validation problem is not one line: \(bad.debugDescription)")
        }
        let contents: BundleContents
        do throws(BundleError) {
            contents = try BundleContents(file)
        } catch {
            return report.isValid ? .wrong("valid, but the reader fails: \(error)") : .rejected(report.problems.joined(separator: "; "))
        }
        if report.isValid {
            return contents == seed.contents ? .accepted : .wrong("validates, but reads back different data")
        }
        return .rejected(report.problems.joined(separator: "; "))
    })
}

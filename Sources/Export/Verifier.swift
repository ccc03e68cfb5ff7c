import BundleFormat
import Foundation
import Raster

/// What `trainset verify` found: whether the inputs are the ones the manifest names, and whether
/// re-running the embedded recipe on them gives the same content.
public struct VerifyReport: Sendable, Codable, Equatable {
    /// An input whose bytes differ from the manifest's record, or that is missing.
    public struct InputProblem: Sendable, Codable, Equatable {
        public var path: String
        public var expectedSHA256: String
        /// nil when the file is missing.
        public var actualSHA256: String?
    }

    /// A tile whose re-derived content differs from the bundle's.
    public struct TileDifference: Sendable, Codable, Equatable {
        public var index: Int
        public var source: String
        public var x: Int64
        public var y: Int64
        /// What differs: `pixels`, `instance_mask`, `semantic_mask`, `label`, `position`, `objects`
        /// (boxes, points, polygons or image labels).
        public var parts: [String]
    }

    public var bundle: String
    public var inputsChecked: Int
    public var inputProblems: [InputProblem]
    public var expectedContentHash: String
    /// nil when the re-export could not run (its error is in `reexportError`).
    public var reproducedContentHash: String?
    public var reexportError: String?
    /// Datasets whose digests differ between the bundle and its re-derivation.
    public var differingDatasets: [String]
    public var differingTiles: [TileDifference]
    /// The tile counts of the two bundles, when they differ.
    public var tileCounts: [Int]?

    /// True when every input matches and the re-derived bundle has the same content hash.
    public var passed: Bool {
        inputProblems.isEmpty && reexportError == nil && reproducedContentHash == expectedContentHash
    }

    init(bundle: String, expected: String) {
        self.bundle = bundle
        inputsChecked = 0
        inputProblems = []
        expectedContentHash = expected
        differingDatasets = []
        differingTiles = []
    }
}

/// Re-derives a bundle from the recipe in its manifest and the inputs it names, to show a
/// reviewer that the bundle is what the recipe makes of those inputs.
public enum Verifier {
    /// Checks every input of `bundle`'s manifest under `inputs` (the recipe's input root), then
    /// re-runs the embedded recipe on them into a temporary bundle and compares the two.
    ///
    /// Throws only when `bundle` itself cannot be read; every finding about the inputs or the
    /// re-derivation is in the report.
    public static func verify(bundle: URL, inputs: URL, progress: (String) -> Void = { _ in })
        throws(ExportError) -> VerifyReport {
        let shownBundle = FileSystem.display(bundle)
        let manifest: Manifest
        let original: BundleSummary
        do {
            let reader = try BundleReader(opening: bundle)
            manifest = try reader.manifest()
            original = try BundleSummary(reader)
        } catch {
            throw ExportError(.input, shownBundle, error.description)
        }
        var report = VerifyReport(bundle: shownBundle, expected: manifest.contentHash)

        progress("checking \(manifest.inputs.count) inputs under \(FileSystem.display(inputs))")
        for input in manifest.inputs {
            let url = inputs.appendingPathComponent(input.path)
            let actual = try? FileDigest.of(url, displayPath: input.path).sha256
            if actual != input.sha256 {
                report.inputProblems.append(.init(path: input.path, expectedSHA256: input.sha256, actualSHA256: actual))
            }
        }
        report.inputsChecked = manifest.inputs.count

        let workspace = FileManager.default.temporaryDirectory
            .appendingPathComponent("trainset-verify-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let rebuilt = workspace.appendingPathComponent("rebuilt.h5")
        progress("re-running the embedded recipe")
        do {
            let recipe = try Recipe.parse(manifest.recipe.text, file: "\(shownBundle)#/manifest/recipe")
            let plan = try Planner.plan(recipe: recipe, text: manifest.recipe.text,
                                        recipeURL: URL(fileURLWithPath: manifest.recipe.path),
                                        root: inputs.standardizedFileURL, output: rebuilt, overwrite: false)
            let result = try Exporter.run(plan)
            report.reproducedContentHash = result.manifest.contentHash
            if result.manifest.contentHash != manifest.contentHash {
                let expected = Dictionary(uniqueKeysWithValues: manifest.datasets.map { ($0.path, $0.sha256) })
                let actual = Dictionary(uniqueKeysWithValues: result.manifest.datasets.map { ($0.path, $0.sha256) })
                report.differingDatasets = Set(expected.keys).union(actual.keys)
                    .filter { expected[$0] != actual[$0] }.sorted()
                let reader = try BundleReader(opening: rebuilt)
                let copy = try BundleSummary(reader)
                if copy.tileCount != original.tileCount { report.tileCounts = [original.tileCount, copy.tileCount] }
                report.differingTiles = try tileDifferences(bundle, original, rebuilt, copy)
            }
        } catch let error as ExportError {
            report.reexportError = error.description
        } catch let error as BundleError {
            report.reexportError = error.description
        } catch {
            report.reexportError = "\(error)"
        }
        return report
    }

    /// Compares tiles pairwise by index, which is meaningful because tile order is fixed by the
    /// recipe (sources in plan order, tiles row-major), so a changed input shows up as exactly
    /// its own tiles.
    private static func tileDifferences(_ a: URL, _ summaryA: BundleSummary, _ b: URL, _ summaryB: BundleSummary)
        throws -> [VerifyReport.TileDifference] {
        let readerA = try BundleReader(opening: a)
        let readerB = try BundleReader(opening: b)
        var out: [VerifyReport.TileDifference] = []
        let objectsA = try readerA.objects(), objectsB = try readerB.objects()
        for i in 0..<min(summaryA.tileCount, summaryB.tileCount) {
            var parts: [String] = []
            if summaryA.sourcePath(ofTile: i) != summaryB.sourcePath(ofTile: i)
                || summaryA.x[i] != summaryB.x[i] || summaryA.y[i] != summaryB.y[i] {
                parts.append("position")
            }
            if summaryA.label[i] != summaryB.label[i] { parts.append("label") }
            if try readerA.tileImage(i) != readerB.tileImage(i) { parts.append("pixels") }
            if try readerA.instanceMask(i) != readerB.instanceMask(i) { parts.append("instance_mask") }
            if try readerA.semanticMask(i) != readerB.semanticMask(i) { parts.append("semantic_mask") }
            if objectsA.objects(ofTile: i) != objectsB.objects(ofTile: i)
                || objectsA.imageLabels(ofTile: i) != objectsB.imageLabels(ofTile: i) {
                parts.append("objects")
            }
            if !parts.isEmpty {
                out.append(.init(index: i, source: summaryA.sourcePath(ofTile: i), x: summaryA.x[i], y: summaryA.y[i], parts: parts))
            }
        }
        return out
    }
}

/// The per-tile columns of a bundle that verify and diff compare.
struct BundleSummary {
    var sourcePaths: [String]
    var sourceHashes: [String]
    var tileSource: [Int32]
    var x: [Int64]
    var y: [Int64]
    var label: [Int32]
    /// Per-tile split, empty strings when the bundle has none.
    var split: [String]

    var tileCount: Int { tileSource.count }

    func sourcePath(ofTile i: Int) -> String {
        let s = Int(tileSource[i])
        return sourcePaths.indices.contains(s) ? sourcePaths[s] : "?"
    }

    init(_ reader: borrowing BundleReader) throws(BundleError) {
        let tiles = try reader.table(at: BundleLayout.tiles)
        let sources = try reader.table(at: BundleLayout.sources)
        func column(_ table: Table, _ name: String) throws(BundleError) -> ColumnData {
            guard let column = table.columns.first(where: { $0.name == name }) else {
                throw BundleError(code: .format, message: "missing column", path: "\(table.path)/\(name)", file: reader.url.path)
            }
            return column.data
        }
        guard case .string(let paths) = try column(sources, "path"),
              case .string(let hashes) = try column(sources, "sha256"),
              case .int32(let source) = try column(tiles, "source"),
              case .int64(let xs) = try column(tiles, "x"),
              case .int64(let ys) = try column(tiles, "y"),
              case .int32(let labels) = try column(tiles, "label") else {
            throw BundleError(code: .format, message: "a /tiles or /sources column has the wrong type; run trainset validate",
                              file: reader.url.path)
        }
        sourcePaths = paths
        sourceHashes = hashes
        tileSource = source
        x = xs
        y = ys
        label = labels
        if case .string(let splits)? = tiles["split"] { split = splits } else { split = Array(repeating: "", count: source.count) }
    }
}

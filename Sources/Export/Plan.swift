import BundleFormat
import Foundation
import LabelSchema
import Raster
import SampleLinking
import Tiling

/// Everything decided before pixels move: the resolved inputs with their checksums, the label
/// of every source, the tile grid of every image and the bundle's shape. The manifest is this
/// plan plus the results of writing it.
public struct ExportPlan: Sendable {
    /// One source image and what will be cut from it.
    public struct Source: Sendable {
        /// Path relative to the input root, `/`-separated, as recorded in the bundle.
        public var path: String
        public var url: URL
        /// Annotation key (`Plate=…, Well=…`), empty when the dataset has no table.
        public var key: String
        /// Class id, or −1 for none.
        public var label: Int32
        /// Row of `/samples` this image's sample data is in, when samples are linked.
        public var sampleRow: Int?
        /// The split group (e.g. the individual) and the split, when the recipe assigns splits.
        public var group: String?
        public var split: String?
        public var width: Int
        public var height: Int
        public var channels: Int
        public var tiles: [Tile]
        public var instanceMask: MaskInput?
        public var semanticMask: MaskInput?
        /// Multi-label image classes (bundle class ids, ascending), with `labels.image_labels`.
        public var imageLabels: [Int32] = []
        /// The image's objects, with `labels.objects`.
        public var objects: SourceObjects?
        /// Rows and columns of the source's full tile grid, before sampling; nil for random tiles.
        public var grid: (rows: Int, columns: Int)? = nil
        /// Foreground fraction of each tile in `tiles`, with a foreground filter.
        public var foreground: [Double]? = nil
        /// Size and pixel size before rescaling, when the recipe rescales; `width` and `height`
        /// are then the rescaled size, the one tiles are cut from.
        public var rescale: Manifest.Rescaling.Source? = nil

        /// The size the source file is read at (before any rescaling).
        public var readWidth: Int { rescale?.originalWidth ?? width }
        public var readHeight: Int { rescale?.originalHeight ?? height }

        /// Every file the source's pixels and masks are read from: the image first.
        var files: [(path: String, url: URL)] {
            [(path, url)] + (instanceMask?.files ?? []) + (semanticMask?.files ?? [])
        }
    }

    /// A mask file, or a directory of per-object binary files, relative to the input root.
    public enum MaskInput: Sendable {
        case file(path: String, url: URL)
        case objects(directory: String, files: [(path: String, url: URL)])

        var files: [(path: String, url: URL)] {
            switch self {
            case .file(let path, let url): [(path, url)]
            case .objects(_, let files): files
            }
        }
    }

    public var recipe: Recipe
    public var recipeText: String
    public var recipePath: String
    public var root: URL
    /// Final bundle location.
    public var output: URL
    public var overwrite: Bool
    public var sources: [Source]
    public var classNames: [String]
    /// The id stored in the bundle for each class of `classNames` (a schema's ids, else 0, 1, …).
    public var classIDs: [Int]
    /// The label schema the classes come from, when the recipe names one.
    public var labelSchema: SchemaInfo?

    /// The class id the bundle stores for an internal label (a position in `classNames`, or −1).
    func bundleLabel(_ label: Int32) -> Int32 { label < 0 ? -1 : Int32(classIDs[Int(label)]) }

    public struct SchemaInfo: Sendable {
        public var path: String
        public var schema: Schema
        /// The file's own text, stored in the manifest as the user wrote it.
        public var text: String
    }
    public var inputs: [Manifest.InputFile]
    public var matching: Manifest.Matching?
    public var labelMapping: MappingReport?
    /// Citation facts from the recipe's study file, if any.
    public var study: Manifest.Study?
    /// Linked sample data, its privacy treatment and splits, when the recipe has `samples`.
    public var samples: SampleLinkResult?
    /// What became of the annotation files' objects, when the recipe has `labels.objects`.
    public var objects: ObjectsPlan?
    public var spec: BundleSpec
    public var grid: TileGridSpec
    public var sourceChannelIndices: [Int]
    public var warnings: [String]
    /// Set when this plan is one shard of a sharded export (`trainset export --shard I/N`): its
    /// sources are that shard's contiguous run of the whole plan's sources.
    public var shard: Manifest.Shard? = nil
    /// The value and accession columns of `labels.image_labels`, for the manifest.
    public var imageLabelColumns: (values: [String], terms: [String]) = ([], [])
    /// What the recipe's `sampling` kept and dropped, per source and class.
    public var sampling: Manifest.Sampling? = nil

    /// Roles of the inputs pixels are read from: an export hashes these as it reads them.
    static let pixelRoles: Set<String> = ["image", "instance_mask", "semantic_mask"]

    /// Inputs planned with `InputHashing.whileExporting` whose SHA-256 is not known yet.
    public var pendingInputs: [String] { inputs.filter { $0.sha256.isEmpty }.map(\.path) }

    /// Total number of tiles the bundle will hold.
    /// Bundle tiles: every grid tile of every source, times the augmented variants per tile.
    public var tileCount: Int { sources.reduce(0) { $0 + $1.tiles.count } * variants }
    /// K augmented variants per grid tile, or 1 without augmentation.
    public var variants: Int { recipe.augmentation?.variants ?? 1 }
}

extension ExportPlan {
    /// The recipe's rescaling and every source's sizes before and after, for the manifest.
    public var rescaling: Manifest.Rescaling? {
        recipe.rescale.map { r in
            Manifest.Rescaling(pixelSize: r.pixelSize, sourcePixelSize: r.sourcePixelSize.map { [$0.x, $0.y] },
                               useMetadata: r.useMetadata, filter: r.filter.rawValue, sources: sources.compactMap(\.rescale))
        }
    }

    /// The plan as JSON for `trainset export --plan-only`: what would be written, from which
    /// inputs, with which labels, without touching the output.
    public func summaryJSON() throws -> String {
        struct SourceSummary: Encodable {
            var path: String
            var key: String
            var label: String?
            var width: Int
            var height: Int
            var tiles: Int
        }
        struct Summary: Encodable {
            var output: String
            var tiles: Int
            var bundle: BundleSpec
            var classes: [String]
            var sources: [SourceSummary]
            var inputs: [Manifest.InputFile]
            var matching: Manifest.Matching?
            var labelMapping: MappingReport?
            /// The annotation files' objects: issues, skipped objects, the object labels' report.
            var objects: Manifest.Objects?
            var sampling: Manifest.Sampling?
            var rescaling: Manifest.Rescaling?
            var warnings: [String]
            enum CodingKeys: String, CodingKey {
                case output, tiles, bundle, classes, sources, inputs, matching, warnings, objects, sampling
                case labelMapping = "label_mapping", rescaling = "rescale"
            }
        }
        let summary = Summary(
            output: output.path, tiles: tileCount, bundle: spec, classes: classNames,
            sources: sources.map {
                SourceSummary(path: $0.path, key: $0.key, label: $0.label >= 0 ? classNames[Int($0.label)] : nil,
                              width: $0.width, height: $0.height, tiles: $0.tiles.count * variants)
            },
            inputs: inputs, matching: matching, labelMapping: labelMapping, objects: objects?.manifest,
            sampling: sampling, rescaling: rescaling, warnings: warnings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(summary), as: UTF8.self)
    }
}

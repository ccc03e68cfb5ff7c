import Foundation
import LabelSchema
import Raster

/// Constants of bundle format v1 (specs/bundle-format/v1.md). A reader keys on these names.
public enum BundleLayout {
    public static let formatName = "trainset-bundle"
    public static let formatVersion = "1.2.0"
    public static let images = "/images"
    public static let instanceMasks = "/masks/instance"
    public static let semanticMasks = "/masks/semantic"
    public static let tiles = "/tiles"
    public static let classes = "/classes"
    public static let sources = "/sources"
    /// Linked sample data (optional; bundle format §5.4).
    public static let samples = "/samples"
    /// Per-tile ragged groups (optional; bundle format §4.4).
    public static let boxes = "/boxes"
    public static let points = "/points"
    public static let polygons = "/polygons"
    public static let imageLabels = "/image_labels"
    /// The dataset of a ragged group that says which rows belong to which tile (or other parent
    /// row); the only dataset a merge rebases (bundle format §13.3).
    public static let offsets = "offsets"
    /// The tile grid of every source, one row per `/sources` row (bundle format §5.6).
    public static let grid = "/grid"
    /// Blending windows for stitching predictions back together (bundle format §5.6).
    public static let stitch = "/stitch"
    public static let gridColumns = ["rows", "columns", "tile_width", "tile_height", "stride_x", "stride_y",
                                     "overlap_x", "overlap_y"]
    public static let manifest = "/manifest"
    /// Root attributes.
    public static let formatAttribute = "trainset_format"
    public static let formatVersionAttribute = "format_version"
    public static let contentHashAttribute = "content_hash"
    /// Table group attribute: `bundle` when the table is the same in every shard of a bundle,
    /// `shard` when its rows belong to the shard's tiles or sources (bundle format §13.3).
    public static let scopeAttribute = "scope"
    /// Column attribute naming the table whose row numbers the column holds (bundle format §13.3).
    public static let referencesAttribute = "references"
    /// SHA-256 of the `/manifest` text (since 1.1.0): the manifest is outside the content hash
    /// and, as a variable-length string, cannot carry Fletcher-32, so this is what catches a
    /// damaged provenance record.
    public static let manifestSHA256Attribute = "manifest_sha256"
    /// Columns every bundle's tables carry, in this order (more may follow).
    public static let tileColumns = ["source", "x", "y", "width", "height", "valid_width", "valid_height", "label"]
    public static let classColumns = ["id", "name"]
    public static let sourceColumns = ["path", "sha256", "key", "width", "height", "channels", "label"]
}

/// What a bundle will hold, fixed before the first tile is written: every tile in a bundle
/// has one shape, channel count and element type.
public struct BundleSpec: Sendable, Codable, Equatable {
    public var tileCount: Int
    public var channels: Int
    public var tileWidth: Int
    public var tileHeight: Int
    public var pixelType: PixelType
    public var channelNames: [String]
    public var instanceMasks: Bool
    public var semanticMasks: Bool
    /// zlib/deflate level 0–9 for every chunked dataset.
    public var deflateLevel: Int
    public var shuffle: Bool
    /// The object groups (`/boxes`, `/points`, `/polygons`) the bundle holds.
    public var objects: ObjectKinds
    /// Whether the bundle holds multi-label image classes (`/image_labels`).
    public var imageLabels: Bool

    public init(tileCount: Int, channels: Int, tileWidth: Int, tileHeight: Int, pixelType: PixelType,
                channelNames: [String], instanceMasks: Bool, semanticMasks: Bool,
                deflateLevel: Int = 6, shuffle: Bool = true, objects: ObjectKinds = .none, imageLabels: Bool = false) {
        self.tileCount = tileCount
        self.channels = channels
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.pixelType = pixelType
        self.channelNames = channelNames
        self.instanceMasks = instanceMasks
        self.semanticMasks = semanticMasks
        self.deflateLevel = deflateLevel
        self.shuffle = shuffle
        self.objects = objects
        self.imageLabels = imageLabels
    }
}

/// One column of a columnar table: a 1-D dataset inside the table's group.
public struct Column: Sendable, Equatable {
    public var name: String
    public var data: ColumnData
    /// The table (e.g. `/sources`) whose row numbers this column holds, −1 meaning none;
    /// merging shards rebases such columns (bundle format §13.3).
    public var references: String?

    public init(_ name: String, _ data: ColumnData, references: String? = nil) {
        self.name = name
        self.data = data
        self.references = references
    }
}

/// Whose rows a table holds, which decides how shards of a bundle are merged (bundle format §13.3).
public enum TableScope: String, Sendable, Codable {
    /// Rows of the shard's own tiles, sources or objects: concatenated in shard order.
    case shard
    /// The same in every shard (e.g. `/classes`): kept once.
    case bundle
}

/// The element types a table column may have.
public enum ColumnData: Sendable, Equatable {
    case int32([Int32])
    case int64([Int64])
    case float64([Double])
    case string([String])

    public var count: Int {
        switch self {
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float64(let v): v.count
        case .string(let v): v.count
        }
    }
}

/// A columnar table stored as an HDF5 group of equal-length 1-D datasets (`/tiles`, `/classes`,
/// `/sources`, ...). Column order is recorded in the group's `columns` attribute.
public struct Table: Sendable, Equatable {
    /// Absolute group path, e.g. `/tiles`.
    public var path: String
    public var columns: [Column]
    public var scope: TableScope

    public init(path: String, columns: [Column], scope: TableScope = .shard) {
        self.path = path
        self.columns = columns
        self.scope = scope
    }

    /// The column named `name`, if present.
    public subscript(name: String) -> ColumnData? { columns.first { $0.name == name }?.data }

    /// Number of rows (all columns have the same length in a valid table).
    public var rowCount: Int { columns.first?.data.count ?? 0 }
}

/// Digest of one dataset's decoded content, the unit the content hash is built from.
public struct DatasetDigest: Sendable, Codable, Equatable {
    public var path: String
    public var dtype: String
    public var shape: [Int]
    public var sha256: String

    public init(path: String, dtype: String, shape: [Int], sha256: String) {
        self.path = path
        self.dtype = dtype
        self.shape = shape
        self.sha256 = sha256
    }
}

/// The provenance record stored in `/manifest` and as the `<bundle>.manifest.json` sidecar.
/// Field names are snake_case in JSON; keys are sorted so equal manifests are equal bytes.
public struct Manifest: Sendable, Codable, Equatable {
    public struct Format: Sendable, Codable, Equatable {
        public var name: String = BundleLayout.formatName
        public var version: String = BundleLayout.formatVersion
        public init() {}
    }

    public struct Tool: Sendable, Codable, Equatable {
        public var name: String
        public var version: String
        public var gitCommit: String
        public init(name: String, version: String, gitCommit: String) {
            self.name = name
            self.version = version
            self.gitCommit = gitCommit
        }
        enum CodingKeys: String, CodingKey { case name, version, gitCommit = "git_commit" }
    }

    public struct Library: Sendable, Codable, Equatable {
        public var name: String
        public var version: String
        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }

    public struct Recipe: Sendable, Codable, Equatable {
        /// Recipe path as given on the command line.
        public var path: String
        public var sha256: String
        /// The recipe's full text, so the bundle can be re-derived without the original file.
        public var text: String
        public init(path: String, sha256: String, text: String) {
            self.path = path
            self.sha256 = sha256
            self.text = text
        }
    }

    public struct Dataset: Sendable, Codable, Equatable {
        public var name: String
        public var version: String
        public var description: String?
        /// SPDX identifier or licence name of the exported data.
        public var license: String?
        public var url: String?
        public var creators: [String]?
        public var datePublished: String?
        /// The parent bundle's content hash, when this version derives from one.
        public var parent: String?
        public init(name: String, version: String, description: String? = nil, license: String? = nil,
                    url: String? = nil, creators: [String]? = nil, datePublished: String? = nil, parent: String? = nil) {
            self.name = name
            self.version = version
            self.description = description
            self.license = license
            self.url = url
            self.creators = creators
            self.datePublished = datePublished
            self.parent = parent
        }
        enum CodingKeys: String, CodingKey {
            case name, version, description, license, url, creators, parent
            case datePublished = "date_published"
        }
    }

    public struct InputFile: Sendable, Codable, Equatable {
        /// Path relative to the recipe's input root, with `/` separators.
        public var path: String
        /// image, instance_mask, semantic_mask, annotation_table, study_file.
        public var role: String
        public var bytes: Int64
        public var sha256: String
        public init(path: String, role: String, bytes: Int64, sha256: String) {
            self.path = path
            self.role = role
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public struct ClassCount: Sendable, Codable, Equatable {
        public var id: Int
        public var name: String
        public var tiles: Int
        public var sources: Int
        public init(id: Int, name: String, tiles: Int, sources: Int) {
            self.id = id
            self.name = name
            self.tiles = tiles
            self.sources = sources
        }
    }

    public struct Counts: Sendable, Codable, Equatable {
        public var tiles: Int
        public var sources: Int
        public var unlabeledTiles: Int
        public var perClass: [ClassCount]
        public init(tiles: Int, sources: Int, unlabeledTiles: Int, perClass: [ClassCount]) {
            self.tiles = tiles
            self.sources = sources
            self.unlabeledTiles = unlabeledTiles
            self.perClass = perClass
        }
        enum CodingKeys: String, CodingKey {
            case tiles, sources, unlabeledTiles = "unlabeled_tiles", perClass = "per_class"
        }
    }

    /// How annotation rows and image files were paired.
    public struct Matching: Sendable, Codable, Equatable {
        public var keys: [String]
        public var matched: Int
        public var rowsWithoutImage: [String]
        public var imagesWithoutRow: [String]
        public var skippedUnlabeled: [String]
        public init(keys: [String], matched: Int, rowsWithoutImage: [String], imagesWithoutRow: [String],
                    skippedUnlabeled: [String]) {
            self.keys = keys
            self.matched = matched
            self.rowsWithoutImage = rowsWithoutImage
            self.imagesWithoutRow = imagesWithoutRow
            self.skippedUnlabeled = skippedUnlabeled
        }
        enum CodingKeys: String, CodingKey {
            case keys, matched, rowsWithoutImage = "rows_without_image", imagesWithoutRow = "images_without_row"
            case skippedUnlabeled = "skipped_unlabeled"
        }
    }

    public struct Tiling: Sendable, Codable, Equatable {
        public var tileWidth: Int
        public var tileHeight: Int
        public var strideX: Int
        public var strideY: Int
        public var edge: String
        public var padValue: Double
        public init(tileWidth: Int, tileHeight: Int, strideX: Int, strideY: Int, edge: String, padValue: Double) {
            self.tileWidth = tileWidth
            self.tileHeight = tileHeight
            self.strideX = strideX
            self.strideY = strideY
            self.edge = edge
            self.padValue = padValue
        }
        enum CodingKeys: String, CodingKey {
            case tileWidth = "tile_width", tileHeight = "tile_height", strideX = "stride_x", strideY = "stride_y"
            case edge, padValue = "pad_value"
        }
    }

    public struct Channels: Sendable, Codable, Equatable {
        public var names: [String]
        /// Source channel index feeding each bundle channel, in bundle order.
        public var sourceIndices: [Int]
        public var pixelType: PixelType
        public var palette: String?
        public init(names: [String], sourceIndices: [Int], pixelType: PixelType, palette: String?) {
            self.names = names
            self.sourceIndices = sourceIndices
            self.pixelType = pixelType
            self.palette = palette
        }
        enum CodingKeys: String, CodingKey {
            case names, sourceIndices = "source_indices", pixelType = "pixel_type", palette
        }
    }

    /// Citation and licence facts of the source study (IDR study file), for datasheets and
    /// Croissant. Contact details (e-mail, addresses) are deliberately not copied.
    public struct Study: Sendable, Codable, Equatable {
        public struct Publication: Sendable, Codable, Equatable {
            public var title: String
            public var authors: String
            public var doi: String?
            public var pubmedID: String?
            public init(title: String, authors: String, doi: String?, pubmedID: String?) {
                self.title = title
                self.authors = authors
                self.doi = doi
                self.pubmedID = pubmedID
            }
            enum CodingKeys: String, CodingKey {
                case title, authors, doi
                case pubmedID = "pubmed_id"
            }
        }

        public var accession: String?
        public var title: String?
        public var description: String?
        public var license: String?
        public var licenseURL: String?
        public var copyright: String?
        public var releaseDate: String?
        public var externalURL: String?
        public var dataDOI: String?
        public var publications: [Publication]

        public init(accession: String?, title: String?, description: String?, license: String?, licenseURL: String?,
                    copyright: String?, releaseDate: String?, externalURL: String?, dataDOI: String?,
                    publications: [Publication]) {
            self.accession = accession
            self.title = title
            self.description = description
            self.license = license
            self.licenseURL = licenseURL
            self.copyright = copyright
            self.releaseDate = releaseDate
            self.externalURL = externalURL
            self.dataDOI = dataDOI
            self.publications = publications
        }

        enum CodingKeys: String, CodingKey {
            case accession, title, description, license, copyright, publications
            case licenseURL = "license_url"
            case releaseDate = "release_date"
            case externalURL = "external_url"
            case dataDOI = "data_doi"
        }
    }

    public var format = Format()
    public var tool: Tool
    public var libraries: [Library]
    public var recipe: Recipe
    public var dataset: Dataset
    public var seed: UInt64
    public var inputs: [InputFile]
    public var counts: Counts
    public var matching: Matching?
    /// Every source label value, the class it became and how often (LabelSchema's report).
    public var labelMapping: MappingReport?
    /// The label schema file the classes come from: its own text and SHA-256 (what the user
    /// wrote), name and version.
    public struct LabelSchemaFile: Sendable, Codable, Equatable {
        public var path: String
        public var sha256: String
        public var name: String
        public var version: String
        public var text: String
        public init(path: String, sha256: String, name: String, version: String, text: String) {
            self.path = path
            self.sha256 = sha256
            self.name = name
            self.version = version
            self.text = text
        }
    }

    public var labelSchema: LabelSchemaFile?

    /// Which part of a sharded export a shard bundle holds (bundle format §13.1).
    public struct Shard: Sendable, Codable, Equatable {
        /// 0-based shard number, below `count`.
        public var index: Int
        public var count: Int
        /// The shard plan's identity (specs/shard-plan/v1.md), equal in every shard of one export.
        public var planID: String
        /// The row of the merged bundle's `/sources` and `/tiles` where this shard's rows begin.
        public var firstSource: Int
        public var firstTile: Int
        public init(index: Int, count: Int, planID: String, firstSource: Int, firstTile: Int) {
            self.index = index
            self.count = count
            self.planID = planID
            self.firstSource = firstSource
            self.firstTile = firstTile
        }
        enum CodingKeys: String, CodingKey {
            case index, count, planID = "plan_id", firstSource = "first_source", firstTile = "first_tile"
        }
    }

    /// How a merged bundle was made from its shards (bundle format §13.2).
    public struct Merge: Sendable, Codable, Equatable {
        /// One merged shard.
        public struct Part: Sendable, Codable, Equatable {
            public var index: Int
            /// The shard file relative to the merged bundle's directory, `/`-separated.
            public var file: String
            /// The shard bundle's own content hash.
            public var contentHash: String
            public var firstSource: Int
            public var sources: Int
            public var firstTile: Int
            public var tiles: Int
            public init(index: Int, file: String, contentHash: String, firstSource: Int, sources: Int, firstTile: Int,
                        tiles: Int) {
                self.index = index
                self.file = file
                self.contentHash = contentHash
                self.firstSource = firstSource
                self.sources = sources
                self.firstTile = firstTile
                self.tiles = tiles
            }
            enum CodingKeys: String, CodingKey {
                case index, file, sources, tiles
                case contentHash = "content_hash", firstSource = "first_source", firstTile = "first_tile"
            }
        }

        public var planID: String
        /// `virtual` (tile data read from the shard files) or `copy` (self-contained).
        public var layout: String
        public var shards: [Part]
        public init(planID: String, layout: String, shards: [Part]) {
            self.planID = planID
            self.layout = layout
            self.shards = shards
        }
        enum CodingKeys: String, CodingKey { case planID = "plan_id", layout, shards }
    }

    /// Set in a shard bundle: which shard of which plan it is.
    public var shard: Shard?
    /// Set in a merged bundle: the shards it was merged from.
    public var merge: Merge?

    /// Where a bundle's boxes, points and polygons came from and what happened to them on the way
    /// (bundle format §7).
    public struct Objects: Sendable, Codable, Equatable {
        /// `voc`, `coco`, `geojson`, `csv` or `instance_masks` (boxes derived from masks only).
        public var source: String
        /// The recipe's file or template for the annotation files; empty for `instance_masks`.
        public var path: String
        public var geometryPolicy: String
        public var minArea: Double
        public var minVisibility: Double
        /// `none`, `instance`, `semantic` or `both`: which masks the polygons were painted into.
        public var rasterize: String
        public var deriveBoxes: Bool
        /// Objects read from the annotation files, and kept after the geometry and label policies.
        public var read: Int
        public var kept: Int
        /// One line per object the geometry policy dropped or clipped, naming its file and object.
        public var issues: [String]
        /// Objects left out by the label policies (empty or unknown class), `file: object (label)`.
        public var skipped: [String]
        /// Images an annotation file names that are not sources of this bundle.
        public var unmatchedImages: [String]
        /// The object labels' mapping report.
        public var labelMapping: MappingReport?
        /// Rows of `/boxes`, `/points` and `/polygons` (0 for a group the bundle lacks).
        public var boxes: Int
        public var points: Int
        public var polygons: Int
        /// Rows per class of `/classes` (class −1 is not listed).
        public var perClass: [ClassRows]

        /// How many rows of each object group hold one class.
        public struct ClassRows: Sendable, Codable, Equatable {
            public var id: Int
            public var name: String
            public var boxes: Int
            public var points: Int
            public var polygons: Int
            public init(id: Int, name: String, boxes: Int, points: Int, polygons: Int) {
                (self.id, self.name, self.boxes, self.points, self.polygons) = (id, name, boxes, points, polygons)
            }
        }

        public init(source: String, path: String, geometryPolicy: String, minArea: Double, minVisibility: Double,
                    rasterize: String, deriveBoxes: Bool, read: Int, kept: Int, issues: [String], skipped: [String],
                    unmatchedImages: [String], labelMapping: MappingReport?, boxes: Int = 0, points: Int = 0, polygons: Int = 0,
                    perClass: [ClassRows] = []) {
            self.source = source
            self.path = path
            self.geometryPolicy = geometryPolicy
            self.minArea = minArea
            self.minVisibility = minVisibility
            self.rasterize = rasterize
            self.deriveBoxes = deriveBoxes
            self.read = read
            self.kept = kept
            self.issues = issues
            self.skipped = skipped
            self.unmatchedImages = unmatchedImages
            self.labelMapping = labelMapping
            self.boxes = boxes
            self.points = points
            self.polygons = polygons
            self.perClass = perClass
        }

        enum CodingKeys: String, CodingKey {
            case source, path, rasterize, read, kept, issues, skipped, boxes, points, polygons, perClass = "per_class"
            case geometryPolicy = "geometry_policy", minArea = "min_area", minVisibility = "min_visibility"
            case deriveBoxes = "derive_boxes", unmatchedImages = "unmatched_images", labelMapping = "label_mapping"
        }
    }

    /// Multi-label image classes (`/image_labels`): the columns read and the classes' counts.
    public struct ImageLabels: Sendable, Codable, Equatable {
        /// The value columns, in the order they were read; `term_columns` the accession columns.
        public var columns: [String]
        public var termColumns: [String]
        /// Per class: tiles and source images that carry it.
        public var perClass: [ClassCount]
        /// Source images with no class.
        public var unlabeledSources: Int

        public init(columns: [String], termColumns: [String], perClass: [ClassCount], unlabeledSources: Int) {
            self.columns = columns
            self.termColumns = termColumns
            self.perClass = perClass
            self.unlabeledSources = unlabeledSources
        }

        enum CodingKeys: String, CodingKey {
            case columns, termColumns = "term_columns", perClass = "per_class", unlabeledSources = "unlabeled_sources"
        }
    }

    public var objects: Objects?
    public var imageLabels: ImageLabels?
    /// The source study, when the recipe names an IDR study file.
    public var study: Study?
    /// Linked sample data: every column with its type, source and privacy treatment, the join,
    /// consent decisions and splits (specs/samples/v1.md §9).
    public var samples: JSONValue?
    public var tiling: Tiling
    /// Which planned tile positions were kept and why, when the recipe samples.
    public var sampling: Sampling?
    /// Original and rescaled sizes and pixel sizes, when the recipe rescales.
    public var rescaling: Rescaling?
    public var channels: Channels
    public var warnings: [String]
    /// Filled by the writer when the bundle is finished.
    public var datasets: [DatasetDigest] = []
    /// Filled by the writer when the bundle is finished: `sha256:<hex>`.
    public var contentHash: String = ""

    public init(tool: Tool, libraries: [Library], recipe: Recipe, dataset: Dataset, seed: UInt64,
                inputs: [InputFile], counts: Counts, matching: Matching?,
                labelMapping: MappingReport?, tiling: Tiling, channels: Channels, warnings: [String]) {
        self.tool = tool
        self.libraries = libraries
        self.recipe = recipe
        self.dataset = dataset
        self.seed = seed
        self.inputs = inputs
        self.counts = counts
        self.matching = matching
        self.labelMapping = labelMapping
        self.tiling = tiling
        self.channels = channels
        self.warnings = warnings
    }

    enum CodingKeys: String, CodingKey {
        case format, tool, libraries, recipe, dataset, seed, inputs, counts, matching, tiling, channels
        case labelMapping = "label_mapping"
        case study, samples, warnings, datasets, contentHash = "content_hash"
        case labelSchema = "label_schema"
        case shard, merge
        case objects, imageLabels = "image_labels"
        case sampling, rescaling = "rescale"
    }

    /// Canonical JSON: sorted keys, pretty-printed, slashes unescaped, trailing newline.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Decodes a manifest from its JSON text.
    public static func decode(_ data: Data) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: data)
    }
}

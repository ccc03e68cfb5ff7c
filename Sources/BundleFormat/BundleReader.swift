import Foundation
import HDF5
import Raster

/// Storage metadata of one dataset, as `trainset inspect` prints it.
public struct DatasetInfo: Sendable, Equatable, Codable {
    /// Absolute HDF5 path, e.g. `/images`.
    public var path: String
    /// `uint8`, `uint16`, `uint32`, `int32`, `int64`, `float32`, `float64` or `string`
    /// (anything else is reported by a descriptive name).
    public var dtype: String
    /// Extent of each dimension; empty for a scalar dataset such as `/manifest`.
    public var shape: [Int]
    /// Chunk shape; empty when the dataset is not chunked.
    public var chunks: [Int]
    /// Filter pipeline in order, e.g. `["shuffle", "deflate(6)", "fletcher32"]`.
    public var filters: [String]
    /// For a virtual dataset (a merged bundle's tile array), the files its rows are read from,
    /// as named in the bundle (relative to its directory); empty otherwise.
    public var virtualFiles: [String]

    /// Metadata of one dataset.
    public init(path: String, dtype: String, shape: [Int], chunks: [Int], filters: [String], virtualFiles: [String] = []) {
        self.path = path
        self.dtype = dtype
        self.shape = shape
        self.chunks = chunks
        self.filters = filters
        self.virtualFiles = virtualFiles
    }
}

/// Reads a bundle: its shape, tiles, masks, tables and manifest.
///
/// Opening checks only that the file is a bundle of a supported major version with an
/// `/images` dataset; use `BundleValidator` for a full check. Not thread-safe: one thread
/// owns a reader.
public struct BundleReader: ~Copyable {
    private let file: File
    /// The bundle file.
    public let url: URL
    /// The `format_version` root attribute, e.g. `1.0.0`.
    public let formatVersion: String
    /// N, the number of tiles.
    public let tileCount: Int
    /// C, channels per tile.
    public let channels: Int
    /// W, tile width in pixels.
    public let tileWidth: Int
    /// H, tile height in pixels.
    public let tileHeight: Int
    /// Element type of `/images`.
    public let pixelType: PixelType
    /// The `channel_names` attribute of `/images`.
    public let channelNames: [String]
    /// Whether `/masks/instance` exists.
    public let hasInstanceMasks: Bool
    /// Whether `/masks/semantic` exists.
    public let hasSemanticMasks: Bool

    /// Opens a bundle read-only.
    public init(opening url: URL) throws(BundleError) {
        let path = url.path
        let file = try bundleIO(path) { () throws(HDF5Error) -> File in try File(opening: path) }
        let header = try Self.readHeader(file, path)
        self.file = file
        self.url = url
        formatVersion = header.version
        tileCount = header.shape[0]
        channels = header.shape[1]
        tileHeight = header.shape[2]
        tileWidth = header.shape[3]
        pixelType = header.pixelType
        channelNames = header.channelNames
        hasInstanceMasks = header.instance
        hasSemanticMasks = header.semantic
    }

    private struct Header {
        var version: String
        var shape: [Int]
        var pixelType: PixelType
        var channelNames: [String]
        var instance: Bool
        var semantic: Bool
    }

    private static func readHeader(_ file: borrowing File, _ path: String) throws(BundleError) -> Header {
        do {
            guard try file.hasAttribute(BundleLayout.formatAttribute),
                  try file.stringAttribute(BundleLayout.formatAttribute) == BundleLayout.formatName else {
                throw BundleError(code: .format, message: "not a trainset bundle (root attribute \(BundleLayout.formatAttribute) "
                                  + "is not \"\(BundleLayout.formatName)\"); was the export interrupted?", file: path)
            }
            let version = try file.stringAttribute(BundleLayout.formatVersionAttribute)
            guard FormatVersion.isSupported(version) else {
                throw BundleError(code: .format, message: "bundle format version \(version) is not supported (this reader "
                                  + "reads \(BundleLayout.formatVersion.prefix(1)).x); upgrade trainset", file: path)
            }
            let images = try file.openDataset(BundleLayout.images)
            let info = try images.info()
            guard info.shape.count == 4, let pixelType = PixelType(dtype: info.dtype) else {
                throw BundleError(code: .format, message: "must be a 4-D uint8, uint16 or float32 dataset, found \(info.dtype) "
                                  + "\(info.shape)", path: BundleLayout.images, file: path)
            }
            if info.isVirtual { try requireShardFiles(of: info, in: file, bundle: path) }
            let names = try images.hasAttribute("channel_names") ? try images.stringArrayAttribute("channel_names") : []
            return Header(version: version, shape: info.shape, pixelType: pixelType, channelNames: names,
                          instance: try file.objectKind(at: BundleLayout.instanceMasks) == .dataset,
                          semantic: try file.objectKind(at: BundleLayout.semanticMasks) == .dataset)
        } catch let error as HDF5Error {
            throw BundleError(error, code: .format, file: path)
        } catch let error as BundleError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    /// HDF5 reads a missing source file of a virtual dataset as zeros, without an error, so a
    /// merged bundle is refused when opened unless every shard file is present and is the shard
    /// it was merged from (its content hash is the one the manifest's merge member records).
    private static func requireShardFiles(of info: HDF5DatasetInfo, in file: borrowing File,
                                          bundle path: String) throws(BundleError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let text = try bundleIO(path) { () throws(HDF5Error) in try file.openDataset(BundleLayout.manifest).readString() }
        let parts: [Manifest.Merge.Part]
        do {
            parts = try Manifest.decode(Data(text.utf8)).merge?.shards ?? []
        } catch {
            throw BundleError(code: .manifest, message: "manifest is not valid JSON for this format: \(error)",
                              path: BundleLayout.manifest, file: path)
        }
        for mapping in info.virtualMappings ?? [] {
            let url = directory.appendingPathComponent(mapping.sourceFile).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw BundleError(code: .format, message: "this merged bundle reads its tiles from shard file \(mapping.sourceFile), "
                                  + "which is missing (looked for \(url.path)); keep the shard files with it, or merge with --copy",
                                  path: info.path, file: path)
            }
            let hash = try bundleIO(url.path) { () throws(HDF5Error) in
                try File(opening: url.path).stringAttribute(BundleLayout.contentHashAttribute)
            }
            guard let part = parts.first(where: { $0.file == mapping.sourceFile }), part.contentHash == hash else {
                throw BundleError(code: .format, message: "shard file \(mapping.sourceFile) is not a shard this bundle was merged "
                                  + "from (its content hash \(hash) is not in the manifest's merge member); merge again",
                                  path: info.path, file: path)
            }
        }
    }

    private var path: String { url.path }

    private func io<R>(_ body: () throws(HDF5Error) -> R) throws(BundleError) -> R {
        try bundleIO(path, body)
    }

    /// The text of `/manifest` (canonical JSON).
    public var manifestText: String {
        get throws(BundleError) {
            try io { () throws(HDF5Error) in try file.openDataset(BundleLayout.manifest).readString() }
        }
    }

    /// The decoded manifest.
    public func manifest() throws(BundleError) -> Manifest {
        let text = try manifestText
        do {
            return try Manifest.decode(Data(text.utf8))
        } catch {
            throw BundleError(code: .manifest, message: "manifest is not valid JSON for this format: \(error)",
                              path: BundleLayout.manifest, file: path)
        }
    }

    /// The `content_hash` root attribute (`sha256:<hex>`), as stored.
    public func storedContentHash() throws(BundleError) -> String {
        try io { () throws(HDF5Error) in try file.stringAttribute(BundleLayout.contentHashAttribute) }
    }

    /// Tile `i`'s pixels, planar `[C, H, W]`.
    public func tileImage(_ i: Int) throws(BundleError) -> ImageBuffer {
        precondition(i >= 0 && i < tileCount, "tile index \(i) out of 0..<\(tileCount)")
        let (w, h, c, type) = (tileWidth, tileHeight, channels, pixelType)
        let pixels = try io { () throws(HDF5Error) -> PixelData in
            let ds = try file.openDataset(BundleLayout.images)
            return switch type {
            case .uint8: .uint8(try ds.read(UInt8.self, slab: i))
            case .uint16: .uint16(try ds.read(UInt16.self, slab: i))
            case .float32: .float32(try ds.read(Float.self, slab: i))
            }
        }
        return ImageBuffer(width: w, height: h, channels: c, pixels: pixels)
    }

    /// Tile `i`'s instance ids, or nil when the bundle has no instance masks.
    public func instanceMask(_ i: Int) throws(BundleError) -> LabelImage? {
        precondition(i >= 0 && i < tileCount, "tile index \(i) out of 0..<\(tileCount)")
        guard hasInstanceMasks else { return nil }
        let values = try io { () throws(HDF5Error) in
            try file.openDataset(BundleLayout.instanceMasks).read(UInt32.self, slab: i)
        }
        return LabelImage(width: tileWidth, height: tileHeight, values: values)
    }

    /// Tile `i`'s class ids, or nil when the bundle has no semantic masks.
    public func semanticMask(_ i: Int) throws(BundleError) -> LabelImage? {
        precondition(i >= 0 && i < tileCount, "tile index \(i) out of 0..<\(tileCount)")
        guard hasSemanticMasks else { return nil }
        let values = try io { () throws(HDF5Error) in
            try file.openDataset(BundleLayout.semanticMasks).read(UInt16.self, slab: i)
        }
        return LabelImage(width: tileWidth, height: tileHeight, values: values.map { UInt32($0) })
    }

    /// The bundle's boxes, points, polygons and image labels, read whole (empty kinds for
    /// groups the bundle lacks). Checks only that each group's datasets exist with their types;
    /// the validator checks offsets and counts.
    public func objects() throws(BundleError) -> BundleObjects {
        let objects = try io { () throws(HDF5Error) -> BundleObjects in
            func has(_ group: String) throws(HDF5Error) -> Bool { try file.objectKind(at: group) == .group }
            func read<T: HDF5Scalar>(_ group: String, _ name: String, _ type: T.Type) throws(HDF5Error) -> [T] {
                try file.openDataset(group + "/" + name).read(type)
            }
            let boxes = try has(BundleLayout.boxes) ? (
                try read(BundleLayout.boxes, BundleLayout.offsets, Int64.self), try read(BundleLayout.boxes, "xyxy", Float.self),
                try read(BundleLayout.boxes, "class_id", Int32.self), try read(BundleLayout.boxes, "instance_id", Int64.self)) : nil
            let points = try has(BundleLayout.points) ? (
                try read(BundleLayout.points, BundleLayout.offsets, Int64.self), try read(BundleLayout.points, "xy", Float.self),
                try read(BundleLayout.points, "class_id", Int32.self), try read(BundleLayout.points, "instance_id", Int64.self)) : nil
            let polygons = try has(BundleLayout.polygons) ? (
                try read(BundleLayout.polygons, BundleLayout.offsets, Int64.self),
                try read(BundleLayout.polygons, "class_id", Int32.self), try read(BundleLayout.polygons, "instance_id", Int64.self),
                BundleObjects.starts(try read(BundleLayout.polygons, "ring_count", Int32.self)),
                BundleObjects.starts(try read(BundleLayout.polygons, "vertex_count", Int32.self)),
                try read(BundleLayout.polygons, "xy", Float.self)) : nil
            let labels = try has(BundleLayout.imageLabels) ? (
                try read(BundleLayout.imageLabels, BundleLayout.offsets, Int64.self),
                try read(BundleLayout.imageLabels, "class_id", Int32.self)) : nil
            return BundleObjects(kinds: ObjectKinds(boxes: boxes != nil, points: points != nil, polygons: polygons != nil),
                                 boxes: boxes, points: points, polygons: polygons, imageLabels: labels)
        }
        // Readers index with these arrays, so a broken group is refused here rather than trapping.
        if let problem = objects.inconsistency(tiles: tileCount) {
            throw BundleError(code: .format, message: problem + "; run trainset validate", file: path)
        }
        return objects
    }

    /// A columnar table (e.g. `/tiles`), columns in the order of its `columns` attribute.
    public func table(at tablePath: String) throws(BundleError) -> Table {
        try io { () throws(HDF5Error) -> Table in try TableIO.read(file, tablePath) }
    }

    /// Digests of every dataset except `/manifest`, recomputed from the stored data one chunk
    /// at a time, sorted by path. Feed them to `ContentHash.combine` to recompute the hash.
    public func datasetDigests() throws(BundleError) -> [DatasetDigest] {
        try io { () throws(HDF5Error) -> [DatasetDigest] in
            var digests: [DatasetDigest] = []
            var noCollection: [DigestComputer.BlockFailure]? = nil
            for path in try DigestComputer.allDatasetPaths(file) where path != BundleLayout.manifest {
                if let d = try DigestComputer.digest(file, path, failures: &noCollection) { digests.append(d) }
            }
            return digests
        }
    }

    /// Storage metadata of every dataset (including `/manifest`), sorted by path.
    public func datasetInfos() throws(BundleError) -> [DatasetInfo] {
        try io { () throws(HDF5Error) -> [DatasetInfo] in
            try DigestComputer.allDatasetPaths(file).map { (p) throws(HDF5Error) -> DatasetInfo in
                let info = try file.openDataset(p).info()
                return DatasetInfo(path: info.path, dtype: info.dtype, shape: info.shape, chunks: info.chunks ?? [],
                                   filters: info.filters.map(\.description),
                                   virtualFiles: (info.virtualMappings ?? []).map(\.sourceFile))
            }
        }
    }
}

/// Reading tables; shared with the validator.
enum TableIO {
    static func read(_ file: borrowing File, _ tablePath: String) throws(HDF5Error) -> Table {
        let group = try file.openGroup(tablePath)
        let names = try group.stringArrayAttribute("columns")
        var columns: [Column] = []
        for name in names {
            let ds = try file.openDataset(tablePath + "/" + name)
            let dtype = try ds.info().dtype
            let data: ColumnData = switch dtype {
            case "int32": .int32(try ds.read(Int32.self))
            case "int64": .int64(try ds.read(Int64.self))
            case "float64": .float64(try ds.read(Double.self))
            case "string": .string(try ds.readStrings())
            default:
                throw HDF5Error(code: .typeMismatch, message: "column dtype \(dtype) is not int32, int64, float64 or string",
                                objectPath: ds.path, file: file.path)
            }
            let references = try ds.hasAttribute(BundleLayout.referencesAttribute)
                ? try ds.stringAttribute(BundleLayout.referencesAttribute) : nil
            columns.append(Column(name, data, references: references))
        }
        let scope = try group.hasAttribute(BundleLayout.scopeAttribute)
            ? TableScope(rawValue: try group.stringAttribute(BundleLayout.scopeAttribute)) : nil
        return Table(path: tablePath, columns: columns, scope: scope ?? .shard)
    }
}

/// Semantic-version handling of `format_version`.
enum FormatVersion {
    /// Readers accept any 1.x.y: minor versions only add optional content.
    static func isSupported(_ version: String) -> Bool {
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }) else {
            return false
        }
        return parts[0] == "1"
    }
}

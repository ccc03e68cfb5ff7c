import Crypto
import Foundation
import HDF5
import Raster

/// Writes one bundle file in a single pass (spec: specs/bundle-format/v1.md).
///
/// Use: `init` (creates the file exclusively and every image/mask dataset for all N tiles),
/// `append` (or `appendTile`) N times in tile order, `writeTable` for `/tiles`, `/classes`,
/// `/sources` (and any extra tables), then `finish`, which writes the manifest and root
/// attributes and closes.
/// Dropping a writer without `finish` leaves an incomplete file that fails validation (no
/// `content_hash`, no `/manifest`); callers build under a temporary name and rename on success.
///
/// Tiles arrive already filtered (`TileEncoder`, which any number of threads may run) and are
/// stored with `H5Dwrite_chunk`, so HDF5 runs no filter on the writer's thread. Each dataset's
/// SHA-256 is streamed from the decoded samples while its chunks are written, in canonical
/// order (tile order is row order), so `finish` needs no re-read. Not thread-safe: one thread
/// owns a writer.
public struct BundleWriter: ~Copyable {
    private let file: File
    private let images: Dataset
    private let instanceMasks: Dataset?
    private let semanticMasks: Dataset?
    private let spec: BundleSpec
    private let filePath: String

    // Set in the memberwise init (no defaults here: a noncopyable struct's init must not
    // start partially initialised).
    private var appended: Int
    private var imageHasher: CanonicalHasher
    private var instanceHasher: CanonicalHasher
    private var semanticHasher: CanonicalHasher
    private var tableDigests: [DatasetDigest]
    private var tablesWritten: [String]
    private var checks: [SpotCheck]
    /// For `appendTile`.
    private let ownEncoder: TileEncoder

    /// Creates the bundle file (failing if anything exists at `url`) and its image and mask
    /// datasets sized for `spec.tileCount` tiles.
    public init(creating url: URL, spec: BundleSpec) throws(BundleError) {
        let filePath = url.path
        guard spec.tileCount >= 0, spec.channels >= 1, spec.tileWidth >= 1, spec.tileHeight >= 1 else {
            throw BundleError(code: .shape, message: "invalid bundle shape: \(spec.tileCount) tiles of "
                              + "\(spec.channels)x\(spec.tileHeight)x\(spec.tileWidth)", file: filePath)
        }
        guard spec.channelNames.count == spec.channels else {
            throw BundleError(code: .shape, message: "\(spec.channelNames.count) channel names given for \(spec.channels) channels",
                              path: BundleLayout.images, file: filePath)
        }
        guard (0...9).contains(spec.deflateLevel) else {
            throw BundleError(code: .shape, message: "deflate level must be 0...9, got \(spec.deflateLevel)", file: filePath)
        }
        // A zero-tile bundle needs an unlimited first dimension: a fixed extent of 0 is smaller
        // than the chunk extent of 1, which HDF5 rejects (see TileLayout).
        let imageLayout = TileLayout.image(spec), maskLayout = TileLayout.mask(spec)
        self = try bundleIO(filePath) { () throws(HDF5Error) in try Self.create(filePath, spec, imageLayout, maskLayout) }
    }

    private static func create(_ filePath: String, _ spec: BundleSpec, _ imageLayout: DatasetLayout,
                               _ maskLayout: DatasetLayout) throws(HDF5Error) -> BundleWriter {
        let n = spec.tileCount, c = spec.channels, h = spec.tileHeight, w = spec.tileWidth
        let file = try File(creating: filePath)
        let shape = [n, c, h, w]
        let images: Dataset = switch spec.pixelType {
        case .uint8: try file.createDataset(BundleLayout.images, of: UInt8.self, shape: shape, layout: imageLayout)
        case .uint16: try file.createDataset(BundleLayout.images, of: UInt16.self, shape: shape, layout: imageLayout)
        case .float32: try file.createDataset(BundleLayout.images, of: Float.self, shape: shape, layout: imageLayout)
        }
        try images.setAttribute("axes", "NCHW")
        try images.setAttribute("channel_names", spec.channelNames)
        if spec.instanceMasks || spec.semanticMasks { try file.createGroup("/masks").close() }
        let instanceMasks = try maskDataset(file, spec.instanceMasks, BundleLayout.instanceMasks, UInt32.self,
                                            [n, h, w], maskLayout)
        let semanticMasks = try maskDataset(file, spec.semanticMasks, BundleLayout.semanticMasks, UInt16.self,
                                            [n, h, w], maskLayout)
        return BundleWriter(file: file, images: images, instanceMasks: instanceMasks, semanticMasks: semanticMasks,
                            spec: spec, filePath: filePath)
    }

    private init(file: consuming File, images: consuming Dataset, instanceMasks: consuming Dataset?,
                 semanticMasks: consuming Dataset?, spec: BundleSpec, filePath: String) {
        self.file = file
        self.images = images
        self.instanceMasks = instanceMasks
        self.semanticMasks = semanticMasks
        self.spec = spec
        self.filePath = filePath
        appended = 0
        imageHasher = CanonicalHasher()
        instanceHasher = CanonicalHasher()
        semanticHasher = CanonicalHasher()
        tableDigests = []
        tablesWritten = []
        checks = []
        ownEncoder = TileEncoder(spec: spec)
    }

    private static func maskDataset<T: HDF5Scalar>(_ file: borrowing File, _ wanted: Bool, _ path: String, _ type: T.Type,
                                                   _ shape: [Int], _ layout: DatasetLayout) throws(HDF5Error) -> Dataset? {
        guard wanted else { return nil }
        return try file.createDataset(path, of: type, shape: shape, layout: layout)
    }

    /// Number of tiles appended so far.
    public var tilesAppended: Int { appended }

    /// Encodes and writes tile number `tilesAppended` (tiles go in order 0..<N) and its masks
    /// on the calling thread: `TileEncoder.encode` then `append`.
    ///
    /// Throws what `TileEncoder.encode` throws, and `.state` past N tiles.
    public mutating func appendTile(image: ImageBuffer, instanceMask: LabelImage?,
                                    semanticMask: LabelImage?) throws(BundleError) {
        let tile: EncodedTile
        do {
            tile = try ownEncoder.encode(index: appended, image: image, instanceMask: instanceMask, semanticMask: semanticMask)
        } catch {
            var located = error
            located.file = filePath
            throw located
        }
        try append(tile)
    }

    /// Writes an encoded tile, which must be tile number `tilesAppended` of a bundle with this
    /// writer's spec. Throws `.state` for a tile out of order or past N tiles.
    public mutating func append(_ tile: EncodedTile) throws(BundleError) {
        let index = appended
        guard index < spec.tileCount else {
            throw BundleError(code: .state, message: "all \(spec.tileCount) tiles were already appended",
                              path: BundleLayout.images, file: filePath)
        }
        guard tile.index == index else {
            throw BundleError(code: .state, message: "tile \(tile.index) was given where tile \(index) comes next",
                              path: BundleLayout.images, file: filePath)
        }
        precondition(tile.image.pixelType == spec.pixelType && (tile.instanceMask != nil) == spec.instanceMasks
                     && (tile.semanticMask != nil) == spec.semanticMasks, "tile encoded for another bundle spec")
        do {
            try images.writeRawChunk(tile.imageChunk, offset: [index, 0, 0, 0])
            if let chunk = tile.instanceChunk { try Self.writeMask(instanceMasks, chunk, index) }
            if let chunk = tile.semanticChunk { try Self.writeMask(semanticMasks, chunk, index) }
        } catch {
            throw BundleError(error, file: filePath)
        }
        // The tile's own digest only for spot-checked tiles: hashing every tile twice would
        // cost as much as the content hash itself.
        var spot: [SpotCheck]? = SpotCheck.isChecked(index, of: spec.tileCount) ? [] : nil
        switch tile.image {
        case .uint8(let v): Self.hash(v, &imageHasher, BundleLayout.images, index, &spot)
        case .uint16(let v): Self.hash(v, &imageHasher, BundleLayout.images, index, &spot)
        case .float32(let v): Self.hash(v, &imageHasher, BundleLayout.images, index, &spot)
        }
        if let values = tile.instanceMask { Self.hash(values, &instanceHasher, BundleLayout.instanceMasks, index, &spot) }
        if let values = tile.semanticMask { Self.hash(values, &semanticHasher, BundleLayout.semanticMasks, index, &spot) }
        checks += spot ?? []
        appended += 1
    }

    private static func hash<T: HDF5Scalar>(_ values: [T], _ hasher: inout CanonicalHasher, _ path: String, _ index: Int,
                                            _ spot: inout [SpotCheck]?) {
        hasher.append(values)
        guard spot != nil else { return }
        var own = CanonicalHasher()
        own.append(values)
        spot?.append(SpotCheck(path: path, tile: index, sha256: own.finalize()))
    }

    /// Tiles whose decoded bytes were hashed on their own, for `BundleValidator.validateWritten`.
    public var spotChecks: [SpotCheck] { checks }

    private static func writeMask(_ dataset: borrowing Dataset?, _ chunk: [UInt8], _ index: Int) throws(HDF5Error) {
        switch dataset {
        case .some(let ds): try ds.writeRawChunk(chunk, offset: [index, 0, 0])
        case .none: preconditionFailure("mask presence was checked against the spec")
        }
    }

    /// Writes a columnar table as a group of equal-length 1-D datasets plus its `columns`
    /// attribute. `/tiles`, `/classes` and `/sources` must start with the spec's columns, in
    /// order and with the spec's dtypes; extra columns may follow.
    public mutating func writeTable(_ table: Table) throws(BundleError) {
        let filePath = self.filePath
        let path = table.path
        guard path.hasPrefix("/"), path.count > 1, !path.dropFirst().contains("/"),
              ![BundleLayout.images, "/masks", BundleLayout.manifest].contains(path) else {
            throw BundleError(code: .state, message: "a table must be a new top-level group such as /tiles", path: path,
                              file: filePath)
        }
        guard !tablesWritten.contains(path) else {
            throw BundleError(code: .state, message: "table was already written", path: path, file: filePath)
        }
        let names = table.columns.map(\.name)
        guard !names.isEmpty else {
            throw BundleError(code: .shape, message: "a table needs at least one column", path: path, file: filePath)
        }
        if let bad = names.first(where: { $0.isEmpty || $0.contains("/") || $0 == "." }) {
            throw BundleError(code: .shape, message: "invalid column name \"\(bad)\"", path: path, file: filePath)
        }
        guard Set(names).count == names.count else {
            throw BundleError(code: .shape, message: "duplicate column names \(names)", path: path, file: filePath)
        }
        let rows = table.rowCount
        if let bad = table.columns.first(where: { $0.data.count != rows }) {
            throw BundleError(code: .shape, message: "column \(bad.name) has \(bad.data.count) rows, column \(names[0]) has \(rows)",
                              path: path, file: filePath)
        }
        if let required = TableSchema.spec(for: path) {
            for (i, column) in required.columns.enumerated() {
                guard i < table.columns.count, table.columns[i].name == column.name else {
                    throw BundleError(code: .shape, message: "column \(i) must be \(column.name) (required columns: "
                                      + required.columns.map(\.name).joined(separator: ", ") + ")", path: path, file: filePath)
                }
                guard table.columns[i].data.dtype == column.dtype else {
                    throw BundleError(code: .shape, message: "column \(column.name) must be \(column.dtype), got "
                                      + table.columns[i].data.dtype, path: path, file: filePath)
                }
            }
        }

        var digests: [DatasetDigest] = []
        do {
            let group = try file.createGroup(path)
            try group.setAttribute("columns", names)
            try group.setAttribute(BundleLayout.scopeAttribute, table.scope.rawValue)
            try group.close()
            for column in table.columns {
                let columnPath = path + "/" + column.name
                digests.append(try writeColumn(columnPath, column.data))
                if let target = column.references {
                    try file.setAttribute(BundleLayout.referencesAttribute, target, on: columnPath)
                }
            }
        } catch {
            throw BundleError(error, file: filePath)
        }
        tableDigests += digests
        tablesWritten.append(path)
    }

    /// Writes a per-tile ragged group (`/boxes`, `/points`, `/polygons`, `/image_labels` or any
    /// other new top-level group): its `offsets` (N + 1 entries from 0, non-decreasing) and its
    /// flat datasets, chunked and checksummed like table columns.
    public mutating func writeRagged(_ group: RaggedGroup) throws(BundleError) {
        let filePath = self.filePath
        let path = group.path
        guard path.hasPrefix("/"), path.count > 1, !path.dropFirst().contains("/"),
              ![BundleLayout.images, "/masks", BundleLayout.manifest].contains(path), !tablesWritten.contains(path) else {
            throw BundleError(code: .state, message: "a ragged group must be a new top-level group such as /boxes", path: path,
                              file: filePath)
        }
        guard group.offsets.count == spec.tileCount + 1, group.offsets.first == 0,
              zip(group.offsets, group.offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw BundleError(code: .shape, message: "offsets must hold \(spec.tileCount + 1) non-decreasing entries from 0 "
                              + "(got \(group.offsets.count))", path: path + "/" + BundleLayout.offsets, file: filePath)
        }
        let names = group.datasets.map(\.name)
        guard Set(names).count == names.count, !names.contains(BundleLayout.offsets),
              !names.contains(where: { $0.isEmpty || $0.contains("/") }) else {
            throw BundleError(code: .shape, message: "dataset names \(names) must be distinct, not 'offsets' and without '/'",
                              path: path, file: filePath)
        }
        if let bad = group.datasets.first(where: { $0.shape.isEmpty || $0.shape.reduce(1, *) != $0.values.count }) {
            throw BundleError(code: .shape, message: "\(bad.values.count) values do not fill the shape \(bad.shape)",
                              path: path + "/" + bad.name, file: filePath)
        }
        var digests: [DatasetDigest] = []
        do {
            try file.createGroup(path).close()
            digests.append(try writeNumeric(path + "/" + BundleLayout.offsets, group.offsets, shape: [group.offsets.count],
                                            dtype: "int64"))
            for d in group.datasets {
                let datasetPath = path + "/" + d.name
                switch d.values {
                case .int32(let v): digests.append(try writeNumeric(datasetPath, v, shape: d.shape, dtype: d.values.dtype))
                case .int64(let v): digests.append(try writeNumeric(datasetPath, v, shape: d.shape, dtype: d.values.dtype))
                case .float32(let v): digests.append(try writeNumeric(datasetPath, v, shape: d.shape, dtype: d.values.dtype))
                }
            }
        } catch {
            throw BundleError(error, file: filePath)
        }
        tableDigests += digests
        tablesWritten.append(path)
    }

    /// Writes a plain group (not a table: no `columns` attribute) of 1-D numeric datasets whose
    /// lengths may differ, such as the `/stitch` blending windows; stored like table columns.
    /// `scope` `.bundle` marks a group equal in every shard of one export, which a merge writes
    /// once (bundle format §13.3).
    public mutating func writeArrays(group path: String, _ arrays: [Column], scope: TableScope? = nil) throws(BundleError) {
        let filePath = self.filePath
        guard path.hasPrefix("/"), path.count > 1, !path.dropFirst().contains("/"), !tablesWritten.contains(path),
              ![BundleLayout.images, "/masks", BundleLayout.manifest].contains(path) else {
            throw BundleError(code: .state, message: "arrays need a new top-level group", path: path, file: filePath)
        }
        if let bad = arrays.first(where: { $0.name.isEmpty || $0.name.contains("/") || $0.data.dtype == "string" }) {
            throw BundleError(code: .shape, message: "invalid array \"\(bad.name)\" (numeric, named without /)", path: path,
                              file: filePath)
        }
        var digests: [DatasetDigest] = []
        do {
            let group = try file.createGroup(path)
            if let scope { try group.setAttribute(BundleLayout.scopeAttribute, scope.rawValue) }
            try group.close()
            for array in arrays { digests.append(try writeColumn(path + "/" + array.name, array.data)) }
        } catch {
            throw BundleError(error, file: filePath)
        }
        tableDigests += digests
        tablesWritten.append(path)
    }

    /// One 1-D dataset and its digest, stored as `TableSchema.columnLayout` says (the merge
    /// writes record data through the same function, so a merged bundle stores it alike).
    private func writeColumn(_ columnPath: String, _ data: ColumnData) throws(HDF5Error) -> DatasetDigest {
        let rows = data.count
        switch data {
        case .int32(let v): return try writeNumeric(columnPath, v, shape: [rows], dtype: data.dtype)
        case .int64(let v): return try writeNumeric(columnPath, v, shape: [rows], dtype: data.dtype)
        case .float64(let v): return try writeNumeric(columnPath, v, shape: [rows], dtype: data.dtype)
        case .string(let v):
            let ds = try file.createStringDataset(columnPath, shape: [rows],
                                                  layout: TableSchema.columnLayout(rows: rows, dtype: data.dtype,
                                                                                   deflateLevel: spec.deflateLevel))
            var hasher = CanonicalHasher()
            try ds.writeStrings(v); hasher.append(v); try ds.close()
            return DatasetDigest(path: columnPath, dtype: data.dtype, shape: [rows], sha256: hasher.finalize())
        }
    }

    /// One numeric dataset of any rank (rows first) and its digest, checksummed and compressed
    /// like the images, chunked by rows like table columns (unlimited when it has no rows).
    private func writeNumeric<T: HDF5Scalar>(_ datasetPath: String, _ values: [T], shape: [Int], dtype: String)
        throws(HDF5Error) -> DatasetDigest {
        let layout = TableSchema.columnLayout(rows: shape[0], dtype: dtype, deflateLevel: spec.deflateLevel,
                                              rowShape: Array(shape.dropFirst()))
        let ds = try file.createDataset(datasetPath, of: T.self, shape: shape, layout: layout)
        try ds.write(values)
        try ds.close()
        var hasher = CanonicalHasher()
        hasher.append(values)
        return DatasetDigest(path: datasetPath, dtype: dtype, shape: shape, sha256: hasher.finalize())
    }

    /// Completes the bundle: computes the dataset digests and content hash, stores them in the
    /// manifest, writes `/manifest` and the root attributes, and closes the file (reporting a
    /// failed flush). Returns the completed manifest, which is what `/manifest` holds.
    ///
    /// Requires all N tiles and the `/tiles`, `/classes` and `/sources` tables.
    public consuming func finish(manifest: Manifest) throws(BundleError) -> Manifest {
        let filePath = self.filePath
        guard appended == spec.tileCount else {
            throw BundleError(code: .state, message: "only \(appended) of \(spec.tileCount) tiles were appended",
                              path: BundleLayout.images, file: filePath)
        }
        for required in TableSchema.tables where !tablesWritten.contains(required.path) {
            throw BundleError(code: .state, message: "required table was not written", path: required.path, file: filePath)
        }
        let declared = [(spec.objects.boxes, BundleLayout.boxes), (spec.objects.points, BundleLayout.points),
                        (spec.objects.polygons, BundleLayout.polygons), (spec.imageLabels, BundleLayout.imageLabels)]
        for (wanted, group) in declared where wanted && !tablesWritten.contains(group) {
            throw BundleError(code: .state, message: "the bundle declares this group but it was not written", path: group,
                              file: filePath)
        }
        let n = spec.tileCount, h = spec.tileHeight, w = spec.tileWidth
        var digests = [DatasetDigest(path: BundleLayout.images, dtype: spec.pixelType.dtype,
                                     shape: [n, spec.channels, h, w], sha256: imageHasher.finalize())]
        if spec.instanceMasks {
            digests.append(DatasetDigest(path: BundleLayout.instanceMasks, dtype: "uint32", shape: [n, h, w],
                                         sha256: instanceHasher.finalize()))
        }
        if spec.semanticMasks {
            digests.append(DatasetDigest(path: BundleLayout.semanticMasks, dtype: "uint16", shape: [n, h, w],
                                         sha256: semanticHasher.finalize()))
        }
        digests += tableDigests
        let completed = try Self.complete(manifest, digests: digests, in: file, filePath: filePath)
        // Close the datasets before the file: the file's close flushes, and a dataset left
        // open would keep it open past this call.
        let ownedImages = self.images
        let ownedInstance = self.instanceMasks
        let ownedSemantic = self.semanticMasks
        let ownedFile = self.file
        do {
            try ownedImages.close()
            if case .some(let masks) = consume ownedInstance { try masks.close() }
            if case .some(let masks) = consume ownedSemantic { try masks.close() }
            try ownedFile.close()
        } catch {
            throw BundleError(error, file: filePath)
        }
        return completed
    }

    /// Stores `digests` and the content hash in `manifest`, writes it as `/manifest` and writes
    /// the root attributes, last, marking the file complete (bundle format §3). Returns the
    /// completed manifest.
    static func complete(_ manifest: Manifest, digests: [DatasetDigest], in file: borrowing File,
                         filePath: String) throws(BundleError) -> Manifest {
        var completed = manifest
        completed.datasets = ContentHash.sortedByPath(digests)
        completed.contentHash = ContentHash.combine(digests)
        let text: String
        do {
            text = String(decoding: try completed.jsonData(), as: UTF8.self)
        } catch {
            throw BundleError(code: .manifest, message: "cannot encode the manifest: \(error)", path: BundleLayout.manifest,
                              file: filePath)
        }
        do {
            let ds = try file.createStringDataset(BundleLayout.manifest, shape: [])
            try ds.writeString(text)
            try ds.close()
            try file.setAttribute(BundleLayout.formatAttribute, BundleLayout.formatName)
            try file.setAttribute(BundleLayout.formatVersionAttribute, BundleLayout.formatVersion)
            try file.setAttribute(BundleLayout.contentHashAttribute, completed.contentHash)
            try file.setAttribute(BundleLayout.manifestSHA256Attribute, lowercaseHex(SHA256.hash(data: Data(text.utf8))))
        } catch {
            throw BundleError(error, file: filePath)
        }
        return completed
    }
}

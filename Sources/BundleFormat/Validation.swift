import Crypto
import Foundation
import SampleLinking
import HDF5
import Raster

/// One validation run. Each check appends to `report.checks` what it looked at and to
/// `report.problems` one line per finding, starting with the object it concerns.
struct Validation {
    let path: String
    /// nil for the full check; for a file this process has just written, its writer's spot
    /// checks (see `BundleValidator.validateWritten`).
    let spotChecks: [SpotCheck]?
    var report = ValidationReport()

    /// At most this many offending rows are listed per table check; the count is always given.
    static let maxListed = 5

    /// The shard-file mappings of virtual tile arrays (bundle format §13.2), checked against
    /// the manifest's merge member.
    private var virtualSources: [(dataset: String, file: String, rows: Range<Int>)] = []
    /// Virtual datasets with a missing source file: not hashed, as they would read as zeros.
    private var unreadable: Set<String> = []

    init(path: String, spotChecks: [SpotCheck]? = nil) {
        self.path = path
        self.spotChecks = spotChecks
    }

    /// Problems quote values read from the file (paths, names, attribute text), which a damaged or
    /// hostile file can fill with line breaks; control characters are escaped so that every
    /// problem stays one line.
    mutating func problem(_ text: String) {
        let escaped = text.unicodeScalars.map { scalar -> String in
            switch scalar {
            case "\n": "\\n"
            case "\r": "\\r"
            case "\t": "\\t"
            default: scalar.properties.generalCategory == .control ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            }
        }.joined()
        report.problems.append(escaped)
    }
    mutating func checked(_ text: String) { report.checks.append(text) }

    /// The shape of `/images`, once it passed its checks.
    struct ImageShape {
        var n: Int
        var c: Int
        var h: Int
        var w: Int
        var dtype: String
        var channelNames: [String]
    }

    mutating func run() {
        let file: File
        do {
            file = try File(opening: path)
        } catch {
            problem("cannot open the file: \(error.message)" + (error.stack.last.map { " [HDF5: \($0)]" } ?? ""))
            return
        }
        let storedHash = checkRootAttributes(file)
        let shape = checkImages(file)
        if let shape {
            checkMask(file, BundleLayout.instanceMasks, dtype: "uint32", shape)
            checkMask(file, BundleLayout.semanticMasks, dtype: "uint16", shape)
        }
        var tables: [String: Table] = [:]
        for spec in TableSchema.tables {
            if let table = checkTableLayout(file, spec) { tables[spec.path] = table }
        }
        if let tiles = tables[BundleLayout.tiles], let classes = tables[BundleLayout.classes],
           let sources = tables[BundleLayout.sources] {
            checkTableContent(tiles: tiles, classes: classes, sources: sources, shape: shape)
            checkSplits(tiles: tiles, sources: sources)
            if hasObject(file, BundleLayout.grid), let grid = checkTableLayout(file, TableSchema.grid) {
                checkGrid(file, grid: grid, tiles: tiles, sources: sources)
            }
        }
        var objectRows: [String: Int] = [:]
        if let shape, case .int32(let ids)? = tables[BundleLayout.classes]?["id"] {
            objectRows = checkObjects(file, shape: shape, classIDs: Set(ids))
        }
        let digests: [DatasetDigest]?
        if let spotChecks {
            digests = writtenDigests(file, spotChecks)
        } else {
            digests = recomputeDigests(file)
        }
        if let digests {
            let recomputed = ContentHash.combine(digests)
            report.contentHash = recomputed
            checked(spotChecks == nil ? "content hash recomputed from every dataset"
                    : "content hash recombined from the tables' recomputed digests and the writer's image and mask digests")
            if let storedHash, storedHash != recomputed {
                problem("/@\(BundleLayout.contentHashAttribute): \(storedHash) differs from the hash recomputed from the data "
                        + "(\(recomputed)); the bundle's content was changed after it was written")
            }
        }
        if let manifest = readManifest(file) {
            checkManifest(manifest, storedHash: storedHash, digests: digests, shape: shape, tables: tables)
            checkObjectCounts(manifest, rows: objectRows)
        }
    }

    // MARK: Root attributes

    private mutating func checkRootAttributes(_ file: borrowing File) -> String? {
        checked("root attributes \(BundleLayout.formatAttribute), \(BundleLayout.formatVersionAttribute), "
                + BundleLayout.contentHashAttribute)
        if let format = stringAttribute(file, BundleLayout.formatAttribute), format != BundleLayout.formatName {
            problem("/@\(BundleLayout.formatAttribute): is \"\(format)\", expected \"\(BundleLayout.formatName)\"")
        }
        if let version = stringAttribute(file, BundleLayout.formatVersionAttribute), !FormatVersion.isSupported(version) {
            problem("/@\(BundleLayout.formatVersionAttribute): version \"\(version)\" is not supported (expected 1.x.y)")
        }
        guard let hash = stringAttribute(file, BundleLayout.contentHashAttribute) else { return nil }
        if !Self.isContentHash(hash) {
            problem("/@\(BundleLayout.contentHashAttribute): \"\(hash)\" is not \"sha256:\" followed by 64 lower-case hex digits")
        }
        return hash
    }

    static func isContentHash(_ s: String) -> Bool {
        guard s.hasPrefix("sha256:") else { return false }
        let digits = s.utf8.dropFirst(7)
        return digits.count == 64 && digits.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// A scalar string root attribute, or nil (with a problem) when missing or mistyped.
    private mutating func stringAttribute(_ file: borrowing File, _ name: String, on object: String = "/") -> String? {
        let label = object == "/" ? "/@\(name)" : "\(object)@\(name)"
        do {
            guard try file.hasAttribute(name, on: object) else {
                problem("\(label): required attribute is missing")
                return nil
            }
            let info = try file.attributeInfo(name, on: object)
            guard info.dtype == "string", info.shape.isEmpty else {
                problem("\(label): must be a scalar variable-length string, found \(info.dtype) \(info.shape)")
                return nil
            }
            return try file.stringAttribute(name, on: object)
        } catch {
            problem("\(label): cannot be read: \(error.message)")
            return nil
        }
    }

    // MARK: Images and masks

    /// Whether an optional object exists; a failure to tell is a problem of its own.
    mutating func hasObject(_ file: borrowing File, _ path: String) -> Bool {
        do {
            return try file.objectKind(at: path) != nil
        } catch {
            problem("\(path): cannot be looked up: \(error.message)")
            return false
        }
    }

    mutating func datasetInfo(_ file: borrowing File, _ path: String, required: Bool) -> HDF5DatasetInfo? {
        do {
            switch try file.objectKind(at: path) {
            case .dataset:
                return try file.openDataset(path).info()
            case nil:
                if required { problem("\(path): required dataset is missing") }
                return nil
            default:
                problem("\(path): must be a dataset")
                return nil
            }
        } catch {
            problem("\(path): cannot be opened: \(error.message)")
            return nil
        }
    }

    private mutating func checkStorage(_ file: borrowing File, _ info: HDF5DatasetInfo, chunks expected: [Int]) {
        if info.isVirtual {
            checkVirtual(info, chunks: expected)
        } else {
            checkStorage(info, chunks: expected)
        }
    }

    private mutating func checkStorage(_ info: HDF5DatasetInfo, chunks expected: [Int]) {
        if info.chunks != expected {
            problem("\(info.path): chunk shape is \(info.chunks.map { "\($0)" } ?? "none (contiguous)"), expected \(expected)")
        }
        checkFilters(info)
    }

    /// A merged bundle's tile array (bundle format §13.2): every mapping maps a whole shard
    /// dataset of the same path onto the next block of rows, from a file named relative to the
    /// bundle that exists and whose dataset is stored as §4 requires.
    private mutating func checkVirtual(_ info: HDF5DatasetInfo, chunks expected: [Int]) {
        checked("\(info.path): virtual over shard files; each mapping, shard file and shard dataset")
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let rowShape = Array(info.shape.dropFirst())
        var next = 0
        for (i, m) in (info.virtualMappings ?? []).enumerated() {
            let name = "\(m.sourceFile):\(m.sourceDataset)"
            guard let d = m.destination, d.start.dropFirst().allSatisfy({ $0 == 0 }), Array(d.count.dropFirst()) == rowShape,
                  d.start[0] == next, m.source == .whole([d.count[0]] + rowShape), m.sourceDataset == info.path,
                  !m.sourceFile.hasPrefix("/"), m.sourceFile != "." else {
                problem("\(info.path): virtual mapping \(i) (\(name)) must map a whole shard dataset of the same path, from a "
                        + "file named relative to the bundle, onto rows \(next)… (bundle format §13.2)")
                unreadable.insert(info.path)
                continue
            }
            let rows = next..<(next + d.count[0])
            next = rows.upperBound
            virtualSources.append((info.path, m.sourceFile, rows))
            let url = directory.appendingPathComponent(m.sourceFile).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                problem("\(info.path): rows \(rows.lowerBound)..<\(rows.upperBound) come from shard file \(m.sourceFile), which is "
                        + "missing (looked for \(url.path)); keep the shard files with the merged bundle, or merge with --copy")
                unreadable.insert(info.path)
                continue
            }
            do {
                let source = try File(opening: url.path).openDataset(info.path).info()
                if source.dtype != info.dtype || source.shape != [rows.count] + rowShape {
                    problem("\(name): is \(source.dtype) \(source.shape), the mapping expects \(info.dtype) \([rows.count] + rowShape)")
                }
                var labelled = source
                labelled.path = name
                checkStorage(labelled, chunks: expected)
            } catch {
                problem("\(name): cannot be opened: \(error.message)")
                unreadable.insert(info.path)
            }
        }
        if next != info.shape[0] {
            problem("\(info.path): rows \(next)..<\(info.shape[0]) are mapped to no shard file")
        }
    }

    mutating func checkFilters(_ info: HDF5DatasetInfo) {
        let hasDeflate = info.filters.contains { if case .deflate = $0 { true } else { false } }
        if !hasDeflate || !info.filters.contains(.fletcher32) {
            problem("\(info.path): filters are [\(info.filters.map(\.description).joined(separator: ", "))], "
                    + "they must include deflate and fletcher32")
        }
    }

    private mutating func checkImages(_ file: borrowing File) -> ImageShape? {
        checked("\(BundleLayout.images): dtype, rank, chunking, filters, axes and channel_names attributes")
        guard let info = datasetInfo(file, BundleLayout.images, required: true) else { return nil }
        guard info.shape.count == 4 else {
            problem("\(BundleLayout.images): must have 4 dimensions [N, C, H, W], has shape \(info.shape)")
            return nil
        }
        guard PixelType(dtype: info.dtype) != nil else {
            problem("\(BundleLayout.images): dtype is \(info.dtype), expected uint8, uint16 or float32")
            return nil
        }
        let (n, c, h, w) = (info.shape[0], info.shape[1], info.shape[2], info.shape[3])
        checkStorage(file, info, chunks: [1, c, h, w])
        if let axes = stringAttribute(file, "axes", on: BundleLayout.images), axes != "NCHW" {
            problem("\(BundleLayout.images)@axes: is \"\(axes)\", expected \"NCHW\"")
        }
        var names: [String] = []
        do {
            if try file.hasAttribute("channel_names", on: BundleLayout.images) {
                let attr = try file.attributeInfo("channel_names", on: BundleLayout.images)
                if attr.dtype != "string" || attr.shape.count != 1 {
                    problem("\(BundleLayout.images)@channel_names: must be a 1-D string array, found \(attr.dtype) \(attr.shape)")
                } else {
                    names = try file.stringArrayAttribute("channel_names", on: BundleLayout.images)
                    if names.count != c {
                        problem("\(BundleLayout.images)@channel_names: has \(names.count) names for \(c) channels")
                    }
                }
            } else {
                problem("\(BundleLayout.images)@channel_names: required attribute is missing")
            }
        } catch {
            problem("\(BundleLayout.images)@channel_names: cannot be read: \(error.message)")
        }
        return ImageShape(n: n, c: c, h: h, w: w, dtype: info.dtype, channelNames: names)
    }

    private mutating func checkMask(_ file: borrowing File, _ path: String, dtype: String, _ shape: ImageShape) {
        guard let info = datasetInfo(file, path, required: false) else { return }
        checked("\(path): dtype, shape, chunking and filters")
        if info.dtype != dtype { problem("\(path): dtype is \(info.dtype), expected \(dtype)") }
        if info.shape != [shape.n, shape.h, shape.w] {
            problem("\(path): shape is \(info.shape), expected [N, H, W] = \([shape.n, shape.h, shape.w])")
        }
        checkStorage(file, info, chunks: [1, shape.h, shape.w])
    }

    // MARK: Tables

    /// Checks a table's layout; returns its content when it can be read.
    private mutating func checkTableLayout(_ file: borrowing File, _ spec: TableSchema.Spec) -> Table? {
        let t = spec.path
        checked("\(t): columns attribute, required columns \(spec.columns.map(\.name).joined(separator: ", ")), "
                + "dtypes, equal lengths, chunking and filters")
        do {
            switch try file.objectKind(at: t) {
            case .group: break
            case nil: problem("\(t): required table (group) is missing"); return nil
            default: problem("\(t): must be a group"); return nil
            }
            guard try file.hasAttribute("columns", on: t) else {
                problem("\(t)@columns: required attribute is missing")
                return nil
            }
            let attr = try file.attributeInfo("columns", on: t)
            guard attr.dtype == "string", attr.shape.count == 1 else {
                problem("\(t)@columns: must be a 1-D string array, found \(attr.dtype) \(attr.shape)")
                return nil
            }
            let names = try file.stringArrayAttribute("columns", on: t)
            var ok = true
            for (i, column) in spec.columns.enumerated() where i >= names.count || names[i] != column.name {
                problem("\(t)@columns: column \(i) must be \(column.name), found "
                        + (i < names.count ? names[i] : "no column") + " (columns: \(names.joined(separator: ", ")))")
                ok = false
                break
            }
            let members = try file.members(of: t)
            for extra in members where !names.contains(extra) {
                problem("\(t)/\(extra): is not listed in \(t)@columns")
            }
            var length: Int? = nil
            for name in names {
                let columnPath = t + "/" + name
                guard let info = datasetInfo(file, columnPath, required: true) else { ok = false; continue }
                if info.shape.count != 1 {
                    problem("\(columnPath): must be 1-D, has shape \(info.shape)")
                    ok = false
                    continue
                }
                if let required = spec.columns.first(where: { $0.name == name }), info.dtype != required.dtype {
                    problem("\(columnPath): dtype is \(info.dtype), expected \(required.dtype)")
                    ok = false
                } else if !["int32", "int64", "float64", "string"].contains(info.dtype) {
                    problem("\(columnPath): dtype is \(info.dtype), expected int32, int64, float64 or string")
                    ok = false
                }
                if info.chunks == nil {
                    problem("\(columnPath): must be chunked")
                } else if info.dtype != "string" {
                    // Variable-length strings cannot carry Fletcher-32 (see the spec); the
                    // content hash covers them.
                    checkFilters(info)
                }
                if let length, info.shape[0] != length {
                    problem("\(columnPath): has \(info.shape[0]) rows, \(t)/\(names[0]) has \(length)")
                    ok = false
                }
                length = length ?? info.shape[0]
            }
            guard ok else { return nil }
            return try TableIO.read(file, t)
        } catch {
            problem("\(error.objectPath ?? t): cannot be read: \(error.message)")
            return nil
        }
    }

    mutating func listRows(_ path: String, _ rows: [Int], _ what: String) {
        guard !rows.isEmpty else { return }
        let shown = rows.prefix(Self.maxListed).map(String.init).joined(separator: ", ")
        let more = rows.count > Self.maxListed ? " and \(rows.count - Self.maxListed) more" : ""
        problem("\(path): \(rows.count) row(s) \(what) (rows \(shown)\(more))")
    }

    private mutating func checkTableContent(tiles: Table, classes: Table, sources: Table, shape: ImageShape?) {
        checked("/tiles, /classes, /sources: row counts, source references, labels, tile geometry")
        guard case .int32(let classIds)? = classes["id"], case .int32(let tileSource)? = tiles["source"],
              case .int64(let x)? = tiles["x"], case .int64(let y)? = tiles["y"],
              case .int32(let width)? = tiles["width"], case .int32(let height)? = tiles["height"],
              case .int32(let validWidth)? = tiles["valid_width"], case .int32(let validHeight)? = tiles["valid_height"],
              case .int32(let label)? = tiles["label"], case .int64(let sourceWidth)? = sources["width"],
              case .int64(let sourceHeight)? = sources["height"], case .int32(let sourceLabel)? = sources["label"]
        else { return }

        if let shape, tiles.rowCount != shape.n {
            problem("\(BundleLayout.tiles): has \(tiles.rowCount) rows, \(BundleLayout.images) has \(shape.n) tiles")
        }
        var seen = Set<Int32>()
        let duplicates = classIds.indices.filter { !seen.insert(classIds[$0]).inserted }
        listRows("/classes/id", duplicates, "repeat a class id")
        listRows("/classes/id", classIds.indices.filter { classIds[$0] < 0 }, "have a negative class id")
        let validLabels = Set(classIds)
        listRows("/tiles/label", label.indices.filter { label[$0] != -1 && !validLabels.contains(label[$0]) },
                 "have a label that is neither -1 nor an id in /classes/id")
        listRows("/sources/label", sourceLabel.indices.filter { sourceLabel[$0] != -1 && !validLabels.contains(sourceLabel[$0]) },
                 "have a label that is neither -1 nor an id in /classes/id")
        let sourceCount = sources.rowCount
        let badSource = tileSource.indices.filter { tileSource[$0] < 0 || Int(tileSource[$0]) >= sourceCount }
        listRows("/tiles/source", badSource, "refer to no row of /sources (0..<\(sourceCount))")

        if let shape {
            listRows("/tiles/width", width.indices.filter { Int(width[$0]) != shape.w }, "differ from the tile width \(shape.w)")
            listRows("/tiles/height", height.indices.filter { Int(height[$0]) != shape.h },
                     "differ from the tile height \(shape.h)")
        }
        var outside: [Int] = []
        var wrongValid: [Int] = []
        let unresolved = Set(badSource)
        for i in 0..<tiles.rowCount where !unresolved.contains(i) {
            let s = Int(tileSource[i])
            let (sw, sh) = (sourceWidth[s], sourceHeight[s])
            if x[i] < 0 || y[i] < 0 || x[i] >= sw || y[i] >= sh {
                outside.append(i)
                continue
            }
            // The valid part is the tile's intersection with its source image.
            let expectedW = min(Int64(width[i]), sw - x[i]), expectedH = min(Int64(height[i]), sh - y[i])
            if Int64(validWidth[i]) != expectedW || Int64(validHeight[i]) != expectedH || validWidth[i] <= 0
                || validHeight[i] <= 0 {
                wrongValid.append(i)
            }
        }
        listRows("/tiles/x", outside, "place the tile's top-left corner outside its source image")
        listRows("/tiles/valid_width", wrongValid,
                 "have valid_width/valid_height different from the tile's overlap with its source image")
    }

    /// Splits must not leak: no group (individual, patient, plate…) and no source image may
    /// have tiles in two splits (bundle format §5.4, specs/samples/v1.md §8.5).
    private mutating func checkSplits(tiles: Table, sources: Table) {
        guard case .string(let tileSplit)? = tiles["split"] else { return }
        checked("/tiles/split: no group and no source image in two splits")
        guard case .int32(let tileSource)? = tiles["source"], case .string(let paths)? = sources["path"],
              case .string(let groups)? = sources["group"] else {
            problem("\(BundleLayout.sources)/group: missing or not a string column, but /tiles/split exists")
            return
        }
        var members: [SplitMembership] = []
        for i in tileSplit.indices where !tileSplit[i].isEmpty {
            let s = Int(tileSource[i])
            guard paths.indices.contains(s) else { continue }
            members.append(SplitMembership(group: groups.indices.contains(s) ? groups[s] : "", source: paths[s], split: tileSplit[i]))
        }
        for message in LeakageAudit.audit(members).messages { problem("/tiles/split: \(message)") }
    }

    /// The tile grid (bundle format §5.6): one row per source, every tile at its grid cell,
    /// and the blending windows of the tile size.
    private mutating func checkGrid(_ file: borrowing File, grid: Table, tiles: Table, sources: Table) {
        checked("\(BundleLayout.grid): one row per source, tiles at their grid cells; \(BundleLayout.stitch) windows")
        guard grid.rowCount == sources.rowCount else {
            problem("\(BundleLayout.grid): has \(grid.rowCount) rows, \(BundleLayout.sources) has \(sources.rowCount)")
            return
        }
        guard case .int32(let rows)? = grid["rows"], case .int32(let columns)? = grid["columns"],
              case .int32(let tileWidth)? = grid["tile_width"], case .int32(let tileHeight)? = grid["tile_height"],
              case .int32(let strideX)? = grid["stride_x"], case .int32(let strideY)? = grid["stride_y"],
              case .int32(let overlapX)? = grid["overlap_x"], case .int32(let overlapY)? = grid["overlap_y"],
              case .int32(let tileSource)? = tiles["source"], case .int64(let x)? = tiles["x"], case .int64(let y)? = tiles["y"],
              case .int32(let width)? = tiles["width"], case .int32(let height)? = tiles["height"] else { return }
        guard case .int32(let gridRow)? = tiles["grid_row"], case .int32(let gridColumn)? = tiles["grid_column"] else {
            problem("\(BundleLayout.tiles): grid_row and grid_column (int32) are required with \(BundleLayout.grid)")
            return
        }
        listRows("\(BundleLayout.grid)/overlap_x", (0..<grid.rowCount).filter {
            overlapX[$0] != max(0, tileWidth[$0] - strideX[$0]) || overlapY[$0] != max(0, tileHeight[$0] - strideY[$0])
                || strideX[$0] < 1 || strideY[$0] < 1
        }, "have a stride below 1 or an overlap other than max(0, tile size − stride)")
        var misplaced: [Int] = []
        for i in 0..<tiles.rowCount {
            let s = Int(tileSource[i])
            guard (0..<grid.rowCount).contains(s) else { continue }
            let r = gridRow[i], c = gridColumn[i]
            if !(0..<rows[s]).contains(r) || !(0..<columns[s]).contains(c) || x[i] != Int64(c) * Int64(strideX[s])
                || y[i] != Int64(r) * Int64(strideY[s]) || width[i] != tileWidth[s] || height[i] != tileHeight[s] {
                misplaced.append(i)
            }
        }
        listRows("\(BundleLayout.tiles)/grid_row", misplaced,
                 "are not at their grid cell (x = grid_column · stride_x, y = grid_row · stride_y, size = the grid's tile size)")
        guard let w = tileWidth.first, let h = tileHeight.first else { return }
        for mode in ["crop", "average", "hann"] {
            for (axis, length) in [("x", Int(w)), ("y", Int(h))] {
                let path = "\(BundleLayout.stitch)/\(mode)_\(axis)"
                guard let info = datasetInfo(file, path, required: true) else { continue }
                if info.dtype != "float64" || info.shape != [length] {
                    problem("\(path): must be float64 of shape [\(length)], found \(info.dtype) \(info.shape)")
                }
            }
        }
    }

    // MARK: Data and manifest

    private mutating func recomputeDigests(_ file: borrowing File) -> [DatasetDigest]? {
        checked("every chunk of every dataset read (Fletcher-32 verified) and its SHA-256 recomputed")
        guard let paths = datasetPaths(file) else { return nil }
        var digests: [DatasetDigest] = []
        var complete = true
        for p in paths where p != BundleLayout.manifest {
            guard hashable(p) else {
                complete = false
                continue
            }
            if let d = digest(file, p) { digests.append(d) } else { complete = false }
        }
        return complete ? digests : nil
    }

    private mutating func datasetPaths(_ file: borrowing File) -> [String]? {
        do {
            return try DigestComputer.allDatasetPaths(file)
        } catch {
            problem("/: cannot list the datasets: \(error.message)")
            return nil
        }
    }

    /// The dataset's digest recomputed from its decoded data, or nil with a problem per
    /// unreadable block.
    private mutating func digest(_ file: borrowing File, _ p: String) -> DatasetDigest? {
        var failures: [DigestComputer.BlockFailure]? = []
        var result: DatasetDigest?
        do {
            result = try DigestComputer.digest(file, p, failures: &failures)
        } catch {
            problem("\(p): cannot be read: \(error.message)")
            return nil
        }
        for f in failures ?? [] {
            let isTile = Self.isTileDataset(p)
            let which = isTile && f.rows.count == 1 ? "tile \(f.rows.lowerBound)" : "rows \(f.rows)"
            let cause = f.error.stack.contains { $0.localizedCaseInsensitiveContains("fletcher32") }
                ? "Fletcher-32 checksum mismatch, the stored bytes are corrupted"
                : (f.error.stack.last ?? f.error.message)
            problem("\(p): \(which): cannot be read (\(cause))")
        }
        return result
    }

    /// False, with a problem, for a virtual dataset whose shard files are missing or unusable.
    private mutating func hashable(_ p: String) -> Bool {
        guard unreadable.contains(p) else { return true }
        problem("\(p): not hashed: some of its data is in shard files that are missing or unusable (above)")
        return false
    }

    static func isTileDataset(_ path: String) -> Bool { path == BundleLayout.images || path.hasPrefix("/masks/") }

    /// The check of a file this process has just written, which reads the stored bytes instead
    /// of inflating and hashing every tile again: tables are decoded and hashed in full; every
    /// image and mask chunk must exist with no filter skipped and its Fletcher-32 must match its
    /// stored bytes, while another thread computes the file's SHA-256;
    /// the writer's spot-checked tiles are decoded through HDF5's own filters and must match
    /// the writer's digests. The image and mask digests are then the manifest's, which the
    /// writer streamed from the decoded samples it compressed.
    private mutating func writtenDigests(_ file: borrowing File, _ spotChecks: [SpotCheck]) -> [DatasetDigest]? {
        checked("tables: every chunk read and its SHA-256 recomputed; images and masks: every chunk present with all "
                + "filters applied and its Fletcher-32 verified from the stored bytes, \(spotChecks.count) spot-checked "
                + "tile datasets decoded through HDF5's filters and compared with the writer's digests")
        guard let paths = datasetPaths(file) else { return nil }
        var digests: [DatasetDigest] = []
        var complete = true
        var tileDatasets: [(path: String, info: HDF5DatasetInfo)] = []
        for p in paths where p != BundleLayout.manifest {
            guard hashable(p) else {
                complete = false
                continue
            }
            if Self.isTileDataset(p) {
                do {
                    tileDatasets.append((p, try file.openDataset(p).info()))
                } catch {
                    problem("\(p): cannot be opened: \(error.message)")
                    complete = false
                }
            } else if let d = digest(file, p) {
                digests.append(d)
            } else {
                complete = false
            }
        }
        complete = verifyChunks(file, tileDatasets) && complete
        for check in spotChecks {
            do {
                let ds = try file.openDataset(check.path)
                guard try DigestComputer.digest(ds, rows: check.tile..<(check.tile + 1)) == check.sha256 else {
                    problem("\(check.path): tile \(check.tile): decodes to other data than the writer compressed")
                    complete = false
                    continue
                }
            } catch {
                problem("\(check.path): tile \(check.tile): cannot be read (\(error.stack.last ?? error.message))")
                complete = false
            }
        }
        let recorded: [String: DatasetDigest]
        do {
            let text = try file.openDataset(BundleLayout.manifest).readString()
            recorded = Dictionary(try Manifest.decode(Data(text.utf8)).datasets.map { ($0.path, $0) },
                                  uniquingKeysWith: { a, _ in a })
        } catch {
            // checkManifest reports why.
            return nil
        }
        for (p, info) in tileDatasets {
            guard let entry = recorded[p] else {
                problem("\(p): is not listed in \(BundleLayout.manifest) datasets")
                complete = false
                continue
            }
            guard entry.dtype == info.dtype, entry.shape == info.shape else {
                problem("\(p): manifest digest is for \(entry.dtype) \(entry.shape), the dataset is \(info.dtype) \(info.shape)")
                complete = false
                continue
            }
            digests.append(entry)
        }
        return complete ? digests : nil
    }

    /// Every chunk of every tile dataset: stored, with every filter applied and its Fletcher-32
    /// intact. The file's SHA-256 (for the Croissant metadata) is computed meanwhile by a
    /// thread of its own, reading the file front to back; both reads find a freshly written
    /// bundle in the page cache.
    private mutating func verifyChunks(_ file: borrowing File, _ datasets: [(path: String, info: HDF5DatasetInfo)]) -> Bool {
        let hashing = FileHashing(URL(fileURLWithPath: path))
        var ok = true
        for d in datasets {
            let ds: Dataset
            do {
                ds = try file.openDataset(d.path)
            } catch {
                problem("\(d.path): cannot be opened: \(error.message)")
                ok = false
                continue
            }
            var offset = [Int](repeating: 0, count: max(d.info.shape.count, 1))
            for tile in 0..<(d.info.shape.first ?? 0) {
                offset[0] = tile
                let chunk: RawChunk?
                do {
                    chunk = try ds.storedChunk(offset: offset)
                } catch {
                    // An I/O or library failure, not a verdict on this chunk: the rest of the
                    // dataset would most likely fail the same way, one line per tile.
                    problem("\(d.path): tile \(tile): its chunk cannot be read: \(error.message)")
                    ok = false
                    break
                }
                guard let chunk else {
                    problem("\(d.path): tile \(tile): its chunk was never written")
                    ok = false
                    continue
                }
                guard chunk.filterMask == 0 else {
                    problem("\(d.path): tile \(tile): stored with filters skipped (filter mask \(chunk.filterMask))")
                    ok = false
                    continue
                }
                if !chunk.bytes.withUnsafeBytes({ Fletcher32.verifies($0) }) {
                    problem("\(d.path): tile \(tile): cannot be read (Fletcher-32 checksum mismatch, the stored bytes "
                            + "are corrupted)")
                    ok = false
                }
            }
        }
        do {
            report.fileSHA256 = try hashing.digest()
        } catch {
            problem(error.message)
            ok = false
        }
        return ok
    }

    /// 1.1.0 and later bundles carry the manifest's SHA-256 as a root attribute; 1.0.0 ones did not.
    private mutating func checkManifestChecksum(_ file: borrowing File, _ text: String) {
        let name = BundleLayout.manifestSHA256Attribute
        let present: Bool
        do {
            present = try file.hasAttribute(name, on: "/")
        } catch {
            problem("/@\(name): cannot be read: \(error.message)")
            return
        }
        guard present else {
            let version = (try? file.stringAttribute(BundleLayout.formatVersionAttribute)) ?? ""
            if version.split(separator: ".").dropFirst().first.flatMap({ Int($0) }).map({ $0 >= 1 }) == true {
                problem("/@\(name): required since format 1.1.0, missing")
            }
            return
        }
        guard let stored = stringAttribute(file, name) else { return }
        let actual = lowercaseHex(SHA256.hash(data: Data(text.utf8)))
        if stored != actual {
            problem("\(BundleLayout.manifest): its text has SHA-256 \(actual), the root attribute \(name) says \(stored): "
                    + "the provenance record is damaged")
        }
    }

    /// `/manifest` decoded, or nil with a problem.
    private mutating func readManifest(_ file: borrowing File) -> Manifest? {
        checked("\(BundleLayout.manifest): parses, content hash and dataset digests agree with the data, counts agree with /tiles")
        let text: String
        do {
            guard try file.objectKind(at: BundleLayout.manifest) == .dataset else {
                problem("\(BundleLayout.manifest): required dataset is missing")
                return nil
            }
            let ds = try file.openDataset(BundleLayout.manifest)
            let info = try ds.info()
            guard info.dtype == "string", info.shape.isEmpty else {
                problem("\(BundleLayout.manifest): must be a scalar variable-length string, found \(info.dtype) \(info.shape)")
                return nil
            }
            text = try ds.readString()
        } catch {
            problem("\(BundleLayout.manifest): cannot be read: \(error.message)")
            return nil
        }
        checkManifestChecksum(file, text)
        do {
            return try Manifest.decode(Data(text.utf8))
        } catch {
            problem("\(BundleLayout.manifest): is not a valid manifest JSON document: \(error)")
            return nil
        }
    }

    private mutating func checkManifest(_ manifest: Manifest, storedHash: String?, digests: [DatasetDigest]?,
                                        shape: ImageShape?, tables: [String: Table]) {
        let m = BundleLayout.manifest
        if manifest.format.name != BundleLayout.formatName || !FormatVersion.isSupported(manifest.format.version) {
            problem("\(m): format is \(manifest.format.name) \(manifest.format.version), expected \(BundleLayout.formatName) 1.x.y")
        }
        if let storedHash, manifest.contentHash != storedHash {
            problem("\(m): content_hash \(manifest.contentHash) differs from the root attribute "
                    + "\(BundleLayout.contentHashAttribute) \(storedHash)")
        }
        if let recomputed = report.contentHash, manifest.contentHash != recomputed {
            problem("\(m): content_hash \(manifest.contentHash) differs from the hash recomputed from the data \(recomputed)")
        }
        if let digests {
            let listed = Dictionary(manifest.datasets.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            for d in digests {
                guard let entry = listed[d.path] else {
                    problem("\(d.path): is not listed in \(m) datasets")
                    continue
                }
                if entry != d {
                    problem("\(d.path): manifest digest (\(entry.dtype) \(entry.shape) sha256 \(entry.sha256)) differs from the "
                            + "data (\(d.dtype) \(d.shape) sha256 \(d.sha256))")
                }
            }
            let present = Set(digests.map(\.path))
            for entry in manifest.datasets where !present.contains(entry.path) {
                problem("\(entry.path): is listed in \(m) datasets but does not exist")
            }
            if manifest.datasets.count != listed.count {
                problem("\(m): datasets lists a path more than once")
            }
        }
        if let shape {
            if manifest.counts.tiles != shape.n {
                problem("\(m): counts.tiles is \(manifest.counts.tiles), \(BundleLayout.images) has \(shape.n) tiles")
            }
            if manifest.channels.pixelType.rawValue != shape.dtype {
                problem("\(m): channels.pixel_type is \(manifest.channels.pixelType.rawValue), \(BundleLayout.images) is \(shape.dtype)")
            }
            if !shape.channelNames.isEmpty, manifest.channels.names != shape.channelNames {
                problem("\(m): channels.names \(manifest.channels.names) differ from \(BundleLayout.images)@channel_names "
                        + "\(shape.channelNames)")
            }
            if manifest.tiling.tileWidth != shape.w || manifest.tiling.tileHeight != shape.h {
                problem("\(m): tiling is \(manifest.tiling.tileWidth)x\(manifest.tiling.tileHeight), tiles are \(shape.w)x\(shape.h)")
            }
        }
        checkMerge(manifest)
        if let sources = tables[BundleLayout.sources], manifest.counts.sources != sources.rowCount {
            problem("\(m): counts.sources is \(manifest.counts.sources), \(BundleLayout.sources) has \(sources.rowCount) rows")
        }
        guard case .int32(let labels)? = tables[BundleLayout.tiles]?["label"],
              case .int32(let ids)? = tables[BundleLayout.classes]?["id"],
              case .string(let names)? = tables[BundleLayout.classes]?["name"] else { return }
        let unlabeled = labels.filter { $0 == -1 }.count
        if manifest.counts.unlabeledTiles != unlabeled {
            problem("\(m): counts.unlabeled_tiles is \(manifest.counts.unlabeledTiles), /tiles/label has \(unlabeled) tiles with -1")
        }
        var tilesPerClass: [Int32: Int] = [:]
        for l in labels { tilesPerClass[l, default: 0] += 1 }
        var sourcesPerClass: [Int32: Int] = [:]
        if case .int32(let sourceLabels)? = tables[BundleLayout.sources]?["label"] {
            for l in sourceLabels { sourcesPerClass[l, default: 0] += 1 }
        }
        for (id, name) in zip(ids, names) {
            guard let entry = manifest.counts.perClass.first(where: { $0.id == Int(id) }) else {
                problem("\(m): counts.per_class has no entry for class \(id) (\(name))")
                continue
            }
            if entry.name != name {
                problem("\(m): counts.per_class names class \(id) \"\(entry.name)\", /classes/name says \"\(name)\"")
            }
            let tiles = tilesPerClass[id] ?? 0
            if entry.tiles != tiles {
                problem("\(m): counts.per_class gives class \(id) (\(name)) \(entry.tiles) tiles, /tiles/label has \(tiles)")
            }
            let sourceCount = sourcesPerClass[id] ?? 0
            if entry.sources != sourceCount {
                problem("\(m): counts.per_class gives class \(id) (\(name)) \(entry.sources) images, /sources/label has \(sourceCount)")
            }
        }
        let known = Set(ids.map { Int($0) })
        for entry in manifest.counts.perClass where !known.contains(entry.id) {
            problem("\(m): counts.per_class lists class \(entry.id) (\(entry.name)) which is not in /classes")
        }
    }

    /// A merged bundle's `merge` member against its layout (bundle format §13.2): the shards in
    /// order and contiguous, adding up to the bundle's counts; with the virtual layout, every
    /// mapping reads one listed shard's rows from a file with that shard's content hash.
    private mutating func checkMerge(_ manifest: Manifest) {
        let m = BundleLayout.manifest
        guard let merge = manifest.merge else {
            if let first = virtualSources.first {
                problem("\(first.dataset): is virtual, but \(m) has no merge member; only merged bundles may be virtual")
            }
            return
        }
        checked("\(m) merge: shards in order, contiguous, adding up to the counts; virtual mappings against the shard files")
        var tile = 0, source = 0
        for (i, part) in merge.shards.enumerated() {
            if part.index != i || part.firstTile != tile || part.firstSource != source {
                problem("\(m): merge.shards[\(i)] is shard \(part.index) at tile \(part.firstTile), source \(part.firstSource); "
                        + "expected shard \(i) at tile \(tile), source \(source)")
            }
            tile = part.firstTile + part.tiles
            source = part.firstSource + part.sources
        }
        if tile != manifest.counts.tiles || source != manifest.counts.sources {
            problem("\(m): merge.shards hold \(tile) tiles and \(source) sources, counts say \(manifest.counts.tiles) and "
                    + "\(manifest.counts.sources)")
        }
        if merge.layout != MergeLayout.virtual.rawValue {
            if let first = virtualSources.first {
                problem("\(first.dataset): is virtual, but \(m) says merge.layout is \(merge.layout)")
            }
            return
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        var compared: Set<String> = []
        for v in virtualSources {
            guard let part = merge.shards.first(where: { $0.file == v.file }) else {
                problem("\(v.dataset): shard file \(v.file) is not listed in \(m) merge.shards")
                continue
            }
            if v.rows != part.firstTile..<(part.firstTile + part.tiles) {
                problem("\(v.dataset): rows \(v.rows.lowerBound)..<\(v.rows.upperBound) come from \(v.file), which holds shard "
                        + "\(part.index)'s tiles \(part.firstTile)..<\(part.firstTile + part.tiles)")
            }
            let url = directory.appendingPathComponent(v.file).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path), compared.insert(v.file).inserted else { continue }
            do {
                let hash = try File(opening: url.path).stringAttribute(BundleLayout.contentHashAttribute)
                if hash != part.contentHash {
                    problem("\(v.file): content hash \(hash) differs from the \(part.contentHash) recorded for shard "
                            + "\(part.index) in \(m) merge.shards; the shard file was replaced after merging")
                }
            } catch {
                problem("\(v.file): cannot read its content hash: \(error.message)")
            }
        }
    }
}

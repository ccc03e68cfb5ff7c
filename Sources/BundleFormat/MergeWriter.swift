import Foundation
import HDF5

/// Writes a merged bundle from a checked shard set and its structure (bundle format §13.3).
struct MergeWriter {
    let parts: ShardSet
    let structure: Structure
    let layout: MergeLayout
    let directory: URL
    let output: URL

    func run(progress: (String) -> Void) throws(BundleError) -> Manifest {
        let files = parts.shards.map { DisplayPath.relative($0.url, from: directory) }
        let manifest = try parts.manifest(layout: layout, files: files)
        let outPath = output.path
        let shown = DisplayPath.of(output)
        let file: File
        do {
            file = try File(creating: outPath)
        } catch {
            throw BundleError(error, file: shown)
        }
        let first = parts.shards[0]
        do {
            let source = try File(opening: first.url.path)
            for group in structure.groups {
                try file.createGroup(group).close()
                try copyAttributes(from: source, to: file, on: group, except: [])
            }
        } catch {
            throw BundleError(error, file: shown)
        }
        var digests: [DatasetDigest] = []
        for (path, object) in structure.datasets {
            switch object.role {
            case .tiles:
                progress("reading \(path) of \(parts.shards.count) shards (\(parts.tiles) tiles)")
                digests.append(try tileArray(path, object, into: file, files: files))
            case .bundle: digests.append(try keptOnce(path, object, into: file))
            case .records(let group): digests.append(try records(path, object, group: group, into: file))
            }
            do {
                try copyAttributes(from: try File(opening: first.url.path), to: file, on: path, except: [])
            } catch {
                throw BundleError(error, file: shown)
            }
        }
        do {
            try copyAttributes(from: try File(opening: first.url.path), to: file, on: "/", except: [
                BundleLayout.formatAttribute, BundleLayout.formatVersionAttribute, BundleLayout.contentHashAttribute,
            ])
        } catch {
            throw BundleError(error, file: shown)
        }
        let completed = try BundleWriter.complete(manifest, digests: digests, in: file, filePath: shown)
        do {
            try file.close()
        } catch {
            throw BundleError(error, file: shown)
        }
        return completed
    }

    // MARK: Tile arrays

    /// `[tiles, …]` datasets: every shard's rows hashed (and checked against its manifest), then
    /// mapped virtually or copied chunk by chunk as stored.
    private func tileArray(_ path: String, _ object: Structure.Object, into file: borrowing File,
                           files: [String]) throws(BundleError) -> DatasetDigest {
        let shape = [parts.tiles] + object.info.shape.dropFirst()
        var merged = CanonicalHasher()
        for s in parts.shards {
            try readShard(s, path) { (ds, info) throws(BundleError) in
                var hashers = [merged, CanonicalHasher()]
                var failures: [DigestComputer.BlockFailure]? = []
                _ = try bundleIO(s.shown) { () throws(HDF5Error) in try DigestComputer.hash(ds, info, into: &hashers, failures: &failures) }
                if let failure = failures?.first {
                    let rows = failure.rows.count == 1 ? "tile \(failure.rows.lowerBound)" : "rows \(failure.rows)"
                    throw BundleError(code: .format, message: "\(s.label): \(rows) cannot be read "
                                      + "(\(failure.error.stack.last ?? failure.error.message)); re-export shard \(s.shard.index)",
                                      path: path, file: s.shown)
                }
                try checkDigest(s, path, info, hashers[1])
                merged = hashers[0]
            }
        }
        let shown = DisplayPath.of(output)
        try bundleIO(shown) { () throws(HDF5Error) in
            switch layout {
            case .virtual:
                let mappings = zip(parts.shards, files).filter { $0.0.manifest.counts.tiles > 0 }.map { s, name in
                    VirtualMapping(sourceFile: name, sourceDataset: path,
                                   destination: .rows(s.shard.firstTile..<(s.shard.firstTile + s.manifest.counts.tiles), of: shape),
                                   source: .whole([s.manifest.counts.tiles] + shape.dropFirst()))
                }
                try createDataset(file, path, dtype: object.info.dtype, shape: shape, layout: .contiguous, mappings: mappings).close()
            case .copy:
                try copyChunks(path, object, shape: shape, into: file)
            }
        }
        return DatasetDigest(path: path, dtype: object.info.dtype, shape: shape, sha256: merged.finalize())
    }

    private func copyChunks(_ path: String, _ object: Structure.Object, shape: [Int],
                            into file: borrowing File) throws(HDF5Error) {
        let info = object.info
        guard let chunks = info.chunks, chunks.first == 1 else {
            throw HDF5Error(code: .typeMismatch, message: "cannot copy: a tile array must be chunked one tile per chunk",
                            objectPath: path, file: parts.shards[0].shown)
        }
        let target = try createDataset(file, path, dtype: info.dtype, shape: shape,
                                       layout: try Self.layout(like: info, chunks: chunks, rows: shape[0]))
        for s in parts.shards {
            let source = try File(opening: s.url.path)
            let ds = try source.openDataset(path)
            let shardInfo = try ds.info()
            guard shardInfo.filters == info.filters else {
                throw HDF5Error(code: .typeMismatch, message: "cannot copy chunks as stored: the filters differ from shard 0's",
                                objectPath: path, file: s.shown)
            }
            // Row by row, one chunk per tile: listing the stored chunks by number instead would
            // make libhdf5 1.10 walk the chunk index from its start for each of them.
            var offset = [Int](repeating: 0, count: shardInfo.shape.count)
            for row in 0..<shardInfo.shape[0] {
                offset[0] = row
                guard let chunk = try ds.storedChunk(offset: offset) else { continue }
                offset[0] = row + s.shard.firstTile
                try target.writeRawChunk(chunk.bytes, offset: offset, filterMask: chunk.filterMask)
            }
        }
        try target.close()
    }

    // MARK: Record data

    /// A dataset that is the same in every shard (its digests were compared): shard 0's copy.
    private func keptOnce(_ path: String, _ object: Structure.Object, into file: borrowing File) throws(BundleError)
        -> DatasetDigest {
        let s = parts.shards[0]
        let values = try readShard(s, path) { (ds, info) throws(BundleError) -> Values in
            let read = try bundleIO(s.shown) { () throws(HDF5Error) in try Values.read(ds, dtype: info.dtype, rows: nil) }
            var hasher = CanonicalHasher()
            read.hash(into: &hasher)
            try checkDigest(s, path, info, hasher)
            return read
        }
        let info = object.info
        try bundleIO(DisplayPath.of(output)) { () throws(HDF5Error) in
            let layout = try info.chunks.map { (chunks) throws(HDF5Error) in
                try Self.layout(like: info, chunks: chunks, rows: info.shape.first ?? 0)
            } ?? .contiguous
            let ds = try createDataset(file, path, dtype: info.dtype, shape: info.shape, layout: layout)
            try values.write(to: ds, scalar: info.shape.isEmpty)
            try ds.close()
        }
        return s.digests[path]!
    }

    /// Rows of a record group: concatenated in shard order, `references` columns shifted by the
    /// rows the referenced table has in earlier shards, ragged `offsets` rebased.
    private func records(_ path: String, _ object: Structure.Object, group: String,
                         into file: borrowing File) throws(BundleError) -> DatasetDigest {
        let isOffsets = path.split(separator: "/").last.map(String.init) == BundleLayout.offsets
        if isOffsets && object.info.shape.count != 1 {
            throw BundleError(code: .format, message: "a ragged offsets dataset must be 1-D (bundle format §13.3)", path: path,
                              file: parts.shards[0].shown)
        }
        if let target = object.references, structure.recordGroups[target] == nil {
            throw BundleError(code: .format, message: "its \(BundleLayout.referencesAttribute) attribute names \(target), "
                              + "which is not a table", path: path, file: parts.shards[0].shown)
        }
        let shifts = structure.recordGroups[object.references ?? ""] == false ? try rowOffsets(of: object.references!) : nil
        var pieces: [Values] = []
        var base = 0
        for (k, s) in parts.shards.enumerated() {
            try readShard(s, path) { (ds, info) throws(BundleError) in
                let values = try bundleIO(s.shown) { () throws(HDF5Error) in try Values.read(ds, dtype: info.dtype, rows: nil) }
                var hasher = CanonicalHasher()
                values.hash(into: &hasher)
                try checkDigest(s, path, info, hasher)
                if isOffsets {
                    guard let (rebased, last) = Self.rebaseOffsets(values, base: base, dropFirst: k > 0) else {
                        throw BundleError(code: .format, message: "\(s.label): a ragged offsets dataset must be integers that "
                                          + "start at 0 and never decrease", path: path, file: s.shown)
                    }
                    pieces.append(rebased)
                    base = last
                } else if let shifts {
                    guard let shifted = Self.shift(values, by: shifts[k]) else {
                        throw BundleError(code: .format, message: "\(s.label): row numbers in \(object.references!) do not fit "
                                          + "the column's integer type after merging", path: path, file: s.shown)
                    }
                    pieces.append(shifted)
                } else {
                    pieces.append(values)
                }
            }
        }
        let merged = Values.concatenation(pieces)
        let info = object.info
        let rowElements = info.shape.dropFirst().reduce(1, *)
        let shape = [merged.count / max(1, rowElements)] + info.shape.dropFirst()
        try bundleIO(DisplayPath.of(output)) { () throws(HDF5Error) in
            let layout = try Self.layout(like: info, chunks: [TableSchema.chunkRows(shape[0])] + shape.dropFirst(), rows: shape[0])
            let ds = try createDataset(file, path, dtype: info.dtype, shape: shape, layout: layout)
            try merged.write(to: ds, scalar: false)
            try ds.close()
        }
        var hasher = CanonicalHasher()
        merged.hash(into: &hasher)
        return DatasetDigest(path: path, dtype: info.dtype, shape: shape, sha256: hasher.finalize())
    }

    /// For each shard, the rows record group `group` has in the shards before it.
    private func rowOffsets(of group: String) throws(BundleError) -> [Int] {
        var offsets: [Int] = []
        var total = 0
        for s in parts.shards {
            offsets.append(total)
            let rows = try bundleIO(s.shown) { () throws(HDF5Error) in try structure.rows(of: group, in: try File(opening: s.url.path)) }
            guard let rows else {
                throw BundleError(code: .format, message: "has no columns, but other datasets reference its rows", path: group,
                                  file: s.shown)
            }
            total += rows
        }
        return offsets
    }

    /// Non-negative values plus `shift`; negative values mean "none" and stay. Nil on overflow or
    /// a non-integer column.
    static func shift(_ values: Values, by shift: Int) -> Values? {
        func shifted<T: FixedWidthInteger>(_ v: [T]) -> [T]? {
            var out = v
            for i in out.indices where out[i] >= 0 {
                guard let value = Int(exactly: out[i]), let moved = T(exactly: value + shift) else { return nil }
                out[i] = moved
            }
            return out
        }
        switch values {
        case .int32(let v): return shifted(v).map { .int32($0) }
        case .int64(let v): return shifted(v).map { .int64($0) }
        case .uint64(let v): return shifted(v).map { .uint64($0) }
        default: return nil
        }
    }

    /// One shard's ragged offsets moved up by `base` (the items of the shards before it), without
    /// its leading 0 after the first shard; also returns the new last offset. Nil unless the
    /// offsets are integers that start at 0 and never decrease.
    static func rebaseOffsets(_ values: Values, base: Int, dropFirst: Bool) -> (Values, Int)? {
        func rebased<T: FixedWidthInteger>(_ v: [T]) -> ([T], Int)? {
            guard v.first == 0, zip(v, v.dropFirst()).allSatisfy({ $0 <= $1 }) else { return nil }
            var out: [T] = []
            for value in v.dropFirst(dropFirst ? 1 : 0) {
                guard let int = Int(exactly: value), let moved = T(exactly: int + base) else { return nil }
                out.append(moved)
            }
            guard let last = Int(exactly: v.last!) else { return nil }
            return (out, last + base)
        }
        switch values {
        case .int32(let v): return rebased(v).map { (.int32($0.0), $0.1) }
        case .int64(let v): return rebased(v).map { (.int64($0.0), $0.1) }
        case .uint64(let v): return rebased(v).map { (.uint64($0.0), $0.1) }
        default: return nil
        }
    }

    // MARK: Helpers

    private func readShard<R>(_ s: ShardBundle, _ path: String,
                              _ body: (borrowing Dataset, HDF5DatasetInfo) throws(BundleError) -> R) throws(BundleError) -> R {
        let file = try bundleIO(s.shown) { () throws(HDF5Error) -> File in try File(opening: s.url.path) }
        let ds = try bundleIO(s.shown) { () throws(HDF5Error) -> Dataset in try file.openDataset(path) }
        let info = try bundleIO(s.shown) { () throws(HDF5Error) in try ds.info() }
        return try body(ds, info)
    }

    /// Compares what was read from a shard with the digest its own manifest recorded.
    private func checkDigest(_ s: ShardBundle, _ path: String, _ info: HDF5DatasetInfo, _ hasher: CanonicalHasher)
        throws(BundleError) {
        let digest = DatasetDigest(path: path, dtype: info.dtype, shape: info.shape, sha256: hasher.finalize())
        guard s.digests[path] == digest else {
            throw BundleError(code: .format, message: "\(s.label): its data differs from the digest in its own manifest (the "
                              + "file was changed after it was exported); re-export shard \(s.shard.index)", path: path,
                              file: s.shown)
        }
    }

    /// `info`'s filters on new chunk dimensions, unlimited along dimension 0 when empty.
    private static func layout(like info: HDF5DatasetInfo, chunks: [Int], rows: Int) throws(HDF5Error) -> DatasetLayout {
        var layout = DatasetLayout.chunked(chunks, unlimitedFirstDimension: rows == 0)
        for filter in info.filters {
            switch filter {
            case .shuffle: layout.shuffle = true
            case .deflate(let level): layout.deflateLevel = level
            case .fletcher32: layout.fletcher32 = true
            case .other(let id, let name):
                throw HDF5Error(code: .typeMismatch, message: "filter \(name) (#\(id)) cannot be written by trainset",
                                objectPath: info.path)
            }
        }
        return layout
    }
}

/// A new dataset of dtype name `dtype`: virtual over `mappings` when given (numeric only: HDF5
/// maps no variable-length strings), else stored with `layout`.
private func createDataset(_ file: borrowing File, _ path: String, dtype: String, shape: [Int], layout: DatasetLayout,
                           mappings: [VirtualMapping]? = nil) throws(HDF5Error) -> Dataset {
    func make<T: HDF5Scalar>(_ type: T.Type, _ file: borrowing File) throws(HDF5Error) -> Dataset {
        if let mappings { return try file.createVirtualDataset(path, of: type, shape: shape, mappings: mappings) }
        return try file.createDataset(path, of: type, shape: shape, layout: layout)
    }
    switch dtype {
    case "uint8": return try make(UInt8.self, file)
    case "uint16": return try make(UInt16.self, file)
    case "uint32": return try make(UInt32.self, file)
    case "uint64": return try make(UInt64.self, file)
    case "int32": return try make(Int32.self, file)
    case "int64": return try make(Int64.self, file)
    case "float32": return try make(Float.self, file)
    case "float64": return try make(Double.self, file)
    case "string" where mappings == nil: return try file.createStringDataset(path, shape: shape, layout: layout)
    case "string": throw HDF5Error(code: .typeMismatch, message: "a string tile array cannot be virtual; merge with --copy", objectPath: path)
    default: throw HDF5Error(code: .typeMismatch, message: "dtype \(dtype) is not one of the bundle format's types", objectPath: path)
    }
}

/// Copies every attribute of the object at `path` except `except`, keeping its type and shape.
func copyAttributes(from source: borrowing File, to target: borrowing File, on path: String,
                    except: Set<String>) throws(HDF5Error) {
    for name in try source.attributeNames(on: path) where !except.contains(name) {
        let (dtype, shape) = try source.attributeInfo(name, on: path)
        let scalar = shape.isEmpty
        func numeric<T: HDF5Scalar>(_ type: T.Type) throws(HDF5Error) {
            let values = try source.arrayAttribute(name, as: type, on: path)
            if scalar { try target.setAttribute(name, values[0], on: path) } else { try target.setAttribute(name, values, on: path) }
        }
        switch dtype {
        case "string":
            let values = try source.stringArrayAttribute(name, on: path)
            if scalar { try target.setAttribute(name, values[0], on: path) } else { try target.setAttribute(name, values, on: path) }
        case "uint8": try numeric(UInt8.self)
        case "uint16": try numeric(UInt16.self)
        case "uint32": try numeric(UInt32.self)
        case "uint64": try numeric(UInt64.self)
        case "int32": try numeric(Int32.self)
        case "int64": try numeric(Int64.self)
        case "float32": try numeric(Float.self)
        case "float64": try numeric(Double.self)
        default:
            throw HDF5Error(code: .typeMismatch, message: "attribute \(name) has type \(dtype), which trainset cannot copy",
                            objectPath: path, file: source.path)
        }
    }
}

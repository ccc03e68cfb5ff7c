import HDF5

/// Recomputing dataset digests from a file: shared by `BundleReader.datasetDigests()` and the
/// validator. Data is read one block of rows (along dimension 0) at a time, a block being one
/// chunk for images and masks and one chunk of rows for table columns, so memory stays bounded
/// by the chunk size whatever the bundle's size.
enum DigestComputer {
    /// Paths of every dataset in the file, depth first, sorted by UTF-8 bytes.
    static func allDatasetPaths(_ file: borrowing File) throws(HDF5Error) -> [String] {
        var out: [String] = []
        try collect(file, "/", into: &out)
        return out.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func collect(_ file: borrowing File, _ group: String, into out: inout [String]) throws(HDF5Error) {
        for name in try file.members(of: group) {
            let path = group == "/" ? "/" + name : group + "/" + name
            switch try file.objectKind(at: path) {
            case .group: try collect(file, path, into: &out)
            case .dataset: out.append(path)
            default: break
            }
        }
    }

    /// A read failure inside one block of rows.
    struct BlockFailure {
        var path: String
        var rows: Range<Int>
        var error: HDF5Error
    }

    /// Digest of the dataset at `path`. When `failures` is nil a block that cannot be read
    /// throws; otherwise the failure is recorded, the remaining blocks are still read (so every
    /// bad chunk is reported) and the result is nil.
    static func digest(_ file: borrowing File, _ path: String,
                       failures: inout [BlockFailure]?) throws(HDF5Error) -> DatasetDigest? {
        let ds = try file.openDataset(path)
        let info = try ds.info()
        var hashers = [CanonicalHasher()]
        let ok = try hash(ds, info, into: &hashers, failures: &failures)
        return ok ? DatasetDigest(path: path, dtype: info.dtype, shape: info.shape, sha256: hashers[0].finalize()) : nil
    }

    /// Feeds the canonical bytes of `ds` to every hasher, one block of rows at a time. Returns
    /// false when a block could not be read and `failures` collects it (see `digest`).
    static func hash(_ ds: borrowing Dataset, _ info: HDF5DatasetInfo, into hashers: inout [CanonicalHasher],
                     failures: inout [BlockFailure]?) throws(HDF5Error) -> Bool {
        guard TableSchema.dtypes.contains(info.dtype) else {
            throw HDF5Error(code: .typeMismatch, message: "dtype \(info.dtype) is not one of the bundle format's types",
                            objectPath: info.path)
        }
        // Every chunk of a bundle is written. A damaged header can claim an extent of 2^53 rows
        // over a handful of stored chunks; reading that would never end, so refuse it first.
        // A virtual dataset has no chunks of its own (chunkCount is nil); its sources are
        // datasets of the shard files, which were checked like this when they were validated.
        if let needed = info.chunkCount {
            let stored = try ds.storedChunkCount()
            guard stored >= needed else {
                throw HDF5Error(code: .readFailed, message: "only \(stored) of the \(needed) chunks its shape "
                                + "\(info.shape) needs are stored; the dataset is damaged or incomplete", objectPath: info.path,
                                file: ds.file)
            }
        }
        let rows = info.shape.first ?? 1
        let rowElements = info.shape.dropFirst().reduce(1, *)
        let block = blockRows(info.chunks, rowElements: rowElements)
        var ok = true
        var start = 0
        repeat {
            let range = start..<min(rows, start + block)
            do {
                let values = try Values.read(ds, dtype: info.dtype, rows: info.shape.isEmpty ? nil : range)
                for i in hashers.indices { values.hash(into: &hashers[i]) }
            } catch {
                guard failures != nil, error.code == .readFailed else { throw error }
                failures?.append(BlockFailure(path: info.path, rows: range, error: error))
                ok = false
            }
            start += block
        } while start < rows
        return ok
    }

    /// SHA-256 (hex) of the canonical bytes of rows `rows` of an open dataset.
    static func digest(_ ds: borrowing Dataset, rows: Range<Int>) throws(HDF5Error) -> String {
        var hasher = CanonicalHasher()
        try Values.read(ds, dtype: try ds.info().dtype, rows: rows).hash(into: &hasher)
        return hasher.finalize()
    }

    private static func blockRows(_ chunks: [Int]?, rowElements: Int) -> Int {
        if let first = chunks?.first, first > 0 { return first }
        // Contiguous or virtual data: about 4 Mi elements per read.
        return max(1, (4 << 20) / max(1, rowElements))
    }
}

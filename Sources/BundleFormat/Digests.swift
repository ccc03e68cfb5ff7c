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
        // Every chunk of a bundle is written. A damaged header can claim an extent of 2^53 rows
        // over a handful of stored chunks; reading that would never end, so refuse it first.
        if let needed = info.chunkCount {
            let stored = try ds.storedChunkCount()
            guard stored >= needed else {
                throw HDF5Error(code: .readFailed, message: "only \(stored) of the \(needed) chunks its shape "
                                + "\(info.shape) needs are stored; the dataset is damaged or incomplete", objectPath: path,
                                file: file.path)
            }
        }
        let rows = info.shape.first ?? 1
        let rowElements = info.shape.dropFirst().reduce(1, *)
        let block = blockRows(info.chunks, rowElements: rowElements)
        var hasher = CanonicalHasher()
        var ok = true
        var start = 0
        repeat {
            let range = start..<min(rows, start + block)
            do {
                if info.shape.isEmpty {
                    try hashWhole(ds, info.dtype, path, &hasher)
                } else {
                    try hashRows(ds, info.dtype, path, range, &hasher)
                }
            } catch {
                guard failures != nil, error.code == .readFailed else { throw error }
                failures?.append(BlockFailure(path: path, rows: range, error: error))
                ok = false
            }
            start += block
        } while start < rows
        return ok ? DatasetDigest(path: path, dtype: info.dtype, shape: info.shape, sha256: hasher.finalize()) : nil
    }

    /// SHA-256 (hex) of the canonical bytes of rows `rows` of an open dataset.
    static func digest(_ ds: borrowing Dataset, rows: Range<Int>) throws(HDF5Error) -> String {
        var hasher = CanonicalHasher()
        try hashRows(ds, try ds.info().dtype, ds.path, rows, &hasher)
        return hasher.finalize()
    }

    private static func blockRows(_ chunks: [Int]?, rowElements: Int) -> Int {
        if let first = chunks?.first, first > 0 { return first }
        // Contiguous data: about 4 Mi elements per read.
        return max(1, (4 << 20) / max(1, rowElements))
    }

    private static func hashRows(_ ds: borrowing Dataset, _ dtype: String, _ path: String, _ rows: Range<Int>,
                                 _ hasher: inout CanonicalHasher) throws(HDF5Error) {
        switch dtype {
        case "uint8": hasher.append(try ds.read(UInt8.self, rows: rows))
        case "uint16": hasher.append(try ds.read(UInt16.self, rows: rows))
        case "uint32": hasher.append(try ds.read(UInt32.self, rows: rows))
        case "int32": hasher.append(try ds.read(Int32.self, rows: rows))
        case "int64": hasher.append(try ds.read(Int64.self, rows: rows))
        case "float32": hasher.append(try ds.read(Float.self, rows: rows))
        case "float64": hasher.append(try ds.read(Double.self, rows: rows))
        case "string": hasher.append(try ds.readStrings(rows: rows))
        default: throw unsupported(dtype, path)
        }
    }

    private static func hashWhole(_ ds: borrowing Dataset, _ dtype: String, _ path: String,
                                  _ hasher: inout CanonicalHasher) throws(HDF5Error) {
        switch dtype {
        case "uint8": hasher.append(try ds.read(UInt8.self))
        case "uint16": hasher.append(try ds.read(UInt16.self))
        case "uint32": hasher.append(try ds.read(UInt32.self))
        case "int32": hasher.append(try ds.read(Int32.self))
        case "int64": hasher.append(try ds.read(Int64.self))
        case "float32": hasher.append(try ds.read(Float.self))
        case "float64": hasher.append(try ds.read(Double.self))
        case "string": hasher.append(try ds.readStrings())
        default: throw unsupported(dtype, path)
        }
    }

    private static func unsupported(_ dtype: String, _ path: String) -> HDF5Error {
        HDF5Error(code: .typeMismatch, message: "dtype \(dtype) is not one of the bundle format's types", objectPath: path)
    }
}

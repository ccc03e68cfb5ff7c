internal import CHDF5

/// An open dataset; the sole owner of its dataset id.
///
/// Reads check the stored element type against the requested Swift type and fail with
/// `.typeMismatch` instead of letting HDF5 convert silently.
public struct Dataset: ~Copyable {
    var id: hid_t
    /// Absolute path of the dataset.
    public let path: String
    /// Path of the file the dataset belongs to (for error messages).
    public let file: String

    init(id: hid_t, path: String, file: String) {
        self.id = id
        self.path = path
        self.file = file
    }

    deinit {
        if id >= 0 { locked { _ = H5Dclose(id) } }
    }

    /// Closes the dataset, reporting failure.
    public consuming func close() throws(HDF5Error) {
        let id = self.id
        self.id = -1
        let path = self.path, file = self.file
        try locked { () throws(HDF5Error) in
            guard H5Dclose(id) >= 0 else { throw libraryError(.closeFailed, "cannot close dataset", object: path, file: file) }
        }
    }

    var w: Where { Where(file: file, object: path) }

    // MARK: Metadata

    /// Element type, shape, chunk shape and filters.
    public func info() throws(HDF5Error) -> DatasetInfo {
        let w = self.w, id = self.id, path = self.path
        return try locked { () throws(HDF5Error) -> DatasetInfo in
            let dtype = try withObjectType({ H5Dget_type(id) }, w) { (t) throws(HDF5Error) in dtypeName(t) }
            let shape = try withObjectSpace({ H5Dget_space(id) }, w) { (s) throws(HDF5Error) in try spaceDims(s, w) }
            let dcpl = H5Dget_create_plist(id)
            guard dcpl >= 0 else { throw libraryError(.readFailed, "cannot read dataset storage", object: w.object, file: w.file) }
            defer { _ = H5Pclose(dcpl) }
            var chunks: [Int]? = nil
            let layout = H5Pget_layout(dcpl)
            if layout == H5D_CHUNKED {
                var dims = [hsize_t](repeating: 0, count: max(shape.count, 1))
                let rank = H5Pget_chunk(dcpl, Int32(dims.count), &dims)
                guard rank >= 0, dims.prefix(Int(rank)).allSatisfy({ $0 > 0 && Int(exactly: $0) != nil }) else {
                    throw libraryError(.readFailed, "cannot read chunk shape", object: w.object, file: w.file)
                }
                chunks = dims.prefix(Int(rank)).map { Int($0) }
            }
            var filters: [HDF5Filter] = []
            let n = H5Pget_nfilters(dcpl)
            guard n >= 0 else { throw libraryError(.readFailed, "cannot read filters", object: w.object, file: w.file) }
            for i in 0..<UInt32(n) {
                var flags: UInt32 = 0
                var count = 8
                var values = [UInt32](repeating: 0, count: 8)
                var name = [CChar](repeating: 0, count: 256)
                var config: UInt32 = 0
                let filter = H5Pget_filter2(dcpl, i, &flags, &count, &values, name.count, &name, &config)
                guard filter >= 0 else { throw libraryError(.readFailed, "cannot read filter \(i)", object: w.object, file: w.file) }
                switch filter {
                case H5Z_FILTER_SHUFFLE: filters.append(.shuffle)
                case H5Z_FILTER_DEFLATE: filters.append(.deflate(level: count > 0 ? Int(values[0]) : -1))
                case H5Z_FILTER_FLETCHER32: filters.append(.fletcher32)
                default: filters.append(.other(id: Int(filter), name: cString(name)))
                }
            }
            let mappings = layout == H5D_VIRTUAL ? try virtualMappings(dcpl, w) : nil
            return DatasetInfo(path: path, dtype: dtype, shape: shape, chunks: chunks, filters: filters,
                               virtualMappings: mappings)
        }
    }

    /// The dataset's current extent.
    public func shape() throws(HDF5Error) -> [Int] {
        let w = self.w, id = self.id
        return try locked { () throws(HDF5Error) -> [Int] in
            try withObjectSpace({ H5Dget_space(id) }, w) { (s) throws(HDF5Error) in try spaceDims(s, w) }
        }
    }

    private func storedDtype() throws(HDF5Error) -> String {
        let w = self.w, id = self.id
        return try withObjectType({ H5Dget_type(id) }, w) { (t) throws(HDF5Error) in dtypeName(t) }
    }

    private func requireType(_ expected: String) throws(HDF5Error) {
        let stored = try storedDtype()
        guard stored == expected else {
            throw wrapperError(.typeMismatch, "dataset holds \(stored), expected \(expected)", object: path, file: file)
        }
    }

    /// Runs `body(memorySpace, fileSpace, count)` for rows `rows` along dimension 0
    /// (everything when nil). Lock held.
    private func withSelection<R>(rows: Range<Int>?,
                                  _ body: (hid_t, hid_t, Int) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
        let w = self.w, id = self.id
        return try withObjectSpace({ H5Dget_space(id) }, w) { (fileSpace) throws(HDF5Error) -> R in
            let dims = try spaceDims(fileSpace, w)
            guard let rows else {
                return try body(chdf5_s_all(), chdf5_s_all(), try storedElementCount(dims, of: id, compressed: true, w))
            }
            guard !dims.isEmpty else {
                throw wrapperError(.shapeMismatch, "a scalar dataset has no rows", object: w.object, file: w.file)
            }
            guard rows.lowerBound >= 0, rows.upperBound <= dims[0] else {
                throw wrapperError(.shapeMismatch, "rows \(rows) are outside 0..<\(dims[0])", object: w.object, file: w.file)
            }
            var slabDims = dims
            slabDims[0] = rows.count
            let count = try storedElementCount(slabDims, of: id, compressed: true, w)
            if count == 0 { return try body(chdf5_s_all(), chdf5_s_all(), 0) }
            let start = [hsize_t(rows.lowerBound)] + [hsize_t](repeating: 0, count: dims.count - 1)
            let extent = slabDims.map { hsize_t($0) }
            guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, extent, nil) >= 0 else {
                throw libraryError(.libraryFailure, "cannot select rows \(rows)", object: w.object, file: w.file)
            }
            return try withSimpleSpace(slabDims, w) { (memorySpace) throws(HDF5Error) -> R in
                try body(memorySpace, fileSpace, count)
            }
        }
    }

    // MARK: Numeric data

    /// Writes the whole dataset from `values` in C (row-major) order.
    public func write<T: HDF5Scalar>(_ values: [T]) throws(HDF5Error) {
        try write(values, rows: nil)
    }

    /// Writes rows `rows` along dimension 0 (a hyperslab) from `values` in C order.
    public func write<T: HDF5Scalar>(_ values: [T], rows: Range<Int>) throws(HDF5Error) {
        try write(values, rows: Optional(rows))
    }

    /// Writes slab `index` along dimension 0, i.e. `[index, ...]`: one chunk when the chunk
    /// shape is `[1, ...]`.
    public func write<T: HDF5Scalar>(_ values: [T], slab index: Int) throws(HDF5Error) {
        try write(values, rows: index..<(index + 1))
    }

    private func write<T: HDF5Scalar>(_ values: [T], rows: Range<Int>?) throws(HDF5Error) {
        let w = self.w, id = self.id
        try locked { () throws(HDF5Error) in
            try requireType(T.hdf5Type.name)
            try withSelection(rows: rows) { (memorySpace, fileSpace, count) throws(HDF5Error) in
                guard values.count == count else {
                    throw wrapperError(.shapeMismatch, "\(values.count) values given for \(count) elements",
                                       object: w.object, file: w.file)
                }
                if count == 0 { return }
                let rc = values.withUnsafeBytes {
                    H5Dwrite(id, T.hdf5Type.nativeType(), memorySpace, fileSpace, chdf5_p_default(), $0.baseAddress)
                }
                guard rc >= 0 else { throw libraryError(.writeFailed, "cannot write data", object: w.object, file: w.file) }
            }
        }
    }

    /// Reads the whole dataset in C order.
    public func read<T: HDF5Scalar>(_ type: T.Type) throws(HDF5Error) -> [T] {
        try read(type, rows: nil)
    }

    /// Reads rows `rows` along dimension 0 in C order.
    public func read<T: HDF5Scalar>(_ type: T.Type, rows: Range<Int>) throws(HDF5Error) -> [T] {
        try read(type, rows: Optional(rows))
    }

    /// Reads slab `index` along dimension 0.
    public func read<T: HDF5Scalar>(_ type: T.Type, slab index: Int) throws(HDF5Error) -> [T] {
        try read(type, rows: index..<(index + 1))
    }

    private func read<T: HDF5Scalar>(_ type: T.Type, rows: Range<Int>?) throws(HDF5Error) -> [T] {
        let w = self.w, id = self.id
        return try locked { () throws(HDF5Error) -> [T] in
            try requireType(T.hdf5Type.name)
            return try withSelection(rows: rows) { (memorySpace, fileSpace, count) throws(HDF5Error) -> [T] in
                if count == 0 { return [] }
                var rc: herr_t = -1
                let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                    rc = H5Dread(id, T.hdf5Type.nativeType(), memorySpace, fileSpace, chdf5_p_default(), buffer.baseAddress)
                    initialized = rc >= 0 ? count : 0
                }
                guard rc >= 0 else {
                    let what = rows.map { "rows \($0)" } ?? "data"
                    throw libraryError(.readFailed, "cannot read \(what)", object: w.object, file: w.file)
                }
                return values
            }
        }
    }

    // MARK: Strings

    /// Writes all elements of a variable-length string dataset.
    public func writeStrings(_ values: [String]) throws(HDF5Error) {
        try writeStrings(values, rows: nil)
    }

    /// Writes rows `rows` of a 1-D variable-length string dataset.
    public func writeStrings(_ values: [String], rows: Range<Int>) throws(HDF5Error) {
        try writeStrings(values, rows: Optional(rows))
    }

    /// Writes a scalar variable-length string dataset.
    public func writeString(_ value: String) throws(HDF5Error) {
        try writeStrings([value], rows: nil)
    }

    private func writeStrings(_ values: [String], rows: Range<Int>?) throws(HDF5Error) {
        let w = self.w, id = self.id
        try locked { () throws(HDF5Error) in
            try requireType("string")
            try withSelection(rows: rows) { (memorySpace, fileSpace, count) throws(HDF5Error) in
                guard values.count == count else {
                    throw wrapperError(.shapeMismatch, "\(values.count) strings given for \(count) elements",
                                       object: w.object, file: w.file)
                }
                if count == 0 { return }
                try withVLStringType(w) { (type) throws(HDF5Error) in
                    try withCStrings(values, w) { (pointers) throws(HDF5Error) in
                        guard H5Dwrite(id, type, memorySpace, fileSpace, chdf5_p_default(), pointers) >= 0 else {
                            throw libraryError(.writeFailed, "cannot write strings", object: w.object, file: w.file)
                        }
                    }
                }
            }
        }
    }

    /// Reads all elements of a variable-length string dataset.
    public func readStrings() throws(HDF5Error) -> [String] {
        try readStrings(rows: nil)
    }

    /// Reads rows `rows` of a 1-D variable-length string dataset.
    public func readStrings(rows: Range<Int>) throws(HDF5Error) -> [String] {
        try readStrings(rows: Optional(rows))
    }

    /// Reads a scalar variable-length string dataset.
    public func readString() throws(HDF5Error) -> String {
        let values = try readStrings(rows: nil)
        guard values.count == 1 else {
            throw HDF5Error(code: .shapeMismatch, message: "expected one string, found \(values.count)", objectPath: path,
                            file: file)
        }
        return values[0]
    }

    private func readStrings(rows: Range<Int>?) throws(HDF5Error) -> [String] {
        let w = self.w, id = self.id
        return try locked { () throws(HDF5Error) -> [String] in
            try requireType("string")
            return try withSelection(rows: rows) { (memorySpace, fileSpace, count) throws(HDF5Error) -> [String] in
                if count == 0 { return [] }
                return try withVLStringType(w) { (type) throws(HDF5Error) -> [String] in
                    var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                    guard H5Dread(id, type, memorySpace, fileSpace, chdf5_p_default(), &pointers) >= 0 else {
                        throw libraryError(.readFailed, "cannot read strings", object: w.object, file: w.file)
                    }
                    let strings = decodeCStrings(pointers)
                    // The library allocated each string; reclaim needs a space describing the buffer.
                    try withSimpleSpace([count], w) { (bufferSpace) throws(HDF5Error) in
                        _ = H5Dvlen_reclaim(type, bufferSpace, chdf5_p_default(), &pointers)
                    }
                    return strings
                }
            }
        }
    }

    // MARK: Raw chunks

    /// Writes a chunk's stored bytes directly (already filtered: e.g. shuffled, deflated and
    /// checksummed exactly as the dataset's pipeline would). `offset` is the element offset of
    /// the chunk's first element; bit i of `filterMask` set means filter i was skipped.
    public func writeRawChunk(_ bytes: [UInt8], offset: [Int], filterMask: UInt32 = 0) throws(HDF5Error) {
        let w = self.w, id = self.id
        try locked { () throws(HDF5Error) in
            let coordinates = offset.map { hsize_t($0) }
            let rc = bytes.withUnsafeBytes {
                H5Dwrite_chunk(id, chdf5_p_default(), filterMask, coordinates, $0.count, $0.baseAddress)
            }
            guard rc >= 0 else {
                throw libraryError(.writeFailed, "cannot write raw chunk at \(offset)", object: w.object, file: w.file)
            }
        }
    }

    /// Reads a chunk's stored bytes (still filtered) at element offset `offset`; throws when
    /// no chunk is stored there.
    public func readRawChunk(offset: [Int]) throws(HDF5Error) -> RawChunk {
        guard let chunk = try storedChunk(offset: offset) else {
            throw HDF5Error(code: .readFailed, message: "no chunk is stored at \(offset)", objectPath: w.object, file: w.file)
        }
        return chunk
    }

    /// The stored bytes (still filtered) of the chunk at element offset `offset`, nil when it
    /// was never written. One lookup in the chunk index, where libhdf5 1.10's
    /// `H5Dget_chunk_info_by_coord` and `H5Dget_chunk_info` walk the index from its start on
    /// every call (quadratic over a bundle: 38 s for the 93 000 chunks of a 4 GB one).
    public func storedChunk(offset: [Int]) throws(HDF5Error) -> RawChunk? {
        let w = self.w, id = self.id
        return try locked { () throws(HDF5Error) -> RawChunk? in
            let coordinates = offset.map { hsize_t($0) }
            var size: hsize_t = 0
            guard H5Dget_chunk_storage_size(id, coordinates, &size) >= 0 else {
                let error = libraryError(.readFailed, "cannot size raw chunk at \(offset)", object: w.object, file: w.file)
                // How libhdf5 (1.10 to 1.14) says that no chunk is stored at this offset; the
                // other calls that could tell without an error scan the whole index.
                if error.stack.contains(where: { $0.contains("chunk storage is not allocated") }) { return nil }
                throw error
            }
            guard size > 0 else { return nil }
            var mask: UInt32 = 0
            var rc: herr_t = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, initialized in
                rc = H5Dread_chunk(id, chdf5_p_default(), coordinates, &mask, buffer.baseAddress)
                initialized = rc >= 0 ? buffer.count : 0
            }
            guard rc >= 0 else {
                throw libraryError(.readFailed, "cannot read raw chunk at \(offset)", object: w.object, file: w.file)
            }
            return RawChunk(bytes: bytes, filterMask: mask)
        }
    }

    /// Number of chunks actually stored (unwritten chunks are not allocated).
    public func storedChunkCount() throws(HDF5Error) -> Int {
        let w = self.w, id = self.id
        return try locked { () throws(HDF5Error) -> Int in
            try withObjectSpace({ H5Dget_space(id) }, w) { (space) throws(HDF5Error) -> Int in
                var n: hsize_t = 0
                guard H5Dget_num_chunks(id, space, &n) >= 0 else {
                    throw libraryError(.readFailed, "cannot count chunks", object: w.object, file: w.file)
                }
                return Int(n)
            }
        }
    }

    /// Where stored chunk number `index` (in storage index order) lives in the file: for
    /// finding a chunk's bytes on disk. libhdf5 1.10 counts up to `index` through the index on
    /// every call, so this is for a few chunks, never a loop over all of them (`storedChunk`).
    public func chunkLocation(index: Int) throws(HDF5Error) -> ChunkLocation {
        let w = self.w, id = self.id
        return try locked { () throws(HDF5Error) -> ChunkLocation in
            try withObjectSpace({ H5Dget_space(id) }, w) { (space) throws(HDF5Error) -> ChunkLocation in
                let rank = max(Int(H5Sget_simple_extent_ndims(space)), 1)
                var offset = [hsize_t](repeating: 0, count: rank)
                var mask: UInt32 = 0
                var address: haddr_t = 0
                var size: hsize_t = 0
                guard H5Dget_chunk_info(id, space, hsize_t(index), &offset, &mask, &address, &size) >= 0 else {
                    throw libraryError(.readFailed, "cannot locate chunk \(index)", object: w.object, file: w.file)
                }
                return ChunkLocation(offset: offset.map { Int($0) }, filterMask: mask, fileAddress: UInt64(address),
                                     storedSize: Int(size))
            }
        }
    }

    func attributeOps() -> AttributeOps {
        AttributeOps(loc: id, object: ".", w: w)
    }
}

/// Decodes a NUL-terminated C string held in a fixed buffer.
func cString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

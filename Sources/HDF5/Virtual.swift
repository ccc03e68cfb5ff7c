internal import CHDF5

/// A rectangular block of a dataspace: `count[i]` elements from `start[i]` in dimension i.
public struct Hyperslab: Sendable, Equatable {
    public var start: [Int]
    public var count: [Int]

    public init(start: [Int], count: [Int]) {
        precondition(start.count == count.count, "start and count must have the same rank")
        self.start = start
        self.count = count
    }

    /// The whole of a dataspace of `shape`.
    public static func whole(_ shape: [Int]) -> Hyperslab {
        Hyperslab(start: Array(repeating: 0, count: shape.count), count: shape)
    }

    /// Rows `rows` along dimension 0 of a dataspace of `shape`, every element of the other dimensions.
    public static func rows(_ rows: Range<Int>, of shape: [Int]) -> Hyperslab {
        precondition(!shape.isEmpty, "a scalar dataspace has no rows")
        return Hyperslab(start: [rows.lowerBound] + Array(repeating: 0, count: shape.count - 1),
                         count: [rows.count] + shape.dropFirst())
    }
}

/// One mapping of a virtual dataset: a block of the virtual dataset whose elements are read from a
/// block of a dataset in another (or the same) file.
///
/// HDF5 resolves a relative `sourceFile` against the directory of the file that holds the virtual
/// dataset (after the `HDF5_VDS_PREFIX` environment variable), so a directory holding both can
/// be moved as a whole. A source that cannot be found reads as the fill value, silently: callers
/// that care check that every source file exists.
public struct VirtualMapping: Sendable, Equatable {
    /// The source file name as stored in the mapping; `.` is the file holding the virtual dataset.
    public var sourceFile: String
    /// Absolute path of the source dataset inside `sourceFile`.
    public var sourceDataset: String
    /// The elements of the virtual dataset this mapping fills; nil when they are not one block.
    public var destination: Hyperslab?
    /// The elements of the source dataset they come from; nil when they are not one block.
    public var source: Hyperslab?

    public init(sourceFile: String, sourceDataset: String, destination: Hyperslab?, source: Hyperslab?) {
        self.sourceFile = sourceFile
        self.sourceDataset = sourceDataset
        self.destination = destination
        self.source = source
    }
}

extension File {
    /// Creates a virtual dataset of `shape` whose elements are read from other datasets, one block
    /// per mapping (each mapping's `destination` and `source` must be given and hold the same
    /// number of elements). Elements no mapping covers read as 0.
    public func createVirtualDataset<T: HDF5Scalar>(_ datasetPath: String, of type: T.Type, shape: [Int],
                                                    mappings: [VirtualMapping]) throws(HDF5Error) -> Dataset {
        let path = self.path
        let did = try locked { () throws(HDF5Error) -> hid_t in
            let w = Where(file: path, object: datasetPath)
            return try withPropertyList(chdf5_p_dataset_create(), w) { (dcpl) throws(HDF5Error) -> hid_t in
                guard H5Pset_obj_track_times(dcpl, false) >= 0 else {
                    throw libraryError(.createFailed, "cannot turn off object timestamps", object: datasetPath, file: path)
                }
                for mapping in mappings {
                    try addMapping(dcpl, mapping, virtualShape: shape, w)
                }
                return try withSimpleSpace(shape, w) { (space) throws(HDF5Error) -> hid_t in
                    let did = H5Dcreate2(id, datasetPath, T.hdf5Type.fileType(), space, chdf5_p_default(), dcpl,
                                         chdf5_p_default())
                    guard did >= 0 else {
                        throw libraryError(.createFailed, "cannot create virtual dataset (does it exist already, or is its group missing?)",
                                           object: datasetPath, file: path)
                    }
                    return did
                }
            }
        }
        return Dataset(id: did, path: datasetPath, file: path)
    }
}

/// Adds one mapping to a dataset-creation list. Lock held.
private func addMapping(_ dcpl: hid_t, _ mapping: VirtualMapping, virtualShape: [Int], _ w: Where) throws(HDF5Error) {
    guard let destination = mapping.destination, let source = mapping.source else {
        preconditionFailure("a new virtual mapping needs its destination and source blocks")
    }
    precondition(destination.count.reduce(1, *) == source.count.reduce(1, *),
                 "a mapping's destination and source must hold the same number of elements")
    // The source extent is taken as just large enough for the block: HDF5 stores it with the
    // mapping and checks it against the source dataset only when that is opened.
    let sourceExtent = zip(source.start, source.count).map { $0 + $1 }
    try withSimpleSpace(virtualShape, w) { (virtualSpace) throws(HDF5Error) in
        try select(destination, in: virtualSpace, w)
        try withSimpleSpace(sourceExtent, w) { (sourceSpace) throws(HDF5Error) in
            // A hyperslab, not "all": HDF5 1.10 does not store the extent of an "all" source
            // selection, so the mapping could not be checked after reopening the file.
            try select(source, in: sourceSpace, w)
            // Source names are printf-style patterns to HDF5 (`%b`); a literal % is written %%.
            let file = escapePercent(mapping.sourceFile), dataset = escapePercent(mapping.sourceDataset)
            guard H5Pset_virtual(dcpl, virtualSpace, file, dataset, sourceSpace) >= 0 else {
                throw libraryError(.createFailed, "cannot map \(mapping.sourceFile):\(mapping.sourceDataset) into the virtual dataset",
                                   object: w.object, file: w.file)
            }
        }
    }
}

private func select(_ block: Hyperslab, in space: hid_t, _ w: Where) throws(HDF5Error) {
    let start = block.start.map { hsize_t($0) }, count = block.count.map { hsize_t($0) }
    guard H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nil, count, nil) >= 0 else {
        throw libraryError(.libraryFailure, "cannot select the block \(block.start) + \(block.count)", object: w.object, file: w.file)
    }
}

/// The mappings of a virtual dataset's creation list. Lock held.
func virtualMappings(_ dcpl: hid_t, _ w: Where) throws(HDF5Error) -> [VirtualMapping] {
    var count = 0
    guard H5Pget_virtual_count(dcpl, &count) >= 0 else {
        throw libraryError(.readFailed, "cannot count the virtual mappings", object: w.object, file: w.file)
    }
    var out: [VirtualMapping] = []
    for i in 0..<count {
        let file = try mappingName(w) { H5Pget_virtual_filename(dcpl, i, $0, $1) }
        let dataset = try mappingName(w) { H5Pget_virtual_dsetname(dcpl, i, $0, $1) }
        let destination = try withObjectSpace({ H5Pget_virtual_vspace(dcpl, i) }, w) { (s) throws(HDF5Error) in try block(s, w) }
        let source = try withObjectSpace({ H5Pget_virtual_srcspace(dcpl, i) }, w) { (s) throws(HDF5Error) in try block(s, w) }
        out.append(VirtualMapping(sourceFile: unescapePercent(file), sourceDataset: unescapePercent(dataset),
                                  destination: destination, source: source))
    }
    return out
}

private func escapePercent(_ name: String) -> String {
    String(name.flatMap { $0 == "%" ? ["%", "%"] : [$0] })
}

/// `%%` → `%`; any other `%` sequence (a printf-style pattern written by another tool) is kept.
private func unescapePercent(_ name: String) -> String {
    var out = ""
    var pendingPercent = false
    for c in name {
        if pendingPercent {
            out.append(c == "%" ? "%" : "%\(c)")
            pendingPercent = false
        } else if c == "%" {
            pendingPercent = true
        } else {
            out.append(c)
        }
    }
    if pendingPercent { out.append("%") }
    return out
}

private func mappingName(_ w: Where, _ get: (UnsafeMutablePointer<CChar>?, Int) -> Int) throws(HDF5Error) -> String {
    let length = get(nil, 0)
    guard length >= 0 else { throw libraryError(.readFailed, "cannot read a virtual mapping's source name", object: w.object, file: w.file) }
    var buffer = [CChar](repeating: 0, count: length + 1)
    guard get(&buffer, buffer.count) >= 0 else {
        throw libraryError(.readFailed, "cannot read a virtual mapping's source name", object: w.object, file: w.file)
    }
    return cString(buffer)
}

/// The selection of `space` as one block, or nil when it is not one block.
private func block(_ space: hid_t, _ w: Where) throws(HDF5Error) -> Hyperslab? {
    let dims = try spaceDims(space, w)
    guard !dims.isEmpty else { return nil }
    switch H5Sget_select_type(space) {
    case H5S_SEL_ALL:
        return .whole(dims)
    case H5S_SEL_HYPERSLABS:
        var start = [hsize_t](repeating: 0, count: dims.count), end = start
        guard H5Sget_select_bounds(space, &start, &end) >= 0 else {
            throw libraryError(.readFailed, "cannot read a virtual mapping's selection", object: w.object, file: w.file)
        }
        let count = zip(start, end).map { Int($1 - $0) + 1 }
        // A hyperslab whose bounding box holds more elements than it selects is not one block.
        guard Int(H5Sget_select_npoints(space)) == count.reduce(1, *) else { return nil }
        return Hyperslab(start: start.map { Int($0) }, count: count)
    default:
        return nil
    }
}

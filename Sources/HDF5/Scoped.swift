internal import CHDF5
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Transient HDF5 objects (dataspaces, property lists, datatypes) live only inside these
// helpers, so every id created is closed on every path, including thrown errors.
// All helpers assume the library lock is held by the caller.

/// Context for error messages: which file and object an operation is about.
struct Where {
    var file: String?
    var object: String?
}

func withSimpleSpace<R>(_ dims: [Int], maxDims: [Int?]? = nil, _ w: Where,
                        _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    let current = dims.map { hsize_t($0) }
    let space: hid_t
    if let maxDims {
        let maximum = maxDims.map { $0.map { hsize_t($0) } ?? chdf5_unlimited() }
        space = H5Screate_simple(Int32(dims.count), current, maximum)
    } else {
        space = H5Screate_simple(Int32(dims.count), current, nil)
    }
    guard space >= 0 else {
        throw libraryError(.libraryFailure, "cannot create a dataspace of shape \(dims)", object: w.object, file: w.file)
    }
    defer { _ = H5Sclose(space) }
    return try body(space)
}

func withScalarSpace<R>(_ w: Where, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    let space = H5Screate(H5S_SCALAR)
    guard space >= 0 else {
        throw libraryError(.libraryFailure, "cannot create a scalar dataspace", object: w.object, file: w.file)
    }
    defer { _ = H5Sclose(space) }
    return try body(space)
}

/// Shape `dims` as a dataspace: scalar when empty, simple otherwise.
func withSpace<R>(_ dims: [Int], _ w: Where, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    if dims.isEmpty { return try withScalarSpace(w, body) }
    return try withSimpleSpace(dims, w, body)
}

func withPropertyList<R>(_ cls: hid_t, _ w: Where, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    let plist = H5Pcreate(cls)
    guard plist >= 0 else {
        throw libraryError(.libraryFailure, "cannot create a property list", object: w.object, file: w.file)
    }
    defer { _ = H5Pclose(plist) }
    return try body(plist)
}

/// Variable-length UTF-8 string type (what h5py writes for `str`).
func withVLStringType<R>(_ w: Where, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    let type = H5Tcopy(chdf5_c_s1())
    guard type >= 0 else {
        throw libraryError(.libraryFailure, "cannot create a string type", object: w.object, file: w.file)
    }
    defer { _ = H5Tclose(type) }
    guard H5Tset_size(type, chdf5_variable()) >= 0, H5Tset_cset(type, H5T_CSET_UTF8) >= 0 else {
        throw libraryError(.libraryFailure, "cannot configure a UTF-8 string type", object: w.object, file: w.file)
    }
    return try body(type)
}

/// The dataspace of a dataset or attribute, closed after `body`.
func withObjectSpace<R>(_ get: () -> hid_t, _ w: Where, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    let space = get()
    guard space >= 0 else {
        throw libraryError(.libraryFailure, "cannot get the dataspace", object: w.object, file: w.file)
    }
    defer { _ = H5Sclose(space) }
    return try body(space)
}

/// The datatype of a dataset or attribute, closed after `body`.
func withObjectType<R>(_ get: () -> hid_t, _ w: Where, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    let type = get()
    guard type >= 0 else {
        throw libraryError(.libraryFailure, "cannot get the datatype", object: w.object, file: w.file)
    }
    defer { _ = H5Tclose(type) }
    return try body(type)
}

/// Extent of a dataspace ([] for scalar).
func spaceDims(_ space: hid_t, _ w: Where) throws(HDF5Error) -> [Int] {
    let rank = H5Sget_simple_extent_ndims(space)
    guard rank >= 0 else { throw libraryError(.libraryFailure, "cannot read the dataspace rank", object: w.object, file: w.file) }
    if rank == 0 { return [] }
    var dims = [hsize_t](repeating: 0, count: Int(rank))
    var maxDims = [hsize_t](repeating: 0, count: Int(rank))
    guard H5Sget_simple_extent_dims(space, &dims, &maxDims) >= 0 else {
        throw libraryError(.libraryFailure, "cannot read the dataspace extent", object: w.object, file: w.file)
    }
    // A damaged header can claim any extent; libhdf5 1.10 opens such datasets without complaint,
    // and an extent past Int.max would trap in the conversion below.
    let unlimited = hsize_t.max
    for (i, (dim, max)) in zip(dims, maxDims).enumerated() where (max != unlimited && dim > max) || Int(exactly: dim) == nil {
        throw wrapperError(.readFailed, "damaged dataspace: dimension \(i) has extent \(dim), above its maximum \(max)",
                           object: w.object, file: w.file)
    }
    return dims.map { Int($0) }
}

/// The dtype name for a stored type (see `DatasetInfo.dtype`).
func dtypeName(_ type: hid_t) -> String {
    let cls = H5Tget_class(type)
    let size = H5Tget_size(type)
    if cls == H5T_INTEGER {
        let signed = H5Tget_sign(type) == H5T_SGN_2
        return "\(signed ? "int" : "uint")\(size * 8)"
    }
    if cls == H5T_FLOAT { return "float\(size * 8)" }
    if cls == H5T_STRING {
        return H5Tis_variable_str(type) > 0 ? "string" : "fixed-string(\(size))"
    }
    return "class\(cls.rawValue)-size\(size)"
}

/// Duplicates `strings` as C strings for a variable-length write; frees them afterwards.
/// Strings cannot contain NUL: HDF5's variable-length strings are NUL-terminated.
func withCStrings<R>(_ strings: [String], _ w: Where,
                     _ body: ([UnsafePointer<CChar>?]) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    if let bad = strings.firstIndex(where: { $0.utf8.contains(0) }) {
        throw wrapperError(.writeFailed, "string \(bad) contains a NUL character, which HDF5 strings cannot hold",
                           object: w.object, file: w.file)
    }
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try body(pointers.map { UnsafePointer($0) })
}

/// Decodes pointers returned by a variable-length read (NULL reads as "").
func decodeCStrings(_ pointers: [UnsafeMutablePointer<CChar>?]) -> [String] {
    pointers.map { $0.map { String(cString: $0) } ?? "" }
}

/// Joins a parent path and a member name.
func childPath(_ parent: String, _ name: String) -> String {
    parent.hasSuffix("/") ? parent + name : parent + "/" + name
}

/// The number of elements of `space` for data stored in the file of `object`, refused when the
/// file is too small to hold them: a damaged header can claim billions of elements, and reading
/// them would allocate or convert for ever. Every stored element takes at least one byte, or,
/// through deflate (whose expansion is at most 1032 : 1), at least 1/1032 of one; `compressed`
/// allows for the latter.
func storedElementCount(_ space: hid_t, of object: hid_t, compressed: Bool = false, _ w: Where) throws(HDF5Error) -> Int {
    let count = H5Sget_simple_extent_npoints(space)
    guard count >= 0 else { throw libraryError(.readFailed, "cannot count the elements", object: w.object, file: w.file) }
    return try checkStored(Int(count), of: object, compressed: compressed, w)
}

/// `dims.reduce(1, *)` without overflow, checked against the file size as `storedElementCount` does.
func storedElementCount(_ dims: [Int], of object: hid_t, compressed: Bool, _ w: Where) throws(HDF5Error) -> Int {
    var count = 1
    for dim in dims {
        let (product, overflow) = count.multipliedReportingOverflow(by: dim)
        guard !overflow else {
            throw wrapperError(.readFailed, "damaged header: the extent \(dims) has more elements than memory can address",
                               object: w.object, file: w.file)
        }
        count = product
    }
    return try checkStored(count, of: object, compressed: compressed, w)
}

private func checkStored(_ count: Int, of object: hid_t, compressed: Bool, _ w: Where) throws(HDF5Error) -> Int {
    let file = H5Iget_file_id(object)
    guard file >= 0 else { throw libraryError(.readFailed, "cannot find the object's file", object: w.object, file: w.file) }
    defer { _ = H5Fclose(file) }
    var size: hsize_t = 0
    guard H5Fget_filesize(file, &size) >= 0 else {
        throw libraryError(.readFailed, "cannot read the file size", object: w.object, file: w.file)
    }
    let (limit, overflow) = size.multipliedReportingOverflow(by: compressed ? 1032 : 1)
    guard overflow || hsize_t(count) <= limit else {
        throw wrapperError(.readFailed, "damaged header: claims \(count) elements in a file of \(size) bytes",
                           object: w.object, file: w.file)
    }
    return count
}

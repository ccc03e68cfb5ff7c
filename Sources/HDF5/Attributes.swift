internal import CHDF5

/// Attribute operations on the object `object` (a path, or "." for the location itself)
/// reached from `loc`. Shared by `File`, `Group` and `Dataset`; callers hold the lock.
struct AttributeOps {
    let loc: hid_t
    let object: String
    let w: Where

    private func whereAttr(_ name: String) -> Where {
        let base = w.object ?? "/"
        return Where(file: w.file, object: "\(base)@\(name)")
    }

    func exists(_ name: String) throws(HDF5Error) -> Bool {
        let r = H5Aexists_by_name(loc, object, name, chdf5_p_default())
        guard r >= 0 else { throw libraryError(.notFound, "cannot check attribute \(name)", object: w.object, file: w.file) }
        return r > 0
    }

    /// Removes an existing attribute so a write replaces rather than fails.
    private func removeIfPresent(_ name: String) throws(HDF5Error) {
        if try exists(name) {
            guard H5Adelete_by_name(loc, object, name, chdf5_p_default()) >= 0 else {
                throw libraryError(.writeFailed, "cannot replace attribute", object: whereAttr(name).object, file: w.file)
            }
        }
    }

    private func create(_ name: String, type: hid_t, space: hid_t,
                        _ body: (hid_t) throws(HDF5Error) -> Void) throws(HDF5Error) {
        try removeIfPresent(name)
        let attr = H5Acreate_by_name(loc, object, name, type, space, chdf5_p_default(), chdf5_p_default(), chdf5_p_default())
        guard attr >= 0 else {
            throw libraryError(.writeFailed, "cannot create attribute", object: whereAttr(name).object, file: w.file)
        }
        defer { _ = H5Aclose(attr) }
        try body(attr)
    }

    private func open<R>(_ name: String, _ body: (hid_t) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
        guard try exists(name) else {
            throw wrapperError(.notFound, "attribute is missing", object: whereAttr(name).object, file: w.file)
        }
        let attr = H5Aopen_by_name(loc, object, name, chdf5_p_default(), chdf5_p_default())
        guard attr >= 0 else {
            throw libraryError(.readFailed, "cannot open attribute", object: whereAttr(name).object, file: w.file)
        }
        defer { _ = H5Aclose(attr) }
        return try body(attr)
    }

    func writeStrings(_ name: String, _ values: [String], scalar: Bool) throws(HDF5Error) {
        precondition(!scalar || values.count == 1)
        let aw = whereAttr(name)
        try withVLStringType(aw) { (type) throws(HDF5Error) in
            try withSpace(scalar ? [] : [values.count], aw) { (space) throws(HDF5Error) in
                try create(name, type: type, space: space) { (attr) throws(HDF5Error) in
                    try withCStrings(values, aw) { (pointers) throws(HDF5Error) in
                        guard H5Awrite(attr, type, pointers) >= 0 else {
                            throw libraryError(.writeFailed, "cannot write attribute", object: aw.object, file: aw.file)
                        }
                    }
                }
            }
        }
    }

    func write<T: HDF5Scalar>(_ name: String, _ values: [T], scalar: Bool) throws(HDF5Error) {
        precondition(!scalar || values.count == 1)
        let aw = whereAttr(name)
        try withSpace(scalar ? [] : [values.count], aw) { (space) throws(HDF5Error) in
            try create(name, type: T.hdf5Type.fileType(), space: space) { (attr) throws(HDF5Error) in
                let rc = values.withUnsafeBytes { H5Awrite(attr, T.hdf5Type.nativeType(), $0.baseAddress) }
                guard rc >= 0 else {
                    throw libraryError(.writeFailed, "cannot write attribute", object: aw.object, file: aw.file)
                }
            }
        }
    }

    /// dtype name and shape ([] = scalar) of an attribute.
    func info(_ name: String) throws(HDF5Error) -> (dtype: String, shape: [Int]) {
        let aw = whereAttr(name)
        return try open(name) { (attr) throws(HDF5Error) in
            let dtype = try withObjectType({ H5Aget_type(attr) }, aw) { (t) throws(HDF5Error) in dtypeName(t) }
            let shape = try withObjectSpace({ H5Aget_space(attr) }, aw) { (s) throws(HDF5Error) in try spaceDims(s, aw) }
            return (dtype, shape)
        }
    }

    /// All elements of a string attribute (one for a scalar attribute).
    func readStrings(_ name: String) throws(HDF5Error) -> [String] {
        let aw = whereAttr(name)
        return try open(name) { (attr) throws(HDF5Error) in
            let dtype = try withObjectType({ H5Aget_type(attr) }, aw) { (t) throws(HDF5Error) in dtypeName(t) }
            guard dtype == "string" else {
                throw wrapperError(.typeMismatch, "attribute is \(dtype), expected a variable-length string",
                                   object: aw.object, file: aw.file)
            }
            return try withObjectSpace({ H5Aget_space(attr) }, aw) { (space) throws(HDF5Error) in
                let count = try storedElementCount(space, of: attr, aw)
                return try withVLStringType(aw) { (type) throws(HDF5Error) in
                    var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                    guard H5Aread(attr, type, &pointers) >= 0 else {
                        throw libraryError(.readFailed, "cannot read attribute", object: aw.object, file: aw.file)
                    }
                    let strings = decodeCStrings(pointers)
                    _ = H5Dvlen_reclaim(type, space, chdf5_p_default(), &pointers)
                    return strings
                }
            }
        }
    }

    func read<T: HDF5Scalar>(_ name: String, as: T.Type) throws(HDF5Error) -> [T] {
        let aw = whereAttr(name)
        return try open(name) { (attr) throws(HDF5Error) in
            let dtype = try withObjectType({ H5Aget_type(attr) }, aw) { (t) throws(HDF5Error) in dtypeName(t) }
            guard dtype == T.hdf5Type.name else {
                throw wrapperError(.typeMismatch, "attribute is \(dtype), expected \(T.hdf5Type.name)",
                                   object: aw.object, file: aw.file)
            }
            let count = try withObjectSpace({ H5Aget_space(attr) }, aw) { (s) throws(HDF5Error) in
                try storedElementCount(s, of: attr, aw)
            }
            let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                let rc = H5Aread(attr, T.hdf5Type.nativeType(), buffer.baseAddress)
                initialized = rc >= 0 ? count : 0
            }
            guard values.count == count else {
                throw libraryError(.readFailed, "cannot read attribute", object: aw.object, file: aw.file)
            }
            return values
        }
    }

    /// Attribute names sorted by UTF-8 bytes.
    func names() throws(HDF5Error) -> [String] {
        var names: [String] = []
        var index: hsize_t = 0
        let rc = withUnsafeMutablePointer(to: &names) { namesPointer in
            H5Aiterate_by_name(loc, object, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, client in
                guard let name, let client else { return 0 }
                client.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                return 0
            }, namesPointer, chdf5_p_default())
        }
        guard rc >= 0 else { throw libraryError(.readFailed, "cannot list attributes", object: w.object, file: w.file) }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}

internal import CHDF5

/// An open group; the sole owner of its group id. Obtain one from `File.createGroup` or
/// `File.openGroup`; it must not outlive use of its file (the file stays open until it closes).
public struct Group: ~Copyable {
    var id: hid_t
    /// Absolute path of the group.
    public let path: String
    /// Path of the file the group belongs to (for error messages).
    public let file: String

    init(id: hid_t, path: String, file: String) {
        self.id = id
        self.path = path
        self.file = file
    }

    deinit {
        if id >= 0 { locked { _ = H5Gclose(id) } }
    }

    /// Closes the group, reporting failure.
    public consuming func close() throws(HDF5Error) {
        let id = self.id
        self.id = -1
        let path = self.path, file = self.file
        try locked { () throws(HDF5Error) in
            guard H5Gclose(id) >= 0 else { throw libraryError(.closeFailed, "cannot close group", object: path, file: file) }
        }
    }

    /// Names of the group's members (links), sorted by UTF-8 bytes.
    public func members() throws(HDF5Error) -> [String] {
        let path = self.path, file = self.file
        return try locked { () throws(HDF5Error) -> [String] in
            var info = H5G_info_t()
            guard H5Gget_info(id, &info) >= 0 else {
                throw libraryError(.readFailed, "cannot read group info", object: path, file: file)
            }
            var names: [String] = []
            for i in 0..<info.nlinks {
                let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
                guard length >= 0 else {
                    throw libraryError(.readFailed, "cannot read member name", object: path, file: file)
                }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                _ = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, chdf5_p_default())
                names.append(cString(buffer))
            }
            return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        }
    }

    func attributeOps() -> AttributeOps {
        AttributeOps(loc: id, object: ".", w: Where(file: file, object: path))
    }
}

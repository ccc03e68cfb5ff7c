internal import CHDF5
import CrashIsolation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open HDF5 file; the sole owner of its file id.
///
/// Threading: libhdf5 as shipped by Debian is not built thread-safe. One thread (or one task
/// at a time) should own a file. Every call takes a process-wide lock, so accidental concurrent
/// use is serialised rather than corrupting the library's state.
///
/// Files are created with HDF5 1.10 as both format bounds (`H5Pset_libver_bounds`), so any
/// HDF5 1.10+ reader, h5py included, opens them. The earliest bounds, the library's default,
/// index every chunked dataset with a version-1 B-tree: libhdf5 keeps memory for it that
/// grows with the number of chunks written (about 20 MB over a 31 000-row export), and it
/// finds a chunk's address only by walking the tree. With 1.10 objects, a dataset of fixed size
/// has a fixed-array index instead. The upper bound is pinned too, so that a newer library
/// writes the same objects. Object timestamps are off on the root group and on every group
/// and dataset created through this wrapper, so identical content gives identical bytes.
public struct File: ~Copyable {
    /// How an existing file is opened.
    public enum Mode: Sendable { case readOnly, readWrite }

    var id: hid_t
    /// The path the file was created or opened with.
    public let path: String

    /// Creates a new file; fails with `.alreadyExists` if anything exists at `path`
    /// (never truncates).
    public init(creating path: String) throws(HDF5Error) {
        self.path = path
        Breadcrumbs.opened(path)
        do {
            id = try Self.create(path)
        } catch {
            Breadcrumbs.closed(path)
            throw error
        }
    }

    private static func create(_ path: String) throws(HDF5Error) -> hid_t {
        try locked { () throws(HDF5Error) -> hid_t in
            let w = Where(file: path, object: nil)
            return try withPropertyList(chdf5_p_file_create(), w) { (fcpl) throws(HDF5Error) -> hid_t in
                // The file-creation list is also the root group's creation list.
                guard H5Pset_obj_track_times(fcpl, false) >= 0 else {
                    throw libraryError(.createFailed, "cannot turn off object timestamps", file: path)
                }
                return try withPropertyList(chdf5_p_file_access(), w) { (fapl) throws(HDF5Error) -> hid_t in
                    guard H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0 else {
                        throw libraryError(.createFailed, "cannot set the file-format bounds to HDF5 1.10", file: path)
                    }
                    return try create(path, fcpl: fcpl, fapl: fapl)
                }
            }
        }
    }

    private static func create(_ path: String, fcpl: hid_t, fapl: hid_t) throws(HDF5Error) -> hid_t {
        let id = H5Fcreate(path, chdf5_acc_excl(), fcpl, fapl)
        guard id >= 0 else {
            if access(path, F_OK) == 0 {
                throw libraryError(.alreadyExists, "file already exists; remove it or choose another output path",
                                   file: path)
            }
            throw libraryError(.createFailed, "cannot create HDF5 file (check that the directory exists and is writable)",
                               file: path)
        }
        return id
    }

    /// Opens an existing HDF5 file.
    ///
    /// A file another process holds locked (libhdf5 takes a flock(2) on every open file) is tried
    /// again for up to a second before failing: a child process forked at the moment this
    /// process had the file open (a test runner or tool starting a program) holds a copy of the
    /// lock until it execs, which is over in moments.
    public init(opening path: String, mode: Mode = .readOnly) throws(HDF5Error) {
        self.path = path
        Breadcrumbs.opened(path)
        var attempts = 0
        var opened: hid_t = -1
        while opened < 0 {
            do {
                opened = try Self.open(path, mode)
            } catch where attempts < 40 && error.stack.contains(where: { $0.contains("unable to lock file") }) {
                attempts += 1
                usleep(25_000)
            } catch {
                Breadcrumbs.closed(path)
                throw error
            }
        }
        id = opened
    }

    private static func open(_ path: String, _ mode: Mode) throws(HDF5Error) -> hid_t {
        try locked { () throws(HDF5Error) -> hid_t in
            guard access(path, F_OK) == 0 else {
                throw wrapperError(.notFound, "file does not exist", file: path)
            }
            let flags = mode == .readOnly ? chdf5_acc_rdonly() : chdf5_acc_rdwr()
            let id = H5Fopen(path, flags, chdf5_p_default())
            guard id >= 0 else {
                let stack = captureErrorStack()
                // Ask only after the failure so the common path costs nothing; the probe's own
                // errors (if any) are discarded, the open's stack is the one reported.
                let isHDF5 = H5Fis_hdf5(path)
                _ = H5Eclear2(chdf5_e_default())
                if isHDF5 == 0 {
                    throw HDF5Error(code: .notHDF5, message: "not an HDF5 file (no HDF5 signature found)",
                                    file: path, stack: stack)
                }
                throw HDF5Error(code: .openFailed, message: "cannot open HDF5 file", file: path, stack: stack)
            }
            return id
        }
    }

    deinit {
        if id >= 0 {
            locked { _ = H5Fclose(id) }
            Breadcrumbs.closed(path)
        }
    }

    /// Flushes and closes the file, reporting failure. Prefer this over letting the value go
    /// out of scope when the file was written: a failed flush means data was lost.
    ///
    /// Groups and datasets still open keep the underlying file open until they are closed;
    /// close them first.
    public consuming func close() throws(HDF5Error) {
        let id = self.id
        self.id = -1
        let path = self.path
        defer { Breadcrumbs.closed(path) }
        try locked { () throws(HDF5Error) in
            let flushed = H5Fflush(id, H5F_SCOPE_LOCAL) >= 0
            let flushStack = flushed ? [] : captureErrorStack()
            let closed = H5Fclose(id) >= 0
            guard flushed else {
                throw HDF5Error(code: .closeFailed, message: "cannot flush file; its contents are incomplete",
                                file: path, stack: flushStack)
            }
            guard closed else { throw libraryError(.closeFailed, "cannot close file", file: path) }
        }
    }

    /// Writes buffered data to disk without closing.
    public func flush() throws(HDF5Error) {
        try locked { () throws(HDF5Error) in
            guard H5Fflush(id, H5F_SCOPE_LOCAL) >= 0 else {
                throw libraryError(.writeFailed, "cannot flush file", file: path)
            }
        }
    }

    var whereFile: Where { Where(file: path, object: nil) }

    // MARK: Structure

    /// Creates a group (its parent must exist), with timestamps off.
    public func createGroup(_ groupPath: String) throws(HDF5Error) -> Group {
        let path = self.path
        let gid = try locked { () throws(HDF5Error) -> hid_t in
            try createGroupID(loc: id, groupPath, Where(file: path, object: groupPath))
        }
        return Group(id: gid, path: groupPath, file: path)
    }

    /// Opens an existing group.
    public func openGroup(_ groupPath: String) throws(HDF5Error) -> Group {
        let path = self.path
        let gid = try locked { () throws(HDF5Error) -> hid_t in
            let w = Where(file: path, object: groupPath)
            guard try objectKindLocked(groupPath) == .group else {
                throw wrapperError(.notFound, "group does not exist", object: groupPath, file: path)
            }
            let gid = H5Gopen2(id, groupPath, chdf5_p_default())
            guard gid >= 0 else { throw libraryError(.openFailed, "cannot open group", object: w.object, file: w.file) }
            return gid
        }
        return Group(id: gid, path: groupPath, file: path)
    }

    /// What exists at `objectPath`, or nil if nothing (including when a parent is missing).
    public func objectKind(at objectPath: String) throws(HDF5Error) -> ObjectKind? {
        try locked { () throws(HDF5Error) -> ObjectKind? in try objectKindLocked(objectPath) }
    }

    private func objectKindLocked(_ objectPath: String) throws(HDF5Error) -> ObjectKind? {
        if objectPath == "/" { return .group }
        // H5Lexists fails (rather than answering false) when an intermediate group is
        // missing, so walk the path one component at a time.
        var prefix = ""
        for component in objectPath.split(separator: "/") {
            prefix += "/" + component
            let r = H5Lexists(id, prefix, chdf5_p_default())
            guard r >= 0 else { throw libraryError(.libraryFailure, "cannot check path", object: prefix, file: path) }
            if r == 0 { return nil }
        }
        let object = H5Oopen(id, objectPath, chdf5_p_default())
        guard object >= 0 else { throw libraryError(.openFailed, "cannot open object", object: objectPath, file: path) }
        defer { _ = H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Names of the members of a group, sorted by UTF-8 bytes.
    public func members(of groupPath: String) throws(HDF5Error) -> [String] {
        try openGroup(groupPath).members()
    }

    /// Creates a numeric dataset of `shape` with elements of `T`.
    public func createDataset<T: HDF5Scalar>(_ datasetPath: String, of type: T.Type, shape: [Int],
                                             layout: DatasetLayout = .contiguous) throws(HDF5Error) -> Dataset {
        let path = self.path
        let did = try locked { () throws(HDF5Error) -> hid_t in
            try createDatasetID(loc: id, datasetPath, fileType: T.hdf5Type.fileType(), shape: shape, layout: layout,
                                Where(file: path, object: datasetPath))
        }
        return Dataset(id: did, path: datasetPath, file: path)
    }

    /// Creates a variable-length UTF-8 string dataset: scalar when `shape` is empty, else
    /// of the given shape (normally 1-D).
    public func createStringDataset(_ datasetPath: String, shape: [Int],
                                    layout: DatasetLayout = .contiguous) throws(HDF5Error) -> Dataset {
        let path = self.path
        let did = try locked { () throws(HDF5Error) -> hid_t in
            let w = Where(file: path, object: datasetPath)
            return try withVLStringType(w) { (type) throws(HDF5Error) -> hid_t in
                try createDatasetID(loc: id, datasetPath, fileType: type, shape: shape, layout: layout, w)
            }
        }
        return Dataset(id: did, path: datasetPath, file: path)
    }

    /// Opens an existing dataset.
    public func openDataset(_ datasetPath: String) throws(HDF5Error) -> Dataset {
        let path = self.path
        let did = try locked { () throws(HDF5Error) -> hid_t in
            guard try objectKindLocked(datasetPath) == .dataset else {
                throw wrapperError(.notFound, "dataset does not exist", object: datasetPath, file: path)
            }
            let did = H5Dopen2(id, datasetPath, chdf5_p_default())
            guard did >= 0 else { throw libraryError(.openFailed, "cannot open dataset", object: datasetPath, file: path) }
            return did
        }
        return Dataset(id: did, path: datasetPath, file: path)
    }

    func attributeOps(_ objectPath: String) -> AttributeOps {
        AttributeOps(loc: id, object: objectPath, w: Where(file: path, object: objectPath))
    }
}

/// Creates a group with timestamps off. Lock held.
func createGroupID(loc: hid_t, _ groupPath: String, _ w: Where) throws(HDF5Error) -> hid_t {
    try withPropertyList(chdf5_p_group_create(), w) { (gcpl) throws(HDF5Error) -> hid_t in
        guard H5Pset_obj_track_times(gcpl, false) >= 0 else {
            throw libraryError(.createFailed, "cannot turn off object timestamps", object: w.object, file: w.file)
        }
        let gid = H5Gcreate2(loc, groupPath, chdf5_p_default(), gcpl, chdf5_p_default())
        guard gid >= 0 else {
            throw libraryError(.createFailed, "cannot create group (does it exist already, or is its parent missing?)",
                               object: w.object, file: w.file)
        }
        return gid
    }
}

/// Creates a dataset with timestamps off and the layout's chunking and filters. Lock held.
func createDatasetID(loc: hid_t, _ datasetPath: String, fileType: hid_t, shape: [Int], layout: DatasetLayout,
                     _ w: Where) throws(HDF5Error) -> hid_t {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dataset extent")
    if let chunks = layout.chunks {
        precondition(chunks.count == shape.count && !shape.isEmpty, "chunk rank must equal dataset rank")
        precondition(chunks.allSatisfy { $0 > 0 }, "chunk extents must be positive")
    } else {
        precondition(!layout.shuffle && layout.deflateLevel == nil && !layout.fletcher32 && !layout.unlimitedFirstDimension,
                     "filters and unlimited dimensions need chunked storage")
    }
    return try withPropertyList(chdf5_p_dataset_create(), w) { (dcpl) throws(HDF5Error) -> hid_t in
        var ok = H5Pset_obj_track_times(dcpl, false) >= 0
        if let chunks = layout.chunks {
            let chunkDims = chunks.map { hsize_t($0) }
            ok = ok && H5Pset_chunk(dcpl, Int32(chunks.count), chunkDims) >= 0
            if layout.shuffle { ok = ok && H5Pset_shuffle(dcpl) >= 0 }
            if let level = layout.deflateLevel {
                precondition((0...9).contains(level), "deflate level must be 0...9")
                ok = ok && H5Pset_deflate(dcpl, UInt32(level)) >= 0
            }
            if layout.fletcher32 { ok = ok && H5Pset_fletcher32(dcpl) >= 0 }
        }
        guard ok else {
            throw libraryError(.createFailed, "cannot configure dataset storage", object: w.object, file: w.file)
        }
        let create = { (space: hid_t) throws(HDF5Error) -> hid_t in
            let did = H5Dcreate2(loc, datasetPath, fileType, space, chdf5_p_default(), dcpl, chdf5_p_default())
            guard did >= 0 else {
                throw libraryError(.createFailed, "cannot create dataset (does it exist already, or is its group missing?)",
                                   object: w.object, file: w.file)
            }
            return did
        }
        if shape.isEmpty { return try withScalarSpace(w, create) }
        let maxDims: [Int?] = shape.enumerated().map { i, n in (i == 0 && layout.unlimitedFirstDimension) ? nil : n }
        return try withSimpleSpace(shape, maxDims: maxDims, w, create)
    }
}

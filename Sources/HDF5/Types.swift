internal import CHDF5

/// How a Swift scalar type is stored in HDF5: the in-memory (native) type and the
/// little-endian file type. Values of this type come only from `HDF5Scalar` conformances.
public struct HDF5ScalarType: Sendable {
    /// The dtype name this wrapper reports for datasets of this type (`uint16`, `float32`, ...).
    public let name: String
    /// Size of one element in bytes.
    public let byteWidth: Int
    // HDF5's predefined type ids are globals initialised when the library opens, so they are
    // fetched when needed rather than stored.
    let nativeType: @Sendable () -> hid_t
    let fileType: @Sendable () -> hid_t
}

/// A Swift scalar type that maps one-to-one onto an HDF5 numeric type. The mapping is
/// static (a protocol requirement), so a read or write of `[T]` can never pick the wrong
/// HDF5 type at run time.
public protocol HDF5Scalar: BitwiseCopyable, Sendable, Equatable {
    static var hdf5Type: HDF5ScalarType { get }
}

extension UInt8: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "uint8", byteWidth: 1, nativeType: { chdf5_native_uint8() }, fileType: { chdf5_std_u8le() })
    }
}

extension UInt16: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "uint16", byteWidth: 2, nativeType: { chdf5_native_uint16() }, fileType: { chdf5_std_u16le() })
    }
}

extension UInt32: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "uint32", byteWidth: 4, nativeType: { chdf5_native_uint32() }, fileType: { chdf5_std_u32le() })
    }
}

extension Int32: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "int32", byteWidth: 4, nativeType: { chdf5_native_int32() }, fileType: { chdf5_std_i32le() })
    }
}

extension Int64: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "int64", byteWidth: 8, nativeType: { chdf5_native_int64() }, fileType: { chdf5_std_i64le() })
    }
}

extension Float: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "float32", byteWidth: 4, nativeType: { chdf5_native_float() }, fileType: { chdf5_ieee_f32le() })
    }
}

extension UInt64: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "uint64", byteWidth: 8, nativeType: { chdf5_native_uint64() }, fileType: { chdf5_std_u64le() })
    }
}

extension Double: HDF5Scalar {
    public static var hdf5Type: HDF5ScalarType {
        .init(name: "float64", byteWidth: 8, nativeType: { chdf5_native_double() }, fileType: { chdf5_ieee_f64le() })
    }
}

/// A filter in a chunked dataset's pipeline, as stored in the file.
public enum HDF5Filter: Sendable, Equatable, CustomStringConvertible {
    case shuffle
    case deflate(level: Int)
    case fletcher32
    /// A filter this wrapper does not create (e.g. from a file written elsewhere).
    case other(id: Int, name: String)

    public var description: String {
        switch self {
        case .shuffle: "shuffle"
        case .deflate(let level): "deflate(\(level))"
        case .fletcher32: "fletcher32"
        case .other(let id, let name): name.isEmpty ? "filter#\(id)" : "\(name)#\(id)"
        }
    }
}

/// How a new dataset is stored.
///
/// Filters are always applied in one order, shuffle → deflate → Fletcher-32, so the checksum
/// covers the compressed bytes actually on disk and is verified before anything is inflated.
public struct DatasetLayout: Sendable, Equatable {
    /// Chunk shape (same rank as the dataset), or nil for contiguous storage.
    public var chunks: [Int]?
    /// Byte-shuffle before compressing (helps deflate on multi-byte samples).
    public var shuffle: Bool
    /// zlib level 0–9, or nil for no compression.
    public var deflateLevel: Int?
    /// Append a Fletcher-32 checksum to every stored chunk, verified on every read.
    public var fletcher32: Bool
    /// Make dimension 0 unlimited (required for a zero-length chunked dataset).
    public var unlimitedFirstDimension: Bool

    /// A layout; filters need `chunks`.
    public init(chunks: [Int]?, shuffle: Bool = false, deflateLevel: Int? = nil, fletcher32: Bool = false,
                unlimitedFirstDimension: Bool = false) {
        self.chunks = chunks
        self.shuffle = shuffle
        self.deflateLevel = deflateLevel
        self.fletcher32 = fletcher32
        self.unlimitedFirstDimension = unlimitedFirstDimension
    }

    /// Contiguous, unfiltered storage.
    public static let contiguous = DatasetLayout(chunks: nil)

    /// Chunked storage with the given filters.
    public static func chunked(_ chunks: [Int], shuffle: Bool = false, deflateLevel: Int? = nil,
                               fletcher32: Bool = false, unlimitedFirstDimension: Bool = false) -> DatasetLayout {
        DatasetLayout(chunks: chunks, shuffle: shuffle, deflateLevel: deflateLevel, fletcher32: fletcher32,
                      unlimitedFirstDimension: unlimitedFirstDimension)
    }
}

/// What is stored in a dataset: the metadata `inspect` prints and the validator checks.
public struct DatasetInfo: Sendable, Equatable {
    /// Absolute path of the dataset.
    public var path: String
    /// `uint8`, `uint16`, `uint32`, `uint64`, `int8`, `int16`, `int32`, `int64`, `float32`,
    /// `float64`, `string` (variable-length UTF-8), or a descriptive name for anything else.
    public var dtype: String
    /// Extent of each dimension; empty for a scalar dataset.
    public var shape: [Int]
    /// Chunk shape, or nil for contiguous/compact storage.
    public var chunks: [Int]?
    /// Filter pipeline in application order (empty when unfiltered).
    public var filters: [HDF5Filter]
    /// Where a virtual dataset's elements come from, in mapping order; nil when the dataset
    /// stores its own data.
    public var virtualMappings: [VirtualMapping]?

    /// Chunks needed to cover the whole extent, or nil when not chunked.
    public var chunkCount: Int? {
        guard let chunks, chunks.count == shape.count else { return nil }
        var total = 1
        for (extent, chunk) in zip(shape, chunks) {
            let (product, overflow) = total.multipliedReportingOverflow(by: (extent + chunk - 1) / chunk)
            guard !overflow else { return Int.max }
            total = product
        }
        return total
    }

    /// Metadata as read from a file (or expected by a test).
    public init(path: String, dtype: String, shape: [Int], chunks: [Int]?, filters: [HDF5Filter],
                virtualMappings: [VirtualMapping]? = nil) {
        self.path = path
        self.dtype = dtype
        self.shape = shape
        self.chunks = chunks
        self.filters = filters
        self.virtualMappings = virtualMappings
    }

    /// Whether the dataset is virtual (its elements live in other datasets, see `virtualMappings`).
    public var isVirtual: Bool { virtualMappings != nil }

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Where one stored chunk lives, for tools and tests that inspect the file directly.
public struct ChunkLocation: Sendable, Equatable {
    /// Element coordinates of the chunk's first element.
    public var offset: [Int]
    /// Bit i set = filter i of the pipeline was skipped for this chunk.
    public var filterMask: UInt32
    /// Byte offset of the stored (filtered) chunk in the file.
    public var fileAddress: UInt64
    /// Stored (filtered) size in bytes.
    public var storedSize: Int
}

/// A chunk's stored bytes, exactly as on disk (compressed, with checksum).
public struct RawChunk: Sendable, Equatable {
    /// The stored bytes.
    public var bytes: [UInt8]
    /// Bit i set = filter i of the pipeline was skipped for this chunk.
    public var filterMask: UInt32
}

/// The kind of object at a path.
public enum ObjectKind: Sendable, Equatable {
    case group
    case dataset
    case other
}

/// The library the wrapper is linked against.
public enum HDF5 {
    /// `major.minor.release` of the linked libhdf5, e.g. `1.10.8`.
    public static var libraryVersion: String {
        locked { () -> String in
            var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
            _ = H5get_libversion(&major, &minor, &release)
            return "\(major).\(minor).\(release)"
        }
    }
}

/// `DatasetInfo` under a name that cannot clash: modules that import `HDF5` and declare their
/// own `DatasetInfo` cannot qualify this one as `HDF5.DatasetInfo`, because the `HDF5` enum
/// shadows the module name.
public typealias HDF5DatasetInfo = DatasetInfo

/// The linked library's version under a name that does not collide with the module name.
public enum HDF5Library {
    /// `major.minor.release` of libhdf5, e.g. `1.10.8`.
    public static var version: String { HDF5.libraryVersion }
}

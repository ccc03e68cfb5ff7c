import HDF5

/// The elements of a dataset (or of a block of its rows) in C order, typed by dtype name: what
/// hashing, merging and copying need without a switch per dtype at every call site.
enum Values {
    case uint8([UInt8])
    case uint16([UInt16])
    case uint32([UInt32])
    case uint64([UInt64])
    case int32([Int32])
    case int64([Int64])
    case float32([Float])
    case float64([Double])
    case string([String])

    /// The dtype names this type can hold.
    static let dtypes: Set<String> = ["uint8", "uint16", "uint32", "uint64", "int32", "int64", "float32", "float64", "string"]

    /// Reads `rows` along dimension 0, or everything (including a scalar dataset) when nil.
    static func read(_ ds: borrowing Dataset, dtype: String, rows: Range<Int>?) throws(HDF5Error) -> Values {
        func numeric<T: HDF5Scalar>(_ type: T.Type) throws(HDF5Error) -> [T] {
            if let rows { return try ds.read(type, rows: rows) }
            return try ds.read(type)
        }
        switch dtype {
        case "uint8": return .uint8(try numeric(UInt8.self))
        case "uint16": return .uint16(try numeric(UInt16.self))
        case "uint32": return .uint32(try numeric(UInt32.self))
        case "uint64": return .uint64(try numeric(UInt64.self))
        case "int32": return .int32(try numeric(Int32.self))
        case "int64": return .int64(try numeric(Int64.self))
        case "float32": return .float32(try numeric(Float.self))
        case "float64": return .float64(try numeric(Double.self))
        case "string":
            if let rows { return .string(try ds.readStrings(rows: rows)) }
            return .string(try ds.readStrings())
        default:
            throw HDF5Error(code: .typeMismatch, message: "dtype \(dtype) is not one of the bundle format's types",
                            objectPath: ds.path, file: ds.file)
        }
    }

    var dtype: String {
        switch self {
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .int32: "int32"
        case .int64: "int64"
        case .float32: "float32"
        case .float64: "float64"
        case .string: "string"
        }
    }

    var count: Int {
        switch self {
        case .uint8(let v): v.count
        case .uint16(let v): v.count
        case .uint32(let v): v.count
        case .uint64(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float32(let v): v.count
        case .float64(let v): v.count
        case .string(let v): v.count
        }
    }

    /// Feeds the canonical bytes (bundle format §6) to `hasher`.
    func hash(into hasher: inout CanonicalHasher) {
        switch self {
        case .uint8(let v): hasher.append(v)
        case .uint16(let v): hasher.append(v)
        case .uint32(let v): hasher.append(v)
        case .uint64(let v): hasher.append(v)
        case .int32(let v): hasher.append(v)
        case .int64(let v): hasher.append(v)
        case .float32(let v): hasher.append(v)
        case .float64(let v): hasher.append(v)
        case .string(let v): hasher.append(v)
        }
    }

    /// Writes every element into `ds`, which must have this dtype and as many elements.
    func write(to ds: borrowing Dataset, scalar: Bool) throws(HDF5Error) {
        switch self {
        case .uint8(let v): try ds.write(v)
        case .uint16(let v): try ds.write(v)
        case .uint32(let v): try ds.write(v)
        case .uint64(let v): try ds.write(v)
        case .int32(let v): try ds.write(v)
        case .int64(let v): try ds.write(v)
        case .float32(let v): try ds.write(v)
        case .float64(let v): try ds.write(v)
        case .string(let v): if scalar { try ds.writeString(v[0]) } else { try ds.writeStrings(v) }
        }
    }

    /// `parts` one after another; every part must have the dtype of the first.
    static func concatenation(_ parts: [Values]) -> Values {
        guard let first = parts.first else { preconditionFailure("nothing to concatenate") }
        func join<T>(_ extract: (Values) -> [T]?) -> [T] {
            parts.flatMap { part -> [T] in
                guard let v = extract(part) else { preconditionFailure("concatenating \(part.dtype) onto \(first.dtype)") }
                return v
            }
        }
        switch first {
        case .uint8: return .uint8(join { if case .uint8(let v) = $0 { v } else { nil } })
        case .uint16: return .uint16(join { if case .uint16(let v) = $0 { v } else { nil } })
        case .uint32: return .uint32(join { if case .uint32(let v) = $0 { v } else { nil } })
        case .uint64: return .uint64(join { if case .uint64(let v) = $0 { v } else { nil } })
        case .int32: return .int32(join { if case .int32(let v) = $0 { v } else { nil } })
        case .int64: return .int64(join { if case .int64(let v) = $0 { v } else { nil } })
        case .float32: return .float32(join { if case .float32(let v) = $0 { v } else { nil } })
        case .float64: return .float64(join { if case .float64(let v) = $0 { v } else { nil } })
        case .string: return .string(join { if case .string(let v) = $0 { v } else { nil } })
        }
    }
}

import HDF5
import Raster

/// The required columns of the v1 tables and their dtypes (spec §Tables), shared by the
/// writer (which refuses tables that would not validate) and the validator.
enum TableSchema {
    struct Spec {
        let path: String
        let columns: [(name: String, dtype: String)]
    }

    static let tables: [Spec] = [
        Spec(path: BundleLayout.tiles, columns: zip(BundleLayout.tileColumns,
                                                     ["int32", "int64", "int64", "int32", "int32", "int32", "int32", "int32"])
            .map { ($0, $1) }),
        Spec(path: BundleLayout.classes, columns: zip(BundleLayout.classColumns, ["int32", "string"]).map { ($0, $1) }),
        Spec(path: BundleLayout.sources, columns: zip(BundleLayout.sourceColumns,
                                                       ["string", "string", "string", "int64", "int64", "int32", "int32"])
            .map { ($0, $1) }),
    ]

    /// `/grid` (optional; bundle format §5.6): every column int32.
    static let grid = Spec(path: BundleLayout.grid, columns: BundleLayout.gridColumns.map { ($0, "int32") })

    static func spec(for path: String) -> Spec? { (tables + [grid]).first { $0.path == path } }

    /// The dtype names of bundle format §2, the only ones a bundle's datasets may have.
    static let dtypes: Set<String> = ["uint8", "uint16", "uint32", "int32", "int64", "float32", "float64", "string"]

    /// Rows per chunk of a table column: whole small tables in one chunk, large ones in 64 Ki rows.
    static func chunkRows(_ rows: Int) -> Int { max(1, min(rows, 65_536)) }

    /// Storage of a table column (or of any record dataset, `rowShape` being its other
    /// dimensions) of `rows` rows: numeric data deflated and checksummed, strings unfiltered (HDF5
    /// refuses Fletcher-32 on variable-length data), and an unlimited length when empty, as a fixed
    /// extent of 0 cannot hold a chunk.
    static func columnLayout(rows: Int, dtype: String, deflateLevel: Int, rowShape: [Int] = []) -> DatasetLayout {
        let chunks = [chunkRows(rows)] + rowShape
        return dtype == "string"
            ? .chunked(chunks, unlimitedFirstDimension: rows == 0)
            : .chunked(chunks, deflateLevel: deflateLevel, fletcher32: true, unlimitedFirstDimension: rows == 0)
    }
}

extension ColumnData {
    /// dtype name as stored (spec §Data types).
    var dtype: String {
        switch self {
        case .int32: "int32"
        case .int64: "int64"
        case .float64: "float64"
        case .string: "string"
        }
    }
}

extension PixelType {
    /// dtype name of `/images` for this pixel type.
    var dtype: String { rawValue }

    init?(dtype: String) { self.init(rawValue: dtype) }
}

import Foundation

/// The `samples` section of a recipe, as plain Codable values the recipe reader maps YAML onto.
/// Key names in YAML are the snake_case forms of these properties (specs/samples/v1.md §2).
public struct SamplesConfig: Sendable, Codable, Equatable {
    /// What kind of table `table` is; decides the default column selection.
    public enum TableKind: String, Sendable, Codable, Equatable {
        /// A plain sample table: every column is a sample column by default.
        case sampleTable = "sample_table"
        /// An IDR annotation table: by default only its sample columns (`Characteristics [...]`,
        /// `Comment [...]`, `Gene Identifier`, `Gene Symbol`, `Source Name`).
        case annotationTable = "annotation_table"
    }

    /// Path of the CSV/TSV table (already resolved against the input root by the caller).
    public var table: String
    /// Kind of table; default `sample_table`.
    public var tableKind: TableKind?
    /// Table columns forming the join key, in the order the records give their key values.
    public var keys: [String]
    /// Columns to carry (default depends on `tableKind`); each goes through the privacy policy.
    public var columns: [String]?
    /// Declared column types; other columns are inferred.
    public var types: [ColumnTypeEntry]?
    /// Cells read as missing (default `""`, `NA`, `N/A`, `n/a`).
    public var nullValues: [String]?
    /// Privacy policy.
    public var privacy: PrivacyConfig?
    /// Embargo and data-use rules.
    public var consent: ConsentConfig?
    /// Split assignment.
    public var splits: SplitConfig?

    /// A configuration.
    public init(table: String, tableKind: TableKind? = nil, keys: [String], columns: [String]? = nil,
                types: [ColumnTypeEntry]? = nil, nullValues: [String]? = nil, privacy: PrivacyConfig? = nil,
                consent: ConsentConfig? = nil, splits: SplitConfig? = nil) {
        self.table = table
        self.tableKind = tableKind
        self.keys = keys
        self.columns = columns
        self.types = types
        self.nullValues = nullValues
        self.privacy = privacy
        self.consent = consent
        self.splits = splits
    }
}

/// A declared type for one column.
public struct ColumnTypeEntry: Sendable, Codable, Equatable {
    /// Column name.
    public var column: String
    /// The declaration.
    public var declaration: ColumnTypeDeclaration

    /// An entry.
    public init(column: String, _ declaration: ColumnTypeDeclaration) {
        self.column = column
        self.declaration = declaration
    }
}

/// The privacy part of the configuration.
public struct PrivacyConfig: Sendable, Codable, Equatable {
    /// Per-column treatments; columns not listed are kept unless they look like identifiers.
    public var columns: [ColumnPolicy]?
    /// Key for `pseudonymize`; required when any column is pseudonymized.
    public var pseudonymKey: PseudonymKeySource?
    /// Columns whose combination could re-identify a person (after generalization).
    public var quasiIdentifiers: [String]?
    /// Refuse the export when an equivalence class is smaller than this.
    public var minimumK: Int?

    /// A configuration.
    public init(columns: [ColumnPolicy]? = nil, pseudonymKey: PseudonymKeySource? = nil,
                quasiIdentifiers: [String]? = nil, minimumK: Int? = nil) {
        self.columns = columns
        self.pseudonymKey = pseudonymKey
        self.quasiIdentifiers = quasiIdentifiers
        self.minimumK = minimumK
    }
}

/// The split part of the configuration: either hash assignment by group, or splits read from a column.
public struct SplitConfig: Sendable, Codable, Equatable {
    /// Sample column whose value is the group (individual, patient, sample, plate).
    public var groupColumn: String
    /// Split shares, for hash assignment.
    public var fractions: [SplitFraction]?
    /// Seed mixed into the split hash (the recipe's `seed`).
    public var seed: UInt64?
    /// Sample column holding the class to stratify by.
    public var stratifyColumn: String?
    /// Stratification method when `stratifyColumn` is set (default `rank`).
    public var stratification: StratificationMethod?
    /// Take each record's split from this column instead of hashing (idr0042's `Dataset Name`).
    public var fromColumn: String?
    /// Value → split name for `fromColumn` (values not listed are used as split names as is).
    public var valueMap: [SplitValueMapping]?

    /// A configuration.
    public init(groupColumn: String, fractions: [SplitFraction]? = nil, seed: UInt64? = nil,
                stratifyColumn: String? = nil, stratification: StratificationMethod? = nil,
                fromColumn: String? = nil, valueMap: [SplitValueMapping]? = nil) {
        self.groupColumn = groupColumn
        self.fractions = fractions
        self.seed = seed
        self.stratifyColumn = stratifyColumn
        self.stratification = stratification
        self.fromColumn = fromColumn
        self.valueMap = valueMap
    }
}

/// One `value → split` pair.
public struct SplitValueMapping: Sendable, Codable, Equatable {
    /// Cell value as written, e.g. `training`.
    public var value: String
    /// Split name, e.g. `train`.
    public var split: String

    /// A mapping pair.
    public init(value: String, split: String) {
        self.value = value
        self.split = split
    }
}

/// An image record to link: its id (for reports) and its values of the join key columns.
public struct SampleLinkRecord: Sendable, Codable, Equatable {
    /// Record id, e.g. the image path or name; appears in reports and the manifest.
    public var id: String
    /// Key values in the order of `SamplesConfig.keys`.
    public var keyValues: [String]

    /// A record.
    public init(id: String, keyValues: [String]) {
        self.id = id
        self.keyValues = keyValues
    }
}

import Foundation

/// Everything the export stores about samples: the `/samples` table, one link per record, and
/// the manifest section. Encode with `JSONEncoder.outputFormatting = [.sortedKeys]` for
/// byte-identical output.
public struct SampleLinkResult: Sendable, Codable, Equatable {
    /// The `/samples` table: released sample rows (those linked to at least one included record), in table order.
    public var samples: SampleTableData
    /// One entry per input record, in input order.
    public var records: [RecordLink]
    /// Manifest section: columns, treatments, key fingerprint, join, k-anonymity, consent, splits.
    public var manifest: SamplesManifestSection
    /// Join details for the console, including key values; not meant for the bundle, because
    /// unmatched sample keys may be identifiers.
    public var joinReport: JoinReport

    /// The column named `name`, if released.
    public func column(_ name: String) -> SampleColumn? { samples.columns.first { $0.name == name } }
}

/// Columnar sample table.
public struct SampleTableData: Sendable, Codable, Equatable {
    /// Number of rows.
    public var rowCount: Int
    /// 1-based source line of each row (so a row can be traced back by whoever holds the source table).
    public var sourceLines: [Int]
    /// Released columns in source header order.
    public var columns: [SampleColumn]
}

/// How one record was linked.
public struct RecordLink: Sendable, Codable, Equatable {
    /// Record id as given.
    public var record: String
    /// Row in `/samples`, nil when unmatched or excluded.
    public var sampleRow: Int?
    /// Released group id (the released value of the group column, or `group-N` when that column is not released as is).
    public var group: String?
    /// Split name, nil when the record is unmatched, excluded, or no splits are configured.
    public var split: String?
    /// True when consent or embargo excluded the record.
    public var excluded: Bool
}

/// Join outcome with names.
public struct JoinReport: Sendable, Codable, Equatable {
    /// A sample row no record links to.
    public struct UnmatchedRow: Sendable, Codable, Equatable {
        /// 1-based line in the table.
        public var line: Int
        /// Its key values.
        public var key: [String]
    }
    /// Records that found their sample row.
    public var matchedRecords: Int
    /// Ids of records without a sample row, in input order.
    public var unmatchedRecords: [String]
    /// Sample rows no record links to, in table order.
    public var unmatchedRows: [UnmatchedRow]
}

/// The manifest's `samples` section.
public struct SamplesManifestSection: Sendable, Codable, Equatable {
    /// Source table path as configured.
    public var source: String
    /// SHA-256 of the source file bytes (hex), so the release can be tied to its input.
    public var sourceSHA256: String
    /// Join key columns.
    public var keys: [String]
    /// Every candidate column, released or not, in header order.
    public var columns: [ManifestColumn]
    /// Fingerprint of the pseudonym key, when any column is pseudonymized.
    public var pseudonymKeyFingerprint: String?
    /// Join counts (no sample key values: they may identify people).
    public var join: JoinSummary
    /// k-anonymity over the quasi-identifiers, when declared.
    public var kAnonymity: KAnonymityReport?
    /// Consent and embargo outcome.
    public var consent: ConsentSummary
    /// Split method and counts, when configured.
    public var splits: SplitSummary?
}

/// One column in the manifest.
public struct ManifestColumn: Sendable, Codable, Equatable {
    /// Column name.
    public var name: String
    /// Source file.
    public var source: String
    /// Type in the bundle (after treatment); the source type for dropped columns.
    public var type: SampleValueType
    /// Unit of quantities.
    public var unit: String?
    /// Treatment applied.
    public var treatment: PrivacyTreatment
    /// Generalization rule summary, e.g. `age_band(width=5,top_code=90)`.
    public var rule: String?
    /// The recipe's reason for keeping an identifier-like column.
    public var reason: String?
    /// Why the column looked like a direct identifier, if it did.
    public var identifierWarning: String?
    /// False for dropped columns.
    public var released: Bool
}

/// Join counts for the manifest.
public struct JoinSummary: Sendable, Codable, Equatable {
    /// Records that found a sample row.
    public var matchedRecords: Int
    /// Record ids without a sample row.
    public var unmatchedRecords: [String]
    /// Lines of sample rows no record links to.
    public var unmatchedSampleLines: [Int]
}

/// Consent outcome for the manifest.
public struct ConsentSummary: Sendable, Codable, Equatable {
    /// Records left out and why.
    public var excluded: [ExcludedRecord]
    /// Overrides that let records through, with the recipe's reasons.
    public var overrides: [AppliedOverride]
    /// Data-use conditions the bundle's users must meet (e.g. `DUO:0000019 (PUB): publication required`).
    public var conditions: [String]
    /// The "now" the embargo was checked against (ISO date).
    public var checkedOn: String
}

/// Split outcome for the manifest.
public struct SplitSummary: Sendable, Codable, Equatable {
    /// Per-split counts.
    public struct Count: Sendable, Codable, Equatable {
        /// Split name.
        public var split: String
        /// Groups in it.
        public var groups: Int
        /// Records in it.
        public var records: Int
    }
    /// `hash`, `hash+rank_stratified` or `column`.
    public var method: String
    /// Group column.
    public var groupColumn: String
    /// Seed (hash methods).
    public var seed: UInt64?
    /// Configured fractions (hash methods).
    public var fractions: [SplitFraction]?
    /// Stratification column.
    public var stratifyColumn: String?
    /// Column splits were taken from.
    public var fromColumn: String?
    /// Counts in split order (configuration order, or sorted names for column splits).
    public var counts: [Count]
}

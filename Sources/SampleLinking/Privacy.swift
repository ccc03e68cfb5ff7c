import Crypto
import Foundation
import Raster

/// What happens to a column before it leaves the machine.
public enum PrivacyTreatment: String, Sendable, Codable, Equatable {
    /// Export as typed.
    case keep
    /// Leave out of the bundle (still listed in the manifest).
    case drop
    /// Replace by a coarser value (see `GeneralizationRule`).
    case generalize
    /// Replace by a keyed pseudonym (HMAC-SHA-256).
    case pseudonymize
}

/// A generalization: coarse values that keep the analytic signal but not the person.
public struct GeneralizationRule: Sendable, Codable, Equatable {
    /// Which generalization.
    public enum Kind: String, Sendable, Codable, Equatable {
        /// Numeric value (integer, float or quantity) → band label `lo-hi` of `width`; values ≥
        /// `topCode` become `<topCode>+`.
        case ageBand = "age_band"
        /// Date → its year (an integer column).
        case yearOnly = "year_only"
        /// Postcode → its first `characters` characters of the outward code, upper-cased.
        case postcodePrefix = "postcode_prefix"
    }
    /// Which generalization.
    public var kind: Kind
    /// Band width for `age_band` (default 5), in the column's unit.
    public var width: Double?
    /// Top-coding threshold for `age_band` (default 90): values at or above it share one band.
    public var topCode: Double?
    /// Characters kept by `postcode_prefix` (default 3).
    public var characters: Int?

    /// A rule.
    public init(kind: Kind, width: Double? = nil, topCode: Double? = nil, characters: Int? = nil) {
        self.kind = kind
        self.width = width
        self.topCode = topCode
        self.characters = characters
    }

    /// Short text for the manifest, e.g. `age_band(width=5,top_code=90)`.
    public var summary: String {
        switch kind {
        case .ageBand: return "age_band(width=\(Self.number(width ?? 5)),top_code=\(Self.number(topCode ?? 90)))"
        case .yearOnly: return "year_only"
        case .postcodePrefix: return "postcode_prefix(characters=\(characters ?? 3))"
        }
    }

    static func number(_ d: Double) -> String { d == d.rounded() ? String(Int64(d)) : String(d) }
}

/// The recipe's word on one column.
public struct ColumnPolicy: Sendable, Codable, Equatable {
    /// Source column name.
    public var column: String
    /// Treatment.
    public var treatment: PrivacyTreatment
    /// Required when `treatment` is `generalize`.
    public var generalize: GeneralizationRule?
    /// Why a column that looks like an identifier is kept; required for `keep` of such a column
    /// and recorded in the manifest.
    public var reason: String?

    /// A policy entry.
    public init(column: String, treatment: PrivacyTreatment, generalize: GeneralizationRule? = nil, reason: String? = nil) {
        self.column = column
        self.treatment = treatment
        self.generalize = generalize
        self.reason = reason
    }
}

/// Where the pseudonymization key comes from. The key itself is never stored anywhere.
public struct PseudonymKeySource: Sendable, Codable, Equatable {
    /// Path of a file holding the key (its bytes, without one trailing newline).
    public var file: String?
    /// Name of an environment variable holding the key (its UTF-8 bytes).
    public var environment: String?

    /// A key source; exactly one of the two must be set.
    public init(file: String? = nil, environment: String? = nil) {
        self.file = file
        self.environment = environment
    }

    /// Shortest key accepted, in bytes: below 128 bits a pseudonym could be reversed by
    /// guessing the key together with the small space of identifiers.
    public static let minimumKeyBytes = 16

    /// Reads the key. `environment` is injected so tests do not touch the process environment.
    public func loadKey(environment env: [String: String]) throws(SampleLinkingError) -> [UInt8] {
        let bytes: [UInt8]
        switch (file, environment) {
        case let (path?, nil):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SampleLinkingError(.pseudonymKeyUnavailable, "cannot read the pseudonym key file; create it (e.g. `head -c 32 /dev/urandom | base64 > key`) or fix the path", file: path)
            }
            var b = [UInt8](data)
            if b.last == UInt8(ascii: "\n") { b.removeLast() }
            if b.last == UInt8(ascii: "\r") { b.removeLast() }
            bytes = b
        case let (nil, name?):
            guard let value = env[name], !value.isEmpty else {
                throw SampleLinkingError(.pseudonymKeyUnavailable, "environment variable \(name) holding the pseudonym key is not set", keyPath: "privacy.pseudonym_key.environment")
            }
            bytes = Array(value.utf8)
        default:
            throw SampleLinkingError(.pseudonymKeyUnavailable, "give exactly one of file or environment for the pseudonym key", keyPath: "privacy.pseudonym_key")
        }
        guard bytes.count >= Self.minimumKeyBytes else {
            throw SampleLinkingError(.pseudonymKeyUnavailable, "the pseudonym key has \(bytes.count) bytes; use at least \(Self.minimumKeyBytes) random bytes", keyPath: "privacy.pseudonym_key")
        }
        return bytes
    }
}

/// Keyed pseudonyms: `pid_` + the first 32 hex digits of HMAC-SHA-256(key, "trainset/pseudonym/v1" ‖ 0x00 ‖ value).
///
/// Keyed so that nobody without the key can test a guessed identifier against the output (a
/// plain hash of a patient number can be reversed by hashing all patient numbers).
public struct Pseudonymizer: Sendable {
    // Bytes, not SymmetricKey, which is not Sendable.
    private let key: [UInt8]
    /// First 16 hex digits of SHA-256("trainset/key-fingerprint/v1" ‖ 0x00 ‖ key): tells two
    /// releases made with the same key apart from others without revealing the key.
    public let keyFingerprint: String

    static let pseudonymDomain = Array("trainset/pseudonym/v1".utf8) + [0]
    static let fingerprintDomain = Array("trainset/key-fingerprint/v1".utf8) + [0]

    /// A pseudonymizer for `key` (at least 16 bytes; see `PseudonymKeySource`).
    public init(key: [UInt8]) {
        self.key = key
        self.keyFingerprint = String(lowercaseHex(SHA256.hash(data: Self.fingerprintDomain + key)).prefix(16))
    }

    /// The pseudonym of `value` (trimmed of surrounding spaces, so "P1 " and "P1" agree).
    public func pseudonym(_ value: String) -> String {
        let message = Self.pseudonymDomain + Array(value.trimmingCharacters(in: .whitespaces).utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "pid_" + String(lowercaseHex(mac).prefix(32))
    }
}

/// Applies generalization rules to typed columns.
enum Generalizer {
    static func apply(_ rule: GeneralizationRule, to column: SampleColumn, cells: [String?]) throws(SampleLinkingError) -> SampleColumn {
        func invalid(_ why: String) -> SampleLinkingError {
            SampleLinkingError(.invalidTreatment, why, column: column.name, keyPath: "privacy.columns")
        }
        switch rule.kind {
        case .ageBand:
            let width = rule.width ?? 5, top = rule.topCode ?? 90
            guard width > 0, width.isFinite, top.isFinite else { throw invalid("age_band needs a positive width and a finite top_code") }
            let lows: [Double], highs: [Double]
            switch column.type {
            case .integer: lows = column.ints!.map(Double.init); highs = lows
            case .float: lows = column.doubles!; highs = lows
            case .quantity: lows = column.doubles!; highs = column.upperDoubles!
            default: throw invalid("age_band needs a numeric column (integer, float or quantity); this one is \(column.type.rawValue) — declare its type")
            }
            let labels: [String?] = column.valid.indices.map { i in
                guard column.valid[i] else { return nil }
                return band(low: lows[i], high: highs[i], width: width, top: top)
            }
            var out = SampleColumn.categorical(name: column.name, labels: labels)
            out.unit = column.unit
            return out
        case .yearOnly:
            guard column.type == .date else { throw invalid("year_only needs a date column; this one is \(column.type.rawValue) — declare it as date") }
            let ints = column.strings!.map { Int64($0.prefix(4)) ?? 0 }
            return SampleColumn(name: column.name, type: .integer, ints: ints, valid: column.valid)
        case .postcodePrefix:
            let n = rule.characters ?? 3
            guard n >= 1 else { throw invalid("postcode_prefix needs characters ≥ 1") }
            let labels = cells.map { cell in
                cell.map { c -> String in
                    // The outward code (before the space) is the region part of UK-style codes.
                    let outward = c.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                    return String(outward.uppercased().prefix(n))
                }
            }
            return .categorical(name: column.name, labels: labels)
        }
    }

    /// `lo-hi` label of the band holding [low, high]; a range spanning bands gets the union
    /// (`5-19`), and anything reaching `top` becomes `top+`.
    static func band(low: Double, high: Double, width: Double, top: Double) -> String {
        let topLabel = GeneralizationRule.number(top) + "+"
        if low >= top { return topLabel }
        let start = (low / width).rounded(.down) * width
        if high >= top { return GeneralizationRule.number(start) + "+" }
        let end = (high / width).rounded(.down) * width + width
        // Integer-valued bands read as 60-64; fractional widths as [60, 62.5).
        if width == width.rounded(), start == start.rounded() {
            return "\(GeneralizationRule.number(start))-\(GeneralizationRule.number(end - 1))"
        }
        return "[\(GeneralizationRule.number(start)),\(GeneralizationRule.number(end)))"
    }
}

/// The k-anonymity of a release over its quasi-identifiers.
public struct KAnonymityReport: Sendable, Codable, Equatable {
    /// One equivalence class: rows sharing the same quasi-identifier values.
    public struct EquivalenceClass: Sendable, Codable, Equatable {
        /// Values in the order of `quasiIdentifiers`; missing cells read as "" here.
        public var values: [String]
        /// Number of rows in the class.
        public var size: Int
    }
    /// Columns considered, in configuration order.
    public var quasiIdentifiers: [String]
    /// Smallest class size (0 when there are no rows).
    public var k: Int
    /// Number of classes.
    public var classCount: Int
    /// Up to ten smallest classes, by size then values.
    public var smallestClasses: [EquivalenceClass]
    /// The configured minimum, if any.
    public var minimumK: Int?

    static func compute(columns: [SampleColumn], minimumK: Int?) -> KAnonymityReport {
        let rows = columns.first?.count ?? 0
        var sizes: [[String]: Int] = [:]
        for r in 0..<rows {
            sizes[columns.map { $0.text(at: r) ?? "" }, default: 0] += 1
        }
        let classes = sizes.map { EquivalenceClass(values: $0.key, size: $0.value) }
            .sorted { ($0.size, $0.values.joined(separator: "\u{1F}")) < ($1.size, $1.values.joined(separator: "\u{1F}")) }
        return KAnonymityReport(quasiIdentifiers: columns.map(\.name), k: classes.first?.size ?? 0,
                                classCount: classes.count, smallestClasses: Array(classes.prefix(10)), minimumK: minimumK)
    }
}

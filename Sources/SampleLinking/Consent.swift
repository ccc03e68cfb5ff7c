import Foundation

/// Embargo and data-use (GA4GH DUO) settings of the recipe.
public struct ConsentConfig: Sendable, Codable, Equatable {
    /// Study public release date (e.g. IDR's `Study Public Release Date`); records are excluded before it.
    public var releaseDate: String?
    /// Sample column holding a per-sample release date (overrides `releaseDate` where filled).
    public var releaseDateColumn: String?
    /// DUO codes of the whole study, e.g. `["DUO:0000042", "DUO:0000019"]`.
    public var dataUse: [String]?
    /// Sample column holding per-sample DUO codes, separated by `;`, `,`, `|` or spaces.
    public var dataUseColumn: String?
    /// End of a publication moratorium (DUO:0000024); without it MOR excludes.
    public var moratoriumUntil: String?
    /// Last day of approved use (DUO:0000025); without it TS excludes.
    public var useUntil: String?
    /// Further codes (as written) the recipe author has checked and accepts as not forbidding this use.
    public var acceptedCodes: [String]?
    /// Deliberate overrides: rule `embargo` or a DUO code, with a reason that the manifest records.
    public var overrides: [ConsentOverride]?

    /// A configuration; everything optional.
    public init(releaseDate: String? = nil, releaseDateColumn: String? = nil, dataUse: [String]? = nil,
                dataUseColumn: String? = nil, moratoriumUntil: String? = nil, useUntil: String? = nil,
                acceptedCodes: [String]? = nil, overrides: [ConsentOverride]? = nil) {
        self.releaseDate = releaseDate
        self.releaseDateColumn = releaseDateColumn
        self.dataUse = dataUse
        self.dataUseColumn = dataUseColumn
        self.moratoriumUntil = moratoriumUntil
        self.useUntil = useUntil
        self.acceptedCodes = acceptedCodes
        self.overrides = overrides
    }
}

/// "Use these records anyway, because …".
public struct ConsentOverride: Sendable, Codable, Equatable {
    /// `embargo`, or a DUO code in any accepted spelling (`DUO:0000015`, `DUO_0000015`, `NMDS`).
    public var rule: String
    /// Why; must not be empty.
    public var reason: String

    /// An override.
    public init(rule: String, reason: String) {
        self.rule = rule
        self.reason = reason
    }
}

/// One record left out and why.
public struct ExcludedRecord: Sendable, Codable, Equatable {
    /// The record's id as given to the linker.
    public var record: String
    /// Every rule that excluded it, e.g. `embargo: release date 2030-01-01 is after 2025-06-01`.
    public var reasons: [String]
}

/// An override that actually let records through.
public struct AppliedOverride: Sendable, Codable, Equatable {
    /// Canonical rule (`embargo` or `DUO:0000015`).
    public var rule: String
    /// The recipe's reason.
    public var reason: String
    /// How many records it let through.
    public var records: Int
}

/// The GA4GH Data Use Ontology terms the checker knows, with the decision for exporting a
/// machine-learning training set (IDs checked against EBISPOT/DUO duo.csv).
public enum DataUseCode {
    /// What a code means for a training-set export.
    public enum Effect: String, Sendable, Codable {
        /// Allows the use.
        case permits
        /// A condition the bundle's users must meet; recorded, does not exclude.
        case condition
        /// Forbids the use (or forbids it unless a date in the configuration says otherwise).
        case forbids
    }

    /// id, shorthand, label, effect.
    public static let known: [(id: String, shorthand: String, label: String, effect: Effect)] = [
        ("DUO:0000004", "NRES", "no restriction", .permits),
        ("DUO:0000042", "GRU", "general research use", .permits),
        ("DUO:0000006", "HMB", "health or medical or biomedical research", .permits),
        ("DUO:0000007", "DS", "disease specific research", .condition),
        ("DUO:0000011", "POA", "population origins or ancestry research only", .forbids),
        ("DUO:0000012", "RS", "research specific restrictions", .condition),
        ("DUO:0000015", "NMDS", "no general methods research", .forbids),
        ("DUO:0000016", "GSO", "genetic studies only", .forbids),
        ("DUO:0000018", "NPUNCU", "not for profit, non commercial use only", .condition),
        ("DUO:0000019", "PUB", "publication required", .condition),
        ("DUO:0000020", "COL", "collaboration required", .condition),
        ("DUO:0000021", "IRB", "ethics approval required", .condition),
        ("DUO:0000022", "GS", "geographical restriction", .condition),
        ("DUO:0000024", "MOR", "publication moratorium", .forbids),
        ("DUO:0000025", "TS", "time limit on use", .forbids),
        ("DUO:0000026", "US", "user specific restriction", .condition),
        ("DUO:0000027", "PS", "project specific restriction", .condition),
        ("DUO:0000028", "IS", "institution specific restriction", .condition),
        ("DUO:0000029", "RTN", "return to database or resource", .condition),
        ("DUO:0000043", "CC", "clinical care use", .permits),
        ("DUO:0000044", "NPOA", "population origins or ancestry research prohibited", .condition),
        ("DUO:0000045", "NPU", "not for profit organisation use only", .condition),
        ("DUO:0000046", "NCU", "non-commercial use only", .condition),
    ]

    /// `DUO:0000015` for `DUO:0000015`, `DUO_0000015`, `duo:0000015` or `NMDS`; nil when unknown.
    public static func canonical(_ code: String) -> String? {
        let t = code.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "_", with: ":")
        return known.first { $0.id == t || $0.shorthand == t }?.id
    }
}

/// Decides, per sample row, whether embargo and consent allow the export.
struct ConsentChecker {
    let config: ConsentConfig
    let now: SampleDate

    /// Per sample row: the reasons it is excluded (empty = allowed) after overrides, the
    /// overrides used, and the data-use conditions attached. `releaseDates` and `codes` are per-row cells of the configured columns.
    func evaluate(rowCount: Int, releaseDates: [String?]?, codes: [String?]?, file: String, lines: [Int])
        throws(SampleLinkingError) -> (reasons: [[String]], overridden: [[String]], conditions: [[String]]) {
        var overrides: [String: String] = [:]
        for (i, o) in (config.overrides ?? []).enumerated() {
            let rule = o.rule.lowercased() == "embargo" ? "embargo" : DataUseCode.canonical(o.rule)
            guard let rule else {
                throw SampleLinkingError(.unknownDataUseCode, "override rule \"\(o.rule)\" is neither embargo nor a known DUO code", keyPath: "consent.overrides[\(i)].rule")
            }
            guard !o.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw SampleLinkingError(.invalidConfiguration, "an override needs a reason; the manifest records it", keyPath: "consent.overrides[\(i)].reason")
            }
            overrides[rule] = o.reason
        }
        let accepted = Set((config.acceptedCodes ?? []).map { $0.trimmingCharacters(in: .whitespaces).uppercased() })
        func date(_ text: String, _ keyPath: String, line: Int? = nil) throws(SampleLinkingError) -> SampleDate {
            guard let d = ValueParser.date(text) else {
                throw SampleLinkingError(.invalidDate, "\"\(text)\" is not a date; write YYYY-MM-DD",
                                         file: line == nil ? nil : file, line: line, keyPath: keyPath)
            }
            return d
        }
        let studyRelease = try config.releaseDate.map { (t: String) throws(SampleLinkingError) in try date(t, "consent.release_date") }
        let moratorium = try config.moratoriumUntil.map { (t: String) throws(SampleLinkingError) in try date(t, "consent.moratorium_until") }
        let useUntil = try config.useUntil.map { (t: String) throws(SampleLinkingError) in try date(t, "consent.use_until") }

        var conditions: [[String]] = []
        var reasons: [[String]] = [], overridden: [[String]] = []
        for row in 0..<rowCount {
            var violated: [(rule: String, why: String)] = []
            var rowConditions: Set<String> = []
            var release = studyRelease
            if let cell = releaseDates?[row] { release = try date(cell, "consent.release_date_column", line: lines[row]) }
            if let release, now < release {
                violated.append(("embargo", "release date \(release) is after \(now)"))
            }
            var rowCodes = config.dataUse ?? []
            if let cell = codes?[row] {
                rowCodes += cell.split(whereSeparator: { ";,| ".contains($0) }).map(String.init)
            }
            for code in rowCodes {
                guard let id = DataUseCode.canonical(code) else {
                    if accepted.contains(code.uppercased()) { continue }
                    throw SampleLinkingError(.unknownDataUseCode, "data-use code \"\(code)\" is not a GA4GH DUO code this version knows; list it in consent.accepted_codes if it does not forbid training-set export",
                                             file: codes?[row] == nil ? nil : file, line: codes?[row] == nil ? nil : lines[row],
                                             column: codes?[row] == nil ? nil : config.dataUseColumn, keyPath: "consent.data_use")
                }
                let term = DataUseCode.known.first { $0.id == id }!
                switch (term.effect, id) {
                case (.permits, _): break
                case (.condition, _): rowConditions.insert("\(id) (\(term.shorthand)): \(term.label)")
                case (.forbids, "DUO:0000024"):
                    if let moratorium, !(now < moratorium) { break }
                    violated.append((id, moratorium.map { "publication moratorium (MOR) until \($0)" } ?? "publication moratorium (MOR) without consent.moratorium_until"))
                case (.forbids, "DUO:0000025"):
                    if let useUntil, !(useUntil < now) { break }
                    violated.append((id, useUntil.map { "time limit on use (TS) ended \($0)" } ?? "time limit on use (TS) without consent.use_until"))
                case (.forbids, _):
                    let why = id == "DUO:0000015" ? "; a training set is methods development" : ", which a training-set export is not"
                    violated.append((id, "\(term.label) (\(term.shorthand))" + why))
                }
            }
            var kept: [String] = [], used: [String] = []
            var seen: Set<String> = []
            for v in violated where seen.insert(v.rule).inserted {
                if overrides[v.rule] != nil { used.append(v.rule) } else { kept.append("\(v.rule): \(v.why)") }
            }
            reasons.append(kept)
            conditions.append(rowConditions.sorted())
            overridden.append(used)
        }
        return (reasons, overridden, conditions)
    }
}

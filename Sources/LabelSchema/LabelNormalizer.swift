import Foundation

/// What to do with source values that match no class.
public enum UnknownValuePolicy: String, Codable, Sendable {
    /// Fail the export, listing the unmapped values (`MappingReport.check(_:)`).
    case error
    /// Leave the sample out; the values stay listed in the report.
    case skip
}

/// A source label: the text as written and, when the source has one, its ontology accession
/// (IDR's `Phenotype N Term Accession`, converted to a `TermID`).
public struct SourceLabel: Sendable, Hashable {
    public var value: String
    public var term: TermID?

    public init(value: String, term: TermID? = nil) {
        self.value = value
        self.term = term
    }
}

/// Maps source label values (e.g. an annotation table's column) to class ids and records every
/// decision for the mapping report.
public struct LabelNormalizer: Sendable {
    /// How many locations are kept per unmapped value; the count is always exact.
    public static let maxLocations = 20

    private let table: MatchTable
    private var tallies: [SourceLabel: Tally] = [:]
    private var emptyCount = 0

    private struct Tally {
        let classId: Int?
        let rule: MatchRule?
        var count = 0
        var locations: [String] = []

        /// Counts one occurrence; keeps the location while an unknown value still has room.
        mutating func record(_ location: String) -> Int? {
            count += 1
            if (rule == nil || rule == .unknown) && locations.count < LabelNormalizer.maxLocations {
                locations.append(location)
            }
            return classId
        }
    }

    /// A normalizer over a bare class list (ids 0..<k), matching names only.
    public init(classes: ClassList, matching: MatchMode) {
        table = MatchTable(classes: classes, matching: matching)
    }

    /// A normalizer applying every rule of `schema` in the spec's precedence order and its
    /// unknown-value rule.
    public init(schema: Schema) {
        do {
            table = try MatchTable(schema: schema, file: nil)
        } catch {
            // Schemas only come from the loader or the draft builder, which validate them.
            preconditionFailure("LabelNormalizer(schema:) needs a validated schema: \(error)")
        }
    }

    /// The class id `value` maps to, or nil if it is empty/whitespace-only (without a term),
    /// matches no rule, or is ignored by the unknown-value rule. `location` (e.g.
    /// `"annotations.csv:42"`) is kept for unknown values so the report can say where to fix them.
    public mutating func normalize(_ value: String, term: TermID? = nil, at location: String) -> Int? {
        if term == nil && value.allSatisfy(\.isWhitespace) {
            emptyCount += 1
            return nil
        }
        let key = SourceLabel(value: value, term: term)
        if tallies[key] == nil {
            let (id, rule) = table.resolve(value, term: term)
            tallies[key] = Tally(classId: id, rule: rule)
        }
        return tallies[key]!.record(location)
    }

    /// The class ids of a multi-label sample (e.g. an IDR well's phenotypes), ascending and
    /// without repeats; every label is counted in the report.
    public mutating func normalize(_ labels: [SourceLabel], at location: String) -> [Int] {
        var ids: [Int] = []
        for label in labels {
            if let id = normalize(label.value, term: label.term, at: location), !ids.contains(id) { ids.append(id) }
        }
        return ids.sorted()
    }

    /// Everything normalized so far.
    public var report: MappingReport {
        MappingReport(
            entries: tallies.keys.sorted { ($0.value, $0.term?.curie ?? "") < ($1.value, $1.term?.curie ?? "") }.map { key in
                let t = tallies[key]!
                return MappingReport.Entry(value: key.value, term: key.term?.curie, classId: t.classId,
                                           className: t.classId.flatMap { table.names[$0] }, rule: t.rule,
                                           count: t.count, locations: t.locations)
            },
            emptyCount: emptyCount)
    }
}

/// Which source values became which class, how often, and where the unknown ones are.
public struct MappingReport: Codable, Sendable, Equatable {
    /// One distinct source value (and accession), exactly as it appeared.
    public struct Entry: Codable, Sendable, Equatable {
        public var value: String
        /// The accession that came with the value, as a CURIE.
        public var term: String?
        /// The class it maps to, nil when unmapped.
        public var classId: Int?
        public var className: String?
        /// The rule that decided; nil when none matched and nothing was assigned.
        public var rule: MatchRule?
        /// How many times the value occurred.
        public var count: Int
        /// Where an unknown value occurred (the first `LabelNormalizer.maxLocations`); empty
        /// for values a rule mapped.
        public var locations: [String]

        public init(value: String, term: String? = nil, classId: Int?, className: String?, rule: MatchRule? = nil,
                    count: Int, locations: [String]) {
            self.value = value
            self.term = term
            self.classId = classId
            self.className = className
            self.rule = rule
            self.count = count
            self.locations = locations
        }
    }

    /// Distinct non-empty values, sorted by value then term.
    public var entries: [Entry]
    /// How many values were empty or whitespace-only (never mapped, never an error).
    public var emptyCount: Int

    public init(entries: [Entry], emptyCount: Int) {
        self.entries = entries
        self.emptyCount = emptyCount
    }

    /// The entries no rule matched, including those the unknown-value rule sent to a class.
    public var unmapped: [Entry] { entries.filter { $0.classId == nil || $0.rule == .unknown } }

    /// Throws under `.error` when any value is unmapped, naming up to five of them with their
    /// first location; `.skip` never throws.
    public func check(_ policy: UnknownValuePolicy) throws(LabelSchemaError) {
        guard policy == .error else { return }
        try failOnUnmapped(fix: "set the unknown-value policy to skip")
    }

    /// Throws when `rule` is `.error` and a value is unmapped (the schema's own policy).
    public func check(unknown rule: UnknownValueRule) throws(LabelSchemaError) {
        guard rule == .error else { return }
        try failOnUnmapped(fix: "set the schema's unknown policy to map or ignore")
    }

    private func failOnUnmapped(fix: String) throws(LabelSchemaError) {
        let unmapped = unmapped
        guard !unmapped.isEmpty else { return }
        let shown = unmapped.prefix(5).map { "\"\($0.value)\" (\($0.count)×, first at \($0.locations[0]))" }
        let more = unmapped.count > 5 ? " and \(unmapped.count - 5) more" : ""
        throw LabelSchemaError(
            code: .unmappedValues,
            message: "\(unmapped.count) label value(s) match no class: \(shown.joined(separator: ", "))\(more);"
                + " add them to the class list, fix the source, or \(fix)")
    }
}

/// The lookup tables of a normalizer, built once from a schema or class list.
struct MatchTable: Sendable {
    /// Class id → name.
    var names: [Int: String] = [:]
    var byTerm: [TermID: Int] = [:]
    var exact: [String: (id: Int, rule: MatchRule)] = [:]
    var normalized: [String: (id: Int, rule: MatchRule)] = [:]
    var regexes: [(regex: CompiledRegex, id: Int)] = []
    var unknownClass: Int?
    var unknownIsError = true

    init(classes: ClassList, matching: MatchMode) {
        for c in classes.classes {
            names[c.id] = c.name
            exact[c.name] = (c.id, .exact)
            if matching == .caseInsensitive { normalized[MatchMode.caseInsensitive.key(c.name)] = (c.id, .normalized) }
        }
    }

    /// Fails, naming the entry, when a term, value or key would reach two classes.
    init(schema: Schema, file: String?) throws(LabelSchemaError) {
        let idOf = Dictionary(schema.classes.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        func clash(_ path: String, _ what: String, _ a: Int, _ b: Int) -> LabelSchemaError {
            LabelSchemaError(code: .invalidMapping,
                             message: "\(what) maps to '\(names[b] ?? "")' here but already to '\(names[a] ?? "")'; a value may reach one class only",
                             file: file, path: path)
        }
        func put(_ dict: inout [String: (id: Int, rule: MatchRule)], _ key: String, _ id: Int, _ rule: MatchRule,
                 _ path: String) throws(LabelSchemaError) {
            if let old = dict[key], old.id != id { throw clash(path, "\"\(key)\"", old.id, id) }
            if dict[key] == nil { dict[key] = (id, rule) }
        }
        for c in schema.classes { names[c.id] = c.name }
        for (i, c) in schema.classes.enumerated() {
            for (j, term) in c.terms.enumerated() {
                if let old = byTerm[term], old != c.id { throw clash("classes[\(i)].terms[\(j)]", term.curie, old, c.id) }
                byTerm[term] = c.id
            }
            try put(&exact, c.name, c.id, .exact, "classes[\(i)].name")
            if schema.nameMatching == .caseInsensitive {
                try put(&normalized, MatchMode.caseInsensitive.key(c.name), c.id, .normalized, "classes[\(i)].name")
            }
        }
        for (i, c) in schema.classes.enumerated() {
            for (j, synonym) in c.synonyms.enumerated() {
                if schema.nameMatching == .caseInsensitive {
                    try put(&normalized, MatchMode.caseInsensitive.key(synonym), c.id, .synonym, "classes[\(i)].synonyms[\(j)]")
                } else {
                    try put(&exact, synonym, c.id, .synonym, "classes[\(i)].synonyms[\(j)]")
                }
            }
        }
        for (i, m) in schema.mappings.enumerated() {
            let id = idOf[m.className]!
            switch m.matcher {
            case .exact(let v): try put(&exact, v, id, .exact, "mappings[\(i)].value")
            case .normalized(let v):
                try put(&normalized, MatchMode.caseInsensitive.key(v), id, .normalized, "mappings[\(i)].value")
            case .term(let t):
                if let old = byTerm[t], old != id { throw clash("mappings[\(i)].term", t.curie, old, id) }
                byTerm[t] = id
            case .regex(let p):
                guard let compiled = CompiledRegex(p) else {
                    throw LabelSchemaError(code: .invalidMapping, message: "\"\(p)\" is not a valid regular expression",
                                           file: file, path: "mappings[\(i)].pattern")
                }
                regexes.append((compiled, id))
            }
        }
        switch schema.unknown {
        case .error: unknownIsError = true
        case .ignore: unknownIsError = false
        case .mapTo(let name):
            unknownIsError = false
            unknownClass = idOf[name]
        }
    }

    /// The class and deciding rule for a value, in the spec's precedence order.
    func resolve(_ value: String, term: TermID?) -> (Int?, MatchRule?) {
        if let term, let id = byTerm[term] { return (id, .term) }
        if let hit = exact[value] { return (hit.id, hit.rule) }
        if let hit = normalized[MatchMode.caseInsensitive.key(value)] { return (hit.id, hit.rule) }
        if let hit = regexes.first(where: { $0.regex.matchesWhole(value) }) { return (hit.id, .regex) }
        if let unknownClass { return (unknownClass, .unknown) }
        return (nil, nil)
    }
}

/// A compiled regular expression that matches a whole value.
///
/// `NSRegularExpression` is immutable and documented as safe to use from several threads,
/// which the compiler cannot see; hence the unchecked conformance.
final class CompiledRegex: @unchecked Sendable {
    private let regex: NSRegularExpression

    init?(_ pattern: String) {
        guard let r = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$") else { return nil }
        regex = r
    }

    func matchesWhole(_ value: String) -> Bool {
        regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
    }
}

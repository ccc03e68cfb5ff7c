/// What to do with source values that match no class.
public enum UnknownValuePolicy: String, Codable, Sendable {
    /// Fail the export, listing the unmapped values (`MappingReport.check(_:)`).
    case error
    /// Leave the sample out; the values stay listed in the report.
    case skip
}

/// Maps source label values (e.g. an annotation table's column) to canonical class ids and
/// records every decision for the mapping report.
public struct LabelNormalizer: Sendable {
    /// How many locations are kept per unmapped value; the count is always exact.
    public static let maxLocations = 20

    public let classes: ClassList
    public let matching: MatchMode
    private let idByKey: [String: Int]
    private var tallies: [String: Tally] = [:]
    private var emptyCount = 0

    private struct Tally {
        let classId: Int?
        var count = 0
        var locations: [String] = []

        /// Counts one occurrence and returns the class id; keeps the location only while unmapped
        /// values still have room for it.
        mutating func record(_ location: String) -> Int? {
            count += 1
            if classId == nil && locations.count < LabelNormalizer.maxLocations { locations.append(location) }
            return classId
        }
    }

    public init(classes: ClassList, matching: MatchMode) {
        self.classes = classes
        self.matching = matching
        // Class names are unique under the loosest mode (ClassList's invariant), so keys never collide.
        idByKey = Dictionary(uniqueKeysWithValues: classes.classes.map { (matching.key($0.name), $0.id) })
    }

    /// The class id `value` maps to, or nil if it is empty/whitespace-only or matches no class.
    /// `location` (e.g. `"annotations.csv:42"`) is kept for unmapped values so the report
    /// can say where to fix them.
    public mutating func normalize(_ value: String, at location: String) -> Int? {
        if value.allSatisfy(\.isWhitespace) {
            emptyCount += 1
            return nil
        }
        let (idByKey, matching) = (self.idByKey, self.matching)
        return tallies[value, default: Tally(classId: idByKey[matching.key(value)])].record(location)
    }

    /// Everything normalized so far.
    public var report: MappingReport {
        MappingReport(
            entries: tallies.keys.sorted().map { value in
                let t = tallies[value]!
                return MappingReport.Entry(value: value, classId: t.classId,
                                           className: t.classId.map { classes.classes[$0].name },
                                           count: t.count, locations: t.locations)
            },
            emptyCount: emptyCount)
    }
}

/// Which source values became which class, how often, and where the unmapped ones are.
public struct MappingReport: Codable, Sendable, Equatable {
    /// One distinct source value, exactly as it appeared.
    public struct Entry: Codable, Sendable, Equatable {
        public var value: String
        /// The class it maps to, nil when unmapped.
        public var classId: Int?
        public var className: String?
        /// How many times the value occurred.
        public var count: Int
        /// Where an unmapped value occurred (the first `LabelNormalizer.maxLocations`); empty
        /// for mapped values.
        public var locations: [String]

        public init(value: String, classId: Int?, className: String?, count: Int, locations: [String]) {
            self.value = value
            self.classId = classId
            self.className = className
            self.count = count
            self.locations = locations
        }
    }

    /// Distinct non-empty values, sorted by value.
    public var entries: [Entry]
    /// How many values were empty or whitespace-only (never mapped, never an error).
    public var emptyCount: Int

    public init(entries: [Entry], emptyCount: Int) {
        self.entries = entries
        self.emptyCount = emptyCount
    }

    /// The entries that matched no class.
    public var unmapped: [Entry] { entries.filter { $0.classId == nil } }

    /// Throws under `.error` when any value is unmapped, naming up to five of them with their
    /// first location; `.skip` never throws.
    public func check(_ policy: UnknownValuePolicy) throws(LabelSchemaError) {
        let unmapped = unmapped
        guard policy == .error, !unmapped.isEmpty else { return }
        let shown = unmapped.prefix(5).map { "\"\($0.value)\" (\($0.count)×, first at \($0.locations[0]))" }
        let more = unmapped.count > 5 ? " and \(unmapped.count - 5) more" : ""
        throw LabelSchemaError(
            code: .unmappedValues,
            message: "\(unmapped.count) label value(s) match no class: \(shown.joined(separator: ", "))\(more);"
                + " add them to the class list, fix the source, or set the unknown-value policy to skip")
    }
}

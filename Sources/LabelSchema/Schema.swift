import Foundation

/// A label schema (specs/label-schema/v1.md): the classes a training set may contain, how source
/// values map onto them and what happens to values that map nowhere.
///
/// Built by `Schema.load(contentsOf:)` / `Schema.parse(_:file:)`, which validate everything the
/// spec requires, so a `Schema` value is always usable by `LabelNormalizer(schema:)`.
public struct Schema: Sendable, Equatable {
    /// The format identifier every v1 schema file carries.
    public static let format = "trainset-label-schema/1"

    public var name: String
    public var version: SemanticVersion
    public var description: String?
    /// The annotation kinds a bundle built with this schema may hold, in file order.
    public var kinds: [LabelKind]
    /// Classes in file order (ids need not be dense or sorted).
    public var classes: [SchemaClass]
    /// Explicit source mappings, in file order (regular expressions are tried in this order).
    public var mappings: [SourceMapping]
    /// Whether class names and synonyms match exactly or case/space-insensitively.
    public var nameMatching: MatchMode
    /// What happens to values that no rule maps.
    public var unknown: UnknownValueRule
    /// Extra ontology prefixes beyond `TermID.standardPrefixes`: prefix → IRI base (the IRI of
    /// `P:ID` is base + ID).
    public var prefixes: [String: String]

    public init(name: String, version: SemanticVersion, description: String? = nil, kinds: [LabelKind],
                classes: [SchemaClass], mappings: [SourceMapping] = [], nameMatching: MatchMode = .caseInsensitive,
                unknown: UnknownValueRule = .error, prefixes: [String: String] = [:]) {
        self.name = name
        self.version = version
        self.description = description
        self.kinds = kinds
        self.classes = classes
        self.mappings = mappings
        self.nameMatching = nameMatching
        self.unknown = unknown
        self.prefixes = prefixes
    }

    /// Prefix → IRI base for every prefix this schema may use (standard and declared).
    public var termBases: [String: String] { TermID.standardPrefixes.merging(prefixes) { standard, _ in standard } }

    /// The class with `id`, or nil.
    public func `class`(id: Int) -> SchemaClass? { classes.first { $0.id == id } }
    /// The class named exactly `name`, or nil.
    public func `class`(named name: String) -> SchemaClass? { classes.first { $0.name == name } }

    /// Names of `name`'s ancestors, nearest first (the loader guarantees there is no cycle).
    public func ancestors(of name: String) -> [String] {
        var out: [String] = []
        var current = self.class(named: name)?.parent
        while let parent = current, !out.contains(parent) {
            out.append(parent)
            current = self.class(named: parent)?.parent
        }
        return out
    }
}

/// One class of a schema.
public struct SchemaClass: Sendable, Equatable {
    /// The stable integer stored in bundles for this class; never reused for another meaning.
    public var id: Int
    public var name: String
    public var description: String?
    /// Display colour `#RRGGBB` (upper-case hex once loaded).
    public var colour: String
    /// Name of the parent class, for hierarchies (a "mitochondrion" is an "organelle").
    public var parent: String?
    /// Ontology terms the class stands for; an accession equal to one maps to this class.
    public var terms: [TermID]
    /// Other names that map to this class, compared like the name (`Schema.nameMatching`).
    public var synonyms: [String]

    public init(id: Int, name: String, description: String? = nil, colour: String, parent: String? = nil,
                terms: [TermID] = [], synonyms: [String] = []) {
        self.id = id
        self.name = name
        self.description = description
        self.colour = colour
        self.parent = parent
        self.terms = terms
        self.synonyms = synonyms
    }
}

/// The annotation kinds of spec section "Label kinds".
public enum LabelKind: String, Sendable, CaseIterable, Codable {
    case imageClass = "image_class"
    case multiLabelImageClass = "multi_label_image_class"
    case semanticMask = "semantic_mask"
    case instanceMask = "instance_mask"
    case box
    case point
    case polygon
}

/// An explicit mapping of source values onto a class.
public struct SourceMapping: Sendable, Equatable {
    /// What a source value is compared with.
    public enum Matcher: Sendable, Equatable {
        /// The value equals this text exactly.
        case exact(String)
        /// The value equals this text once whitespace is collapsed and case folded.
        case normalized(String)
        /// The value's ontology accession is this term.
        case term(TermID)
        /// The whole value matches this regular expression (ICU syntax).
        case regex(String)
    }

    public var matcher: Matcher
    /// Name of the target class.
    public var className: String

    public init(_ matcher: Matcher, className: String) {
        self.matcher = matcher
        self.className = className
    }
}

/// What the normalizer does with a value that no rule maps. Every such value is counted and
/// listed in the mapping report whatever the rule.
public enum UnknownValueRule: Sendable, Equatable {
    /// The export fails, listing the values (`MappingReport.check(.error)`).
    case error
    /// The value becomes this class (e.g. "other").
    case mapTo(String)
    /// The value carries no label; the sample keeps its other labels.
    case ignore
}

/// Which rule mapped a value, in precedence order (the spec's "Matching precedence").
public enum MatchRule: String, Codable, Sendable, CaseIterable, Comparable {
    case term
    case exact
    case synonym
    case normalized
    case regex
    /// No rule matched and the unknown-value rule gave a class.
    case unknown

    public static func < (a: MatchRule, b: MatchRule) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// `MAJOR.MINOR.PATCH` (no pre-release or build suffix: a schema is released or it is not).
public struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `1.2.3`; parts are decimal without leading zeros, as SemVer 2.0.0 requires.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  part == "0" || !part.hasPrefix("0"), let n = Int(part) else { return nil }
            numbers.append(n)
        }
        self.init(numbers[0], numbers[1], numbers[2])
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: SemanticVersion, b: SemanticVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    /// The smallest version that carries `bump` over this one.
    public func bumped(_ bump: VersionBump) -> SemanticVersion {
        switch bump {
        case .none: self
        case .patch: SemanticVersion(major, minor, patch + 1)
        case .minor: SemanticVersion(major, minor + 1, 0)
        case .major: SemanticVersion(major + 1, 0, 0)
        }
    }

    /// The bump that leads from `self` to `newer` (`.none` when equal or older).
    public func bump(to newer: SemanticVersion) -> VersionBump {
        if newer.major > major { return .major }
        if newer.major == major && newer.minor > minor { return .minor }
        if newer.major == major && newer.minor == minor && newer.patch > patch { return .patch }
        return .none
    }
}

/// How much a schema version must grow for a change (see `SchemaDiff`).
public enum VersionBump: Int, Sendable, Comparable, CustomStringConvertible {
    case none, patch, minor, major

    public static func < (a: VersionBump, b: VersionBump) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["none", "patch", "minor", "major"][rawValue] }
}

/// An ontology term identifier, kept as prefix + local id so the CURIE and IRI spellings of the
/// same term compare equal.
public struct TermID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let prefix: String
    public let localID: String

    public init(prefix: String, localID: String) {
        self.prefix = prefix
        self.localID = localID
    }

    /// The ontologies a schema may use without declaring them: prefix → IRI base. OBO
    /// ontologies use the OBO PURL; CMPO and EFO IRIs are the ones IDR study files declare.
    public static let standardPrefixes: [String: String] = [
        "CMPO": "http://www.ebi.ac.uk/cmpo/CMPO_",
        "GO": "http://purl.obolibrary.org/obo/GO_",
        "CL": "http://purl.obolibrary.org/obo/CL_",
        "UBERON": "http://purl.obolibrary.org/obo/UBERON_",
        "NCBITaxon": "http://purl.obolibrary.org/obo/NCBITaxon_",
        "PATO": "http://purl.obolibrary.org/obo/PATO_",
        "EFO": "http://www.ebi.ac.uk/efo/EFO_",
    ]

    /// `PREFIX:ID`.
    public var curie: String { "\(prefix):\(localID)" }
    public var description: String { curie }

    /// The IRI under `bases` (prefix → IRI base), or nil for an undeclared prefix.
    public func iri(bases: [String: String] = standardPrefixes) -> String? {
        bases[prefix].map { $0 + localID }
    }

    public static func < (a: TermID, b: TermID) -> Bool { a.curie < b.curie }

    /// Reads a CURIE (`CMPO:0000077`) or an IRI (`http://www.ebi.ac.uk/cmpo/CMPO_0000077`);
    /// returns nil with nothing to say when the text is neither, so callers word the error.
    ///
    /// An IRI is recognised by one of `bases`, or by the OBO form `…/obo/PREFIX_ID` whose
    /// prefix is in `bases`. A CURIE's prefix must be in `bases`.
    public static func parse(_ text: String, bases: [String: String] = standardPrefixes) -> TermID? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("http://") || text.hasPrefix("https://") {
            // Longest base first, so a more specific base wins over a shared prefix.
            for (prefix, base) in bases.sorted(by: { ($0.value.count, $0.key) > ($1.value.count, $1.key) })
            where text.hasPrefix(base) {
                let local = String(text.dropFirst(base.count))
                if isLocalID(local) { return TermID(prefix: prefix, localID: local) }
            }
            if let range = text.range(of: "/obo/", options: .backwards) {
                let tail = text[range.upperBound...]
                if let us = tail.firstIndex(of: "_"), bases[String(tail[..<us])] != nil {
                    let local = String(tail[tail.index(after: us)...])
                    if isLocalID(local) { return TermID(prefix: String(tail[..<us]), localID: local) }
                }
            }
            return nil
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let prefix = String(text[..<colon])
        let local = String(text[text.index(after: colon)...])
        guard bases[prefix] != nil, isLocalID(local) else { return nil }
        return TermID(prefix: prefix, localID: local)
    }

    private static func isLocalID(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }
}

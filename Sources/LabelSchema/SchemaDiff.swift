/// What changed between two versions of a schema and the version bump that requires
/// (spec section "Versioning"): major when the same source data could get other ids or lose
/// its class, minor when only new classes or mappings appear, patch for descriptions and colours.
public struct SchemaDiff: Sendable, Equatable {
    /// One change, with the bump it needs on its own.
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case classAdded = "class added"
            case classRemoved = "class removed"
            case classRenamed = "class renamed"
            case classIdChanged = "class id changed"
            case parentChanged = "parent changed"
            case termsChanged = "terms changed"
            case synonymAdded = "synonym added"
            case synonymRemoved = "synonym removed"
            case mappingAdded = "mapping added"
            case mappingRemoved = "mapping removed"
            case kindAdded = "label kind added"
            case kindRemoved = "label kind removed"
            case matchingChanged = "name matching changed"
            case unknownPolicyChanged = "unknown policy changed"
            case descriptionChanged = "description changed"
            case colourChanged = "colour changed"
            case nameChanged = "schema name changed"
        }

        public let kind: Kind
        /// What it is about, e.g. `'RBC' → 'erythrocyte' (id 1)`.
        public let detail: String
        public let bump: VersionBump

        public var description: String { "\(bump): \(kind.rawValue): \(detail)" }
    }

    /// Every change, classes first (by old id), then mappings, then schema-level keys.
    public let changes: [Change]
    /// The largest bump any change needs.
    public var requiredBump: VersionBump { changes.map(\.bump).max() ?? .none }
    public let oldVersion: SemanticVersion
    public let newVersion: SemanticVersion
    /// The smallest version the new schema may carry.
    public var minimumVersion: SemanticVersion { requiredBump == .none ? oldVersion : oldVersion.bumped(requiredBump) }
    /// Whether the new schema's version is at least `minimumVersion`.
    public var versionIsSufficient: Bool { newVersion >= minimumVersion }

    /// Compares `old` with `new`.
    ///
    /// A class of `new` is the same class as one of `old` when it has the same id, or else
    /// when it shares an ontology term; a different name then is a rename (major, since the
    /// name is what users and mappings see), a different id an id change (major).
    public init(old: Schema, new: Schema) {
        oldVersion = old.version
        newVersion = new.version
        var changes: [Change] = []
        func add(_ kind: Change.Kind, _ detail: String, _ bump: VersionBump) {
            changes.append(Change(kind: kind, detail: detail, bump: bump))
        }
        var matchedNew: Set<Int> = []
        for o in old.classes.sorted(by: { $0.id < $1.id }) {
            let counterpart = new.classes.first { $0.id == o.id && !matchedNew.contains($0.id) }
                ?? new.classes.first { n in !matchedNew.contains(n.id) && !n.terms.isEmpty
                    && n.terms.contains(where: o.terms.contains) && !old.classes.contains { $0.id == n.id } }
            guard let n = counterpart else {
                add(.classRemoved, "'\(o.name)' (id \(o.id))", .major)
                continue
            }
            matchedNew.insert(n.id)
            if n.name != o.name { add(.classRenamed, "'\(o.name)' → '\(n.name)' (id \(n.id))", .major) }
            if n.id != o.id { add(.classIdChanged, "'\(n.name)': id \(o.id) → \(n.id)", .major) }
            if n.parent != o.parent {
                add(.parentChanged, "'\(n.name)': \(o.parent.map { "'\($0)'" } ?? "none") → \(n.parent.map { "'\($0)'" } ?? "none")", .major)
            }
            let removedTerms = o.terms.filter { !n.terms.contains($0) }
            let addedTerms = n.terms.filter { !o.terms.contains($0) }
            if !removedTerms.isEmpty || !addedTerms.isEmpty {
                add(.termsChanged, "'\(n.name)': " + (removedTerms.map { "-\($0.curie)" } + addedTerms.map { "+\($0.curie)" })
                    .joined(separator: " "), removedTerms.isEmpty ? .minor : .major)
            }
            for s in n.synonyms where !o.synonyms.contains(s) { add(.synonymAdded, "'\(n.name)': \"\(s)\"", .minor) }
            for s in o.synonyms where !n.synonyms.contains(s) { add(.synonymRemoved, "'\(n.name)': \"\(s)\"", .major) }
            if n.description != o.description { add(.descriptionChanged, "'\(n.name)'", .patch) }
            if n.colour != o.colour { add(.colourChanged, "'\(n.name)': \(o.colour) → \(n.colour)", .patch) }
        }
        for n in new.classes.sorted(by: { $0.id < $1.id }) where !matchedNew.contains(n.id) {
            add(.classAdded, "'\(n.name)' (id \(n.id))", .minor)
        }
        let oldMappings = old.mappings.map(Self.describe)
        let newMappings = new.mappings.map(Self.describe)
        for m in oldMappings where !newMappings.contains(m) { add(.mappingRemoved, m, .major) }
        for m in newMappings where !oldMappings.contains(m) { add(.mappingAdded, m, .minor) }
        for k in old.kinds where !new.kinds.contains(k) { add(.kindRemoved, k.rawValue, .major) }
        for k in new.kinds where !old.kinds.contains(k) { add(.kindAdded, k.rawValue, .minor) }
        if old.nameMatching != new.nameMatching {
            // Exact → normalized only maps more values; the reverse can unmap some.
            add(.matchingChanged, "\(old.nameMatching.rawValue) → \(new.nameMatching.rawValue)",
                new.nameMatching == .caseInsensitive ? .minor : .major)
        }
        if old.unknown != new.unknown { add(.unknownPolicyChanged, "\(old.unknown) → \(new.unknown)", .major) }
        if old.description != new.description { add(.descriptionChanged, "schema", .patch) }
        if old.name != new.name { add(.nameChanged, "'\(old.name)' → '\(new.name)'", .major) }
        self.changes = changes
    }

    /// A mapping's identity: its rule, text and target.
    private static func describe(_ m: SourceMapping) -> String {
        switch m.matcher {
        case .exact(let v): "exact \"\(v)\" → '\(m.className)'"
        case .normalized(let v): "normalized \"\(v)\" → '\(m.className)'"
        case .term(let t): "term \(t.curie) → '\(m.className)'"
        case .regex(let p): "regex /\(p)/ → '\(m.className)'"
        }
    }
}

/// Drafts a schema from the label values found in a dataset (`trainset schema init --from
/// RECIPE`), for a person to review: every observed value maps, names and ids are deterministic.
public enum SchemaDraft {
    /// One distinct observed value and how often it occurred.
    public struct Observation: Sendable, Equatable {
        public var label: SourceLabel
        public var count: Int

        public init(_ label: SourceLabel, count: Int) {
            self.label = label
            self.count = count
        }
    }

    /// Colours given to drafted classes in id order (Tableau 10, distinguishable on screen);
    /// a reviewer replaces them where a convention exists.
    public static let palette = ["#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD",
                                 "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF"]

    /// A draft with one class per ontology term, and one per value (under normalized matching)
    /// for values without a term.
    ///
    /// The class is named after its most frequent value (ties: the smaller value); the other
    /// values become synonyms. Classes get ids 1…n in name order, leaving 0 for background.
    /// The version is 0.1.0: a draft makes no compatibility promise yet.
    public static func build(name: String, kinds: [LabelKind], observations: [Observation]) -> Schema {
        struct Group { var term: TermID?; var values: [(value: String, count: Int)] = [] }
        var groups: [String: Group] = [:]
        for o in observations where !o.label.value.allSatisfy(\.isWhitespace) || o.label.term != nil {
            let key = o.label.term.map { "term " + $0.curie } ?? "value " + MatchMode.caseInsensitive.key(o.label.value)
            groups[key, default: Group(term: o.label.term)].values.append((o.label.value, o.count))
        }
        var drafted: [(name: String, term: TermID?, synonyms: [String])] = []
        for group in groups.values {
            var totals: [String: Int] = [:]
            for v in group.values { totals[v.value, default: 0] += v.count }
            let ranked = totals.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map(\.key)
            let name = ranked[0].trimmingCharacters(in: .whitespacesAndNewlines)
            let synonyms = ranked.dropFirst().filter {
                MatchMode.caseInsensitive.key($0) != MatchMode.caseInsensitive.key(name)
            }
            drafted.append((name.isEmpty ? group.term?.curie ?? "unnamed" : name, group.term, synonyms.sorted()))
        }
        drafted.sort { ($0.name, $0.term?.curie ?? "") < ($1.name, $1.term?.curie ?? "") }
        // Two terms can share a most frequent value; suffix the term so names stay unique.
        var used: [String: Int] = [:]
        for d in drafted { used[MatchMode.caseInsensitive.key(d.name), default: 0] += 1 }
        // A value seen with two terms would be a synonym of two classes; the term decides then.
        var synonymUse: [String: Int] = [:]
        for d in drafted { for s in d.synonyms { synonymUse[MatchMode.caseInsensitive.key(s), default: 0] += 1 } }
        let classes = drafted.enumerated().map { i, d in
            let clash = used[MatchMode.caseInsensitive.key(d.name)]! > 1
            let synonyms = d.synonyms.filter {
                let key = MatchMode.caseInsensitive.key($0)
                return synonymUse[key]! == 1 && used[key] == nil
            }
            return SchemaClass(id: i + 1, name: clash ? "\(d.name) (\(d.term?.curie ?? "no term"))" : d.name,
                               colour: palette[i % palette.count], terms: d.term.map { [$0] } ?? [],
                               synonyms: synonyms)
        }
        return Schema(name: name, version: SemanticVersion(0, 1, 0),
                      description: "Drafted from observed values; review names, colours and parents.",
                      kinds: kinds, classes: classes)
    }
}

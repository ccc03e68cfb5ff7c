import Foundation

/// One canonical class of a label schema.
public struct LabelClass: Codable, Sendable, Equatable {
    /// The class id stored in bundles (0-based, dense).
    public var id: Int
    /// The canonical name, trimmed of surrounding whitespace.
    public var name: String
    /// Other names for the class, kept for the schema file; `LabelNormalizer` matches `name` only.
    public var synonyms: [String]

    public init(id: Int, name: String, synonyms: [String] = []) {
        self.id = id
        self.name = name
        self.synonyms = synonyms
    }
}

/// The ordered classes of a schema, with ids 0..<k and names unique under the loosest
/// matching (`MatchMode.caseInsensitive`), so that no source value can match two classes.
public struct ClassList: Sendable, Equatable {
    /// The classes in id order: `classes[i].id == i`.
    public let classes: [LabelClass]

    /// Classes with ids 0..<names.count in the listed order, names trimmed of surrounding
    /// whitespace. Throws if a name is empty or if two names are equal once trimmed, with runs
    /// of whitespace collapsed and case folded; the message names every offending entry.
    public init(names: [String]) throws(LabelSchemaError) {
        var problems: [String] = []
        var firstIndex: [String: Int] = [:]
        var classes: [LabelClass] = []
        for (i, raw) in names.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if name.isEmpty {
                problems.append("class \(i) has an empty name")
            } else if let j = firstIndex[MatchMode.caseInsensitive.key(name)] {
                problems.append("class \(i) \"\(name)\" duplicates class \(j) \"\(classes[j].name)\"")
            } else {
                firstIndex[MatchMode.caseInsensitive.key(name)] = i
            }
            classes.append(LabelClass(id: i, name: name))
        }
        if names.isEmpty { problems.append("the class list is empty") }
        guard problems.isEmpty else {
            throw LabelSchemaError(code: .invalidClassList,
                                   message: "invalid class list: " + problems.joined(separator: "; ")
                                       + " (give each class one distinct, non-empty name)")
        }
        self.classes = classes
    }

    /// The id of the class whose canonical name is exactly `name`, or nil.
    public func id(of name: String) -> Int? {
        classes.first { $0.name == name }?.id
    }
}

/// How source label values are compared with class names.
public enum MatchMode: String, Codable, Sendable, CaseIterable {
    /// The value must equal a class name exactly (Unicode canonical equivalence).
    case exact
    /// Surrounding whitespace is trimmed, inner runs of whitespace become one space and case
    /// is folded before comparing: `"  actin  Disruptors"` matches `"Actin disruptors"`.
    case caseInsensitive

    /// The comparison key of `value` under this mode.
    func key(_ value: String) -> String {
        switch self {
        case .exact:
            value
        case .caseInsensitive:
            value.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
                .folding(options: .caseInsensitive, locale: nil)
        }
    }
}

/// A schema file, class list or label mapping that cannot be used.
///
/// `description` is one line: `file: key.path: message`, so a user can jump to the spot.
public struct LabelSchemaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of problem this is, stable for tests and tooling.
    public enum Code: String, Sendable {
        /// Empty or duplicate class names, or no classes at all.
        case invalidClassList
        /// Source values matched no class under `UnknownValuePolicy.error`.
        case unmappedValues
        /// The schema file cannot be read or is not JSON.
        case unreadableSchema
        /// A key has the wrong type, a required key is missing or an unknown key is present.
        case invalidSchema
        /// A class refers to a parent that does not exist or the parents form a cycle.
        case invalidHierarchy
        /// An ontology term that is neither a CURIE with a known prefix nor a known IRI.
        case invalidTerm
        /// A mapping that names an unknown class, repeats another or has a bad pattern.
        case invalidMapping
    }

    public let code: Code
    /// One line saying what is wrong and what to do.
    public let message: String
    /// The schema file the error is about, when there is one.
    public let file: String?
    /// JSON path inside the file, e.g. `classes[3].parent`.
    public let path: String?

    public init(code: Code, message: String, file: String? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.path = path
    }

    public var description: String {
        [file, path, message].compactMap { $0 }.joined(separator: ": ")
    }
}

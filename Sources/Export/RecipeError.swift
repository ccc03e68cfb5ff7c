/// A problem with a recipe, the inputs it names, or the export it drives.
///
/// `description` is one line that starts with the file (and line or row) it is about, so it can
/// be printed as is by the CLI and matched by editors.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The recipe text is not valid YAML or does not follow specs/recipe/v1.md.
        case recipe
        /// An input named by the recipe is missing, unreadable or malformed.
        case input
        /// Inputs are readable but inconsistent with each other or with the recipe.
        case mismatch
        /// The output could not be written or published.
        case output
    }

    public var code: Code
    /// File the problem is about, with `:line` or `:line:column` when known.
    public var location: String
    public var message: String

    public init(_ code: Code, _ location: String, _ message: String) {
        self.code = code
        self.location = location
        self.message = message
    }

    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}

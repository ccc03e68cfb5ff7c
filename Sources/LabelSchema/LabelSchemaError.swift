/// A class list or label mapping that cannot be used.
public struct LabelSchemaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of problem this is, stable for tests and tooling.
    public enum Code: String, Sendable {
        /// Empty or duplicate class names, or no classes at all.
        case invalidClassList
        /// Source values matched no class under `UnknownValuePolicy.error`.
        case unmappedValues
    }

    public let code: Code
    /// One line saying what is wrong and what to do.
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

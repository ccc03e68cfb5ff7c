/// A tiling parameter that cannot be used, reported with the recipe field it came from.
public struct TilingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of problem this is, stable for tests and tooling.
    public enum Code: String, Sendable {
        /// A `TileGridSpec` value is out of range.
        case invalidGridSpec
    }

    public let code: Code
    /// What is wrong and what to use instead.
    public let message: String
    /// The `TileGridSpec` field at fault (its coding key, e.g. `strideX`).
    public let field: String

    public init(code: Code, message: String, field: String) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(field): \(message)" }
}

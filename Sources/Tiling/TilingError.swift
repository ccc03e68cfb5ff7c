/// A tiling or augmentation parameter that cannot be used, reported with the recipe field it came from.
public struct TilingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of problem this is, stable for tests and tooling.
    public enum Code: String, Sendable {
        /// A `TileGridSpec` value is out of range.
        case invalidGridSpec
        /// A recipe's augmentation pipeline is out of range.
        case invalidAugmentation
        /// A drawn augmentation cannot be applied to this image (e.g. stain jitter on a
        /// non-RGB image).
        case unsupportedImage
    }

    public let code: Code
    /// What is wrong and what to use instead.
    public let message: String
    /// The field at fault: a `TileGridSpec` coding key (e.g. `strideX`) or an augmentation
    /// step path (e.g. `steps[2].affine`).
    public let field: String

    public init(code: Code, message: String, field: String) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(field): \(message)" }
}

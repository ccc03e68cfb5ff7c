/// The element type of an image's samples, as stored in a bundle.
///
/// Only the types that bioimaging sources deliver and that every HDF5 reader maps
/// without loss are supported; anything else is an error at read time, never converted.
public enum PixelType: String, Codable, Sendable, CaseIterable {
    case uint8
    case uint16
    case float32

    /// Size of one sample in bytes.
    public var byteWidth: Int {
        switch self {
        case .uint8: 1
        case .uint16: 2
        case .float32: 4
        }
    }
}

/// Samples of an image, typed by their element type.
public enum PixelData: Sendable, Equatable {
    case uint8([UInt8])
    case uint16([UInt16])
    case float32([Float])

    /// Number of samples held.
    public var count: Int {
        switch self {
        case .uint8(let v): v.count
        case .uint16(let v): v.count
        case .float32(let v): v.count
        }
    }

    /// The element type of the samples.
    public var pixelType: PixelType {
        switch self {
        case .uint8: .uint8
        case .uint16: .uint16
        case .float32: .float32
        }
    }

    /// `count` zero samples of `type`.
    public static func zeros(_ type: PixelType, count: Int) -> PixelData {
        switch type {
        case .uint8: .uint8(Array(repeating: 0, count: count))
        case .uint16: .uint16(Array(repeating: 0, count: count))
        case .float32: .float32(Array(repeating: 0, count: count))
        }
    }
}

/// A multi-channel image held in planar (channel-major) order, the layout of a bundle's
/// `[N, C, H, W]` images: sample (c, y, x) is at index `(c * height + y) * width + x`.
public struct ImageBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: PixelData

    /// Wraps samples already laid out planar; the count must match the shape.
    public init(width: Int, height: Int, channels: Int, pixels: PixelData) {
        precondition(width >= 0 && height >= 0 && channels >= 1, "invalid image shape")
        precondition(pixels.count == width * height * channels,
                     "pixel count \(pixels.count) does not match \(channels)x\(height)x\(width)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The element type of the samples.
    public var pixelType: PixelType { pixels.pixelType }

    /// Index of sample (c, y, x) in `pixels`.
    @inlinable
    public func index(channel c: Int, y: Int, x: Int) -> Int { (c * height + y) * width + x }
}

/// A single-channel label image (instance ids or class ids), row-major: value (y, x) is at
/// `y * width + x`. Zero means background.
public struct LabelImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var values: [UInt32]

    public init(width: Int, height: Int, values: [UInt32]) {
        precondition(values.count == width * height, "label count does not match \(height)x\(width)")
        self.width = width
        self.height = height
        self.values = values
    }

    /// An all-background label image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, values: Array(repeating: 0, count: width * height))
    }
}

/// An axis-aligned pixel rectangle in source image coordinates. It may extend past the image
/// (a padded edge tile), so `x` and `y` can be negative only when produced by such a policy.
public struct PixelRect: Hashable, Codable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var description: String { "[x=\(x), y=\(y), w=\(width), h=\(height)]" }
}

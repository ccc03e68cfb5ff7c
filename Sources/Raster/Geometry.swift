/// Vector annotation geometry shared by the annotation readers, the tile transforms and the
/// bundle writer.
///
/// Coordinates are continuous image coordinates in pixels: the origin is the top-left corner of
/// the top-left pixel, x grows to the right and y downwards, and pixel (column i, row j) covers
/// `[i, i + 1) × [j, j + 1)` with its centre at `(i + 0.5, j + 0.5)`. Readers convert each
/// format's own convention (COCO, Pascal VOC's 1-based inclusive corners, QuPath) into this one.
public struct Point2D: Hashable, Codable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned box `[xMin, xMax) × [yMin, yMax)` in image coordinates (see `Point2D`).
public struct Box: Hashable, Codable, Sendable {
    public var xMin: Double
    public var yMin: Double
    public var xMax: Double
    public var yMax: Double

    public init(xMin: Double, yMin: Double, xMax: Double, yMax: Double) {
        self.xMin = xMin
        self.yMin = yMin
        self.xMax = xMax
        self.yMax = yMax
    }

    public var width: Double { xMax - xMin }
    public var height: Double { yMax - yMin }
    /// Zero for an empty or inverted box, so callers can filter degenerate boxes by area.
    public var area: Double { max(0, width) * max(0, height) }
}

/// A polygon with an outer ring and optional holes; rings are implicitly closed (the last
/// vertex connects to the first) and listed without repeating the first vertex.
public struct Polygon: Hashable, Codable, Sendable {
    public var exterior: [Point2D]
    public var holes: [[Point2D]]

    public init(exterior: [Point2D], holes: [[Point2D]] = []) {
        self.exterior = exterior
        self.holes = holes
    }
}

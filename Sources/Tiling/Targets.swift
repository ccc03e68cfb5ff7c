import Raster

/// A point in continuous source or tile coordinates (pixel (i, j) covers [i, i + 1) × [j, j + 1)).
public struct Point2: Codable, Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { (self.x, self.y) = (x, y) }
}

/// An axis-aligned box [x0, x1) × [y0, y1) with a caller-defined label.
public struct Box: Codable, Sendable, Equatable {
    public var x0, y0, x1, y1: Double
    /// The class id, or any id the caller uses to link the box to its record.
    public var label: Int
    /// The instance-mask id of the object, when the sample has an instance mask: the box is
    /// then recomputed from the transformed mask instead of from transformed corners.
    public var instance: UInt32?

    public init(x0: Double, y0: Double, x1: Double, y1: Double, label: Int, instance: UInt32? = nil) {
        (self.x0, self.y0, self.x1, self.y1, self.label, self.instance) = (x0, y0, x1, y1, label, instance)
    }

    public var area: Double { max(x1 - x0, 0) * max(y1 - y0, 0) }
}

/// A labelled point (a keypoint or an object centre).
public struct Point: Codable, Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var label: Int
    public init(x: Double, y: Double, label: Int) { (self.x, self.y, self.label) = (x, y, label) }
}

/// A labelled simple polygon, vertices in order.
public struct Polygon: Codable, Sendable, Equatable {
    public var vertices: [Point2]
    public var label: Int
    public init(vertices: [Point2], label: Int) { (self.vertices, self.label) = (vertices, label) }
}

/// Everything that must move together: the image and every kind of label on it, in source
/// coordinates. An augmentation draws its parameters once and applies them to all of these.
public struct SampleTargets: Sendable, Equatable {
    public var image: ImageBuffer
    /// Class id per pixel (0 = background).
    public var semantic: LabelImage?
    /// Object id per pixel (0 = background).
    public var instances: LabelImage?
    public var boxes: [Box]
    public var points: [Point]
    public var polygons: [Polygon]

    public init(image: ImageBuffer, semantic: LabelImage? = nil, instances: LabelImage? = nil,
                boxes: [Box] = [], points: [Point] = [], polygons: [Polygon] = []) {
        for mask in [semantic, instances].compactMap({ $0 }) {
            precondition(mask.width == image.width && mask.height == image.height, "mask size differs from image")
        }
        self.image = image
        self.semantic = semantic
        self.instances = instances
        self.boxes = boxes
        self.points = points
        self.polygons = polygons
    }
}

/// Which boxes survive a transform: those whose clipped area is at least `minArea` pixels and at
/// least `minVisibility` of their area before clipping.
public struct BoxFilter: Codable, Sendable, Equatable {
    public var minArea: Double
    public var minVisibility: Double
    public init(minArea: Double = 1, minVisibility: Double = 0.25) {
        (self.minArea, self.minVisibility) = (minArea, minVisibility)
    }
}

/// The bounding box of every non-zero id of `mask`, in ascending id order: the smallest
/// [x0, x1) × [y0, y1) holding all of the id's pixels.
public func instanceBoxes(_ mask: LabelImage) -> [(id: UInt32, box: PixelRect)] {
    var bounds: [UInt32: (Int, Int, Int, Int)] = [:]
    for y in 0 ..< mask.height {
        for x in 0 ..< mask.width {
            let id = mask.values[y * mask.width + x]
            guard id != 0 else { continue }
            if let b = bounds[id] {
                bounds[id] = (min(b.0, x), min(b.1, y), max(b.2, x), max(b.3, y))
            } else {
                bounds[id] = (x, y, x, y)
            }
        }
    }
    return bounds.keys.sorted().map { id in
        let b = bounds[id]!
        return (id, PixelRect(x: b.0, y: b.1, width: b.2 - b.0 + 1, height: b.3 - b.1 + 1))
    }
}

/// Sutherland–Hodgman clipping of `polygon` to [0, width] × [0, height].
func clip(_ polygon: [Point2], width: Double, height: Double) -> [Point2] {
    var points = polygon
    let edges: [(Point2) -> Double] = [{ $0.x }, { width - $0.x }, { $0.y }, { height - $0.y }]
    for inside in edges {
        guard !points.isEmpty else { break }
        var out: [Point2] = []
        for (i, current) in points.enumerated() {
            let previous = points[(i + points.count - 1) % points.count]
            let ci = inside(current), pi = inside(previous)
            if (ci >= 0) != (pi >= 0) {
                let t = pi / (pi - ci)
                out.append(Point2(x: previous.x + t * (current.x - previous.x), y: previous.y + t * (current.y - previous.y)))
            }
            if ci >= 0 { out.append(current) }
        }
        points = out
    }
    return points
}

import Raster

/// A box with its class (or any id the caller links it by) and, when the sample has an instance
/// mask, the id of its object there: such boxes are recomputed from the transformed mask instead
/// of from transformed corners. Coordinates follow `Raster.Box`.
public struct LabeledBox: Codable, Sendable, Equatable {
    public var box: Box
    public var label: Int
    public var instance: UInt32?
    public init(_ box: Box, label: Int, instance: UInt32? = nil) { (self.box, self.label, self.instance) = (box, label, instance) }
}

/// A keypoint or object centre with its label.
public struct LabeledPoint: Codable, Sendable, Equatable {
    public var point: Point2D
    public var label: Int
    public init(_ point: Point2D, label: Int) { (self.point, self.label) = (point, label) }
}

/// A polygon (outer ring and holes) with its label.
public struct LabeledPolygon: Codable, Sendable, Equatable {
    public var polygon: Polygon
    public var label: Int
    public init(_ polygon: Polygon, label: Int) { (self.polygon, self.label) = (polygon, label) }
}

/// Everything that must move together: the image and every kind of label on it, in source
/// coordinates. An augmentation draws its parameters once and applies them to all of these.
public struct SampleTargets: Sendable, Equatable {
    /// The image as it is held: planar, or only as its warp-ready copy.
    private enum Pixels: Sendable {
        case planar(ImageBuffer)
        case prepared(WarpSource)
    }

    private var pixels: Pixels
    /// The image, planar. A sample that holds only its `warpSource` (`preparedForWarp`) makes
    /// a planar copy on every read; augmentation never reads it.
    public var image: ImageBuffer {
        get {
            switch pixels {
            case .planar(let image): image
            case .prepared(let source): source.planar()
            }
        }
        set { pixels = .planar(newValue) }
    }
    /// The image as augmentation reads it fastest, when the sample was prepared for it.
    public var warpSource: WarpSource? {
        if case .prepared(let source) = pixels { source } else { nil }
    }
    /// The image's channel count, however it is held.
    public var channels: Int {
        switch pixels {
        case .planar(let image): image.channels
        case .prepared(let source): source.channels
        }
    }
    /// The image's sample type, however it is held.
    public var pixelType: PixelType {
        switch pixels {
        case .planar(let image): image.pixelType
        case .prepared(let source): source.pixelType
        }
    }
    /// Class id per pixel (0 = background).
    public var semantic: LabelImage?
    /// Object id per pixel (0 = background).
    public var instances: LabelImage?
    public var boxes: [LabeledBox]
    public var points: [LabeledPoint]
    public var polygons: [LabeledPolygon]
    /// Where the image and masks lie in the image the coordinates refer to: the whole of it,
    /// or a region of a whole-slide image (objects are then still in whole-image coordinates).
    public var window: ImageWindow

    public init(image: ImageBuffer, semantic: LabelImage? = nil, instances: LabelImage? = nil,
                boxes: [LabeledBox] = [], points: [LabeledPoint] = [], polygons: [LabeledPolygon] = [],
                window: ImageWindow? = nil) {
        for mask in [semantic, instances].compactMap({ $0 }) {
            precondition(mask.width == image.width && mask.height == image.height, "mask size differs from image")
        }
        let window = window ?? .whole(width: image.width, height: image.height)
        precondition(window.rect.width == image.width && window.rect.height == image.height, "image does not match its window")
        self.window = window
        self.pixels = .planar(image)
        self.semantic = semantic
        self.instances = instances
        self.boxes = boxes
        self.points = points
        self.polygons = polygons
    }

    /// The same sample holding its image only as a `WarpSource`: what every tile of a source
    /// that is only augmented reads, at half the memory of holding both copies. The values
    /// are the image's exactly, so augmented tiles do not change.
    public func preparedForWarp() -> SampleTargets {
        guard case .planar(let image) = pixels else { return self }
        var prepared = self
        prepared.pixels = .prepared(WarpSource(image))
        return prepared
    }

    /// Equal content, however each holds its image.
    public static func == (a: SampleTargets, b: SampleTargets) -> Bool {
        a.window == b.window && a.semantic == b.semantic && a.instances == b.instances && a.boxes == b.boxes
            && a.points == b.points && a.polygons == b.polygons && a.image == b.image
    }
}

/// The boxes, points and polygons of one output tile, in tile coordinates.
public struct TileObjectTargets: Sendable, Equatable {
    public var boxes: [LabeledBox]
    public var points: [LabeledPoint]
    public var polygons: [LabeledPolygon]
    public init(boxes: [LabeledBox] = [], points: [LabeledPoint] = [], polygons: [LabeledPolygon] = []) {
        (self.boxes, self.points, self.polygons) = (boxes, points, polygons)
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

/// Sutherland–Hodgman clipping of one polygon ring to [0, width] × [0, height].
func clip(_ ring: [Point2D], width: Double, height: Double) -> [Point2D] {
    var points = ring
    let edges: [(Point2D) -> Double] = [{ $0.x }, { width - $0.x }, { $0.y }, { height - $0.y }]
    for inside in edges {
        guard !points.isEmpty else { break }
        var out: [Point2D] = []
        for (i, current) in points.enumerated() {
            let previous = points[(i + points.count - 1) % points.count]
            let ci = inside(current), pi = inside(previous)
            if (ci >= 0) != (pi >= 0) {
                let t = pi / (pi - ci)
                out.append(Point2D(x: previous.x + t * (current.x - previous.x), y: previous.y + t * (current.y - previous.y)))
            }
            if ci >= 0 { out.append(current) }
        }
        points = out
    }
    return points
}

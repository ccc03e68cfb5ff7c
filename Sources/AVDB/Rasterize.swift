import Raster

/// Polygon helpers: area, bounds, self-intersection, clipping.
enum PolygonGeometry {
    /// Shoelace area, positive for counter-clockwise rings in a y-up frame.
    static func signedArea(_ ring: [Point2D]) -> Double {
        var sum = 0.0
        for i in ring.indices {
            let a = ring[i], b = ring[(i + 1) % ring.count]
            sum += a.x * b.y - b.x * a.y
        }
        return sum / 2
    }

    static func bounds(_ ring: [Point2D]) -> Box {
        Box(xMin: ring.map(\.x).min() ?? 0, yMin: ring.map(\.y).min() ?? 0,
            xMax: ring.map(\.x).max() ?? 0, yMax: ring.map(\.y).max() ?? 0)
    }

    /// Whether any two edges of the polygon's rings cross or touch, other than consecutive
    /// edges of one ring at their shared vertex.
    static func selfIntersects(_ polygon: Polygon) -> Bool {
        let rings = [polygon.exterior] + polygon.holes
        var edges: [(a: Point2D, b: Point2D, ring: Int, index: Int, count: Int)] = []
        for (r, ring) in rings.enumerated() {
            for i in ring.indices { edges.append((ring[i], ring[(i + 1) % ring.count], r, i, ring.count)) }
        }
        for i in edges.indices {
            for j in (i + 1)..<edges.count {
                let e = edges[i], f = edges[j]
                if e.ring == f.ring && (f.index == e.index + 1 || (e.index == 0 && f.index == e.count - 1)) { continue }
                if segmentsIntersect(e.a, e.b, f.a, f.b) { return true }
            }
        }
        return false
    }

    private static func cross(_ o: Point2D, _ a: Point2D, _ b: Point2D) -> Double {
        (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
    }

    private static func onSegment(_ p: Point2D, _ a: Point2D, _ b: Point2D) -> Bool {
        min(a.x, b.x) <= p.x && p.x <= max(a.x, b.x) && min(a.y, b.y) <= p.y && p.y <= max(a.y, b.y)
    }

    static func segmentsIntersect(_ p1: Point2D, _ p2: Point2D, _ q1: Point2D, _ q2: Point2D) -> Bool {
        let d1 = cross(q1, q2, p1), d2 = cross(q1, q2, p2), d3 = cross(p1, p2, q1), d4 = cross(p1, p2, q2)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
        return (d1 == 0 && onSegment(p1, q1, q2)) || (d2 == 0 && onSegment(p2, q1, q2))
            || (d3 == 0 && onSegment(q1, p1, p2)) || (d4 == 0 && onSegment(q2, p1, p2))
    }

    /// Sutherland–Hodgman clipping of every ring against a rectangle (exact for a convex
    /// clip region); nil when the exterior vanishes. Holes that vanish are left out.
    static func clip(_ polygon: Polygon, to frame: Box) -> Polygon? {
        func clipRing(_ ring: [Point2D]) -> [Point2D] {
            var out = ring
            let planes: [(inside: (Point2D) -> Bool, cut: (Point2D, Point2D) -> Point2D)] = [
                ({ $0.x >= frame.xMin }, { a, b in lerpX(a, b, frame.xMin) }),
                ({ $0.x <= frame.xMax }, { a, b in lerpX(a, b, frame.xMax) }),
                ({ $0.y >= frame.yMin }, { a, b in lerpY(a, b, frame.yMin) }),
                ({ $0.y <= frame.yMax }, { a, b in lerpY(a, b, frame.yMax) }),
            ]
            for plane in planes {
                let input = out
                out = []
                for i in input.indices {
                    let cur = input[i], prev = input[(i + input.count - 1) % input.count]
                    if plane.inside(cur) {
                        if !plane.inside(prev) { out.append(plane.cut(prev, cur)) }
                        out.append(cur)
                    } else if plane.inside(prev) {
                        out.append(plane.cut(prev, cur))
                    }
                }
                if out.isEmpty { break }
            }
            return out
        }
        let exterior = clipRing(polygon.exterior)
        guard exterior.count >= 3, signedArea(exterior) != 0 else { return nil }
        let holes = polygon.holes.map(clipRing).filter { $0.count >= 3 && signedArea($0) != 0 }
        return Polygon(exterior: exterior, holes: holes)
    }

    private static func lerpX(_ a: Point2D, _ b: Point2D, _ x: Double) -> Point2D {
        Point2D(x: x, y: a.y + (x - a.x) * (b.y - a.y) / (b.x - a.x))
    }

    private static func lerpY(_ a: Point2D, _ b: Point2D, _ y: Double) -> Point2D {
        Point2D(x: a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y), y: y)
    }
}

/// Turns polygons into label images and label images into boxes.
///
/// The rule (spec'd in specs/label-schema/v1.md, "Rasterization"): pixel (i, j) belongs to a
/// polygon when its centre (i + 0.5, j + 0.5) is inside by the even-odd rule over all rings of
/// the object (exterior and holes alike, so holes are cut out and a self-overlapping ring
/// alternates). A centre exactly on a left or top edge is inside, on a right or bottom edge
/// outside, so two polygons sharing an edge never both claim a pixel.
public enum Rasterizer {
    /// Row-major coverage of `polygons` on a `width` × `height` grid.
    public static func coverage(of polygons: [Polygon], width: Int, height: Int) -> [Bool] {
        var bits = Array(repeating: false, count: width * height)
        let rings = polygons.flatMap { [$0.exterior] + $0.holes }
        var xs: [Double] = []
        for j in 0..<height {
            let y = Double(j) + 0.5
            xs.removeAll(keepingCapacity: true)
            for ring in rings {
                for k in ring.indices {
                    let a = ring[k], b = ring[(k + 1) % ring.count]
                    // Half-open in y: an edge counts when it spans y with one end strictly above.
                    guard (a.y > y) != (b.y > y) else { continue }
                    xs.append(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y))
                }
            }
            xs.sort()
            var k = 0
            while k + 1 < xs.count {
                // Centres c = i + 0.5 with xs[k] <= c < xs[k + 1].
                let first = max(0, Int((xs[k] - 0.5).rounded(.up)))
                let end = min(width, Int((xs[k + 1] - 0.5).rounded(.up)))
                if first < end { for i in first..<end { bits[j * width + i] = true } }
                k += 2
            }
        }
        return bits
    }

    /// An instance label image: object `k` of `objects` (polygons or masks; other geometries
    /// are skipped) paints id `k + 1`, in order, so where objects overlap the later one wins.
    /// Returns the ids' object indices and how many pixels were painted over.
    public static func instanceMask(_ objects: [AnnotationObject], width: Int, height: Int)
        -> (labels: LabelImage, objectIndices: [Int], overpainted: Int) {
        var labels = LabelImage(width: width, height: height)
        var indices: [Int] = []
        var overpainted = 0
        for (index, object) in objects.enumerated() {
            guard let bits = pixels(of: object.geometry, width: width, height: height) else { continue }
            indices.append(index)
            let id = UInt32(indices.count)
            for p in bits.indices where bits[p] {
                if labels.values[p] != 0 { overpainted += 1 }
                labels.values[p] = id
            }
        }
        return (labels, indices, overpainted)
    }

    /// A semantic label image: each polygon or mask object paints `classIDs[k]` (0 stays
    /// background), later objects over earlier ones.
    public static func semanticMask(_ objects: [AnnotationObject], classIDs: [UInt32], width: Int, height: Int) -> LabelImage {
        precondition(classIDs.count == objects.count, "one class id per object")
        var labels = LabelImage(width: width, height: height)
        for (object, id) in zip(objects, classIDs) {
            guard let bits = pixels(of: object.geometry, width: width, height: height) else { continue }
            for p in bits.indices where bits[p] { labels.values[p] = id }
        }
        return labels
    }

    private static func pixels(of geometry: AnnotationGeometry, width: Int, height: Int) -> [Bool]? {
        switch geometry {
        case .polygons(let p): coverage(of: p, width: width, height: height)
        case .mask(let m): m.width == width && m.height == height ? m.bits : nil
        case .box, .point: nil
        }
    }

    /// The tight box of every non-zero id of an instance label image, ascending by id:
    /// `[minX, maxX + 1) × [minY, maxY + 1)`, i.e. the pixels' own extent in the Raster
    /// convention.
    public static func boxes(of labels: LabelImage) -> [(id: UInt32, box: Box)] {
        var extent: [UInt32: (x0: Int, y0: Int, x1: Int, y1: Int)] = [:]
        for y in 0..<labels.height {
            for x in 0..<labels.width {
                let id = labels.values[y * labels.width + x]
                guard id != 0 else { continue }
                if let e = extent[id] {
                    extent[id] = (min(e.x0, x), min(e.y0, y), max(e.x1, x), max(e.y1, y))
                } else {
                    extent[id] = (x, y, x, y)
                }
            }
        }
        return extent.keys.sorted().map { id in
            let e = extent[id]!
            return (id, Box(xMin: Double(e.x0), yMin: Double(e.y0), xMax: Double(e.x1 + 1), yMax: Double(e.y1 + 1)))
        }
    }
}

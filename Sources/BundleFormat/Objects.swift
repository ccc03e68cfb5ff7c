import Raster

/// A box of one tile (bundle format §4.4): corners in tile pixel coordinates, Raster convention.
public struct ObjectBox: Sendable, Equatable {
    public var box: Box
    /// A class id of `/classes/id`, or −1 for none.
    public var classID: Int32
    /// The object's id in the tile's `/masks/instance` when it is in that mask, else the
    /// annotation's own object id, else −1.
    public var instanceID: Int64

    public init(_ box: Box, classID: Int32, instanceID: Int64 = -1) {
        (self.box, self.classID, self.instanceID) = (box, classID, instanceID)
    }
}

/// A point of one tile, in tile pixel coordinates.
public struct ObjectPoint: Sendable, Equatable {
    public var point: Point2D
    public var classID: Int32
    public var instanceID: Int64

    public init(_ point: Point2D, classID: Int32, instanceID: Int64 = -1) {
        (self.point, self.classID, self.instanceID) = (point, classID, instanceID)
    }
}

/// A polygon of one tile (exterior ring, then holes), in tile pixel coordinates. A multi-part
/// object is several polygons with one instance id.
public struct ObjectPolygon: Sendable, Equatable {
    public var polygon: Polygon
    public var classID: Int32
    public var instanceID: Int64

    public init(_ polygon: Polygon, classID: Int32, instanceID: Int64 = -1) {
        (self.polygon, self.classID, self.instanceID) = (polygon, classID, instanceID)
    }
}

/// Everything a tile holds besides pixels and masks: its boxes, points and polygons.
public struct TileObjects: Sendable, Equatable {
    public var boxes: [ObjectBox]
    public var points: [ObjectPoint]
    public var polygons: [ObjectPolygon]

    public init(boxes: [ObjectBox] = [], points: [ObjectPoint] = [], polygons: [ObjectPolygon] = []) {
        (self.boxes, self.points, self.polygons) = (boxes, points, polygons)
    }

    /// The objects as a bundle stores and reads them back: every coordinate rounded to float32.
    public var stored: TileObjects {
        func r(_ v: Double) -> Double { Double(Float(v)) }
        func r(_ p: Point2D) -> Point2D { Point2D(x: r(p.x), y: r(p.y)) }
        return TileObjects(
            boxes: boxes.map { ObjectBox(Box(xMin: r($0.box.xMin), yMin: r($0.box.yMin), xMax: r($0.box.xMax), yMax: r($0.box.yMax)),
                                         classID: $0.classID, instanceID: $0.instanceID) },
            points: points.map { ObjectPoint(r($0.point), classID: $0.classID, instanceID: $0.instanceID) },
            polygons: polygons.map { ObjectPolygon(Polygon(exterior: $0.polygon.exterior.map(r), holes: $0.polygon.holes.map { $0.map(r) }),
                                                   classID: $0.classID, instanceID: $0.instanceID) })
    }
}

/// Which object groups a bundle holds (bundle format §4.4).
public struct ObjectKinds: Sendable, Codable, Equatable {
    public var boxes: Bool
    public var points: Bool
    public var polygons: Bool

    public init(boxes: Bool = false, points: Bool = false, polygons: Bool = false) {
        (self.boxes, self.points, self.polygons) = (boxes, points, polygons)
    }

    public static let none = ObjectKinds()

    public var isEmpty: Bool { !boxes && !points && !polygons }
}

/// One dataset of a ragged group: a flat array of `shape` (first dimension = its rows).
public struct RaggedDataset: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case int32([Int32])
        case int64([Int64])
        case float32([Float])

        var count: Int {
            switch self {
            case .int32(let v): v.count
            case .int64(let v): v.count
            case .float32(let v): v.count
            }
        }

        var dtype: String {
            switch self {
            case .int32: "int32"
            case .int64: "int64"
            case .float32: "float32"
            }
        }
    }

    public var name: String
    public var shape: [Int]
    public var values: Values

    public init(_ name: String, shape: [Int], _ values: Values) {
        (self.name, self.shape, self.values) = (name, shape, values)
    }
}

/// A per-tile ragged group (bundle format §4.4): `offsets` (N + 1 int64 entries; tile t owns
/// rows `offsets[t] ..< offsets[t + 1]` of the group's per-object datasets) plus flat datasets.
/// Levels below the tile are stored as counts, never as further offsets, so that joining two
/// bundles rebases `offsets` alone (§13).
public struct RaggedGroup: Sendable, Equatable {
    /// Absolute group path, e.g. `/boxes`.
    public var path: String
    public var offsets: [Int64]
    public var datasets: [RaggedDataset]

    public init(path: String, offsets: [Int64], datasets: [RaggedDataset]) {
        (self.path, self.offsets, self.datasets) = (path, offsets, datasets)
    }
}

/// Collects the objects of each tile, in tile order, and lays them out as `/boxes`, `/points`
/// and `/polygons`.
public struct ObjectGroups: Sendable {
    public let kinds: ObjectKinds
    private var boxOffsets: [Int64] = [0], boxXYXY: [Float] = [], boxClass: [Int32] = [], boxInstance: [Int64] = []
    private var pointOffsets: [Int64] = [0], pointXY: [Float] = [], pointClass: [Int32] = [], pointInstance: [Int64] = []
    private var polygonOffsets: [Int64] = [0], polygonClass: [Int32] = [], polygonInstance: [Int64] = []
    private var ringCount: [Int32] = [], vertexCount: [Int32] = [], vertexXY: [Float] = []

    public init(kinds: ObjectKinds) { self.kinds = kinds }

    /// Tiles appended so far.
    public var tiles: Int { boxOffsets.count - 1 }
    public var boxCount: Int { boxClass.count }
    public var pointCount: Int { pointClass.count }
    public var polygonCount: Int { polygonClass.count }

    /// Rows of each group holding class `id`.
    public func rows(ofClass id: Int32) -> (boxes: Int, points: Int, polygons: Int) {
        (boxClass.count { $0 == id }, pointClass.count { $0 == id }, polygonClass.count { $0 == id })
    }

    /// Appends the next tile's objects. Objects of a kind the bundle does not hold are a
    /// programmer error: the plan decides the kinds from the recipe before any tile is cut.
    public mutating func append(_ objects: TileObjects) {
        precondition(kinds.boxes || objects.boxes.isEmpty, "boxes for a bundle without /boxes")
        precondition(kinds.points || objects.points.isEmpty, "points for a bundle without /points")
        precondition(kinds.polygons || objects.polygons.isEmpty, "polygons for a bundle without /polygons")
        for b in objects.boxes {
            boxXYXY += [Float(b.box.xMin), Float(b.box.yMin), Float(b.box.xMax), Float(b.box.yMax)]
            boxClass.append(b.classID)
            boxInstance.append(b.instanceID)
        }
        boxOffsets.append(Int64(boxClass.count))
        for p in objects.points {
            pointXY += [Float(p.point.x), Float(p.point.y)]
            pointClass.append(p.classID)
            pointInstance.append(p.instanceID)
        }
        pointOffsets.append(Int64(pointClass.count))
        for p in objects.polygons {
            let rings = [p.polygon.exterior] + p.polygon.holes
            ringCount.append(Int32(rings.count))
            for ring in rings {
                vertexCount.append(Int32(ring.count))
                for v in ring { vertexXY += [Float(v.x), Float(v.y)] }
            }
            polygonClass.append(p.classID)
            polygonInstance.append(p.instanceID)
        }
        polygonOffsets.append(Int64(polygonClass.count))
    }

    /// The groups of the kinds the bundle holds, in path order.
    public var groups: [RaggedGroup] {
        var out: [RaggedGroup] = []
        if kinds.boxes {
            out.append(RaggedGroup(path: BundleLayout.boxes, offsets: boxOffsets, datasets: [
                RaggedDataset("xyxy", shape: [boxCount, 4], .float32(boxXYXY)),
                RaggedDataset("class_id", shape: [boxCount], .int32(boxClass)),
                RaggedDataset("instance_id", shape: [boxCount], .int64(boxInstance)),
            ]))
        }
        if kinds.points {
            out.append(RaggedGroup(path: BundleLayout.points, offsets: pointOffsets, datasets: [
                RaggedDataset("xy", shape: [pointCount, 2], .float32(pointXY)),
                RaggedDataset("class_id", shape: [pointCount], .int32(pointClass)),
                RaggedDataset("instance_id", shape: [pointCount], .int64(pointInstance)),
            ]))
        }
        if kinds.polygons {
            out.append(RaggedGroup(path: BundleLayout.polygons, offsets: polygonOffsets, datasets: [
                RaggedDataset("class_id", shape: [polygonCount], .int32(polygonClass)),
                RaggedDataset("instance_id", shape: [polygonCount], .int64(polygonInstance)),
                RaggedDataset("ring_count", shape: [polygonCount], .int32(ringCount)),
                RaggedDataset("vertex_count", shape: [vertexCount.count], .int32(vertexCount)),
                RaggedDataset("xy", shape: [vertexXY.count / 2, 2], .float32(vertexXY)),
            ]))
        }
        return out
    }

    /// `/image_labels`: each tile's image-level classes (ascending, no repeats).
    public static func imageLabels(_ perTile: [[Int32]]) -> RaggedGroup {
        var offsets: [Int64] = [0]
        var ids: [Int32] = []
        for labels in perTile {
            ids += labels
            offsets.append(Int64(ids.count))
        }
        return RaggedGroup(path: BundleLayout.imageLabels, offsets: offsets,
                           datasets: [RaggedDataset("class_id", shape: [ids.count], .int32(ids))])
    }
}

/// A bundle's object groups read back whole, for tools that look at many tiles (report, replay).
public struct BundleObjects: Sendable {
    public let kinds: ObjectKinds
    let boxes: (offsets: [Int64], xyxy: [Float], classID: [Int32], instanceID: [Int64])?
    let points: (offsets: [Int64], xy: [Float], classID: [Int32], instanceID: [Int64])?
    let polygons: (offsets: [Int64], classID: [Int32], instanceID: [Int64], ringStart: [Int], vertexStart: [Int], xy: [Float])?
    let imageLabels: (offsets: [Int64], classID: [Int32])?

    /// Whether the bundle has `/image_labels`.
    public var hasImageLabels: Bool { imageLabels != nil }

    /// Tile `t`'s objects, empty for kinds the bundle does not hold.
    public func objects(ofTile t: Int) -> TileObjects {
        var out = TileObjects()
        if let b = boxes {
            for i in Int(b.offsets[t])..<Int(b.offsets[t + 1]) {
                let x = b.xyxy[(4 * i)..<(4 * i + 4)].map(Double.init)
                out.boxes.append(ObjectBox(Box(xMin: x[0], yMin: x[1], xMax: x[2], yMax: x[3]), classID: b.classID[i],
                                           instanceID: b.instanceID[i]))
            }
        }
        if let p = points {
            for i in Int(p.offsets[t])..<Int(p.offsets[t + 1]) {
                out.points.append(ObjectPoint(Point2D(x: Double(p.xy[2 * i]), y: Double(p.xy[2 * i + 1])), classID: p.classID[i],
                                              instanceID: p.instanceID[i]))
            }
        }
        if let g = polygons {
            for i in Int(g.offsets[t])..<Int(g.offsets[t + 1]) {
                let rings = (g.ringStart[i]..<g.ringStart[i + 1]).map { r in
                    (g.vertexStart[r]..<g.vertexStart[r + 1]).map { v in Point2D(x: Double(g.xy[2 * v]), y: Double(g.xy[2 * v + 1])) }
                }
                out.polygons.append(ObjectPolygon(Polygon(exterior: rings[0], holes: Array(rings.dropFirst())),
                                                  classID: g.classID[i], instanceID: g.instanceID[i]))
            }
        }
        return out
    }

    /// Tile `t`'s image-level classes, empty without `/image_labels`.
    public func imageLabels(ofTile t: Int) -> [Int32] {
        guard let l = imageLabels else { return [] }
        return Array(l.classID[Int(l.offsets[t])..<Int(l.offsets[t + 1])])
    }

    /// The first structural problem of the groups for a bundle of `tiles` tiles, or nil: offsets
    /// that do not run from 0 to the row count without decreasing, datasets of the wrong length.
    func inconsistency(tiles: Int) -> String? {
        func offsetsProblem(_ group: String, _ offsets: [Int64], rows: Int) -> String? {
            guard offsets.count == tiles + 1, offsets.first == 0, offsets.last == Int64(rows),
                  zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                return "\(group)/offsets: must hold \(tiles + 1) non-decreasing entries from 0 to \(rows)"
            }
            return nil
        }
        if let b = boxes {
            if b.xyxy.count != 4 * b.classID.count || b.instanceID.count != b.classID.count {
                return "\(BundleLayout.boxes): xyxy, class_id and instance_id differ in length"
            }
            if let p = offsetsProblem(BundleLayout.boxes, b.offsets, rows: b.classID.count) { return p }
        }
        if let p = points {
            if p.xy.count != 2 * p.classID.count || p.instanceID.count != p.classID.count {
                return "\(BundleLayout.points): xy, class_id and instance_id differ in length"
            }
            if let problem = offsetsProblem(BundleLayout.points, p.offsets, rows: p.classID.count) { return problem }
        }
        if let g = polygons {
            if g.instanceID.count != g.classID.count || g.ringStart.count != g.classID.count + 1
                || g.ringStart.last! != g.vertexStart.count - 1 || 2 * g.vertexStart.last! != g.xy.count
                || zip(g.ringStart, g.ringStart.dropFirst()).contains(where: { $0 >= $1 })
                || zip(g.vertexStart, g.vertexStart.dropFirst()).contains(where: { $0 > $1 }) {
                return "\(BundleLayout.polygons): ring_count and vertex_count do not add up to the rings and vertices stored"
            }
            if let p = offsetsProblem(BundleLayout.polygons, g.offsets, rows: g.classID.count) { return p }
        }
        if let l = imageLabels, let p = offsetsProblem(BundleLayout.imageLabels, l.offsets, rows: l.classID.count) { return p }
        return nil
    }

    /// Start of each level's rows from its counts: `[0, c0, c0 + c1, …]`.
    static func starts(_ counts: [Int32]) -> [Int] {
        var out = [0]
        out.reserveCapacity(counts.count + 1)
        for c in counts { out.append(out[out.count - 1] + Int(c)) }
        return out
    }
}

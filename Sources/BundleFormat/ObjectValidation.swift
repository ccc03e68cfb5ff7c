import HDF5

/// Checks of the per-tile ragged groups (bundle format §4.4, §8 rule 7).
extension Validation {
    /// What one ragged group must hold besides `offsets`: each dataset's dtype and the width of
    /// its second dimension (nil for 1-D), and which level of rows it has.
    private struct GroupSpec {
        enum Level { case object, ring, vertex }
        let path: String
        let datasets: [(name: String, dtype: String, width: Int?, level: Level)]
    }

    private static let groups: [GroupSpec] = [
        GroupSpec(path: BundleLayout.boxes, datasets: [
            ("xyxy", "float32", 4, .object), ("class_id", "int32", nil, .object), ("instance_id", "int64", nil, .object)]),
        GroupSpec(path: BundleLayout.points, datasets: [
            ("xy", "float32", 2, .object), ("class_id", "int32", nil, .object), ("instance_id", "int64", nil, .object)]),
        GroupSpec(path: BundleLayout.polygons, datasets: [
            ("class_id", "int32", nil, .object), ("instance_id", "int64", nil, .object), ("ring_count", "int32", nil, .object),
            ("vertex_count", "int32", nil, .ring), ("xy", "float32", 2, .vertex)]),
        GroupSpec(path: BundleLayout.imageLabels, datasets: [("class_id", "int32", nil, .object)]),
    ]

    /// Checks every ragged group present; returns the rows of each group that passed its
    /// layout checks (by path), for the manifest's counts.
    mutating func checkObjects(_ file: borrowing File, shape: ImageShape, classIDs: Set<Int32>) -> [String: Int] {
        var rows: [String: Int] = [:]
        for spec in Self.groups {
            guard hasObject(file, spec.path) else { continue }
            // A dataset in a group's place is a damaged bundle, not an absent group (as check_bundle.py says too).
            guard (try? file.objectKind(at: spec.path)) == .group else {
                problem("\(spec.path): must be a group")
                continue
            }
            checked("\(spec.path): offsets (N + 1, from 0, non-decreasing, ending at the row count), dtypes and shapes, "
                    + "class ids, coordinates inside the tile, chunking and filters")
            if let n = checkGroup(file, spec, shape: shape, classIDs: classIDs) { rows[spec.path] = n }
        }
        return rows
    }

    private mutating func checkGroup(_ file: borrowing File, _ spec: GroupSpec, shape: ImageShape,
                                     classIDs: Set<Int32>) -> Int? {
        let g = spec.path
        var infos: [String: HDF5DatasetInfo] = [:]
        for (name, dtype, width, _) in [(BundleLayout.offsets, "int64", nil, GroupSpec.Level.object)] + spec.datasets {
            guard let info = datasetInfo(file, "\(g)/\(name)", required: true) else { continue }
            let rank = width == nil ? 1 : 2
            if info.dtype != dtype || info.shape.count != rank || (width != nil && info.shape[1] != width) {
                problem("\(info.path): must be \(dtype) of shape [rows\(width.map { ", \($0)" } ?? "")], found \(info.dtype) \(info.shape)")
                continue
            }
            if info.chunks == nil { problem("\(info.path): must be chunked") } else { checkFilters(info) }
            infos[name] = info
        }
        guard infos.count == spec.datasets.count + 1 else { return nil }
        do {
            let offsets = try file.openDataset("\(g)/\(BundleLayout.offsets)").read(Int64.self)
            let levelRows: [GroupSpec.Level: Int] = Dictionary(spec.datasets.map { ($0.level, infos[$0.name]!.shape[0]) },
                                                               uniquingKeysWith: { a, b in a == b ? a : -1 })
            if let bad = spec.datasets.first(where: { levelRows[$0.level] == -1 }) {
                problem("\(g)/\(bad.name): has \(infos[bad.name]!.shape[0]) rows, other datasets of its level differ")
                return nil
            }
            let rows = levelRows[.object]!
            guard offsets.count == shape.n + 1 else {
                problem("\(g)/offsets: has \(offsets.count) entries, expected N + 1 = \(shape.n + 1)")
                return nil
            }
            let decreasing = offsets.indices.dropFirst().filter { offsets[$0] < offsets[$0 - 1] }
            if offsets.first != 0 || offsets.last != Int64(rows) || !decreasing.isEmpty {
                problem("\(g)/offsets: must start at 0, never decrease and end at the \(rows) rows of the group; "
                        + "starts at \(offsets.first ?? -1), ends at \(offsets.last ?? -1)"
                        + (decreasing.isEmpty ? "" : ", decreases at entries \(decreasing.prefix(Self.maxListed).map(String.init).joined(separator: ", "))"))
                return nil
            }
            let classes = try file.openDataset("\(g)/class_id").read(Int32.self)
            listRows("\(g)/class_id", classes.indices.filter { classes[$0] != -1 && !classIDs.contains(classes[$0]) },
                     "hold a class id that is neither -1 nor in /classes/id")
            switch g {
            case BundleLayout.boxes:
                let xyxy = try file.openDataset("\(g)/xyxy").read(Float.self)
                listRows("\(g)/xyxy", (0..<rows).filter { i in
                    let b = xyxy[(4 * i)..<(4 * i + 4)].map(Double.init)
                    return !Self.inside(b[0], b[1], shape) || !Self.inside(b[2], b[3], shape) || b[0] > b[2] || b[1] > b[3]
                }, "are not finite boxes inside the \(shape.w)x\(shape.h) tile with xMin <= xMax and yMin <= yMax")
            case BundleLayout.points:
                let xy = try file.openDataset("\(g)/xy").read(Float.self)
                listRows("\(g)/xy", (0..<rows).filter { !Self.inside(Double(xy[2 * $0]), Double(xy[2 * $0 + 1]), shape) },
                         "are not finite points inside the \(shape.w)x\(shape.h) tile")
            case BundleLayout.polygons:
                let rings = try file.openDataset("\(g)/ring_count").read(Int32.self)
                let vertices = try file.openDataset("\(g)/vertex_count").read(Int32.self)
                let xy = try file.openDataset("\(g)/xy").read(Float.self)
                listRows("\(g)/ring_count", rings.indices.filter { rings[$0] < 1 }, "give a polygon no ring")
                listRows("\(g)/vertex_count", vertices.indices.filter { vertices[$0] < 3 }, "give a ring fewer than 3 vertices")
                let ringTotal = rings.reduce(0) { $0 + Int($1) }, vertexTotal = vertices.reduce(0) { $0 + Int($1) }
                if ringTotal != vertices.count {
                    problem("\(g)/ring_count: adds up to \(ringTotal) rings, \(g)/vertex_count has \(vertices.count)")
                }
                if vertexTotal != xy.count / 2 {
                    problem("\(g)/vertex_count: adds up to \(vertexTotal) vertices, \(g)/xy has \(xy.count / 2)")
                }
                listRows("\(g)/xy", (0..<(xy.count / 2)).filter { !Self.inside(Double(xy[2 * $0]), Double(xy[2 * $0 + 1]), shape) },
                         "are not finite vertices inside the \(shape.w)x\(shape.h) tile")
            default:
                // Image labels: ascending and without repeats within each tile.
                listRows("\(g)/class_id", (0..<shape.n).filter { t in
                    let labels = classes[Int(offsets[t])..<Int(offsets[t + 1])]
                    return zip(labels, labels.dropFirst()).contains { $0 >= $1 }
                }, "of tiles (listed by tile) are not ascending without repeats")
            }
            return rows
        } catch {
            problem("\(error.objectPath ?? g): cannot be read: \(error.message)")
            return nil
        }
    }

    /// Finite and within the tile's closed rectangle [0, W] × [0, H].
    private static func inside(_ x: Double, _ y: Double, _ shape: ImageShape) -> Bool {
        x.isFinite && y.isFinite && x >= 0 && y >= 0 && x <= Double(shape.w) && y <= Double(shape.h)
    }

    /// The manifest's object counts agree with the groups.
    mutating func checkObjectCounts(_ manifest: Manifest, rows: [String: Int]) {
        guard let objects = manifest.objects else { return }
        for (path, count) in [(BundleLayout.boxes, objects.boxes), (BundleLayout.points, objects.points),
                              (BundleLayout.polygons, objects.polygons)] {
            let stored = rows[path] ?? 0
            if count != stored {
                problem("\(BundleLayout.manifest): objects.\(path.dropFirst()) is \(count), \(path) has \(stored) rows")
            }
        }
    }
}

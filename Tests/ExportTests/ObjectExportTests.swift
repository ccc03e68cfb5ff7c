import BundleFormat
import Foundation
import ImageFormats
import Raster
import Testing
@testable import Export

/// Repository paths and the shared example data, for tests of real annotation files.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    static func sample(_ relative: String) -> URL { root.appendingPathComponent("samples").appendingPathComponent(relative) }

    /// `shared/data` found by walking up from this file; nil when a checkout has none.
    static let shared: URL? = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared/data")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }()
}

/// Exports `recipe` to `output` and reads the bundle's tables, masks and objects back.
struct ExportedObjects {
    let manifest: Manifest
    let tiles: Table
    let objects: BundleObjects
    let instanceMasks: [LabelImage]

    init(recipe: URL, output: URL) throws {
        let result = try Exporter.run(try Planner.plan(recipeAt: recipe, output: output.path))
        manifest = result.manifest
        let reader = try BundleReader(opening: result.bundle)
        tiles = try reader.table(at: BundleLayout.tiles)
        objects = try reader.objects()
        instanceMasks = try (0..<reader.tileCount).compactMap { try reader.instanceMask($0) }
        #expect(BundleValidator.validate(result.bundle).problems == [])
    }

    func column(_ name: String) -> [Int] {
        switch tiles[name] {
        case .int32(let v)?: v.map(Int.init)
        case .int64(let v)?: v.map(Int.init)
        default: []
        }
    }
}

@Suite("Objects in the export: BCCD boxes")
struct BCCDExportTests {
    static let data = Repository.sample("bccd-boxes/data")

    /// The same boxes from the VOC files and from the CSV give the same bundle; only the
    /// manifest (inputs, how issues name their objects) differs.
    @Test func vocAndCSVGiveTheSameContentHash() throws {
        let ws = try Workspace()
        let voc = try ExportedObjects(recipe: Repository.sample("bccd-boxes/recipe.yaml"), output: ws.url("voc.h5"))
        let csv = try ExportedObjects(recipe: Repository.sample("bccd-boxes/recipe-csv.yaml"), output: ws.url("csv.h5"))
        #expect(voc.manifest.contentHash == csv.manifest.contentHash)
        #expect(voc.manifest.datasets == csv.manifest.datasets)

        let annotations = Self.data.appendingPathComponent("BCCD/Annotations")
        let files = try FileManager.default.contentsOfDirectory(atPath: annotations.path).sorted()
        let objectCount = try files.reduce(0) { n, name in
            n + (try String(contentsOf: annotations.appendingPathComponent(name), encoding: .utf8)).components(separatedBy: "<object>").count - 1
        }
        let csvRows = try SimpleCSV.rows(of: Self.data.appendingPathComponent("boxes.csv")).count - 1
        #expect(objectCount == csvRows)
        for m in [voc.manifest, csv.manifest] {
            #expect(m.objects?.read == objectCount)
            #expect(m.objects?.kept == objectCount - 2)
            #expect(m.objects?.boxes == voc.objects.objects(ofTile: 0).boxes.count
                + (1..<voc.column("source").count).reduce(0) { $0 + voc.objects.objects(ofTile: $1).boxes.count })
        }
        // The two degenerate boxes of SOURCE.txt, by file and object (VOC) and by file and line (CSV).
        #expect(voc.manifest.objects?.issues == [
            "BCCD/Annotations/BloodImage_00338.xml: object 13 (RBC): zero-area box xmin=504 ymin=337 xmax=504 ymax=337 as annotated; dropped",
            "BCCD/Annotations/BloodImage_00343.xml: object 4 (RBC): zero-area box xmin=181 ymin=329 xmax=181 ymax=329 as annotated; dropped",
        ])
        let rows = try SimpleCSV.rows(of: Self.data.appendingPathComponent("boxes.csv"))
        let degenerate = rows.indices.dropFirst().filter { rows[$0][2] == rows[$0][3] }.map { $0 + 1 }  // xmin == xmax
        #expect(degenerate.count == 2)
        #expect(csv.manifest.objects?.issues.map { $0.components(separatedBy: " (RBC)").first! } == degenerate.map { "boxes.csv: line \($0)" })
        #expect(voc.manifest.warnings.contains { $0.hasPrefix("2 objects were dropped or clipped by labels.objects.geometry") })
    }

    /// BloodImage_00000's first object, WBC at VOC corners 260,177,491,376 (1-based, inclusive) =
    /// [259, 491) × [176, 376), cut by the 256-pixel grid: tile (256, 0) keeps [3, 235) × [176, 256)
    /// (80 of its 200 rows), tile (256, 256) keeps [3, 235) × [0, 120); tile (0, 0) does not reach it.
    @Test func aBoxIsCutToEachTileItCrosses() throws {
        let ws = try Workspace()
        let out = try ExportedObjects(recipe: Repository.sample("bccd-boxes/recipe.yaml"), output: ws.url("voc.h5"))
        let (source, x, y) = (out.column("source"), out.column("x"), out.column("y"))
        func tile(_ tx: Int, _ ty: Int) -> Int { source.indices.first { source[$0] == 0 && x[$0] == tx && y[$0] == ty }! }
        let wbc: Int32 = 1
        #expect(out.objects.objects(ofTile: tile(256, 0)).boxes.contains(ObjectBox(Box(xMin: 3, yMin: 176, xMax: 235, yMax: 256), classID: wbc)))
        #expect(out.objects.objects(ofTile: tile(256, 256)).boxes.contains(ObjectBox(Box(xMin: 3, yMin: 0, xMax: 235, yMax: 120), classID: wbc)))
        #expect(!out.objects.objects(ofTile: tile(0, 0)).boxes.contains { $0.classID == wbc })
    }

    /// Under `geometry: error` the first degenerate box stops the export with one line naming the
    /// file and the object, and nothing is written.
    @Test func theErrorPolicyStopsAtTheFirstZeroAreaBox() throws {
        let ws = try Workspace()
        let text = try String(contentsOf: Repository.sample("bccd-boxes/recipe.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "root: data", with: "root: \(Self.data.path)")
            .replacingOccurrences(of: "geometry: drop", with: "geometry: error")
        try ws.write("recipe.yaml", text)
        guard let error = ws.failingExport() else { Issue.record("a zero-area box passed the error policy"); return }
        #expect(error.description.hasSuffix(
            "BCCD/Annotations/BloodImage_00338.xml: object 13 (RBC): zero-area box xmin=504 ymin=337 xmax=504 ymax=337 as annotated; "
            + "fix the annotation or set the geometry policy to drop or clip"), "\(error)")
        #expect(!error.description.contains("\n"))
        #expect(ws.outputEntries().isEmpty)
    }

    /// Rescaling, a foreground filter and boxes together (recipe spec §6.1, §8.2, §9): the boxes
    /// are scaled with the image before they are cut, so every kept tile holds the boxes computed
    /// here from the VOC files (corners to continuous, times the size ratio, cut to the tile, kept
    /// by min_area 1 and min_visibility 0.25); and every tile replays bit for bit.
    @Test func rescaledFilteredTilesHoldTheirScaledBoxes() throws {
        let ws = try Workspace()
        let text = try String(contentsOf: Repository.sample("bccd-boxes/recipe.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "root: data", with: "root: \(Self.data.path)")
            .replacingOccurrences(of: "tiling:\n  size: 256\n", with: """
                rescale: {pixel_size: 1.6, source_pixel_size: 1}
                sampling:
                  foreground: {otsu: dark, min_fraction: 0.3}
                tiling:
                  size: 128

                """)
        #expect(text.contains("rescale:"))
        try ws.write("recipe.yaml", text)
        let out = try ExportedObjects(recipe: ws.url("recipe.yaml"), output: ws.url("out/b.h5"))
        let sampling = try #require(out.manifest.sampling)
        #expect(sampling.sources.contains { $0.belowForeground > 0 }, "the filter must drop tiles for the test to mean something")
        let sources = try BundleReader(opening: ws.url("out/b.h5")).table(at: BundleLayout.sources)
        guard case .string(let paths)? = sources["path"], case .int64(let width)? = sources["width"],
              case .int64(let height)? = sources["height"], case .int64(let originalWidth)? = sources["original_width"],
              case .int64(let originalHeight)? = sources["original_height"] else {
            Issue.record("no rescaled sizes in /sources")
            return
        }
        #expect(width == originalWidth.map { Int64((Double($0) / 1.6).rounded()) })
        let classes: [String: Int32] = ["RBC": 0, "WBC": 1, "Platelets": 2]
        func value(_ tag: String, in text: String) -> String? {
            guard let start = text.range(of: "<\(tag)>"), let end = text.range(of: "</\(tag)>", range: start.upperBound..<text.endIndex)
            else { return nil }
            return String(text[start.upperBound..<end.lowerBound])
        }
        let (source, x, y) = (out.column("source"), out.column("x"), out.column("y"))
        let (w, h) = (128.0, 128.0)
        var total = 0
        for i in source.indices {
            let s = source[i]
            let sx = Double(width[s]) / Double(originalWidth[s]), sy = Double(height[s]) / Double(originalHeight[s])
            let stem = URL(fileURLWithPath: paths[s]).deletingPathExtension().lastPathComponent
            let voc = try String(contentsOf: Self.data.appendingPathComponent("BCCD/Annotations/\(stem).xml"), encoding: .utf8)
            var expected: [ObjectBox] = []
            for object in voc.components(separatedBy: "<object>").dropFirst() {
                let c = ["xmin", "ymin", "xmax", "ymax"].map { Double(value($0, in: object)!)! }
                guard c[2] > c[0], c[3] > c[1] else { continue }  // the two zero-area boxes, dropped by the policy
                let b = Box(xMin: (c[0] - 1) * sx, yMin: (c[1] - 1) * sy, xMax: c[2] * sx, yMax: c[3] * sy)
                let cut = Box(xMin: max(b.xMin - Double(x[i]), 0), yMin: max(b.yMin - Double(y[i]), 0),
                              xMax: min(b.xMax - Double(x[i]), w), yMax: min(b.yMax - Double(y[i]), h))
                let area = max(cut.xMax - cut.xMin, 0) * max(cut.yMax - cut.yMin, 0)
                guard area >= 1, area / b.area >= 0.25 else { continue }
                // Stored as float32.
                func f(_ v: Double) -> Double { Double(Float(v)) }
                expected.append(ObjectBox(Box(xMin: f(cut.xMin), yMin: f(cut.yMin), xMax: f(cut.xMax), yMax: f(cut.yMax)),
                                          classID: classes[value("name", in: object)!]!))
            }
            #expect(out.objects.objects(ofTile: i).boxes == expected, "tile \(i) (\(paths[s]) at \(x[i]), \(y[i]))")
            total += expected.count
        }
        #expect(total > 0 && out.manifest.objects?.boxes == total)
        let replayed = try Replayer.replay(bundle: ws.url("out/b.h5"), inputs: Self.data, tiles: Array(source.indices))
        #expect(replayed.count == source.count && replayed.allSatisfy(\.passed), "\(replayed.filter { !$0.passed })")
    }
}

/// What a reviewer sees of a box bundle from the command line.
@Suite("Objects on the command line")
struct ObjectCLITests: CLIRunning {
    @Test func inspectAndLabelsReportShowTheBoxes() throws {
        let ws = try Workspace()
        let out = try ExportedObjects(recipe: Repository.sample("bccd-boxes/recipe-csv.yaml"), output: ws.url("b.h5"))
        let inspect = try run(["inspect", "b.h5"], in: ws.root)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let lines = inspect.stdout.split(separator: "\n").map(String.init)
        let perClass = try #require(out.manifest.objects?.perClass)
        for c in perClass {
            let id = String(repeating: " ", count: 3 - String(c.id).count) + String(c.id)
            #expect(lines.contains { $0.hasPrefix("    \(id)  \(c.name) ") && $0.hasSuffix(" \(c.boxes) boxes") }, "\(c.name)")
        }
        #expect(perClass.map(\.boxes).reduce(0, +) == out.manifest.objects?.boxes)
        let o = try #require(out.manifest.objects)
        #expect(lines.contains("  objects        \(o.boxes) boxes from csv boxes.csv; \(o.kept) of \(o.read) annotated objects kept"),
                "\(inspect.stdout)")
        for issue in out.manifest.objects!.issues { #expect(lines.contains("    \(issue)")) }

        let report = try run(["labels", "report", Repository.sample("bccd-boxes/recipe-csv.yaml").path, "--json"], in: ws.root)
        #expect(report.status == 0, "\(report.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let objects = try #require(json["objects"] as? [String: Any])
        let entries = try #require((objects["report"] as? [String: Any])?["entries"] as? [[String: Any]])
        #expect(entries.map { $0["value"] as? String } == ["Platelets", "RBC", "WBC"])
        #expect(entries.compactMap { $0["count"] as? Int }.reduce(0, +) == o.kept)
        #expect((objects["unmapped"] as? [Any])?.isEmpty == true && json["passes"] as? Bool == true)
    }
}

@Suite("Objects in the export: DSB boxes derived from instance masks")
struct DerivedBoxExportTests {
    /// The bounding box of every id inside the image part of the tile (mirrored padding holds
    /// no objects), computed here from the stored mask.
    static func boxes(of mask: LabelImage, validWidth: Int, validHeight: Int) -> [Int64: Box] {
        var out: [Int64: Box] = [:]
        for y in 0..<validHeight {
            for x in 0..<validWidth {
                let id = mask.values[y * mask.width + x]
                guard id != 0 else { continue }
                let b = out[Int64(id)] ?? Box(xMin: .infinity, yMin: .infinity, xMax: -.infinity, yMax: -.infinity)
                out[Int64(id)] = Box(xMin: min(b.xMin, Double(x)), yMin: min(b.yMin, Double(y)),
                                     xMax: max(b.xMax, Double(x + 1)), yMax: max(b.yMax, Double(y + 1)))
            }
        }
        return out
    }

    @Test func derivedBoxesAreTheBoundingBoxesOfTheInstanceIDs() throws {
        let ws = try Workspace()
        let out = try ExportedObjects(recipe: Repository.sample("dsb2018-nuclei/recipe.yaml"), output: ws.url("dsb.h5"))
        let (vw, vh) = (out.column("valid_width"), out.column("valid_height"))
        var total = 0
        for (i, mask) in out.instanceMasks.enumerated() {
            let stored = out.objects.objects(ofTile: i).boxes
            let expected = Self.boxes(of: mask, validWidth: vw[i], validHeight: vh[i])
            #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.instanceID, $0.box) }) == expected, "tile \(i)")
            #expect(stored.map(\.instanceID) == stored.map(\.instanceID).sorted())
            #expect(stored.allSatisfy { $0.classID == 0 })  // instance_class: nucleus
            total += expected.count
        }
        #expect(total > 0 && out.manifest.objects?.boxes == total)
        #expect(out.manifest.objects?.source == "instance_masks")
    }

    /// Augmented tiles recompute their boxes from the transformed mask; with a constant border
    /// the stored mask is the whole truth, so the boxes are its ids' bounding boxes.
    @Test(.enabled(if: Repository.shared != nil, "needs ../shared/data"))
    func augmentedTilesRecomputeTheirBoxes() throws {
        let ws = try Workspace()
        let id = "00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552"
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: dsb-aug-boxes, version: 0.1.0}
            seed: 5
            inputs:
              root: \(Repository.sample("dsb2018-nuclei/data").path)
              images: "stage1_train/\(id)/images/*.png"
            labels:
              instance_masks: {objects_dir: "stage1_train/{stem}/masks"}
              objects: {derive_boxes: true}
            channels: {select: [0, 1, 2]}
            tiling: {size: 128, edge: constant}
            augmentation:
              variants: 2
              steps:
                - rot90: {probability: 1}
                - affine: {probability: 1, rotation: [-40, 40], scale: [0.8, 1.2], shear: [0, 0], translate: [0, 0], interpolation: bilinear}
            output: {path: out/aug.h5}

            """)
        let out = try ExportedObjects(recipe: ws.url("recipe.yaml"), output: ws.url("out/aug.h5"))
        #expect(out.instanceMasks.count == 8)
        for (i, mask) in out.instanceMasks.enumerated() {
            let stored = out.objects.objects(ofTile: i).boxes
            #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.instanceID, $0.box) })
                    == Self.boxes(of: mask, validWidth: mask.width, validHeight: mask.height), "tile \(i)")
            #expect(stored.allSatisfy { $0.classID == -1 })  // no instance_class
        }
    }
}

@Suite("Objects in the export: COCO, GeoJSON and CSV points")
struct AnnotationFormatExportTests {
    static let cocoImage = "8b12e18670e4b24d03567d1e17c0c24fadf0ea2c1e763983dd6bb4c44b7376a6"
    static let fixtures = Repository.root.appendingPathComponent("Tests/Fixtures/annotations")

    /// COCO RLE masks and a polygon painted into the instance mask (ids 1… in annotation order),
    /// COCO boxes kept as annotated and linked to the painted ids, the polygon stored as a polygon.
    @Test(.enabled(if: Repository.shared != nil, "needs ../shared/data"))
    func cocoMasksArePaintedAndBoxesLinkedToThem() throws {
        let ws = try Workspace()
        let dsb = try #require(Repository.shared).appendingPathComponent("dsb2018-nuclei-instance-masks/stage1_train/\(Self.cocoImage)")
        try FileManager.default.createDirectory(at: ws.url("data"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dsb.appendingPathComponent("images/\(Self.cocoImage).png"), to: ws.url("data/\(Self.cocoImage).png"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("dsb-8b12e186.coco.json"), to: ws.url("data/coco.json"))
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: coco, version: 0.1.0}
            inputs: {root: data, images: "*.png"}
            labels:
              objects: {coco: coco.json, classes: [nucleus, triangle], rasterize: instance}
            channels: {select: [0, 1, 2]}
            tiling: {size: 128}
            output: {path: out/coco.h5}

            """)
        let out = try ExportedObjects(recipe: ws.url("recipe.yaml"), output: ws.url("out/coco.h5"))
        #expect(out.instanceMasks.count == 4)
        // The expected mask: nucleus k from its PNG (sorted file names = annotation order), then the
        // triangle (10, 20), (40, 20), (10, 60) over it by its pixel centres (half-open edges).
        let files = try FileManager.default.contentsOfDirectory(atPath: dsb.appendingPathComponent("masks").path).sorted()
        var expected = [UInt32](repeating: 0, count: 256 * 256)
        for (k, name) in files.enumerated() {
            guard case .uint8(let mask) = try ImageReader.read(dsb.appendingPathComponent("masks/\(name)")).pixels else {
                Issue.record("\(name) is not an 8-bit mask"); return
            }
            for p in expected.indices where mask[p] != 0 { expected[p] = UInt32(k + 1) }
        }
        for y in 0..<256 {
            for x in 0..<256 {
                let cx = Double(x) + 0.5, cy = Double(y) + 0.5
                if cx >= 10 && cy >= 20 && 4 * (cx - 10) + 3 * (cy - 20) < 120 { expected[y * 256 + x] = 8 }
            }
        }
        let (xs, ys) = (out.column("x"), out.column("y"))
        for (i, mask) in out.instanceMasks.enumerated() {
            for r in 0..<128 {
                let row = Array(mask.values[(r * 128)..<(r * 128 + 128)])
                let want = Array(expected[((ys[i] + r) * 256 + xs[i])..<((ys[i] + r) * 256 + xs[i] + 128)])
                if row != want { Issue.record("tile \(i) row \(r) differs from the COCO masks"); break }
            }
        }
        // Tile (0, 0): the triangle's box and polygon, both with instance id 8 and class triangle.
        let first = out.objects.objects(ofTile: 0)
        #expect(first.boxes.contains(ObjectBox(Box(xMin: 10, yMin: 20, xMax: 40, yMax: 60), classID: 1, instanceID: 8)))
        #expect(first.polygons == [ObjectPolygon(Polygon(exterior: [Point2D(x: 10, y: 20), Point2D(x: 40, y: 20), Point2D(x: 10, y: 60)]),
                                                 classID: 1, instanceID: 8)])
        // Annotation 101, bbox [2, 85, 15, 14]: the second painted object.
        #expect(first.boxes.contains(ObjectBox(Box(xMin: 2, yMin: 85, xMax: 17, yMax: 99), classID: 0, instanceID: 2)))
    }

    /// QuPath areas become polygons (a MultiPolygon = two rows with one instance id), painted in
    /// feature order; the unclassified detection is kept with class −1; the point is a point.
    @Test func qupathAreasPointsAndTheirMask() throws {
        let ws = try Workspace()
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: qupath, version: 0.1.0}
            inputs: {root: data, images: "*.png"}
            labels:
              objects:
                geojson: "{stem}.geojson"
                classes: [Tumor, Stroma, Immune cells]
                unlabeled: keep
                rasterize: instance
            tiling: {size: [30, 22]}
            output: {path: out/q.h5}

            """)
        try FileManager.default.createDirectory(at: ws.url("data"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("qupath-export.geojson"), to: ws.url("data/slide.geojson"))
        try PNGEncoder.encode(width: 30, height: 22, rgb: [UInt8](repeating: 128, count: 30 * 22 * 3)).write(to: ws.url("data/slide.png"))
        let out = try ExportedObjects(recipe: ws.url("recipe.yaml"), output: ws.url("out/q.h5"))
        let objects = out.objects.objects(ofTile: 0)
        #expect(objects.polygons.map(\.classID) == [0, 1, 1, -1])
        #expect(objects.polygons.map(\.instanceID) == [1, 2, 2, 3])
        #expect(objects.polygons.map(\.polygon.holes.count) == [1, 0, 0, 0])
        #expect(objects.points == [ObjectPoint(Point2D(x: 12.25, y: 17.75), classID: 2)])
        // The numpy even-odd rasterization of the fixture (Tests/Fixtures/annotations/README.md).
        let rows = (0..<22).map { j in (0..<30).map { String(out.instanceMasks[0].values[j * 30 + $0]) }.joined() }
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("qupath-export.instances.txt"), encoding: .utf8)
        #expect(rows == expected.split(separator: "\n").map(String.init))
    }

    /// Points given as 0-based pixel indices sit at pixel centres; a point below the grid's
    /// tiles is in no tile.
    @Test func csvPointsLandInTheirTiles() throws {
        let ws = try Workspace()
        try ws.copy(fixture: "gray8.png", to: "data/a.png")
        try ws.write("data/points.csv", "image,kind,col,row\na.png,cell,0,0\na.png,cell,10,4\na.png,dot,40,7\na.png,cell,63,47\n")
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: points, version: 0.1.0}
            inputs: {root: data, images: "*.png"}
            labels:
              objects:
                csv: {file: points.csv, image: image, label: kind, point: {x: col, y: row}, coordinates: pixel_index_0}
                classes: [cell, dot]
            tiling: {size: 32}
            output: {path: out/p.h5}

            """)
        let out = try ExportedObjects(recipe: ws.url("recipe.yaml"), output: ws.url("out/p.h5"))
        #expect(out.column("x") == [0, 32])
        #expect(out.objects.objects(ofTile: 0).points == [ObjectPoint(Point2D(x: 0.5, y: 0.5), classID: 0),
                                                          ObjectPoint(Point2D(x: 10.5, y: 4.5), classID: 0)])
        #expect(out.objects.objects(ofTile: 1).points == [ObjectPoint(Point2D(x: 8.5, y: 7.5), classID: 1)])
        #expect(out.manifest.objects?.points == 3 && out.manifest.objects?.read == 4)
    }
}

@Suite("Objects in the export: bad annotations")
struct ObjectErrorTests {
    static func vocWorkspace(_ xml: String, recipeExtra: String = "") throws -> Workspace {
        let ws = try Workspace()
        try ws.copy(fixture: "gray8.png", to: "data/images/a.png")
        try ws.write("data/voc/a.xml", xml)
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: voc, version: 0.1.0}
            inputs: {root: data, images: "images/*.png"}
            labels:
              objects:
                voc: "voc/{stem}.xml"
                classes: [RBC, WBC]
            \(recipeExtra)
            tiling: {size: 32}
            output: {path: out/v.h5}

            """)
        return ws
    }

    static func voc(_ objects: String, size: String = "<size><width>64</width><height>48</height></size>") -> String {
        "<annotation><filename>a.png</filename>\(size)\(objects)</annotation>"
    }

    static func object(_ name: String, _ box: (Int, Int, Int, Int)) -> String {
        "<object><name>\(name)</name><bndbox><xmin>\(box.0)</xmin><ymin>\(box.1)</ymin><xmax>\(box.2)</xmax><ymax>\(box.3)</ymax></bndbox></object>"
    }

    @Test func anUnknownClassIsNamedWithItsFileAndObject() throws {
        let ws = try Self.vocWorkspace(Self.voc(Self.object("RBC", (1, 1, 5, 5)) + Self.object("Neutrophil", (2, 2, 9, 9))))
        guard let error = ws.failingExport() else { Issue.record("an unknown class was accepted"); return }
        #expect(error.description.hasSuffix("recipe.yaml: labels.objects: 1 label value(s) match no class: \"Neutrophil\" "
                                            + "(1×, first at voc/a.xml: object 2); add them to the class list, fix the source, "
                                            + "or set the unknown-value policy to skip"), "\(error)")
        #expect(ws.outputEntries().isEmpty)
    }

    @Test func skippedObjectsAreListed() throws {
        let ws = try Self.vocWorkspace(Self.voc(Self.object("RBC", (1, 1, 5, 5)) + Self.object("Neutrophil", (2, 2, 9, 9))),
                                       recipeExtra: "    unknown: skip")
        let result = try ws.export()
        #expect(result.manifest.objects?.skipped == ["voc/a.xml: object 2 (Neutrophil)"])
        #expect(result.manifest.objects?.boxes == 1)
        #expect(result.manifest.objects?.labelMapping?.unmapped.map(\.locations) == [["voc/a.xml: object 2"]])
    }

    @Test func aMissingAnnotationFileNamesTheImage() throws {
        let ws = try Self.vocWorkspace(Self.voc(""))
        try FileManager.default.removeItem(at: ws.url("data/voc/a.xml"))
        guard let error = ws.failingExport() else { Issue.record("a missing VOC file was accepted"); return }
        #expect(error.description.hasSuffix("data/images/a.png: annotation file 'voc/a.xml' not found (labels.objects.voc)"), "\(error)")
    }

    @Test func anAnnotationOfAnotherSizeIsRefused() throws {
        let ws = try Self.vocWorkspace(Self.voc(Self.object("RBC", (1, 1, 5, 5)), size: "<size><width>640</width><height>480</height></size>"))
        guard let error = ws.failingExport() else { Issue.record("a 640x480 annotation was accepted for a 64x48 image"); return }
        #expect(error.code == .mismatch)
        #expect(error.description.hasSuffix("data/voc/a.xml: annotates a 640x480 image but images/a.png is 64x48; is it the annotation of another image?"),
                "\(error)")
    }

    @Test func aMalformedFileNamesFileAndObject() throws {
        let ws = try Self.vocWorkspace(Self.voc("<object><name>RBC</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>wide</xmax><ymax>4</ymax></bndbox></object>"))
        guard let error = ws.failingExport() else { Issue.record("a malformed VOC file was accepted"); return }
        #expect(error.description.hasSuffix("data/voc/a.xml: object 1 (RBC): <bndbox/xmax> is \"wide\"; expected a number"), "\(error)")
        #expect(ws.outputEntries().isEmpty)
    }

    static func schema(kinds: String) -> String {
        """
        {"format": "trainset-label-schema/1", "name": "blood", "version": "1.0.0", "kinds": [\(kinds)],
         "classes": [{"id": 4, "name": "erythrocyte", "colour": "#D62728", "synonyms": ["RBC"], "terms": ["CL:0000232"]},
                     {"id": 9, "name": "leukocyte", "colour": "#1F77B4", "synonyms": ["WBC"]}]}
        """
    }

    /// Object labels through a schema: synonyms reach the schema's ids, whose class table (with
    /// colours and terms) is the bundle's.
    @Test func objectLabelsMapThroughASchema() throws {
        let ws = try Self.vocWorkspace(Self.voc(Self.object("RBC", (1, 1, 5, 5)) + Self.object("WBC", (40, 2, 50, 9))))
        try ws.write("recipe.yaml", try String(contentsOf: ws.url("recipe.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "classes: [RBC, WBC]", with: "schema: blood.json"))
        try ws.write("data/blood.json", Self.schema(kinds: "\"box\""))
        let result = try ws.export()
        let reader = try BundleReader(opening: result.bundle)
        #expect(try reader.table(at: BundleLayout.classes)["colour"] == .string(["#D62728", "#1F77B4"]))
        let objects = try reader.objects()
        #expect(objects.objects(ofTile: 0).boxes == [ObjectBox(Box(xMin: 0, yMin: 0, xMax: 5, yMax: 5), classID: 4)])
        #expect(objects.objects(ofTile: 1).boxes == [ObjectBox(Box(xMin: 7, yMin: 1, xMax: 18, yMax: 9), classID: 9)])
        #expect(result.manifest.objects?.labelMapping?.entries.map(\.rule) == [.synonym, .synonym])
        #expect(result.manifest.labelSchema?.name == "blood")
    }

    @Test func aSchemaWithoutTheBoxKindIsRefused() throws {
        let ws = try Self.vocWorkspace(Self.voc(Self.object("RBC", (1, 1, 5, 5))))
        try ws.write("recipe.yaml", try String(contentsOf: ws.url("recipe.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "classes: [RBC, WBC]", with: "schema: blood.json"))
        try ws.write("data/blood.json", Self.schema(kinds: "\"image_class\""))
        guard let error = ws.failingExport() else { Issue.record("boxes passed a schema without the box kind"); return }
        #expect(error.description.hasSuffix("data/blood.json: kinds lists image_class but the recipe puts box in the bundle; add it to the schema's kinds"),
                "\(error)")
    }

    @Test func clipKeepsTheInsideOfABoxPastTheEdge() throws {
        let ws = try Self.vocWorkspace(Self.voc(Self.object("WBC", (60, 1, 70, 10))), recipeExtra: "    geometry: clip")
        let result = try ws.export()
        // VOC 60..70 (1-based, inclusive) = [59, 70) → clipped to [59, 64); tile (32, 0) holds [27, 32).
        #expect(result.manifest.objects?.issues
            == ["voc/a.xml: object 1 (WBC): partly outside the image box [59, 0, 70, 10) (xMin, yMin, xMax, yMax); clipped"])
        let objects = try BundleReader(opening: result.bundle).objects()
        #expect(objects.objects(ofTile: 1).boxes == [ObjectBox(Box(xMin: 27, yMin: 0, xMax: 32, yMax: 10), classID: 1)])
    }
}

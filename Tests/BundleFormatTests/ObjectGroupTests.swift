import BundleFormat
import Foundation
import HDF5
import Raster
import Testing

/// The three tiles of `SmallBundle` with boxes, points, polygons and image labels.
enum ObjectBundle {
    static let spec: BundleSpec = {
        var s = SmallBundle.spec
        s.objects = ObjectKinds(boxes: true, points: true, polygons: true)
        s.imageLabels = true
        return s
    }()

    static let square = Polygon(exterior: [Point2D(x: 1, y: 1), Point2D(x: 7, y: 1), Point2D(x: 7, y: 7), Point2D(x: 1, y: 7)],
                                holes: [[Point2D(x: 3, y: 3), Point2D(x: 5, y: 3), Point2D(x: 4, y: 5)]])

    /// Tile 1 holds nothing, so its offsets repeat.
    static let tiles: [TileObjects] = [
        TileObjects(boxes: [ObjectBox(Box(xMin: 0.5, yMin: 1, xMax: 8, yMax: 3.25), classID: 1, instanceID: 2),
                            ObjectBox(Box(xMin: 2, yMin: 2, xMax: 4, yMax: 4), classID: -1)],
                    points: [ObjectPoint(Point2D(x: 0.1, y: 7.9), classID: 0)],
                    polygons: [ObjectPolygon(square, classID: 1, instanceID: 7)]),
        TileObjects(),
        TileObjects(boxes: [ObjectBox(Box(xMin: 1, yMin: 1, xMax: 2, yMax: 2), classID: 0, instanceID: 1)],
                    polygons: [ObjectPolygon(Polygon(exterior: [Point2D(x: 0, y: 0), Point2D(x: 8, y: 0), Point2D(x: 0, y: 8)]),
                                             classID: 0, instanceID: 3),
                               ObjectPolygon(Polygon(exterior: [Point2D(x: 8, y: 8), Point2D(x: 8, y: 4), Point2D(x: 4, y: 8)]),
                                             classID: 0, instanceID: 3)]),
    ]

    static let imageLabels: [[Int32]] = [[0, 1], [], [1]]

    @discardableResult
    static func write(to url: URL, objects: [TileObjects] = tiles) throws -> Manifest {
        var writer = try BundleWriter(creating: url, spec: spec)
        var groups = ObjectGroups(kinds: spec.objects)
        for i in 0..<SmallBundle.n {
            try writer.appendTile(image: SmallBundle.image(i), instanceMask: SmallBundle.mask(i), semanticMask: nil)
            groups.append(objects[i])
        }
        for t in [SmallBundle.tiles, SmallBundle.classes, SmallBundle.sources] { try writer.writeTable(t) }
        for g in groups.groups + [ObjectGroups.imageLabels(imageLabels)] { try writer.writeRagged(g) }
        var manifest = SmallBundle.manifest
        manifest.objects = Manifest.Objects(
            source: "voc", path: "{stem}.xml", geometryPolicy: "drop", minArea: 1, minVisibility: 0.25, rasterize: "none",
            deriveBoxes: false, read: 5, kept: 5, issues: [], skipped: [], unmatchedImages: [], labelMapping: nil,
            boxes: groups.boxCount, points: groups.pointCount, polygons: groups.polygonCount)
        return try writer.finish(manifest: manifest)
    }

    /// Rewrites one dataset of a written bundle in place.
    static func overwrite<T: HDF5Scalar>(_ url: URL, _ path: String, _ values: [T]) throws {
        let file = try File(opening: url.path, mode: .readWrite)
        let ds = try file.openDataset(path)
        try ds.write(values)
        try ds.close()
        try file.close()
    }
}

@Suite("Ragged object groups")
struct ObjectGroupTests {
    @Test func objectsReadBackAsWrittenAndAreHashed() throws {
        let dir = TempDir()
        let url = dir.file("objects.h5")
        let manifest = try ObjectBundle.write(to: url)
        let reader = try BundleReader(opening: url)
        let objects = try reader.objects()
        #expect(objects.kinds == ObjectKinds(boxes: true, points: true, polygons: true))
        for (i, tile) in ObjectBundle.tiles.enumerated() {
            #expect(objects.objects(ofTile: i) == tile.stored)
            #expect(objects.imageLabels(ofTile: i) == ObjectBundle.imageLabels[i])
        }
        // Every dataset of the groups is a digest of the content hash.
        let paths = Set(manifest.datasets.map(\.path))
        for p in ["/boxes/offsets", "/boxes/xyxy", "/boxes/class_id", "/boxes/instance_id", "/points/xy", "/polygons/ring_count",
                  "/polygons/vertex_count", "/polygons/xy", "/image_labels/offsets", "/image_labels/class_id"] {
            #expect(paths.contains(p), "\(p)")
        }
        let file = try File(opening: url.path)
        #expect(try file.openDataset("/boxes/offsets").read(Int64.self) == [0, 2, 2, 3])
        #expect(try file.openDataset("/polygons/offsets").read(Int64.self) == [0, 1, 1, 3])
        #expect(try file.openDataset("/polygons/ring_count").read(Int32.self) == [2, 1, 1])
        #expect(try file.openDataset("/polygons/vertex_count").read(Int32.self) == [4, 3, 3, 3])
        #expect(try file.openDataset("/boxes/xyxy").info().shape == [3, 4])
        let report = BundleValidator.validate(url)
        #expect(report.problems == [])
        #expect(report.contentHash == manifest.contentHash)
        #expect(report.checks.contains { $0.hasPrefix("/polygons: offsets") })
    }

    @Test func aMovedBoxChangesTheContentHash() throws {
        let dir = TempDir()
        var moved = ObjectBundle.tiles
        moved[2].boxes[0].box.xMax = 3
        let a = try ObjectBundle.write(to: dir.file("a.h5"))
        let b = try ObjectBundle.write(to: dir.file("b.h5"), objects: moved)
        #expect(a.contentHash != b.contentHash)
        #expect(a.datasets.filter { !b.datasets.contains($0) }.map(\.path) == ["/boxes/xyxy"])
    }

    @Test func brokenOffsetsAreReportedAndRefusedByTheReader() throws {
        let dir = TempDir()
        let url = dir.file("offsets.h5")
        try ObjectBundle.write(to: url)
        try ObjectBundle.overwrite(url, "/boxes/offsets", [0, 2, 1, 3] as [Int64])
        let report = BundleValidator.validate(url)
        #expect(report.problems.contains {
            $0.hasPrefix("/boxes/offsets: must start at 0, never decrease and end at the 3 rows of the group; starts at 0, ends at 3, decreases at entries 2")
        }, "\(report.problems)")
        #expect {
            try BundleReader(opening: url).objects()
        } throws: { error in
            (error as? BundleError)?.message.hasPrefix("/boxes/offsets: must hold 4 non-decreasing entries from 0 to 3") == true
        }
    }

    @Test func unknownClassesAndCoordinatesOutsideTheTileAreReported() throws {
        let dir = TempDir()
        let url = dir.file("bad.h5")
        try ObjectBundle.write(to: url)
        try ObjectBundle.overwrite(url, "/boxes/class_id", [1, 9, 0] as [Int32])
        try ObjectBundle.overwrite(url, "/points/xy", [0.1, 8.5] as [Float])
        try ObjectBundle.overwrite(url, "/polygons/vertex_count", [4, 2, 3, 4] as [Int32])
        let problems = BundleValidator.validate(url).problems
        #expect(problems.contains("/boxes/class_id: 1 row(s) hold a class id that is neither -1 nor in /classes/id (rows 1)"), "\(problems)")
        #expect(problems.contains("/points/xy: 1 row(s) are not finite points inside the 8x8 tile (rows 0)"), "\(problems)")
        #expect(problems.contains("/polygons/vertex_count: 1 row(s) give a ring fewer than 3 vertices (rows 1)"), "\(problems)")
        #expect(!problems.contains { $0.hasPrefix("/polygons/ring_count") })
    }

    @Test func theWriterRefusesOffsetsOfTheWrongLengthAndMissingGroups() throws {
        let dir = TempDir()
        var writer = try BundleWriter(creating: dir.file("w.h5"), spec: ObjectBundle.spec)
        let refused = [
            (RaggedGroup(path: "/boxes", offsets: [0, 1], datasets: []),
             "offsets must hold 4 non-decreasing entries from 0 (got 2)"),
            (RaggedGroup(path: "/boxes", offsets: [0, 0, 0, 1], datasets: [RaggedDataset("xyxy", shape: [1, 4], .float32([1, 2, 3]))]),
             "3 values do not fill the shape [1, 4]"),
        ]
        for (group, message) in refused {
            do {
                try writer.writeRagged(group)
                Issue.record("writeRagged accepted \(group)")
            } catch {
                #expect(error.message == message)
            }
        }
        for i in 0..<SmallBundle.n {
            try writer.appendTile(image: SmallBundle.image(i), instanceMask: SmallBundle.mask(i), semanticMask: nil)
        }
        for t in [SmallBundle.tiles, SmallBundle.classes, SmallBundle.sources] { try writer.writeTable(t) }
        do {
            _ = try writer.finish(manifest: SmallBundle.manifest)
            Issue.record("finish accepted a bundle without its declared /boxes")
        } catch {
            #expect(error.path == "/boxes" && error.message == "the bundle declares this group but it was not written")
        }
    }
}

@Suite("Ragged object groups with h5py", .enabled(if: IndependentChecker.available, "python3 with h5py and numpy is not installed"))
struct ObjectGroupCheckerTests {
    @Test func theIndependentCheckerAgreesAndSeesBrokenOffsets() throws {
        let dir = TempDir()
        let url = dir.file("objects.h5")
        let manifest = try ObjectBundle.write(to: url)
        let ok = try IndependentChecker.run([IndependentChecker.script.path, url.path])
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.output.contains(manifest.contentHash))
        try ObjectBundle.overwrite(url, "/polygons/offsets", [0, 1, 1, 2] as [Int64])
        let bad = try IndependentChecker.run([IndependentChecker.script.path, url.path])
        #expect(bad.status == 1)
        #expect(bad.output.contains("/polygons/offsets: must start at 0, never decrease and end at the 3 rows of the group"), "\(bad.output)")
    }
}

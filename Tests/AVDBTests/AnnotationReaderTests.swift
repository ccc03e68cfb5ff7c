import Foundation
import Testing
import Raster
import ImageFormats
import LabelSchema
@testable import AVDB

extension SharedData {
    static let bccd = root.appendingPathComponent("bccd-blood-cell-boxes")
}

/// `Tests/Fixtures/<relative>`.
func fixtureURL(_ relative: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(relative)
}

private func boxes(_ image: AnnotatedImage) -> [Box] {
    image.objects.compactMap { if case .box(let b) = $0.geometry { b } else { nil } }
}

/// BCCD's layout: `filename,cell_type,xmin,xmax,ymin,ymax`, the same numbers as its VOC files,
/// i.e. 1-based inclusive pixel indices.
private let bccdLayout = CSVAnnotationLayout(
    image: "filename", label: "cell_type", shape: .box(xMin: "xmin", yMin: "ymin", xMax: "xmax", yMax: "ymax"),
    convention: .pixelIndices(base: 1))

@Suite(.enabled(if: SharedData.available, "../shared/data is absent"))
struct BCCDTests {
    func vocFiles() throws -> [URL] {
        let dir = SharedData.bccd.appendingPathComponent("BCCD/Annotations")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".xml") }.sorted()
            .map { dir.appendingPathComponent($0) }
    }

    @Test func vocAndCSVGiveTheSameBoxes() throws {
        let fromCSV = try CSVAnnotationReader.read(contentsOf: SharedData.bccd.appendingPathComponent("boxes.csv"), layout: bccdLayout)
        let csvByImage = Dictionary(uniqueKeysWithValues: fromCSV.map { ($0.image, $0) })
        let voc = try vocFiles().map { url throws in try VOCReader.read(contentsOf: url) }
        #expect(voc.count == 43)
        #expect(voc.map(\.objects.count).reduce(0, +) == 625)
        #expect(fromCSV.map(\.objects.count).reduce(0, +) == 625)
        for image in voc {
            let csv = try #require(csvByImage[image.image])
            #expect(boxes(image) == boxes(csv), "\(image.image)")
            #expect(image.objects.map(\.label) == csv.objects.map(\.label))
            #expect(image.objects.map(\.defect) == csv.objects.map(\.defect))
        }
        // First object of BloodImage_00000.xml: VOC 260,177,491,376 → [259, 491) × [176, 376).
        let first = try #require(voc.first { $0.image == "BloodImage_00000.jpg" })
        #expect(first.width == 640 && first.height == 480)
        #expect(first.objects[0] == AnnotationObject(label: "WBC", geometry: .box(Box(xMin: 259, yMin: 176, xMax: 491, yMax: 376)),
                                                      ref: "object 1"))
        #expect(fromCSV[0].objects[0].ref == "line 2")
    }

    @Test func theTwoZeroAreaBoxesAreReportedByFile() throws {
        var issues: [GeometryIssue] = []
        var kept = 0
        for url in try vocFiles() {
            let image = try VOCReader.read(contentsOf: url)
            let checked = try AnnotationCheck.apply(image, width: image.width!, height: image.height!, policy: .drop)
            issues += checked.issues
            kept += checked.image.objects.count
        }
        let root = SharedData.bccd.appendingPathComponent("BCCD/Annotations").path
        #expect(issues.map(\.description) == [
            "\(root)/BloodImage_00338.xml: object 13 (RBC): zero-area box xmin=504 ymin=337 xmax=504 ymax=337 as annotated; dropped",
            "\(root)/BloodImage_00343.xml: object 4 (RBC): zero-area box xmin=181 ymin=329 xmax=181 ymax=329 as annotated; dropped",
        ])
        #expect(kept == 623)
        // The CSV reports the same two, by line.
        var csvIssues: [String] = []
        for image in try CSVAnnotationReader.read(contentsOf: SharedData.bccd.appendingPathComponent("boxes.csv"), layout: bccdLayout) {
            csvIssues += try AnnotationCheck.apply(image, width: 640, height: 480, policy: .clip).issues.map(\.object)
        }
        #expect(csvIssues.count == 2)
        // Under the error policy the first one stops the read with a one-line message.
        let bad = try VOCReader.read(contentsOf: SharedData.bccd.appendingPathComponent("BCCD/Annotations/BloodImage_00338.xml"))
        #expect {
            try AnnotationCheck.apply(bad, width: 640, height: 480, policy: .error)
        } throws: { error in
            (error as? AVDBError)?.description
                == "\(root)/BloodImage_00338.xml: object 13 (RBC): zero-area box xmin=504 ymin=337 xmax=504 ymax=337 as annotated; fix the annotation or set the geometry policy to drop or clip"
        }
    }
}

@Suite struct VOCMalformedTests {
    @Test(arguments: [
        ("<annotation><object><name>RBC</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>x</xmax><ymax>4</ymax></bndbox></object></annotation>",
         "a.xml: object 1 (RBC): <bndbox/xmax> is \"x\"; expected a number"),
        ("<annotation><object><name>RBC</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax></bndbox></object></annotation>",
         "a.xml: object 1 (RBC): <bndbox/ymax> is missing; expected a number"),
        ("<html></html>", "a.xml: root element is <html>, not <annotation>; this is not a Pascal VOC file"),
    ])
    func errorsNameFileAndObject(xml: String, expected: String) {
        #expect {
            try VOCReader.read(Data(xml.utf8), file: "a.xml")
        } throws: { ($0 as? AVDBError)?.description == expected }
    }

    @Test func bytesThatAreNotUTF8AreRefusedBeforeParsing() {
        var data = Data("<annotation><object><name>R".utf8)
        data.append(0xFF)
        data.append(contentsOf: Array("BC</name></object></annotation>".utf8))
        #expect {
            try VOCReader.read(data, file: "a.xml")
        } throws: { ($0 as? AVDBError)?.description == "a.xml: byte 27 is not valid UTF-8; a Pascal VOC file must be UTF-8 text" }
    }

    @Test func brokenXMLNamesTheLine() {
        #expect {
            try VOCReader.read(Data("<annotation>\n<object>\n<name>RBC</nam></object></annotation>".utf8), file: "a.xml")
        } throws: { error in
            let e = error as? AVDBError
            return e?.code == .malformedAnnotation && e?.line == 3 && e?.description.hasPrefix("a.xml:3: not well-formed XML") == true
        }
    }
}

@Suite struct CSVAnnotationTests {
    @Test func pointsAndConventions() throws {
        let table = try CSVTable(text: "img,cls,x,y,id\na.png,cell,0,0,7\na.png,cell,10,4,8\nb.png,dot,3,3,9\n", file: "p.csv")
        let zeroBased = try CSVAnnotationReader.read(table, layout: CSVAnnotationLayout(
            image: "img", label: "cls", shape: .point(x: "x", y: "y"), convention: .pixelIndices(base: 0), instance: "id"))
        #expect(zeroBased.map(\.image) == ["a.png", "b.png"])
        #expect(zeroBased[0].objects[1] == AnnotationObject(label: "cell", instanceID: 8, geometry: .point(Point2D(x: 10.5, y: 4.5)),
                                                              ref: "line 3"))
        let continuous = try CSVAnnotationReader.read(table, layout: CSVAnnotationLayout(
            image: "img", label: "cls", shape: .point(x: "x", y: "y"), convention: .continuous))
        #expect(continuous[1].objects[0].geometry == .point(Point2D(x: 3, y: 3)))
    }

    @Test(arguments: [
        ("img,cls,x0,y0,x1,y1\na.png,c,1,2,abc,4\n", "b.csv:2: \"abc\" is not a number"),
        ("img,cls,x0,y0,x1,y1\na.png,c,1,2,3.5,4\n", "b.csv:2: 3.5 is not an integer pixel index; use the continuous convention for fractional coordinates"),
        ("img,cls,x0,y0,x1\na.png,c,1,2,3\n", "b.csv: unknown column \"y1\"; did you mean \"y0\" or \"x1\" or \"x0\"?"),
        ("img,cls,x0,y0,x1,y1\n,c,1,2,3,4\n", "b.csv:2: the image column is empty; every row must name its image"),
    ])
    func malformedRowsNameFileLineAndColumn(text: String, expected: String) {
        #expect {
            try CSVAnnotationReader.read(CSVTable(text: text, file: "b.csv"), layout: CSVAnnotationLayout(
                image: "img", label: "cls", shape: .box(xMin: "x0", yMin: "y0", xMax: "x1", yMax: "y1"),
                convention: .pixelIndices(base: 1)))
        } throws: { ($0 as? AVDBError)?.description == expected }
    }
}

extension CSVAnnotationTests {
    @Test func anInstanceIDThatIsNotAnIntegerNamesLineAndColumn() {
        #expect {
            try CSVAnnotationReader.read(CSVTable(text: "img,cls,x,y,id\na.png,c,1,2,7\na.png,c,3,4,seven\n", file: "p.csv"),
                                         layout: CSVAnnotationLayout(image: "img", label: "cls", shape: .point(x: "x", y: "y"),
                                                                     convention: .continuous, instance: "id"))
        } throws: { ($0 as? AVDBError)?.description == "p.csv:3: instance id \"seven\" is not an integer" }
    }
}

extension COCOMalformedTests {
    @Test(arguments: [
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "n"}], "annotations": [{"id": 5, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}]}"#,
         "c.json: annotation id 5: image_id 9 is not in images"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}, {"id": 1, "file_name": "b.png", "width": 4, "height": 4}], "categories": []}"#,
         "c.json: images: id 1 is listed twice"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 2, "height": 2}], "categories": [{"id": 1, "name": "n"}], "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "segmentation": {"size": [2, 2], "counts": "1~"}}]}"#,
         "c.json: annotation id 5 (n): compressed RLE counts are truncated or hold characters outside '0'…'o'"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "n"}], "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "segmentation": {"size": [2, 2], "counts": [0, 4]}}]}"#,
         "c.json: annotation id 5 (n): RLE size is 2x2 (width x height) but its image is 4x4"),
    ])
    func imagesAndMasksThatDoNotFitAreNamed(json: String, expected: String) {
        #expect {
            try COCOReader.read(Data(json.utf8), file: "c.json")
        } throws: { ($0 as? AVDBError)?.description == expected }
    }
}

extension GeoJSONTests {
    @Test(arguments: [
        (#"{"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": []}, "properties": {}}"#,
         "q.geojson: feature 1: geometry.coordinates: expected a list of polygons"),
        (#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}"#,
         "q.geojson: feature 1: geometry.type is missing"),
        (#"{"type": "FeatureCollection", "features": {"type": "Feature"}}"#, "q.geojson: features: expected an array of Features"),
        (#"[{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, true]}}]"#,
         "q.geojson: feature 1: geometry.coordinates: expected a position [x, y]"),
    ])
    func moreMalformedFeaturesAreNamed(json: String, expected: String) {
        #expect {
            try GeoJSONReader.read(Data(json.utf8), file: "q.geojson", image: "i")
        } throws: { ($0 as? AVDBError)?.description == expected }
    }

    /// A MultiPolygon is one object of several polygons; a hole ring stays with its polygon.
    @Test func aMultiPolygonIsOneObject() throws {
        let json = #"{"type": "Feature", "id": 7, "properties": {"classification": {"name": "Stroma"}}, "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 1]]], [[[6, 6], [8, 6], [8, 8], [6, 6]]]]}}"#
        let image = try GeoJSONReader.read(Data(json.utf8), file: "q.geojson", image: "i")
        #expect(image.objects.count == 1)
        #expect(image.objects[0].ref == "feature 1 (id 7)" && image.objects[0].label == "Stroma")
        guard case .polygons(let parts) = image.objects[0].geometry else { Issue.record("not polygons"); return }
        #expect(parts.map(\.exterior.count) == [4, 3] && parts.map(\.holes.count) == [1, 0])
    }
}

@Suite(.enabled(if: SharedData.available, "../shared/data is absent"))
struct COCOTests {
    static let imageID = "8b12e18670e4b24d03567d1e17c0c24fadf0ea2c1e763983dd6bb4c44b7376a6"

    @Test func rleMasksEqualTheDSBMaskFilesAndBoxesAgree() throws {
        let images = try COCOReader.read(contentsOf: fixtureURL("annotations/dsb-8b12e186.coco.json"))
        #expect(images.count == 1)
        let image = images[0]
        #expect(image.image == Self.imageID + ".png" && image.width == 256 && image.height == 256)
        // 7 nuclei × (box + RLE) + the triangle's box and polygon.
        #expect(image.objects.count == 16)
        let dsb = try MaskAssembly.instanceMask(
            directory: SharedData.dsb.appendingPathComponent("stage1_train/\(Self.imageID)/masks"), width: 256, height: 256)
        let masks = image.objects.compactMap { if case .mask(let m) = $0.geometry { m } else { nil } }
        #expect(masks.count == 7)
        for (k, mask) in masks.enumerated() {
            // Odd k were written compressed, even k as plain runs: both decode to the PNG mask.
            let expected = dsb.labels.values.map { $0 == UInt32(k + 1) }
            #expect(mask.bits == expected, "mask \(k + 1)")
        }
        // The COCO bbox (computed by numpy in make_coco_fixture.py) is the mask's tight box.
        let cocoBoxes = image.objects.filter { $0.label == "nucleus" }.compactMap { o -> Box? in
            if case .box(let b) = o.geometry { b } else { nil }
        }
        #expect(cocoBoxes == masks.map { $0.boundingBox! })
        #expect(cocoBoxes[0] == Box(xMin: 86, yMin: 190, xMax: 101, yMax: 207))
        let triangle = image.objects.filter { $0.instanceID == 200 }
        #expect(triangle.map(\.geometry) == [
            .box(Box(xMin: 10, yMin: 20, xMax: 40, yMax: 60)),
            .polygons([Polygon(exterior: [Point2D(x: 10, y: 20), Point2D(x: 40, y: 20), Point2D(x: 10, y: 60)])]),
        ])
    }

    @Test func compressedCountsDecodeLikePycocotools() {
        // "52203" is the pycocotools string of [5, 2, 2, 0, 3]: counts after the second are deltas.
        #expect(COCOReader.decompress("52203") == [5, 2, 2, 2, 5])
        #expect(COCOReader.decompress("1`") == nil)  // "more groups" flag with nothing after it
    }

    @Test(arguments: [
        (#"{"images": [], "categories": []"#, "c.json: not valid JSON"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "n"}], "annotations": [{"id": 5, "image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1]}]}"#,
         "c.json: annotation id 5: category_id 2 is not in categories"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "n"}], "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1]}]}"#,
         "c.json: annotation id 5 (n): bbox has 3 numbers; expected [x, y, width, height]"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "n"}], "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "segmentation": {"size": [4, 4], "counts": [3, 2]}}]}"#,
         "c.json: annotation id 5 (n): RLE runs add up to 5 pixels (or one is negative) but size 4x4 has 16"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "n"}], "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "segmentation": [[1, 2, 3, 4, 5]]}]}"#,
         "c.json: annotation id 5 (n): segmentation[0] has 5 numbers; a polygon needs an even count of at least 6 (x1, y1, x2, y2, …)"),
        (#"{"images": [{"id": 1, "file_name": "a.png", "width": "4", "height": 4}], "categories": []}"#,
         "c.json: images[0].width: expected Int"),
    ])
    func malformedFilesNameFileAndAnnotation(json: String, expected: String) {
        #expect {
            try COCOReader.read(Data(json.utf8), file: "c.json")
        } throws: { error in
            guard let d = (error as? AVDBError)?.description else { return false }
            return d == expected || (expected.hasSuffix("not valid JSON") && d.hasPrefix(expected))
        }
    }
}

@Suite struct GeoJSONTests {
    /// Instance ids per pixel (30 × 22) of the fixture's two area features and the unclassified
    /// detection, one text row per image row (`qupath-export.instances.txt`, from a numpy even-odd
    /// test of the pixel centres: see Tests/Fixtures/annotations/README.md).
    static func expected() throws -> [String] {
        try String(contentsOf: fixtureURL("annotations/qupath-export.instances.txt"), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func qupathFeaturesAndTheirRasterization() throws {
        let image = try GeoJSONReader.read(contentsOf: fixtureURL("annotations/qupath-export.geojson"), image: "slide.tif")
        #expect(image.objects.map(\.label) == ["Tumor", "Stroma", "Immune cells", ""])
        #expect(image.objects[0].ref == "feature 1 (id 4a2b7c1e-0000-4000-8000-000000000001)")
        guard case .polygons(let tumor) = image.objects[0].geometry else { Issue.record("not a polygon"); return }
        #expect(tumor[0].exterior.count == 4 && tumor[0].holes.count == 1)
        #expect(image.objects[2].geometry == .point(Point2D(x: 12.25, y: 17.75)))
        let areas = image.objects.filter { if case .polygons = $0.geometry { true } else { false } }
        let (labels, indices, overpainted) = Rasterizer.instanceMask(areas, width: 30, height: 22)
        #expect(indices == [0, 1, 2] && overpainted == 0)
        let rows = (0..<22).map { j in (0..<30).map { String(labels.values[j * 30 + $0]) }.joined() }
        #expect(rows == (try Self.expected()))
        let semantic = Rasterizer.semanticMask(areas, classIDs: [5, 6, 7], width: 30, height: 22)
        #expect(semantic.values.filter { $0 == 5 }.count == 145)
        #expect(Rasterizer.boxes(of: labels).map(\.box) == [
            Box(xMin: 2, yMin: 1, xMax: 17, yMax: 12), Box(xMin: 3, yMin: 4, xMax: 29, yMax: 19), Box(xMin: 14, yMin: 14, xMax: 19, yMax: 19),
        ])
    }

    @Test(arguments: [
        (#"{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {}}"#,
         "q.geojson: feature 1: geometry type LineString is not supported; export areas as Polygon/MultiPolygon and points as Point/MultiPoint"),
        (#"{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "x1", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}}]}"#,
         "q.geojson: feature 1 (id x1): ring 0 has 2 distinct vertices; a ring needs at least 3"),
        (#"[{"type": "Feature", "geometry": {"type": "Point", "coordinates": ["a", 1]}}]"#,
         "q.geojson: feature 1: geometry.coordinates: expected a position [x, y]"),
        (#"{"type": "Topology"}"#, "q.geojson: top level is neither a FeatureCollection, a Feature nor an array of Features"),
    ])
    func malformedFeaturesAreNamed(json: String, expected: String) {
        #expect {
            try GeoJSONReader.read(Data(json.utf8), file: "q.geojson", image: "i")
        } throws: { ($0 as? AVDBError)?.description == expected }
    }
}

@Suite struct GeometryPolicyTests {
    func image(_ objects: [AnnotationGeometry]) -> AnnotatedImage {
        AnnotatedImage(image: "i", objects: objects.enumerated().map { AnnotationObject(label: "c", geometry: $1, ref: "object \($0 + 1)") },
                       file: "f.json")
    }

    @Test func dropAndClipBoxesAndPolygons() throws {
        let bowtie = Polygon(exterior: [Point2D(x: 0, y: 0), Point2D(x: 6, y: 4), Point2D(x: 6, y: 0), Point2D(x: 0, y: 3)])
        let square = Polygon(exterior: [Point2D(x: 8, y: 8), Point2D(x: 14, y: 8), Point2D(x: 14, y: 12), Point2D(x: 8, y: 12)])
        let input = image([
            .box(Box(xMin: 1, yMin: 1, xMax: 3, yMax: 3)), .box(Box(xMin: 2, yMin: 2, xMax: 2, yMax: 5)),
            .box(Box(xMin: 8, yMin: -2, xMax: 12, yMax: 4)), .box(Box(xMin: 20, yMin: 20, xMax: 25, yMax: 25)),
            .polygons([bowtie]), .polygons([square]), .point(Point2D(x: 10, y: 10.5)),
        ])
        let dropped = try AnnotationCheck.apply(input, width: 10, height: 10, policy: .drop)
        #expect(dropped.image.objects.map(\.ref) == ["object 1"])
        #expect(dropped.issues.map { "\($0.object) \($0.kind.rawValue) \($0.action.rawValue)" } == [
            "object 2 (c) zero-area dropped", "object 3 (c) partly outside the image dropped", "object 4 (c) outside the image dropped",
            "object 5 (c) self-intersecting dropped", "object 6 (c) partly outside the image dropped", "object 7 (c) outside the image dropped",
        ])
        let clipped = try AnnotationCheck.apply(input, width: 10, height: 10, policy: .clip)
        #expect(clipped.image.objects.map(\.geometry) == [
            .box(Box(xMin: 1, yMin: 1, xMax: 3, yMax: 3)), .box(Box(xMin: 8, yMin: 0, xMax: 10, yMax: 4)),
            .polygons([Polygon(exterior: [Point2D(x: 8, y: 10), Point2D(x: 8, y: 8), Point2D(x: 10, y: 8), Point2D(x: 10, y: 10)])]),
        ])
        #expect(clipped.issues.filter { $0.action == .clipped }.map(\.object) == ["object 3 (c)", "object 6 (c)"])
        #expect(throws: AVDBError.self) { try AnnotationCheck.apply(input, width: 10, height: 10, policy: .error) }
    }

    @Test func evenOddRuleAndHalfOpenEdges() {
        // Two squares sharing the edge x = 2: each pixel column goes to exactly one of them.
        let left = Polygon(exterior: [Point2D(x: 0, y: 0), Point2D(x: 2, y: 0), Point2D(x: 2, y: 2), Point2D(x: 0, y: 2)])
        let right = Polygon(exterior: [Point2D(x: 2, y: 0), Point2D(x: 4, y: 0), Point2D(x: 4, y: 2), Point2D(x: 2, y: 2)])
        let l = Rasterizer.coverage(of: [left], width: 4, height: 2)
        let r = Rasterizer.coverage(of: [right], width: 4, height: 2)
        #expect(l == [true, true, false, false, true, true, false, false])
        #expect(zip(l, r).allSatisfy { $0 != $1 })
        // Centres on the triangle's left edge x = 0.5 are inside; the hypotenuse x = 3 − 2.5·y/3
        // leaves 3, 2 and 1 centres in rows 0, 1, 2.
        let tri = Polygon(exterior: [Point2D(x: 0.5, y: 0), Point2D(x: 3, y: 0), Point2D(x: 0.5, y: 3)])
        #expect(Rasterizer.coverage(of: [tri], width: 3, height: 3) == [true, true, true, true, true, false, true, false, false])
    }
}

@Suite(.enabled(if: SharedData.available, "../shared/data is absent"))
struct DSBDerivedBoxTests {
    /// Boxes derived from the assembled instance mask, pinned from numpy on the mask PNGs:
    /// `ys, xs = np.nonzero(np.array(Image.open(f)) > 0); [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]`
    /// for the first and last mask file in sorted order.
    @Test(arguments: [
        ("0b0d577159f0d6c266f360f7b8dfde46e16fa665138bf577ec3c6f9c70c0cd1e", 696, 520, 7),
        ("00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552", 256, 256, 27),
    ])
    func boxesFromInstanceMasks(id: String, width: Int, height: Int, objects: Int) throws {
        let dir = SharedData.dsb.appendingPathComponent("stage1_train/\(id)/masks")
        let mask = try MaskAssembly.instanceMask(directory: dir, width: width, height: height)
        let derived = Rasterizer.boxes(of: mask.labels)
        #expect(derived.count == objects)
        #expect(derived.map(\.id) == (1...objects).map(UInt32.init))
        #expect([derived.first?.box, derived.last?.box] == Self.numpy[id])
    }

    static let numpy: [String: [Box?]] = [
        "0b0d577159f0d6c266f360f7b8dfde46e16fa665138bf577ec3c6f9c70c0cd1e": [
            Box(xMin: 285, yMin: 9, xMax: 303, yMax: 30), Box(xMin: 110, yMin: 141, xMax: 147, yMax: 172)],
        "00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552": [
            Box(xMin: 46, yMin: 180, xMax: 64, yMax: 200), Box(xMin: 229, yMin: 0, xMax: 250, yMax: 15)],
    ]
}

/// COCO files that are wrong in ways the reader must name (no shared data needed).
@Suite struct COCOMalformedTests {}

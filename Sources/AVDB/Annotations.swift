import Raster

/// The vector and mask annotations of one image, as every annotation reader returns them.
///
/// Coordinates are in the `Raster` convention (see `Point2D`): readers convert their format's
/// own convention, so boxes from a VOC file and from a CSV of the same objects compare equal.
public struct AnnotatedImage: Sendable, Equatable {
    /// The image as the annotation names it (file name or COCO `file_name`).
    public var image: String
    /// Image size when the annotation file records it (VOC `<size>`, COCO `images[]`).
    public var width: Int?
    public var height: Int?
    /// Objects in file order.
    public var objects: [AnnotationObject]
    /// Path of the annotation file, for issues and errors.
    public var file: String

    public init(image: String, width: Int? = nil, height: Int? = nil, objects: [AnnotationObject], file: String) {
        self.image = image
        self.width = width
        self.height = height
        self.objects = objects
        self.file = file
    }
}

/// One annotated object: a class name as the source wrote it and one geometry.
///
/// A COCO annotation with a box and a segmentation gives two objects with the same
/// `instanceID`, because bundles store boxes and shapes in separate ragged arrays.
public struct AnnotationObject: Sendable, Equatable {
    /// The source's class name (not yet normalized); empty when the source has none.
    public var label: String
    /// The source's object id when it has one (COCO annotation id); nil otherwise.
    public var instanceID: Int?
    public var geometry: AnnotationGeometry
    /// How the source identifies the object in messages: `object 3`, `line 17`,
    /// `annotation id 42`, `feature 5`.
    public var ref: String
    /// A problem the reader saw in the source coordinates (e.g. equal VOC corners) that the
    /// converted geometry no longer shows; `AnnotationCheck` applies the policy to it.
    public var defect: GeometryIssue.Kind?
    /// The source coordinates as written, for messages about `defect`.
    public var sourceText: String?

    public init(label: String, instanceID: Int? = nil, geometry: AnnotationGeometry, ref: String,
                defect: GeometryIssue.Kind? = nil, sourceText: String? = nil) {
        self.label = label
        self.instanceID = instanceID
        self.geometry = geometry
        self.ref = ref
        self.defect = defect
        self.sourceText = sourceText
    }
}

/// The shape of an annotated object.
public enum AnnotationGeometry: Sendable, Equatable {
    case box(Box)
    case point(Point2D)
    /// One or more polygons forming one object (a GeoJSON MultiPolygon, a COCO polygon list).
    case polygons([Polygon])
    /// A per-pixel mask of one object (COCO RLE).
    case mask(BinaryMask)
}

/// A row-major per-pixel mask of one object.
public struct BinaryMask: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `bits[y * width + x]`.
    public var bits: [Bool]

    public init(width: Int, height: Int, bits: [Bool]) {
        precondition(bits.count == width * height, "mask size does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.bits = bits
    }

    /// The tight box around the set pixels, nil when none is set.
    public var boundingBox: Box? {
        var (x0, y0, x1, y1) = (width, height, -1, -1)
        for y in 0..<height {
            for x in 0..<width where bits[y * width + x] {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        return x1 < 0 ? nil : Box(xMin: Double(x0), yMin: Double(y0), xMax: Double(x1 + 1), yMax: Double(y1 + 1))
    }
}

/// What to do with degenerate or out-of-image geometry (the recipe's choice).
public enum GeometryPolicy: String, Sendable, CaseIterable {
    /// The first problem fails the read with an error naming file and object.
    case error
    /// Offending objects are left out; each is reported.
    case drop
    /// Boxes and polygons reaching past the image are cut to it and reported; objects that
    /// clipping cannot repair (zero area, self-intersecting, wholly outside) are dropped.
    case clip
}

/// One problem found in an annotation, with what was done about it.
public struct GeometryIssue: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case zeroArea = "zero-area"
        case outsideImage = "outside the image"
        case partlyOutside = "partly outside the image"
        case selfIntersecting = "self-intersecting"
        case tooFewVertices = "fewer than 3 vertices"
    }

    public enum Action: String, Sendable {
        case dropped, clipped
    }

    /// The annotation file.
    public let file: String
    /// The object's reference (`AnnotationObject.ref`) and label.
    public let object: String
    public let kind: Kind
    /// The shape and its coordinates.
    public let detail: String
    public let action: Action

    /// `file: object 7 (RBC): zero-area box …; dropped`.
    public var description: String { "\(file): \(object): \(kind.rawValue) \(detail); \(action.rawValue)" }
}

/// Applies a `GeometryPolicy` to an image's objects against the image's size.
public enum AnnotationCheck {
    /// The objects that survive `policy`, with one issue per dropped or clipped object.
    ///
    /// Boxes and polygons must have positive area and overlap `[0, width) × [0, height)`;
    /// points must lie in `[0, width] × [0, height]`; polygon rings must not cross themselves
    /// or each other (checked edge against edge). Masks are checked for size only (a
    /// different size is always an error). Throws under `.error` at the first problem.
    public static func apply(_ annotated: AnnotatedImage, width: Int, height: Int,
                             policy: GeometryPolicy) throws(AVDBError) -> (image: AnnotatedImage, issues: [GeometryIssue]) {
        var kept: [AnnotationObject] = []
        var issues: [GeometryIssue] = []
        let frame = Box(xMin: 0, yMin: 0, xMax: Double(width), yMax: Double(height))
        for var object in annotated.objects {
            let name = object.label.isEmpty ? object.ref : "\(object.ref) (\(object.label))"
            func problem(_ kind: GeometryIssue.Kind, _ detail: String, _ action: GeometryIssue.Action) throws(AVDBError) {
                if policy == .error {
                    throw AVDBError(.invalidGeometry,
                                    "\(name): \(kind.rawValue) \(detail); fix the annotation or set the geometry policy to drop or clip",
                                    file: annotated.file)
                }
                issues.append(GeometryIssue(file: annotated.file, object: name, kind: kind, detail: detail, action: action))
            }
            if let defect = object.defect {
                try problem(defect, "\(shapeName(object.geometry)) \(object.sourceText ?? "")", .dropped)
                continue
            }
            switch object.geometry {
            case .box(let b):
                let text = "box \(describe(b))"
                if b.area <= 0 { try problem(.zeroArea, text, .dropped); continue }
                let cut = intersection(b, frame)
                if cut.area <= 0 { try problem(.outsideImage, text, .dropped); continue }
                if cut != b {
                    if policy == .clip {
                        try problem(.partlyOutside, text, .clipped)
                        object.geometry = .box(cut)
                    } else {
                        try problem(.partlyOutside, text, .dropped)
                        continue
                    }
                }
            case .point(let p):
                if p.x < 0 || p.y < 0 || p.x > frame.xMax || p.y > frame.yMax {
                    try problem(.outsideImage, "point (\(p.x), \(p.y))", .dropped)
                    continue
                }
            case .polygons(let polygons):
                let text = "polygon with \(polygons.map { $0.exterior.count }.reduce(0, +)) vertices"
                if polygons.contains(where: { $0.exterior.count < 3 || $0.holes.contains { $0.count < 3 } }) {
                    try problem(.tooFewVertices, text, .dropped); continue
                }
                if polygons.contains(where: { abs(PolygonGeometry.signedArea($0.exterior)) == 0 }) {
                    try problem(.zeroArea, text, .dropped); continue
                }
                if polygons.contains(where: PolygonGeometry.selfIntersects) {
                    try problem(.selfIntersecting, text, .dropped); continue
                }
                let bounds = polygons.map { PolygonGeometry.bounds($0.exterior) }
                if bounds.allSatisfy({ intersection($0, frame).area <= 0 }) {
                    try problem(.outsideImage, text, .dropped); continue
                }
                if bounds.contains(where: { intersection($0, frame) != $0 }) {
                    guard policy == .clip else { try problem(.partlyOutside, text, .dropped); continue }
                    let clipped = polygons.compactMap { PolygonGeometry.clip($0, to: frame) }
                    guard !clipped.isEmpty else { try problem(.outsideImage, text, .dropped); continue }
                    try problem(.partlyOutside, text, .clipped)
                    object.geometry = .polygons(clipped)
                }
            case .mask(let m):
                guard m.width == width, m.height == height else {
                    throw AVDBError(.maskSizeMismatch,
                                    "\(name): mask is \(m.width)x\(m.height) (width x height) but the image is \(width)x\(height)",
                                    file: annotated.file)
                }
            }
            kept.append(object)
        }
        var out = annotated
        out.objects = kept
        return (out, issues)
    }

    private static func shapeName(_ g: AnnotationGeometry) -> String {
        switch g {
        case .box: "box"
        case .point: "point"
        case .polygons: "polygon"
        case .mask: "mask"
        }
    }

    static func describe(_ b: Box) -> String {
        func f(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
        return "[\(f(b.xMin)), \(f(b.yMin)), \(f(b.xMax)), \(f(b.yMax))) (xMin, yMin, xMax, yMax)"
    }

    static func intersection(_ a: Box, _ b: Box) -> Box {
        Box(xMin: max(a.xMin, b.xMin), yMin: max(a.yMin, b.yMin), xMax: min(a.xMax, b.xMax), yMax: min(a.yMax, b.yMax))
    }
}

/// Limits of the annotation file readers (VOC, COCO, GeoJSON).
public enum AnnotationLimits {
    /// Largest annotation file read, in bytes (1 GiB). The readers parse a whole file in
    /// memory, several times its size; the largest public COCO files are about 0.5 GB.
    public static let maxFileSize = 1 << 30
    /// Deepest element nesting of a VOC XML file (a real one nests 4 deep: annotation, object,
    /// bndbox, xmin). libxml2 allows far deeper documents, and a document nested 100 000 deep
    /// kept the reader busy for minutes.
    public static let maxXMLDepth = 32
}

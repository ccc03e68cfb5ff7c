import AVDB
import BundleFormat
import Foundation
import LabelSchema
import Raster
import Tiling

/// A source image's objects after the geometry and label policies, in annotation-file order.
public struct SourceObjects: Sendable {
    /// The kept objects (boxes, points, polygons; masks only when the recipe rasterizes).
    public var objects: [AnnotationObject]
    /// The bundle class id of each object, −1 for none.
    public var classIDs: [Int32]
    /// The bundle instance id of each object: its id in the painted instance mask when the
    /// recipe rasterizes (a COCO box shares its segmentation's), else the annotation's own id,
    /// else −1.
    public var instanceIDs: [Int64]
    /// The class of painted mask id k + 1 at index k, when the recipe rasterizes.
    public var paintedClasses: [Int32]
}

/// What the plan decided about objects: the groups the bundle holds, the tile rule, and what
/// the manifest records about the annotation files.
public struct ObjectsPlan: Sendable {
    public var kinds: ObjectKinds
    /// Which boxes survive a tile's edge (labels.objects.min_area, min_visibility).
    public var filter: BoxFilter
    /// The class of boxes derived from mask files (`instance_class`), −1 when not named.
    public var instanceClass: Int32
    /// The manifest's `objects` section before the writer counts the rows.
    public var manifest: Manifest.Objects
}

/// The planner's working state for objects: shared annotation files read once, the object
/// labels' normalizer, issues and counts.
struct ObjectPlanning {
    /// A COCO or CSV file's images, and which source took each.
    var shared: [AnnotatedImage]?
    var sharedIndex: [String: Int] = [:]
    var claimedBy: [Int: String] = [:]
    var normalizer: LabelNormalizer?
    var issues: [String] = []
    var skipped: [String] = []
    var read = 0
    var kept = 0
    var droppedMasks = 0
}

extension PlanState {
    /// Loads the bundle's one class table from whichever labels section lists it (the recipe
    /// parser allows only one), before any label is mapped.
    mutating func loadClassTable() throws(ExportError) {
        let labels = recipe.labels
        let (section, classes, schema): (String, [String], String?)
        if let c = labels.imageClass {
            (section, classes, schema) = ("image_class", c.classes, c.schema)
        } else if let c = labels.imageLabels {
            (section, classes, schema) = ("image_labels", c.classes, c.schema)
        } else if let c = labels.objects, !c.classes.isEmpty || c.schema != nil {
            (section, classes, schema) = ("objects", c.classes, c.schema)
        } else {
            return
        }
        if let path = schema {
            let url = try inside(path, field: "labels.\(section).schema")
            let text: String
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw ExportError(.input, shown(path), "cannot read the schema as UTF-8 text: \(error.localizedDescription)")
            }
            let loaded: Schema
            do {
                loaded = try Schema.load(contentsOf: url)
            } catch {
                throw ExportError(.input, shown(path), error.description.hasPrefix(url.path)
                                  ? String(error.description.dropFirst(url.path.count + 2)) : error.description)
            }
            try record(path, url: url, role: "label_schema")
            let ordered = loaded.classes.sorted { $0.id < $1.id }
            classNames = ordered.map(\.name)
            classIDs = ordered.map(\.id)
            labelSchema = (path, loaded, text)
        } else {
            do {
                classList = try ClassList(names: classes)
            } catch {
                throw ExportError(.recipe, recipeFile, "labels.\(section).classes: \(error.message)")
            }
            classNames = classList!.classes.map(\.name)
            classIDs = Array(classNames.indices)
        }
    }

    /// The normalizer's report; under an `unknown: error` policy an unmapped value fails the plan,
    /// naming `what` (the column or section) at `location`.
    func checkedReport(_ normalizer: LabelNormalizer, failOnUnknown: Bool, at location: String, what: String)
        throws(ExportError) -> MappingReport {
        let report = normalizer.report
        if failOnUnknown {
            do {
                try report.check(.error)
            } catch {
                throw ExportError(.mismatch, location, "\(what): \(error.message)")
            }
        }
        return report
    }

    /// A fresh normalizer over the class table; its ids are the bundle's class ids.
    func normalizer(match: Recipe.MatchMode) -> LabelNormalizer {
        if let schema = labelSchema?.schema { return LabelNormalizer(schema: schema) }
        // loadClassTable ran first and the recipe parser made sure some section lists classes.
        return LabelNormalizer(classes: classList!, matching: match == .exact ? .exact : .caseInsensitive)
    }

    /// The objects of `candidate`'s image (`width` × `height`) under `labels.objects`: its
    /// annotation file resolved, hashed and read, the geometry policy applied, every label
    /// mapped, instance ids assigned.
    mutating func objects(for candidate: Candidate, width: Int, height: Int) throws(ExportError) -> SourceObjects? {
        guard let spec = recipe.labels.objects else { return nil }
        guard let source = spec.source else {
            return SourceObjects(objects: [], classIDs: [], instanceIDs: [], paintedClasses: [])
        }
        // A source's labels need a class table, which the recipe parser made sure exists.
        if objects.normalizer == nil { objects.normalizer = normalizer(match: spec.match) }
        let field = "labels.objects.\(source.kind)"
        var annotated: AnnotatedImage
        switch source {
        case .voc(let template), .geojson(let template):
            let relative = try expand(template, for: candidate, field: field)
            let url = root.appendingPathComponent(relative)
            guard FileSystem.isRegularFile(url) else {
                throw ExportError(.input, FileSystem.display(candidate.url), "annotation file '\(relative)' not found (\(field))")
            }
            try record(relative, url: url, role: "annotations")
            do {
                if case .voc = source {
                    annotated = try VOCReader.read(contentsOf: url)
                } else {
                    annotated = try GeoJSONReader.read(contentsOf: url, image: candidate.path)
                }
            } catch {
                throw ExportError(.input, error.location(default: shown(relative)), error.message)
            }
            annotated.file = relative
        case .coco, .csv:
            try readShared(source, path: source.path, field: field)
            annotated = try claimShared(for: candidate, file: source.path)
        }
        if let w = annotated.width, let h = annotated.height, w != width || h != height {
            throw ExportError(.mismatch, shown(annotated.file),
                              "annotates a \(w)x\(h) image but \(candidate.path) is \(width)x\(height); is it the annotation of another image?")
        }
        objects.read += annotated.objects.count
        let checked: (image: AnnotatedImage, issues: [GeometryIssue])
        do {
            checked = try AnnotationCheck.apply(annotated, width: width, height: height, policy: GeometryPolicy(rawValue: spec.geometry.rawValue)!)
        } catch {
            throw ExportError(.input, shown(annotated.file), error.message)
        }
        objects.issues += checked.issues.map(\.description)
        return try mapped(checked.image, spec: spec)
    }

    /// Object labels through the normalizer and the recipe's label policies; masks kept only
    /// when they will be painted; instance ids assigned.
    private mutating func mapped(_ image: AnnotatedImage, spec: Recipe.Objects) throws(ExportError) -> SourceObjects {
        var out = SourceObjects(objects: [], classIDs: [], instanceIDs: [], paintedClasses: [])
        let paints = spec.rasterize != .none
        for object in image.objects {
            let location = "\(image.file): \(object.ref)"
            if case .mask = object.geometry, !paints {
                objects.droppedMasks += 1
                continue
            }
            let classID: Int32
            if object.label.allSatisfy(\.isWhitespace) {
                // Counted as empty in the report whatever the policy does with the object.
                _ = objects.normalizer!.normalize(object.label, at: location)
                switch spec.unlabeled {
                case .error:
                    throw ExportError(.input, shown(image.file),
                                      "\(object.ref) has no class; set labels.objects.unlabeled to skip or keep")
                case .skip:
                    objects.skipped.append("\(location) (no class)")
                    continue
                case .keep:
                    classID = -1
                }
            } else if let id = objects.normalizer!.normalize(object.label, at: location) {
                classID = Int32(id)
            } else {
                // Under `error` the whole report fails in finishObjects, listing every value.
                objects.skipped.append("\(location) (\(object.label))")
                continue
            }
            out.objects.append(object)
            out.classIDs.append(classID)
        }
        // Painted objects get ids 1, 2, … in order (Rasterizer's rule); a COCO box takes the id of
        // the shape that shares its annotation id.
        var painted: [Int: Int64] = [:]
        var maskID: [Int64?] = []
        for (k, object) in out.objects.enumerated() {
            guard spec.rasterize.instance && Self.paintable(object.geometry) else { maskID.append(nil); continue }
            out.paintedClasses.append(out.classIDs[k])
            maskID.append(Int64(out.paintedClasses.count))
            if let source = object.instanceID { painted[source] = maskID[k] }
        }
        out.instanceIDs = out.objects.indices.map { k in
            maskID[k] ?? out.objects[k].instanceID.map { painted[$0] ?? Int64($0) } ?? -1
        }
        if spec.rasterize.semantic,
           let k = out.objects.indices.first(where: { out.classIDs[$0] == 0 && Self.paintable(out.objects[$0].geometry) }) {
            throw ExportError(.recipe, recipeFile,
                              "labels.objects.rasterize: \(image.file): \(out.objects[k].ref) has class id 0, which a semantic mask keeps for background; "
                              + "use a label schema whose class ids start at 1")
        }
        objects.kept += out.objects.count
        return out
    }

    static func paintable(_ geometry: AnnotationGeometry) -> Bool {
        switch geometry {
        case .polygons, .mask: true
        case .box, .point: false
        }
    }

    /// Reads the one COCO or CSV file of the recipe, once.
    private mutating func readShared(_ source: Recipe.Objects.Source, path: String, field: String) throws(ExportError) {
        guard objects.shared == nil else { return }
        let url = try inside(path, field: field)
        try record(path, url: url, role: "annotations")
        var images: [AnnotatedImage]
        do {
            switch source {
            case .csv(let c):
                let shape: CSVAnnotationLayout.Shape = switch c.shape {
                case let .box(x0, y0, x1, y1): .box(xMin: x0, yMin: y0, xMax: x1, yMax: y1)
                case let .point(x, y): .point(x: x, y: y)
                }
                let convention: CSVAnnotationLayout.Convention = switch c.coordinates {
                case .continuous: .continuous
                case .pixelIndex0: .pixelIndices(base: 0)
                case .pixelIndex1: .pixelIndices(base: 1)
                }
                images = try CSVAnnotationReader.read(contentsOf: url, layout: CSVAnnotationLayout(
                    image: c.image, label: c.label, shape: shape, convention: convention, instance: c.instance))
            default:
                images = try COCOReader.read(contentsOf: url)
            }
        } catch {
            throw ExportError(error.code == .unknownColumn ? .mismatch : .input, error.location(default: shown(path)), error.message)
        }
        for i in images.indices {
            images[i].file = path
            if let other = objects.sharedIndex[images[i].image] {
                throw ExportError(.input, shown(path), "image '\(images[i].image)' is listed twice (entries \(other + 1) and \(i + 1))")
            }
            objects.sharedIndex[images[i].image] = i
        }
        objects.shared = images
    }

    /// The shared file's entry for `candidate`: the one named by its path under the input root,
    /// else by its file name; an image the file does not name has no objects.
    private mutating func claimShared(for candidate: Candidate, file: String) throws(ExportError) -> AnnotatedImage {
        let name = (candidate.path as NSString).lastPathComponent
        guard let i = objects.sharedIndex[candidate.path] ?? objects.sharedIndex[name] else {
            return AnnotatedImage(image: candidate.path, objects: [], file: file)
        }
        if let other = objects.claimedBy[i] {
            throw ExportError(.mismatch, shown(file), "image '\(objects.shared![i].image)' matches both \(other) and \(candidate.path); "
                              + "name images by their path under the input root")
        }
        objects.claimedBy[i] = candidate.path
        return objects.shared![i]
    }

    /// After every source: the label report checked against the recipe's policy, warnings, and
    /// what the manifest records.
    mutating func finishObjects() throws(ExportError) -> ObjectsPlan? {
        guard let spec = recipe.labels.objects else { return nil }
        let report = try objects.normalizer.map { (n) throws(ExportError) in
            try checkedReport(n, failOnUnknown: spec.unknown == .error, at: recipeFile, what: "labels.objects")
        }
        let unmatched = (objects.shared ?? []).indices.filter { objects.claimedBy[$0] == nil }.map { objects.shared![$0].image }
        if !objects.issues.isEmpty {
            warnings.append("\(objects.issues.count) objects were dropped or clipped by labels.objects.geometry "
                            + "(\(spec.geometry.rawValue); all listed in the manifest's objects.issues): "
                            + objects.issues.prefix(3).joined(separator: "; "))
        }
        if !objects.skipped.isEmpty {
            warnings.append("\(objects.skipped.count) objects were left out for their class (listed in the manifest's objects.skipped): "
                            + objects.skipped.prefix(3).joined(separator: "; "))
        }
        if objects.droppedMasks > 0 {
            warnings.append("\(objects.droppedMasks) RLE mask objects were left out: a bundle holds masks only as painted masks; "
                            + "set labels.objects.rasterize to keep them")
        }
        if !unmatched.isEmpty {
            warnings.append("\(unmatched.count) images named in \(spec.source!.path) are not among the exported images: "
                            + unmatched.prefix(3).joined(separator: ", "))
        }
        var kinds = ObjectKinds(boxes: spec.deriveBoxes)
        switch spec.source {
        case .voc?: kinds.boxes = true
        case .coco?: (kinds.boxes, kinds.polygons) = (true, true)
        case .geojson?: (kinds.points, kinds.polygons) = (true, true)
        case .csv(let c)?:
            if case .box = c.shape { kinds.boxes = true } else { kinds.points = true }
        case nil: break
        }
        let instanceClass = spec.instanceClass.map { name in classNames.firstIndex(of: name).map { Int32(classIDs[$0]) } }
        if let instanceClass, instanceClass == nil {
            throw ExportError(.recipe, recipeFile, "labels.objects.instance_class: '\(spec.instanceClass!)' is not a class of the bundle "
                              + "(\(classNames.joined(separator: ", ")))")
        }
        return ObjectsPlan(
            kinds: kinds, filter: BoxFilter(minArea: spec.minArea, minVisibility: spec.minVisibility),
            instanceClass: (instanceClass ?? nil) ?? -1,
            manifest: Manifest.Objects(
                source: spec.source?.kind ?? "instance_masks", path: spec.source?.path ?? "",
                geometryPolicy: spec.geometry.rawValue, minArea: spec.minArea, minVisibility: spec.minVisibility,
                rasterize: spec.rasterize.rawValue, deriveBoxes: spec.deriveBoxes, read: objects.read, kept: objects.kept,
                issues: objects.issues, skipped: objects.skipped, unmatchedImages: unmatched, labelMapping: report))
    }

    /// A bundle holds only label kinds its schema lists (label schema §3).
    func checkSchemaKinds(objects: ObjectsPlan?) throws(ExportError) {
        guard let (path, schema, _) = labelSchema else { return }
        let labels = recipe.labels
        let kinds = objects?.kinds ?? .none
        let held: [(LabelKind, Bool)] = [
            (.imageClass, labels.imageClass != nil), (.multiLabelImageClass, labels.imageLabels != nil),
            (.instanceMask, labels.instanceMasks != nil || labels.objects?.rasterize.instance == true),
            (.semanticMask, labels.semanticMasks != nil || labels.objects?.rasterize.semantic == true),
            (.box, kinds.boxes), (.point, kinds.points), (.polygon, kinds.polygons),
        ]
        let missing = held.filter { $0.1 && !schema.kinds.contains($0.0) }.map(\.0.rawValue)
        if !missing.isEmpty {
            throw ExportError(.mismatch, shown(path), "kinds lists \(schema.kinds.map(\.rawValue).joined(separator: ", ")) but the recipe puts "
                              + "\(missing.joined(separator: ", ")) in the bundle; add \(missing.count == 1 ? "it" : "them") to the schema's kinds")
        }
    }

    /// A recipe template for `candidate`: image variables ({stem}, {name}, {dir}) or, with an
    /// annotation table, the row's columns.
    func expand(_ template: String, for candidate: Candidate, field: String) throws(ExportError) -> String {
        let imageVariables: Set<String> = ["stem", "name", "dir"]
        let parsed: PathTemplate
        do {
            parsed = try PathTemplate(template)
        } catch {
            throw ExportError(.recipe, recipeFile, "\(field): \(error.message)")
        }
        let fromImage = parsed.variables.allSatisfy(imageVariables.contains)
        guard fromImage || (candidate.row != nil && !parsed.variables.contains(where: imageVariables.contains)) else {
            throw ExportError(.recipe, recipeFile,
                              "\(field): '\(template)' must use either image variables ({stem}, {name}, {dir}) or, with an annotation table, column names, not both")
        }
        do {
            return fromImage ? try parsed.path(forImage: candidate.path) : try parsed.path(forRow: candidate.row!, of: table!)
        } catch {
            throw ExportError(.recipe, recipeFile, "\(field): \(error.message)")
        }
    }
}

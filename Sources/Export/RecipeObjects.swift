import Yams

extension Recipe {
    /// Objects (regions of interest) per image: boxes, points and polygons read from annotation
    /// files, and boxes derived from instance masks (specs/recipe/v1.md §6.1).
    public struct Objects: Sendable, Equatable {
        /// Where the annotations are.
        public enum Source: Sendable, Equatable {
            /// One Pascal VOC XML file per image, by a path template.
            case voc(String)
            /// One COCO JSON file for all images, matched by `file_name`.
            case coco(String)
            /// One QuPath GeoJSON file per image, by a path template.
            case geojson(String)
            /// One CSV of boxes or points for all images.
            case csv(CSVObjects)

            /// `voc`, `coco`, `geojson` or `csv`, as the recipe and the manifest name it.
            public var kind: String {
                switch self {
                case .voc: "voc"
                case .coco: "coco"
                case .geojson: "geojson"
                case .csv: "csv"
                }
            }

            /// The recipe's file or template.
            public var path: String {
                switch self {
                case .voc(let p), .coco(let p), .geojson(let p): p
                case .csv(let c): c.file
                }
            }
        }

        /// A CSV with one box or point per row.
        public struct CSVObjects: Sendable, Equatable {
            public enum Shape: Sendable, Equatable {
                case box(xMin: String, yMin: String, xMax: String, yMax: String)
                case point(x: String, y: String)
            }

            public var file: String
            /// Column naming each row's image (its path under the input root, or its file name).
            public var image: String
            /// Column holding the class name.
            public var label: String
            public var shape: Shape
            /// Column holding an object id, if any.
            public var instance: String?
            public var coordinates: Coordinates
        }

        /// How CSV numbers relate to pixels.
        public enum Coordinates: String, Sendable, Equatable, CaseIterable {
            /// Continuous image coordinates (box corners are pixel edges).
            case continuous
            /// Integer pixel indices counted from 0 or 1, box corners inclusive (Pascal VOC style).
            case pixelIndex0 = "pixel_index_0"
            case pixelIndex1 = "pixel_index_1"
        }

        public enum Geometry: String, Sendable, Equatable, CaseIterable { case error, drop, clip }

        /// Which masks polygons (and COCO RLE masks) are painted into.
        public enum Rasterize: String, Sendable, Equatable, CaseIterable {
            case none, instance, semantic, both

            public var instance: Bool { self == .instance || self == .both }
            public var semantic: Bool { self == .semantic || self == .both }
        }

        public var source: Source?
        /// The class list; empty when `schema` or another labels section gives the classes.
        public var classes: [String]
        public var schema: String?
        public var match: MatchMode
        /// Objects with an empty label: fail, leave them out, or keep them with class −1.
        public var unlabeled: UnlabeledPolicy
        /// Objects whose label matches no class: fail, or leave them out.
        public var unknown: UnknownPolicy
        /// Zero-area or out-of-image boxes and self-intersecting polygons.
        public var geometry: Geometry
        public var rasterize: Rasterize
        /// Boxes come from the instance mask, one per object id, recomputed in every tile.
        public var deriveBoxes: Bool
        /// The class of boxes derived from `labels.instance_masks` (mask files carry no class).
        public var instanceClass: String?
        /// A box clipped to a tile is kept when its area is at least `minArea` pixels and at
        /// least `minVisibility` of its area before clipping.
        public var minArea: Double
        public var minVisibility: Double
    }

    /// Multi-label image classes: every value of several columns of the annotation row
    /// (specs/recipe/v1.md §5.1).
    public struct ImageLabels: Sendable, Equatable {
        public enum Columns: Sendable, Equatable {
            /// Every `Phenotype N` column of an IDR table with its `Phenotype N Term Accession`,
            /// resolved through the study file's Term Source rows.
            case idrPhenotypes
            /// Named value columns, with one accession column per value column or none.
            case named(values: [String], terms: [String])
        }

        /// Values that match no class: fail, leave the image out, or drop the value.
        public enum Unknown: String, Sendable, Equatable, CaseIterable { case error, skip, ignore }

        public var columns: Columns
        public var classes: [String]
        public var schema: String?
        public var match: MatchMode
        /// Rows with no value in any column: fail, leave the image out, or keep it with no class.
        public var unlabeled: UnlabeledPolicy
        public var unknown: Unknown
    }
}

extension RecipeReader {
    typealias Objects = Recipe.Objects
    typealias ImageLabels = Recipe.ImageLabels

    func objects(_ node: Node) throws(ExportError) -> Objects {
        let p = "labels.objects"
        let sources = ["voc", "coco", "geojson", "csv"]
        let m = try mapping(node, p, allowed: sources + ["classes", "schema", "match", "unlabeled", "unknown", "geometry",
                                                          "rasterize", "derive_boxes", "instance_class", "min_area",
                                                          "min_visibility"])
        let given = sources.filter { m[$0] != nil }
        guard given.count <= 1 else { throw fail(m[given[1]], p, "give one annotation source, not \(given.joined(separator: " and "))") }
        var source: Objects.Source?
        if let n = m["voc"] { source = .voc(try nonEmptyString(n, "\(p).voc")) }
        if let n = m["coco"] { source = .coco(try nonEmptyString(n, "\(p).coco")) }
        if let n = m["geojson"] { source = .geojson(try nonEmptyString(n, "\(p).geojson")) }
        if let n = m["csv"] { source = .csv(try csvObjects(n, "\(p).csv")) }
        let deriveBoxes = try m["derive_boxes"].map { (n) throws(ExportError) in try bool(n, "\(p).derive_boxes") } ?? false
        guard source != nil || deriveBoxes else {
            throw fail(node, p, "name an annotation source (voc, coco, geojson or csv) or set derive_boxes: true")
        }
        let (classes, schema) = try classSource(node, m, p, required: false)
        let minArea = try m["min_area"].map { (n) throws(ExportError) in try double(n, "\(p).min_area") } ?? 1
        guard minArea > 0 else { throw fail(m["min_area"], "\(p).min_area", "must be more than 0 pixels, got \(minArea)") }
        let minVisibility = try m["min_visibility"].map { (n) throws(ExportError) in try double(n, "\(p).min_visibility") } ?? 0.25
        guard (0...1).contains(minVisibility) else {
            throw fail(m["min_visibility"], "\(p).min_visibility", "must be between 0 and 1, got \(minVisibility)")
        }
        return Objects(
            source: source, classes: classes, schema: schema,
            match: try m["match"].map { (n) throws(ExportError) in try choice(n, "\(p).match", MatchMode.self) } ?? .exact,
            unlabeled: try m["unlabeled"].map { (n) throws(ExportError) in try choice(n, "\(p).unlabeled", UnlabeledPolicy.self) }
                ?? .error,
            unknown: try m["unknown"].map { (n) throws(ExportError) in try choice(n, "\(p).unknown", UnknownPolicy.self) } ?? .error,
            geometry: try m["geometry"].map { (n) throws(ExportError) in try choice(n, "\(p).geometry", Objects.Geometry.self) }
                ?? .error,
            rasterize: try m["rasterize"].map { (n) throws(ExportError) in try choice(n, "\(p).rasterize", Objects.Rasterize.self) }
                ?? .none,
            deriveBoxes: deriveBoxes,
            instanceClass: try m["instance_class"].map { (n) throws(ExportError) in try nonEmptyString(n, "\(p).instance_class") },
            minArea: minArea, minVisibility: minVisibility)
    }

    func csvObjects(_ node: Node, _ p: String) throws(ExportError) -> Objects.CSVObjects {
        let m = try mapping(node, p, allowed: ["file", "image", "label", "box", "point", "instance", "coordinates"],
                            required: ["file", "image", "label", "coordinates"])
        let shape: Objects.CSVObjects.Shape
        switch (m["box"], m["point"]) {
        case (let box?, nil):
            let b = try mapping(box, "\(p).box", allowed: ["x_min", "y_min", "x_max", "y_max"],
                                required: ["x_min", "y_min", "x_max", "y_max"])
            shape = .box(xMin: try nonEmptyString(b["x_min"]!, "\(p).box.x_min"), yMin: try nonEmptyString(b["y_min"]!, "\(p).box.y_min"),
                         xMax: try nonEmptyString(b["x_max"]!, "\(p).box.x_max"), yMax: try nonEmptyString(b["y_max"]!, "\(p).box.y_max"))
        case (nil, let point?):
            let q = try mapping(point, "\(p).point", allowed: ["x", "y"], required: ["x", "y"])
            shape = .point(x: try nonEmptyString(q["x"]!, "\(p).point.x"), y: try nonEmptyString(q["y"]!, "\(p).point.y"))
        case (nil, nil): throw fail(node, p, "name the coordinate columns: 'box' {x_min, y_min, x_max, y_max} or 'point' {x, y}")
        default: throw fail(m["point"], p, "give either 'box' or 'point', not both")
        }
        return Objects.CSVObjects(
            file: try nonEmptyString(m["file"]!, "\(p).file"), image: try nonEmptyString(m["image"]!, "\(p).image"),
            label: try nonEmptyString(m["label"]!, "\(p).label"), shape: shape,
            instance: try m["instance"].map { (n) throws(ExportError) in try nonEmptyString(n, "\(p).instance") },
            coordinates: try choice(m["coordinates"]!, "\(p).coordinates", Objects.Coordinates.self))
    }

    func imageLabels(_ node: Node) throws(ExportError) -> ImageLabels {
        let p = "labels.image_labels"
        let m = try mapping(node, p, allowed: ["phenotypes", "columns", "term_columns", "classes", "schema", "match",
                                               "unlabeled", "unknown"])
        let columns: ImageLabels.Columns
        switch (m["phenotypes"], m["columns"]) {
        case (let n?, nil):
            guard try string(n, "\(p).phenotypes") == "idr" else {
                throw fail(n, "\(p).phenotypes", "the only value is 'idr' (every Phenotype N column with its Term Accession)")
            }
            if m["term_columns"] != nil {
                throw fail(m["term_columns"], "\(p).term_columns", "phenotypes: idr reads each Phenotype N Term Accession itself")
            }
            columns = .idrPhenotypes
        case (nil, let n?):
            let values = try stringList(n, "\(p).columns")
            guard !values.isEmpty else { throw fail(n, "\(p).columns", "name at least one column") }
            let terms = try m["term_columns"].map { (t) throws(ExportError) in try stringList(t, "\(p).term_columns") } ?? []
            guard terms.isEmpty || terms.count == values.count else {
                throw fail(m["term_columns"], "\(p).term_columns", "has \(terms.count) columns for \(values.count) value columns; give one per value column")
            }
            columns = .named(values: values, terms: terms)
        case (nil, nil): throw fail(node, p, "name the columns: 'columns' (a list) or 'phenotypes: idr'")
        default: throw fail(m["columns"], p, "give either 'columns' or 'phenotypes', not both")
        }
        let (classes, schema) = try classSource(node, m, p, required: true)
        if !terms(of: columns).isEmpty || columns == .idrPhenotypes, schema == nil {
            throw fail(node, p, "accessions match ontology terms, which only a schema has; add 'schema'")
        }
        return ImageLabels(
            columns: columns, classes: classes, schema: schema,
            match: try m["match"].map { (n) throws(ExportError) in try choice(n, "\(p).match", MatchMode.self) } ?? .exact,
            unlabeled: try m["unlabeled"].map { (n) throws(ExportError) in try choice(n, "\(p).unlabeled", UnlabeledPolicy.self) }
                ?? .error,
            unknown: try m["unknown"].map { (n) throws(ExportError) in try choice(n, "\(p).unknown", ImageLabels.Unknown.self) }
                ?? .error)
    }

    private func terms(of columns: ImageLabels.Columns) -> [String] {
        if case .named(_, let terms) = columns { return terms }
        return []
    }

    /// `classes` (a non-empty list) or `schema`, not both; with `required`, one of them.
    func classSource(_ node: Node, _ m: [String: Node], _ p: String, required: Bool)
        throws(ExportError) -> (classes: [String], schema: String?) {
        switch (m["classes"], m["schema"]) {
        case (let list?, nil):
            let classes = try stringList(list, "\(p).classes")
            guard !classes.isEmpty else { throw fail(list, "\(p).classes", "list at least one class") }
            return (classes, nil)
        case (nil, let s?): return ([], try nonEmptyString(s, "\(p).schema"))
        case (nil, nil):
            if required { throw fail(node, p, "give the classes: 'classes' (a list) or 'schema' (a label schema file)") }
            return ([], nil)
        default: throw fail(m["schema"], p, "give either 'classes' or 'schema', not both")
        }
    }

    /// Rules across the labels sections: one class table per bundle, masks painted from
    /// polygons only where no mask files are named, boxes derived only from an instance mask.
    func checkObjectSections(_ labels: Recipe.Labels, inputs: Recipe.Inputs, labelsNode: Node?,
                             augmentation: Node?) throws(ExportError) {
        func at(_ key: String) -> Node? {
            guard case .mapping(let map)? = labelsNode else { return labelsNode }
            return map.first { $0.key.string == key }?.value ?? labelsNode
        }
        if let imageLabels = labels.imageLabels {
            if labels.imageClass != nil {
                throw fail(at("image_labels"), "labels.image_labels", "give either image_class (one class per image) or image_labels (several), not both")
            }
            if inputs.annotations == nil {
                throw fail(at("image_labels"), "labels.image_labels", "needs an annotation table: add inputs.annotations")
            }
            if imageLabels.columns == .idrPhenotypes && inputs.studyFile == nil {
                throw fail(at("image_labels"), "labels.image_labels.phenotypes", "resolves accessions through the study file's Term Source rows: add inputs.study_file")
            }
        }
        guard let objects = labels.objects else { return }
        let node = at("objects")
        let p = "labels.objects"
        let otherClasses = labels.imageClass != nil || labels.imageLabels != nil
        if otherClasses && (!objects.classes.isEmpty || objects.schema != nil) {
            throw fail(node, p, "the bundle has one class table, already given by \(labels.imageClass != nil ? "image_class" : "image_labels"); "
                       + "remove classes/schema here (object labels map through that table)")
        }
        if !otherClasses && objects.classes.isEmpty && objects.schema == nil && (objects.source != nil || objects.instanceClass != nil) {
            throw fail(node, p, "give the classes the object labels map to: 'classes' (a list) or 'schema' (a label schema file)")
        }
        if objects.rasterize.instance && labels.instanceMasks != nil {
            throw fail(node, "\(p).rasterize", "paints /masks/instance, which labels.instance_masks already fills; use one of them")
        }
        if objects.rasterize.semantic && labels.semanticMasks != nil {
            throw fail(node, "\(p).rasterize", "paints /masks/semantic, which labels.semantic_masks already fills; use one of them")
        }
        if objects.rasterize != .none, let source = objects.source, case .csv = source {
            throw fail(node, "\(p).rasterize", "a CSV holds boxes or points, which have no outline to paint; remove rasterize")
        }
        if objects.rasterize != .none, let source = objects.source, case .voc = source {
            throw fail(node, "\(p).rasterize", "Pascal VOC files hold boxes, which have no outline to paint; remove rasterize")
        }
        if objects.deriveBoxes && labels.instanceMasks == nil && !objects.rasterize.instance {
            throw fail(node, "\(p).derive_boxes", "needs an instance mask: labels.instance_masks, or rasterize: instance (or both)")
        }
        if objects.instanceClass != nil && !(objects.deriveBoxes && labels.instanceMasks != nil) {
            throw fail(node, "\(p).instance_class", "names the class of boxes derived from labels.instance_masks; it needs derive_boxes and labels.instance_masks")
        }
        if let name = objects.instanceClass, !objects.classes.isEmpty, !objects.classes.contains(name) {
            throw fail(node, "\(p).instance_class", "'\(name)' is not in labels.objects.classes")
        }
        if case .mapping(let map)? = augmentation, map.contains(where: { ["box_filter", "boxFilter"].contains($0.key.string) }) {
            throw fail(augmentation, "augmentation.box_filter", "with labels.objects the tile rule for boxes is labels.objects.min_area and min_visibility; remove box_filter")
        }
    }
}

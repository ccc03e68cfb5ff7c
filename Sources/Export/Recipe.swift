import AVDB
import Foundation
import SampleLinking
import Tiling
import Yams

/// A parsed recipe (specs/recipe/v1.md): what to export, from where, how to label and tile it,
/// and where to write the bundle. Paths are kept as written; `Recipe.resolve` anchors them.
public struct Recipe: Sendable, Equatable {
    public struct Dataset: Sendable, Equatable {
        public var name: String
        public var version: String
        public var description: String
        public var license: String
        /// Where the training set is published (Croissant `url`).
        public var url: String?
        /// Who made the training set (Croissant `creator`).
        public var creators: [String]
        /// `YYYY-MM-DD`; the export date when absent.
        public var datePublished: String?
        /// Content hash of the bundle this version derives from (lineage).
        public var parent: String?
    }

    /// How rows of an IDR-style annotation table are paired with image files.
    public struct Annotations: Sendable, Equatable {
        public var file: String
        public var keys: [String]
        /// Template such as `images/{Plate}/{Well}.tif`; variables are column names.
        public var imagePath: String
        public var rowsWithoutImage: MismatchPolicy
        public var imagesWithoutRow: MismatchPolicy
    }

    public enum MismatchPolicy: String, Sendable, Equatable, CaseIterable { case report, error }

    public struct Inputs: Sendable, Equatable {
        /// Directory every input path is relative to (relative to the recipe's directory).
        public var root: String
        public var studyFile: String?
        public var annotations: Annotations?
        /// Glob of image files (`*` within one path segment) when there is no annotation table.
        public var images: String?
        /// Whether symbolic links may lead outside `root` (`links_outside_root: refuse | follow`).
        public var linksOutsideRoot: LinkPolicy = .refuse
    }

    public enum UnlabeledPolicy: String, Sendable, Equatable, CaseIterable { case skip, error, keep }
    public enum UnknownPolicy: String, Sendable, Equatable, CaseIterable { case error, skip }
    public enum MatchMode: String, Sendable, Equatable, CaseIterable {
        case exact
        case caseInsensitive = "case_insensitive"
    }

    /// Image-level class labels read from one annotation column.
    public struct ImageClass: Sendable, Equatable {
        public var column: String
        /// The class list (ids 0, 1, … in order); empty when `schema` gives the classes.
        public var classes: [String]
        /// A label schema file (specs/label-schema/v1.md), relative to the input root.
        public var schema: String?
        /// A column of ontology accessions (IDR `..._Term Accession` form or CURIEs) matched
        /// through the schema's terms before the value itself.
        public var termColumn: String?
        public var match: MatchMode
        public var unlabeled: UnlabeledPolicy
        public var unknown: UnknownPolicy
    }

    /// Where a mask comes from: one label image per source, or one binary image per object.
    public enum MaskSource: Sendable, Equatable {
        case file(String)
        case objectsDirectory(String)
    }

    public struct Labels: Sendable, Equatable {
        public var imageClass: ImageClass?
        public var instanceMasks: MaskSource?
        public var semanticMasks: MaskSource?
        /// Multi-label image classes from several columns (RecipeObjects.swift).
        public var imageLabels: ImageLabels?
        /// Boxes, points and polygons per image (RecipeObjects.swift).
        public var objects: Objects?

        public init(imageClass: ImageClass? = nil, instanceMasks: MaskSource? = nil, semanticMasks: MaskSource? = nil,
                    imageLabels: ImageLabels? = nil, objects: Objects? = nil) {
            self.imageClass = imageClass
            self.instanceMasks = instanceMasks
            self.semanticMasks = semanticMasks
            self.imageLabels = imageLabels
            self.objects = objects
        }
    }

    public enum PaletteChoice: String, Sendable, Equatable, CaseIterable { case indices, rgb }

    public struct Channels: Sendable, Equatable {
        /// Source channel indices in bundle order; nil keeps all channels as they are.
        public var select: [Int]?
        public var names: [String]?
        public var palette: PaletteChoice?
    }

    public enum Edge: String, Sendable, Equatable, CaseIterable { case drop, reflect, constant }

    public struct Tiling: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var strideX: Int
        public var strideY: Int
        public var edge: Edge
        public var padValue: Double
    }

    public struct Output: Sendable, Equatable {
        public var path: String
        public var deflateLevel: Int
        public var shuffle: Bool
    }

    public var recipeVersion: Int
    public var dataset: Dataset
    public var seed: UInt64
    public var inputs: Inputs
    public var labels: Labels
    public var channels: Channels
    public var tiling: Tiling
    public var output: Output
    /// Sample-level data linking, privacy policy, consent and splits (specs/samples/v1.md).
    public var samples: SamplesConfig?
    /// Augmented variants of every tile (specs/augmentation/v1.md).
    public var augmentation: AugmentationPipeline?
    /// Random positions, foreground filter and class balance (§8).
    public var sampling: Sampling? = nil
    /// Resampling to one physical pixel size before tiling (§9).
    public var rescale: Rescale? = nil
}

extension Recipe {
    /// The recipe format versions this build reads.
    public static let supportedVersions = [1]

    /// Largest recipe text parsed (1 MiB): real recipes are a few kilobytes, and the YAML
    /// parser's memory and time grow with the input.
    public static let maxTextSize = 1 << 20

    /// Parses recipe text. `file` is used only to name the recipe in errors.
    public static func parse(_ text: String, file: String) throws(ExportError) -> Recipe {
        guard text.utf8.count <= maxTextSize else {
            throw ExportError(.recipe, file, "the recipe has \(text.utf8.count) bytes, more than the limit of \(maxTextSize); "
                              + "a recipe is a few kilobytes of YAML")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ExportError(.recipe, file, "the recipe is empty; see specs/recipe/v1.md for an example")
            }
            root = node
        } catch let error as ExportError {
            throw error
        } catch {
            let first = String(describing: error).split(separator: "\n").first.map(String.init) ?? "invalid YAML"
            throw ExportError(.recipe, file, "not valid YAML: \(first)")
        }
        return try RecipeReader(file: file).recipe(root)
    }

    /// Reads and parses the recipe file at `url`.
    public static func load(_ url: URL) throws(ExportError) -> (recipe: Recipe, text: String) {
        let shown = FileSystem.display(url)
        guard FileSystem.isRegularFile(url) else {
            throw ExportError(.recipe, shown, FileSystem.isDirectory(url) ? "is a directory, not a recipe file" : "recipe file not found")
        }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ExportError(.recipe, shown, "cannot read the recipe as UTF-8 text: \(error.localizedDescription)")
        }
        return (try parse(text, file: shown), text)
    }
}

/// Walks the YAML node tree by hand rather than through `Codable`, so that an unknown or
/// misspelled key is an error with its line number instead of being silently ignored.
struct RecipeReader {
    typealias Dataset = Recipe.Dataset
    typealias Inputs = Recipe.Inputs
    typealias Annotations = Recipe.Annotations
    typealias Labels = Recipe.Labels
    typealias ImageClass = Recipe.ImageClass
    typealias MaskSource = Recipe.MaskSource
    typealias Channels = Recipe.Channels
    typealias Tiling = Recipe.Tiling
    typealias Output = Recipe.Output
    typealias MismatchPolicy = Recipe.MismatchPolicy
    typealias MatchMode = Recipe.MatchMode
    typealias UnlabeledPolicy = Recipe.UnlabeledPolicy
    typealias UnknownPolicy = Recipe.UnknownPolicy
    typealias PaletteChoice = Recipe.PaletteChoice
    typealias Edge = Recipe.Edge

    let file: String

    func fail(_ node: Node?, _ path: String, _ message: String) -> ExportError {
        var location = file
        if let mark = node?.mark { location += ":\(mark.line)" }
        return ExportError(.recipe, location, path.isEmpty ? message : "\(path): \(message)")
    }

    /// A mapping with a closed set of keys; `required` keys must be present.
    func mapping(_ node: Node, _ path: String, allowed: [String], required: [String] = [])
        throws(ExportError) -> [String: Node] {
        guard case .mapping(let map) = node else {
            throw fail(node, path, "expected a mapping with keys \(allowed.joined(separator: ", "))")
        }
        var out: [String: Node] = [:]
        for (keyNode, value) in map {
            guard let key = keyNode.scalar?.string else { throw fail(keyNode, path, "keys must be plain strings") }
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                var message = "unknown key '\(key)'"
                if let near = Spelling.nearest(key, in: allowed) { message += "; did you mean '\(near)'?" }
                message += " (allowed: \(allowed.joined(separator: ", ")))"
                throw fail(keyNode, path.isEmpty ? "" : path, message.replacingOccurrences(of: "'\(key)'", with: "'\(keyPath)'"))
            }
            out[key] = value
        }
        for key in required where out[key] == nil {
            throw fail(node, path, "missing required key '\(path.isEmpty ? key : "\(path).\(key)")'")
        }
        return out
    }

    func string(_ node: Node, _ path: String) throws(ExportError) -> String {
        guard case .scalar(let s) = node else { throw fail(node, path, "expected a string") }
        return s.string
    }

    func nonEmptyString(_ node: Node, _ path: String) throws(ExportError) -> String {
        let s = try string(node, path)
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(node, path, "must not be empty") }
        return s
    }

    func int(_ node: Node, _ path: String, min: Int? = nil, max: Int? = nil) throws(ExportError) -> Int {
        guard case .scalar(let s) = node, let value = Int(s.string) else {
            throw fail(node, path, "expected an integer, got \(describe(node))")
        }
        if let min, value < min { throw fail(node, path, "must be at least \(min), got \(value)") }
        if let max, value > max { throw fail(node, path, "must be at most \(max), got \(value)") }
        return value
    }

    func double(_ node: Node, _ path: String) throws(ExportError) -> Double {
        guard case .scalar(let s) = node, let value = Double(s.string), value.isFinite else {
            throw fail(node, path, "expected a number, got \(describe(node))")
        }
        return value
    }

    func bool(_ node: Node, _ path: String) throws(ExportError) -> Bool {
        guard case .scalar(let s) = node else { throw fail(node, path, "expected true or false") }
        switch s.string.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw fail(node, path, "expected true or false, got '\(s.string)'")
        }
    }

    func choice<E: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, _: E.Type) throws(ExportError) -> E
        where E.RawValue == String {
        let s = try string(node, path)
        guard let value = E(rawValue: s) else {
            let options = E.allCases.map(\.rawValue)
            var message = "'\(s)' is not one of \(options.joined(separator: ", "))"
            if let near = Spelling.nearest(s, in: options) { message += "; did you mean '\(near)'?" }
            throw fail(node, path, message)
        }
        return value
    }

    func list(_ node: Node, _ path: String) throws(ExportError) -> [Node] {
        guard case .sequence(let seq) = node else { throw fail(node, path, "expected a list") }
        return Array(seq)
    }

    func stringList(_ node: Node, _ path: String) throws(ExportError) -> [String] {
        var out: [String] = []
        for (i, item) in try list(node, path).enumerated() { out.append(try nonEmptyString(item, "\(path)[\(i)]")) }
        return out
    }

    /// `n` or `[a, b]`, for sizes and strides.
    func pair(_ node: Node, _ path: String) throws(ExportError) -> (Int, Int) {
        if case .sequence = node {
            let items = try list(node, path)
            guard items.count == 2 else { throw fail(node, path, "expected an integer or [width, height]") }
            return (try int(items[0], "\(path)[0]", min: 1), try int(items[1], "\(path)[1]", min: 1))
        }
        let n = try int(node, path, min: 1)
        return (n, n)
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): "'\(s.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    func recipe(_ node: Node) throws(ExportError) -> Recipe {
        let top = try mapping(node, "", allowed: ["recipe_version", "dataset", "seed", "inputs", "labels",
                                                  "channels", "tiling", "output", "samples", "augmentation",
                                                  "sampling", "rescale"],
                              required: ["recipe_version", "dataset", "inputs", "tiling", "output"])
        let version = try int(top["recipe_version"]!, "recipe_version")
        guard Recipe.supportedVersions.contains(version) else {
            throw fail(top["recipe_version"], "recipe_version",
                       "version \(version) is not supported by this trainset (supported: 1)")
        }
        var seed: UInt64 = 0
        if let s = top["seed"] {
            guard case .scalar(let sc) = s, let v = UInt64(sc.string) else {
                throw fail(s, "seed", "expected a non-negative integer, got \(describe(s))")
            }
            seed = v
        }
        let inputs = try self.inputs(top["inputs"]!)
        let labels = try top["labels"].map { (n) throws(ExportError) in try self.labels(n) } ?? Labels()
        if labels.imageClass != nil && inputs.annotations == nil {
            throw fail(top["labels"], "labels.image_class", "needs an annotation table: add inputs.annotations")
        }
        try checkObjectSections(labels, inputs: inputs, labelsNode: top["labels"], augmentation: top["augmentation"])
        return Recipe(
            recipeVersion: version,
            dataset: try dataset(top["dataset"]!),
            seed: seed,
            inputs: inputs,
            labels: labels,
            channels: try top["channels"].map { (n) throws(ExportError) in try channels(n) }
                ?? Channels(select: nil, names: nil, palette: nil),
            tiling: try tiling(top["tiling"]!),
            output: try output(top["output"]!),
            samples: try top["samples"].map { (n) throws(ExportError) in try samples(n) },
            augmentation: try top["augmentation"].map { (n) throws(ExportError) in try augmentation(n) },
            sampling: try top["sampling"].map { (n) throws(ExportError) in try sampling(n, labels: labels, inputs: inputs) },
            rescale: try top["rescale"].map { (n) throws(ExportError) in try rescale(n) })
    }

    func dataset(_ node: Node) throws(ExportError) -> Dataset {
        let m = try mapping(node, "dataset", allowed: ["name", "version", "description", "license", "url", "creators",
                                                       "date_published", "parent"],
                            required: ["name", "version"])
        let date = try m["date_published"].map { (n) throws(ExportError) in try nonEmptyString(n, "dataset.date_published") }
        if let date, !Self.isISODate(date) {
            throw fail(m["date_published"], "dataset.date_published", "'\(date)' is not a date like 2026-11-25")
        }
        let version = try nonEmptyString(m["version"]!, "dataset.version")
        guard SemanticVersion(version) != nil else {
            throw fail(m["version"], "dataset.version", "'\(version)' is not a semantic version like 1.0.0")
        }
        return Dataset(
            name: try nonEmptyString(m["name"]!, "dataset.name"),
            version: version,
            description: try m["description"].map { (n) throws(ExportError) in try string(n, "dataset.description") } ?? "",
            license: try m["license"].map { (n) throws(ExportError) in try string(n, "dataset.license") } ?? "",
            url: try m["url"].map { (n) throws(ExportError) in try nonEmptyString(n, "dataset.url") },
            creators: try m["creators"].map { (n) throws(ExportError) in try stringList(n, "dataset.creators") } ?? [],
            datePublished: date,
            parent: try m["parent"].map { (n) throws(ExportError) in
                let hash = try nonEmptyString(n, "dataset.parent")
                guard hash.hasPrefix("sha256:"), hash.count == 71, hash.dropFirst(7).allSatisfy(\.isHexDigit) else {
                    throw fail(n, "dataset.parent", "'\(hash)' is not a content hash like sha256:<64 hex digits> (see trainset inspect)")
                }
                return hash
            })
    }

    static func isISODate(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let month = Int(parts[1]), let day = Int(parts[2]), Int(parts[0]) != nil else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }

    func inputs(_ node: Node) throws(ExportError) -> Inputs {
        let m = try mapping(node, "inputs", allowed: ["root", "study_file", "annotations", "images", "links_outside_root"])
        let annotations = try m["annotations"].map { (n) throws(ExportError) in try self.annotations(n) }
        let images = try m["images"].map { (n) throws(ExportError) in try nonEmptyString(n, "inputs.images") }
        if annotations == nil && images == nil {
            throw fail(node, "inputs", "name the images: either 'annotations' (a table with an image_path template) or 'images' (a glob)")
        }
        if annotations != nil && images != nil {
            throw fail(m["images"], "inputs.images", "give either 'annotations' or 'images', not both")
        }
        return Inputs(
            root: try m["root"].map { (n) throws(ExportError) in try nonEmptyString(n, "inputs.root") } ?? ".",
            studyFile: try m["study_file"].map { (n) throws(ExportError) in try nonEmptyString(n, "inputs.study_file") },
            annotations: annotations,
            images: images,
            linksOutsideRoot: try m["links_outside_root"].map { (n) throws(ExportError) in
                try choice(n, "inputs.links_outside_root", LinkPolicy.self) } ?? .refuse)
    }

    func annotations(_ node: Node) throws(ExportError) -> Annotations {
        let p = "inputs.annotations"
        let m = try mapping(node, p, allowed: ["file", "keys", "image_path", "rows_without_image", "images_without_row"],
                            required: ["file", "keys", "image_path"])
        let keys = try stringList(m["keys"]!, "\(p).keys")
        guard !keys.isEmpty else { throw fail(m["keys"], "\(p).keys", "name at least one key column") }
        return Annotations(
            file: try nonEmptyString(m["file"]!, "\(p).file"),
            keys: keys,
            imagePath: try nonEmptyString(m["image_path"]!, "\(p).image_path"),
            rowsWithoutImage: try m["rows_without_image"].map { (n) throws(ExportError) in
                try choice(n, "\(p).rows_without_image", MismatchPolicy.self) } ?? .report,
            imagesWithoutRow: try m["images_without_row"].map { (n) throws(ExportError) in
                try choice(n, "\(p).images_without_row", MismatchPolicy.self) } ?? .report)
    }

    func labels(_ node: Node) throws(ExportError) -> Labels {
        let m = try mapping(node, "labels", allowed: ["image_class", "instance_masks", "semantic_masks", "image_labels", "objects"])
        return Labels(
            imageClass: try m["image_class"].map { (n) throws(ExportError) in try imageClass(n) },
            instanceMasks: try m["instance_masks"].map { (n) throws(ExportError) in
                try maskSource(n, "labels.instance_masks", allowObjects: true) },
            semanticMasks: try m["semantic_masks"].map { (n) throws(ExportError) in
                try maskSource(n, "labels.semantic_masks", allowObjects: false) },
            imageLabels: try m["image_labels"].map { (n) throws(ExportError) in try imageLabels(n) },
            objects: try m["objects"].map { (n) throws(ExportError) in try objects(n) })
    }

    func imageClass(_ node: Node) throws(ExportError) -> ImageClass {
        let p = "labels.image_class"
        let m = try mapping(node, p, allowed: ["column", "classes", "schema", "term_column", "match", "unlabeled", "unknown"],
                            required: ["column"])
        let (classes, schema) = try classSource(node, m, p, required: true)
        let termColumn = try m["term_column"].map { (n) throws(ExportError) in try nonEmptyString(n, "\(p).term_column") }
        if termColumn != nil && m["schema"] == nil {
            throw fail(m["term_column"], "\(p).term_column", "matches ontology terms, which only a schema has; add 'schema'")
        }
        return ImageClass(
            column: try nonEmptyString(m["column"]!, "\(p).column"),
            classes: classes,
            schema: schema,
            termColumn: termColumn,
            match: try m["match"].map { (n) throws(ExportError) in try choice(n, "\(p).match", MatchMode.self) } ?? .exact,
            unlabeled: try m["unlabeled"].map { (n) throws(ExportError) in
                try choice(n, "\(p).unlabeled", UnlabeledPolicy.self) } ?? .error,
            unknown: try m["unknown"].map { (n) throws(ExportError) in
                try choice(n, "\(p).unknown", UnknownPolicy.self) } ?? .error)
    }

    func maskSource(_ node: Node, _ p: String, allowObjects: Bool) throws(ExportError) -> MaskSource {
        let allowed = allowObjects ? ["file", "objects_dir"] : ["file"]
        let m = try mapping(node, p, allowed: allowed)
        switch (m["file"], m["objects_dir"]) {
        case (let f?, nil): return .file(try nonEmptyString(f, "\(p).file"))
        case (nil, let d?): return .objectsDirectory(try nonEmptyString(d, "\(p).objects_dir"))
        case (nil, nil): throw fail(node, p, "give \(allowed.joined(separator: " or "))")
        default: throw fail(node, p, "give either 'file' or 'objects_dir', not both")
        }
    }

    func channels(_ node: Node) throws(ExportError) -> Channels {
        let m = try mapping(node, "channels", allowed: ["select", "names", "palette"])
        var select: [Int]?
        if let s = m["select"] {
            var indices: [Int] = []
            for (i, item) in try list(s, "channels.select").enumerated() {
                indices.append(try int(item, "channels.select[\(i)]", min: 0))
            }
            guard !indices.isEmpty else { throw fail(s, "channels.select", "select at least one channel") }
            select = indices
        }
        let names = try m["names"].map { (n) throws(ExportError) in try stringList(n, "channels.names") }
        if let names, let select, names.count != select.count {
            throw fail(m["names"], "channels.names", "has \(names.count) names for \(select.count) selected channels")
        }
        return Channels(
            select: select, names: names,
            palette: try m["palette"].map { (n) throws(ExportError) in try choice(n, "channels.palette", PaletteChoice.self) })
    }

    func tiling(_ node: Node) throws(ExportError) -> Tiling {
        let m = try mapping(node, "tiling", allowed: ["size", "stride", "edge", "pad_value"], required: ["size"])
        let (w, h) = try pair(m["size"]!, "tiling.size")
        let (sx, sy) = try m["stride"].map { (n) throws(ExportError) in try pair(n, "tiling.stride") } ?? (w, h)
        let edge = try m["edge"].map { (n) throws(ExportError) in try choice(n, "tiling.edge", Edge.self) } ?? .drop
        let pad = try m["pad_value"].map { (n) throws(ExportError) in try double(n, "tiling.pad_value") } ?? 0
        if m["pad_value"] != nil && edge != .constant {
            throw fail(m["pad_value"], "tiling.pad_value", "only applies with edge: constant")
        }
        return Tiling(width: w, height: h, strideX: sx, strideY: sy, edge: edge, padValue: pad)
    }

    func output(_ node: Node) throws(ExportError) -> Output {
        let m = try mapping(node, "output", allowed: ["path", "deflate_level", "shuffle"], required: ["path"])
        let path = try nonEmptyString(m["path"]!, "output.path")
        return Output(
            path: path,
            deflateLevel: try m["deflate_level"].map { (n) throws(ExportError) in
                try int(n, "output.deflate_level", min: 0, max: 9) } ?? 6,
            shuffle: try m["shuffle"].map { (n) throws(ExportError) in try bool(n, "output.shuffle") } ?? true)
    }
}

/// A `MAJOR.MINOR.PATCH` version, for dataset versions and their bump rules.
public struct SemanticVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]),
              a >= 0, b >= 0, c >= 0 else { return nil }
        (major, minor, patch) = (a, b, c)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (l: SemanticVersion, r: SemanticVersion) -> Bool {
        (l.major, l.minor, l.patch) < (r.major, r.minor, r.patch)
    }
}


import AVDB
import BundleFormat
import Foundation
import ImageFormats
import LabelSchema
import Raster
import Tiling

/// Resolves a recipe against its inputs into an `ExportPlan`, reading only headers, tables and
/// checksums: every decision is made and every input problem found before pixels move.
public enum Planner {
    /// Plans the export of the recipe at `recipeURL`. `output` overrides `output.path` (relative
    /// to the working directory, as command-line paths are).
    ///
    /// `select`, when given, sees the paths of every image the recipe selects, in plan order, and
    /// returns the run of them to plan (a shard's): only those images' headers are read and only
    /// their files hashed. `balance` false skips `sampling.balance`, for a shard whose plan file
    /// records the tiles the balance over every source kept.
    public static func plan(recipeAt recipeURL: URL, output: String? = nil, overwrite: Bool = false,
                            hashing: InputHashing = .all, select: (([String]) throws(ExportError) -> Range<Int>)? = nil,
                            balance: Bool = true) throws(ExportError) -> ExportPlan {
        let (recipe, text) = try Recipe.load(recipeURL)
        let recipeDirectory = recipeURL.deletingLastPathComponent()
        let root = URL(fileURLWithPath: recipe.inputs.root, relativeTo: recipeDirectory).standardizedFileURL
        let outputURL = output.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? defaultOutput(recipe, at: recipeURL)
        return try plan(recipe: recipe, text: text, recipeURL: recipeURL, root: root, output: outputURL, overwrite: overwrite,
                        hashing: hashing, select: select, balance: balance)
    }

    /// The recipe's `output.path`, relative to the recipe's directory.
    static func defaultOutput(_ recipe: Recipe, at recipeURL: URL) -> URL {
        URL(fileURLWithPath: recipe.output.path, relativeTo: recipeURL.deletingLastPathComponent()).standardizedFileURL
    }

    /// Plans a parsed recipe against an explicit input root and output, as `verify` does when it
    /// re-derives a bundle from the recipe text embedded in its manifest.
    public static func plan(recipe: Recipe, text: String, recipeURL: URL, root: URL, output outputURL: URL,
                            overwrite: Bool, hashing: InputHashing = .all,
                            select: (([String]) throws(ExportError) -> Range<Int>)? = nil,
                            balance: Bool = true) throws(ExportError) -> ExportPlan {
        guard FileSystem.isDirectory(root) else {
            throw ExportError(.input, FileSystem.display(recipeURL), "inputs.root: directory \(FileSystem.display(root)) not found")
        }
        var state = PlanState(recipe: recipe, recipeFile: FileSystem.display(recipeURL), root: root, hashing: hashing)
        if let study = recipe.inputs.studyFile {
            let url = try state.inside(study, field: "inputs.study_file")
            do {
                let idr = try IDRStudy(contentsOf: url)
                state.study = StudyFacts.make(idr)
                state.termSources = idr.termSources
            } catch {
                throw ExportError(.input, error.location(default: state.shown(study)), error.message)
            }
            try state.record(study, url: url, role: "study_file")
        }
        try state.loadClassTable()
        var candidates = try state.candidates()
        let linked = try recipe.samples.map { (config) throws(ExportError) in
            try state.linkSamples(config, candidates: candidates, recipeDirectory: recipeURL.deletingLastPathComponent())
        }
        if let linked { candidates = linked.included(candidates) }
        if let select { candidates = Array(candidates[try select(candidates.map(\.path))]) }
        var sources: [ExportPlan.Source] = []
        var first: (path: String, info: ImageInfo)?
        let grid = try state.gridSpec()
        let readOptions = ReadOptions(palette: recipe.channels.palette == .rgb ? .rgb : .indices)
        let groupColumn = try state.balanceGroupColumn()
        var groups: [String] = []
        var withAssociatedImages: [String] = []
        for candidate in candidates {
            let info: ImageInfo
            do {
                info = try ImageReader.info(candidate.url, options: readOptions)
            } catch {
                throw ExportError(.input, FileSystem.display(candidate.url), error.message)
            }
            if info.isPalette && recipe.channels.palette == nil {
                throw ExportError(.input, FileSystem.display(candidate.url),
                                  "is a palette (colour-map) image: set channels.palette to 'indices' (keep the index values) or 'rgb' (expand through the colour map)")
            }
            if let first {
                guard info.pixelType == first.info.pixelType else {
                    throw ExportError(.mismatch, FileSystem.display(candidate.url),
                                      "has \(info.pixelType.rawValue) pixels but \(first.path) has \(first.info.pixelType.rawValue); all tiles of a bundle share one pixel type")
                }
                if recipe.channels.select == nil && info.channels != first.info.channels {
                    throw ExportError(.mismatch, FileSystem.display(candidate.url),
                                      "has \(info.channels) channels but \(first.path) has \(first.info.channels); use channels.select to pick the same channels from every image")
                }
            } else {
                first = (candidate.path, info)
            }
            if let select = recipe.channels.select, let bad = select.first(where: { $0 >= info.channels }) {
                throw ExportError(.mismatch, FileSystem.display(candidate.url),
                                  "channels.select names channel \(bad) but the image has \(info.channels) (0…\(info.channels - 1))")
            }
            try state.record(candidate.path, url: candidate.url, role: "image")
            if !info.associatedImages.isEmpty { withAssociatedImages.append(candidate.path) }
            let rescaled = try recipe.rescale.map { (r) throws(ExportError) in
                try Rescaling.plan(r, info: info, path: candidate.path, url: candidate.url)
            }
            let (width, height) = (rescaled?.width ?? info.width, rescaled?.height ?? info.height)
            let (tiles, gridShape) = TileSelection.positions(recipe, grid: grid, width: width, height: height,
                                                             sourceSHA256: state.sha256(of: candidate.path))
            let link = linked?.link(of: candidate)
            sources.append(ExportPlan.Source(
                path: candidate.path, url: candidate.url, key: candidate.key, label: candidate.label,
                sampleRow: link?.sampleRow, group: link?.group, split: link?.split,
                width: width, height: height, channels: info.channels, tiles: tiles,
                instanceMask: try state.mask(recipe.labels.instanceMasks, for: candidate, role: "instance_mask"),
                semanticMask: try state.mask(recipe.labels.semanticMasks, for: candidate, role: "semantic_mask"),
                imageLabels: candidate.imageLabels,
                // Annotation coordinates and recorded sizes refer to the file as read, before rescaling.
                objects: try state.objects(for: candidate, width: info.width, height: info.height),
                grid: gridShape, rescale: rescaled))
            groups.append(groupColumn.map { state.table!.value(row: candidate.row!, column: $0) } ?? candidate.path)
        }
        guard let first else {
            throw ExportError(.input, state.recipeFile, "the recipe selects no images (\(state.selectionDescription))")
        }
        let objects = try state.finishObjects()
        try state.checkSchemaKinds(objects: objects)
        let indices = recipe.channels.select ?? Array(0..<first.info.channels)
        let planned = sources.reduce(0) { $0 + $1.tiles.count }
        let sampling = try recipe.sampling.map { (config) throws(ExportError) in
            var config = config
            if !balance { config.balance = nil }
            return try TileSelection.apply(config, to: &sources, groups: groups, context: TileSelection.Context(
                seed: recipe.seed, edge: grid.edge, palette: recipe.channels.palette, channelIndices: indices,
                sha256: Dictionary(state.inputs.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a }),
                classIDs: state.classIDs, classNames: state.classNames))
        }
        let tileCount = sources.reduce(0) { $0 + $1.tiles.count } * (recipe.augmentation?.variants ?? 1)
        // A shard may hold only images too small for a tile, or sources whose tiles sampling
        // dropped; the whole plan was checked.
        guard tileCount > 0 || select != nil else {
            let why = planned > 0 ? "sampling keeps none of the \(planned) planned tiles (see --plan-only)"
                : recipe.sampling?.randomTiles != nil
                ? "every image is smaller than \(grid.tileWidth)x\(grid.tileHeight), so no random tile fits"
                : "every image is smaller than \(grid.tileWidth)x\(grid.tileHeight) and tiling.edge is drop"
            throw ExportError(.mismatch, state.recipeFile, "tiling gives no tiles: \(why)")
        }
        let names = recipe.channels.names ?? indices.indices.map { "c\($0)" }
        if names.count != indices.count {
            throw ExportError(.recipe, state.recipeFile,
                              "channels.names has \(names.count) names but the images have \(indices.count) channels")
        }
        let spec = BundleSpec(
            tileCount: tileCount, channels: indices.count, tileWidth: grid.tileWidth, tileHeight: grid.tileHeight,
            pixelType: Augmentation.outputPixelType(recipe.augmentation, input: first.info.pixelType,
                                                    channels: indices.count, grid: grid),
            channelNames: names,
            instanceMasks: recipe.labels.instanceMasks != nil || recipe.labels.objects?.rasterize.instance == true,
            semanticMasks: recipe.labels.semanticMasks != nil || recipe.labels.objects?.rasterize.semantic == true,
            deflateLevel: recipe.output.deflateLevel, shuffle: recipe.output.shuffle,
            objects: objects?.kinds ?? .none, imageLabels: recipe.labels.imageLabels != nil)
        if let example = withAssociatedImages.first {
            // Said so that a reviewer need not wonder: the reader never decodes these pages.
            state.warnings.append("\(withAssociatedImages.count) whole-slide images (e.g. \(example)) hold label or macro "
                                  + "images, which can show a patient's name; they were not read and are not in the bundle")
        }
        if state.linkedOutsideRoot > 0 {
            state.warnings.append("inputs.links_outside_root: follow: \(state.linkedOutsideRoot) input files are read through "
                                  + "symbolic links that lead outside \(FileSystem.display(root)) (hashed and listed like every input)")
        }
        var plan = ExportPlan(
            recipe: recipe, recipeText: text, recipePath: FileSystem.display(recipeURL), root: root, output: outputURL,
            overwrite: overwrite, sources: sources, classNames: state.classNames, classIDs: state.classIDs,
            labelSchema: state.labelSchema.map { ExportPlan.SchemaInfo(path: $0.path, schema: $0.schema, text: $0.text) },
            inputs: state.inputs,
            matching: state.matching, labelMapping: state.mapping, study: state.study,
            samples: linked?.result, objects: objects, spec: spec, grid: grid,
            sourceChannelIndices: indices, warnings: state.warnings, sampling: sampling)
        plan.imageLabelColumns = state.imageLabelColumns
        return plan
    }
}

/// One image the recipe selects, before its header is read.
struct Candidate {
    var path: String
    var url: URL
    var key: String
    var label: Int32
    /// The annotation row, when the image came from a table.
    var row: Int?
    /// Multi-label image classes (bundle class ids, ascending).
    var imageLabels: [Int32] = []
}

/// When planning hashes the files that pixels are read from.
public enum InputHashing: Sendable {
    /// Every input while planning, so the plan lists every SHA-256 (`--plan-only`, verify, replay).
    case all
    /// Images and masks later, by the export, from the one read that decodes them; until then
    /// the plan lists them with their size and an empty SHA-256 (`ExportPlan.pendingInputs`).
    case whileExporting
}

/// The working state of planning: inputs recorded so far, reports and warnings.
struct PlanState {
    let recipe: Recipe
    let recipeFile: String
    let root: URL
    let hashing: InputHashing
    var inputs: [Manifest.InputFile] = []
    var recorded: Set<String> = []
    /// Inputs read through symbolic links that leave the root (allowed by the recipe).
    var linkedOutsideRoot = 0
    var warnings: [String] = []
    var matching: Manifest.Matching?
    var mapping: MappingReport?
    var classNames: [String] = []
    var classIDs: [Int] = []
    var labelSchema: (path: String, schema: Schema, text: String)?
    var table: AnnotationTable?
    var study: Manifest.Study?
    /// The class list when the classes come from a recipe list rather than a schema.
    var classList: ClassList?
    /// The study file's ontology declarations, for IDR accessions.
    var termSources: TermSources?
    /// Annotation files read so far and what became of their objects (ObjectPlanning.swift).
    var objects = ObjectPlanning()
    /// The value and accession columns `labels.image_labels` read.
    var imageLabelColumns: (values: [String], terms: [String]) = ([], [])

    init(recipe: Recipe, recipeFile: String, root: URL, hashing: InputHashing = .all) {
        self.recipe = recipe
        self.recipeFile = recipeFile
        self.root = root
        self.hashing = hashing
    }

    var selectionDescription: String {
        if let a = recipe.inputs.annotations { return "no row of \(a.file) has an image at \(a.imagePath)" }
        return "no file under \(root.path) matches \(recipe.inputs.images ?? "")"
    }

    /// How errors show a root-relative path: openable from the working directory.
    func shown(_ relative: String) -> String {
        FileSystem.display(root.appendingPathComponent(relative))
    }

    /// A recipe-given path, refused if it leaves the input root.
    func inside(_ relative: String, field: String) throws(ExportError) -> URL {
        let url = URL(fileURLWithPath: relative, relativeTo: root).standardizedFileURL
        // `..` and absolute paths leave the root whatever the link policy; links are `record`'s.
        let rootPath = root.standardizedFileURL.path
        guard !relative.hasPrefix("/"), url.path == rootPath || url.path.hasPrefix(rootPath + "/") else {
            throw ExportError(.recipe, recipeFile, "\(field): '\(relative)' is outside the input root \(root.path)")
        }
        guard FileSystem.isRegularFile(url) else {
            throw ExportError(.input, recipeFile, "\(field): file '\(relative)' not found under \(root.path)")
        }
        return url
    }

    /// The SHA-256 recorded for an input.
    func sha256(of path: String) -> String { inputs.last { $0.path == path }?.sha256 ?? "" }

    /// The annotation column that names each source's balance group, if the recipe gives one.
    func balanceGroupColumn() throws(ExportError) -> Int? {
        guard let name = recipe.sampling?.balance?.groupColumn, let table, let file = recipe.inputs.annotations?.file else {
            return nil
        }
        do {
            return try table.columnIndex(named: name)
        } catch {
            throw ExportError(.mismatch, error.location(default: shown(file)), "sampling.balance.group_column: \(error.message)")
        }
    }

    /// Hashes an input once and lists it in the manifest (pixel inputs only by size, when the
    /// export hashes them as it reads them, unless planning itself depends on their content).
    /// Every file an export reads passes here, so this is where symbolic links leading outside
    /// the root are refused (or, under `inputs.links_outside_root: follow`, counted for the
    /// manifest's warnings).
    mutating func record(_ path: String, url: URL, role: String) throws(ExportError) {
        guard recorded.insert(path).inserted else { return }
        do {
            try ImageMatcher.refuseEscape(root: root, relative: path)
        } catch {
            guard recipe.inputs.linksOutsideRoot == .follow else {
                throw ExportError(.input, FileSystem.display(url), error.message)
            }
            linkedOutsideRoot += 1
        }
        if hashing == .whileExporting && ExportPlan.pixelRoles.contains(role) && !decidesTiles(role) {
            inputs.append(Manifest.InputFile(path: path, role: role, bytes: try FileDigest.size(url, displayPath: FileSystem.display(url)),
                                             sha256: ""))
            return
        }
        let digest = try FileDigest.of(url, displayPath: FileSystem.display(url))
        inputs.append(Manifest.InputFile(path: path, role: role, bytes: digest.bytes, sha256: digest.sha256))
    }

    /// Whether the planned tile list depends on the content of inputs of `role`, so they are
    /// hashed while planning even when the export hashes the others: random positions and the
    /// class balance are keyed by the image's SHA-256 (specs/recipe/v1.md §8.1, §8.3), and the
    /// foreground filter reads the mask or image it filters by; the export then refuses such a
    /// file if it changed after the tiles were chosen from it.
    func decidesTiles(_ role: String) -> Bool {
        guard let sampling = recipe.sampling else { return false }
        if role == "image" && (sampling.randomTiles != nil || sampling.balance != nil) { return true }
        switch sampling.foreground?.source {
        case .instanceMask?: return role == "instance_mask"
        case .semanticMask?: return role == "semantic_mask"
        case .otsu?: return role == "image"
        case nil: return false
        }
    }

    func gridSpec() throws(ExportError) -> TileGridSpec {
        let t = recipe.tiling
        do {
            return try TileGridSpec(tileWidth: t.width, tileHeight: t.height, strideX: t.strideX, strideY: t.strideY,
                                    edge: EdgePolicy(rawValue: t.edge.rawValue)!, padValue: t.padValue)
        } catch {
            throw ExportError(.recipe, recipeFile, "tiling.\(error.field): \(error.message)")
        }
    }

    mutating func candidates() throws(ExportError) -> [Candidate] {
        if let pattern = recipe.inputs.images {
            let paths: [String]
            do {
                paths = try ImageLister.list(root: root, pattern: pattern, links: recipe.inputs.linksOutsideRoot)
            } catch {
                throw ExportError(.recipe, recipeFile, "inputs.images: \(error.message)")
            }
            return paths.map { Candidate(path: $0, url: root.appendingPathComponent($0), key: "", label: -1, row: nil) }
        }
        guard let spec = recipe.inputs.annotations else { return [] }
        let tableURL = try inside(spec.file, field: "inputs.annotations.file")
        let table: AnnotationTable
        let result: ImageMatchResult
        do {
            table = try AnnotationTable(contentsOf: tableURL)
            let template = try PathTemplate(spec.imagePath)
            result = try ImageMatcher.match(table: table, keyColumns: spec.keys, template: template, root: root,
                                            links: recipe.inputs.linksOutsideRoot)
        } catch {
            throw ExportError(error.code == .unknownColumn ? .mismatch : .input,
                              error.location(default: shown(spec.file)), error.message)
        }
        self.table = table
        try record(spec.file, url: tableURL, role: "annotation_table")
        warnings += table.warnings.map(\.description)

        if spec.rowsWithoutImage == .error, !result.missing.isEmpty {
            throw ExportError(.mismatch, shown(spec.file),
                              "\(result.missing.count) rows have no image (rows_without_image: error): "
                              + result.missing.prefix(3).map(\.description).joined(separator: "; "))
        }
        if spec.imagesWithoutRow == .error, !result.unreferenced.isEmpty {
            throw ExportError(.mismatch, shown(spec.file),
                              "\(result.unreferenced.count) images have no row (images_without_row: error): "
                              + result.unreferenced.prefix(3).joined(separator: ", "))
        }
        if !result.missing.isEmpty {
            warnings.append("\(spec.file): \(result.missing.count) of \(table.rowCount) rows have no image (listed in the manifest)")
        }
        if !result.unreferenced.isEmpty {
            warnings.append("\(result.unreferenced.count) images have no row in \(spec.file) and are left out (listed in the manifest): "
                            + result.unreferenced.prefix(3).joined(separator: ", "))
        }

        var keyColumns: [Int] = []
        for name in spec.keys {
            do { keyColumns.append(try table.columnIndex(named: name)) } catch {
                throw ExportError(.mismatch, error.location(default: shown(spec.file)), error.message)
            }
        }
        var candidates = result.matched.map { match in
            Candidate(path: match.path, url: root.appendingPathComponent(match.path),
                      key: zip(spec.keys, keyColumns).map { "\($0)=\(table.value(row: match.row, column: $1))" }
                        .joined(separator: ", "),
                      label: -1, row: match.row)
        }
        var skipped: [String] = []
        if let labels = recipe.labels.imageClass {
            candidates = try label(candidates, table: table, spec: labels, file: spec.file, skipped: &skipped)
        }
        if let labels = recipe.labels.imageLabels {
            candidates = try imageLabels(candidates, table: table, spec: labels, file: spec.file, skipped: &skipped)
        }
        matching = Manifest.Matching(
            keys: spec.keys, matched: result.matched.count,
            rowsWithoutImage: result.missing.map { "\($0.key)" },
            imagesWithoutRow: result.unreferenced, skippedUnlabeled: skipped)
        return candidates
    }

    /// Maps each matched row's class column through the class list, applying the recipe's
    /// policies for empty and unknown values.
    mutating func label(_ candidates: [Candidate], table: AnnotationTable, spec: Recipe.ImageClass, file: String,
                        skipped: inout [String]) throws(ExportError) -> [Candidate] {
        var normalizer = normalizer(match: spec.match)
        // Internally a label is the class's position in `classNames`; `classIDs` maps it to the
        // id the bundle stores (a schema's own ids, else the position).
        let position = Dictionary(uniqueKeysWithValues: classIDs.enumerated().map { ($1, $0) })
        let column: Int
        let termColumn: Int?
        var field = "labels.image_class.column"
        do {
            column = try table.columnIndex(named: spec.column)
            field = "labels.image_class.term_column"
            termColumn = try spec.termColumn.map { (name) throws(AVDBError) in try table.columnIndex(named: name) }
        } catch {
            throw ExportError(.mismatch, error.location(default: shown(file)), "\(field): \(error.message)")
        }
        var out: [Candidate] = []
        for var candidate in candidates {
            let row = candidate.row!
            let value = table.value(row: row, column: column)
            let location = "\(shown(file)):\(table.line(ofRow: row))"
            let term = termColumn.flatMap { Self.term(table.value(row: row, column: $0), bases: labelSchema?.schema.termBases ?? [:]) }
            let id = normalizer.normalize(value, term: term, at: location).flatMap { position[$0] }
            if value.trimmingCharacters(in: .whitespaces).isEmpty {
                try Self.unlabeled(candidate, spec.unlabeled, into: &out, skipped: &skipped, error: ExportError(
                    .input, location,
                    "'\(spec.column)' is empty for \(candidate.key) (\(candidate.path)); set labels.image_class.unlabeled to skip or keep"))
                continue
            }
            guard let id else {
                if spec.unknown == .skip {
                    skipped.append(candidate.path)
                    continue
                }
                out.append(candidate)
                continue
            }
            candidate.label = Int32(id)
            out.append(candidate)
        }
        mapping = try checkedReport(normalizer, failOnUnknown: spec.unknown == .error, at: shown(file), what: "column '\(spec.column)'")
        return out
    }

    /// An accession as IDR tables write it (`CMPO_0000077`), or as a CURIE or IRI.
    static func term(_ text: String, bases: [String: String]) -> TermID? {
        if let parsed = TermID.parse(text, bases: bases) { return parsed }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let underscore = trimmed.firstIndex(of: "_"), bases[String(trimmed[..<underscore])] != nil else { return nil }
        return TermID.parse(String(trimmed[..<underscore]) + ":" + trimmed[trimmed.index(after: underscore)...], bases: bases)
    }

    /// The mask input of `candidate`, resolved and hashed now so a missing file fails the plan.
    mutating func mask(_ source: Recipe.MaskSource?, for candidate: Candidate, role: String)
        throws(ExportError) -> ExportPlan.MaskInput? {
        guard let source else { return nil }
        let template: String
        switch source {
        case .file(let t), .objectsDirectory(let t): template = t
        }
        let relative = try expand(template, for: candidate, field: "labels.\(role)s")
        let url = root.appendingPathComponent(relative)
        switch source {
        case .file:
            guard FileSystem.isRegularFile(url) else {
                throw ExportError(.input, FileSystem.display(candidate.url), "mask file '\(relative)' not found")
            }
            try record(relative, url: url, role: role)
            return .file(path: relative, url: url)
        case .objectsDirectory:
            guard FileSystem.isDirectory(url) else {
                throw ExportError(.input, FileSystem.display(candidate.url), "mask directory '\(relative)' not found")
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: url.path)
                    .filter { FileSystem.isRegularFile(url.appendingPathComponent($0)) }
                    .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            } catch {
                throw ExportError(.input, FileSystem.display(url), "cannot list the mask directory: \(error.localizedDescription)")
            }
            var files: [(path: String, url: URL)] = []
            for name in names {
                let path = relative + "/" + name
                let fileURL = url.appendingPathComponent(name)
                try record(path, url: fileURL, role: role)
                files.append((path, fileURL))
            }
            return .objects(directory: relative, files: files)
        }
    }
}

extension AVDBError {
    /// `file[:line]` for an ExportError, falling back to the file the caller was reading.
    func location(default fallback: String) -> String {
        guard let file else { return fallback }
        let shown = FileSystem.display(URL(fileURLWithPath: file))
        return line.map { "\(shown):\($0)" } ?? shown
    }
}

/// File-system questions the planner asks, with symbolic links followed.
enum FileSystem {
    /// A path as error messages show it: relative to the working directory when the file is
    /// inside it (what a user typed and can open), absolute otherwise.
    static func display(_ url: URL) -> String { DisplayPath.of(url) }

    static func isRegularFile(_ url: URL) -> Bool { ImageMatcher.isRegularFile(url) }
    static func isDirectory(_ url: URL) -> Bool { ImageMatcher.isDirectory(url) }
}

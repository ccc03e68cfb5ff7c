import Foundation
import HDF5

/// How a merged bundle holds its tile data (bundle format §13.2).
public enum MergeLayout: String, Sendable {
    /// Tile arrays are HDF5 virtual datasets over the shard files, which must stay next to it.
    case virtual
    /// Everything is copied into the merged file (tile chunks as stored, not recompressed).
    case copy
}

/// Merges the shard bundles of one sharded export into one bundle whose content, and so content
/// hash, equals a single-process export of the same recipe (bundle format §13).
///
/// Nothing about the shards' tables is hard-coded: every object is merged by the generic rules
/// of §13.3 (tile arrays concatenated, `scope` = `bundle` tables kept once, other record groups
/// concatenated with `references` columns and ragged `offsets` rebased), so tables added later
/// merge without changes here. Every byte read from a shard is hashed and compared with that
/// shard's own manifest, so a damaged or altered shard is reported by its index.
public enum BundleMerger {
    /// Writes the merged bundle to `output` (a new file). Shards may be given in any order; a
    /// virtual layout names them relative to `directory`, the directory the merged bundle will be
    /// published in. Returns the merged manifest (what `/manifest` holds).
    public static func merge(_ shards: [URL], into output: URL, namesRelativeTo directory: URL, layout: MergeLayout,
                             progress: (String) -> Void = { _ in }) throws(BundleError) -> Manifest {
        guard !shards.isEmpty else {
            throw BundleError(code: .state, message: "no shard bundles given")
        }
        let parts = try ShardSet(try shards.map { (url) throws(BundleError) in try ShardBundle(url) })
        let structure = try Structure.read(parts)
        let writer = MergeWriter(parts: parts, structure: structure, layout: layout, directory: directory, output: output)
        return try writer.run(progress: progress)
    }
}

/// A path as messages show it: relative to the working directory when inside it.
public enum DisplayPath {
    public static func of(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let cwd = FileManager.default.currentDirectoryPath
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// `file` relative to `directory`, `/`-separated, with `..` where needed; symbolic links are
    /// resolved first so the name works from the directory's real location.
    public static func relative(_ file: URL, from directory: URL) -> String {
        let a = directory.standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let b = file.standardizedFileURL.resolvingSymlinksInPath().pathComponents
        var common = 0
        while common < a.count, common < b.count - 1, a[common] == b[common] { common += 1 }
        return (Array(repeating: "..", count: a.count - common) + b[common...]).joined(separator: "/")
    }
}

/// One shard bundle's identity, read from its root attributes and manifest.
struct ShardBundle {
    let url: URL
    let shown: String
    let manifest: Manifest
    /// The manifest as JSON members, to compare members this version does not model too.
    let members: [String: JSONValue]
    let shard: Manifest.Shard
    let contentHash: String
    let digests: [String: DatasetDigest]

    init(_ url: URL) throws(BundleError) {
        self.url = url
        shown = DisplayPath.of(url)
        let shown = self.shown
        let (text, hash) = try bundleIO(shown) { () throws(HDF5Error) -> (String?, String?) in
            let file = try File(opening: url.path)
            guard try file.hasAttribute(BundleLayout.formatAttribute),
                  try file.stringAttribute(BundleLayout.formatAttribute) == BundleLayout.formatName else { return (nil, nil) }
            let hash = try file.hasAttribute(BundleLayout.contentHashAttribute)
                ? try file.stringAttribute(BundleLayout.contentHashAttribute) : nil
            let text = try file.objectKind(at: BundleLayout.manifest) == .dataset
                ? try file.openDataset(BundleLayout.manifest).readString() : nil
            return (text, hash)
        }
        guard let hash, let text else {
            throw BundleError(code: .format, message: "is not a complete trainset bundle (no content_hash or manifest: was its "
                              + "export interrupted?); re-run that shard's export", file: shown)
        }
        let manifest: Manifest
        let members: JSONValue
        do {
            manifest = try Manifest.decode(Data(text.utf8))
            members = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw BundleError(code: .manifest, message: "manifest cannot be read: \(error)", path: BundleLayout.manifest,
                              file: shown)
        }
        guard let shard = manifest.shard, case .object(let object) = members else {
            throw BundleError(code: .format, message: "is not a shard bundle (its manifest has no shard member); "
                              + "export shards with trainset export RECIPE --shard I/N", file: shown)
        }
        self.manifest = manifest
        self.members = object
        self.shard = shard
        contentHash = hash
        digests = Dictionary(manifest.datasets.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// "shard 2/4 (out/x.shards/x-00002-of-00004.h5)", how messages name a shard.
    var label: String { "shard \(shard.index)/\(shard.count) (\(shown))" }
}

/// A complete set of shards of one plan, in index order.
struct ShardSet {
    let shards: [ShardBundle]

    /// Manifest members that differ between shards by design; every other member must be equal.
    static let perShardMembers: Set<String> = ["counts", "inputs", "warnings", "datasets", "content_hash", "shard"]

    init(_ given: [ShardBundle]) throws(BundleError) {
        let first = given[0]
        var byIndex: [Int: ShardBundle] = [:]
        for s in given {
            guard s.shard.planID == first.shard.planID, s.shard.count == first.shard.count else {
                throw BundleError(code: .state, message: "is shard \(s.shard.index)/\(s.shard.count) of plan \(s.shard.planID), "
                                  + "but \(first.shown) is shard \(first.shard.index)/\(first.shard.count) of plan "
                                  + "\(first.shard.planID); merge the shards of one plan", file: s.shown)
            }
            guard (0..<s.shard.count).contains(s.shard.index) else {
                throw BundleError(code: .format, message: "its manifest names shard \(s.shard.index) of \(s.shard.count)",
                                  file: s.shown)
            }
            if let other = byIndex[s.shard.index] {
                throw BundleError(code: .state, message: "is shard \(s.shard.index)/\(s.shard.count), and so is "
                                  + "\(other.shown); give each shard once", file: s.shown)
            }
            byIndex[s.shard.index] = s
        }
        let missing = (0..<first.shard.count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            let list = missing.prefix(10).map(String.init).joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
            let command = "trainset export RECIPE --shard \(missing.count == 1 ? String(missing[0]) : "I")/\(first.shard.count)"
            throw BundleError(code: .state, message: "\(missing.count == 1 ? "shard" : "shards") \(list) of \(first.shard.count) "
                              + "(plan \(first.shard.planID)) \(missing.count == 1 ? "is" : "are") missing; export "
                              + "\(missing.count == 1 ? "it" : "them") with \(command) and merge all \(first.shard.count)")
        }
        shards = (0..<first.shard.count).map { byIndex[$0]! }
        try checkAgreement()
    }

    private func checkAgreement() throws(BundleError) {
        let first = shards[0]
        var firstTile = 0, firstSource = 0
        for s in shards {
            for key in Set(first.members.keys).union(s.members.keys).sorted() where !Self.perShardMembers.contains(key) {
                guard Self.comparable(key, first.members[key]) == Self.comparable(key, s.members[key]) else {
                    throw BundleError(code: .state, message: "manifest member '\(key)' differs from \(first.label); the shards "
                                      + "of one bundle must come from one recipe, inputs and trainset build", file: s.shown)
                }
            }
            guard s.shard.firstTile == firstTile, s.shard.firstSource == firstSource else {
                throw BundleError(code: .format, message: "says its rows begin at tile \(s.shard.firstTile), source "
                                  + "\(s.shard.firstSource), but the shards before it hold \(firstTile) tiles and "
                                  + "\(firstSource) sources", file: s.shown)
            }
            firstTile += s.manifest.counts.tiles
            firstSource += s.manifest.counts.sources
        }
    }

    /// The recipe's path is how each shard's command line spelled it: provenance, not content.
    /// The row counts of `objects` and `image_labels` are each shard's own (summed by the merge),
    /// as are the sources of `rescale` (concatenated); the rest describes the whole export.
    private static func comparable(_ key: String, _ value: JSONValue?) -> JSONValue? {
        guard case .object(var member)? = value else { return value }
        switch key {
        case "recipe": member["path"] = nil
        case "objects": for count in ["boxes", "points", "polygons", "per_class"] { member[count] = nil }
        case "image_labels": for count in ["per_class", "unlabeled_sources"] { member[count] = nil }
        // One entry per source, like `/sources`: concatenated in shard order.
        case "rescale": member["sources"] = nil
        default: return value
        }
        return .object(member)
    }

    /// Shard 0's `objects` and `image_labels` members with every shard's row counts summed,
    /// class by class, and its `rescale` sources followed by every other shard's.
    private func summedObjectCounts(into merged: inout Manifest) throws(BundleError) {
        for (n, s) in shards.enumerated() where n > 0 {
            if var objects = merged.objects, let own = s.manifest.objects {
                objects.boxes += own.boxes
                objects.points += own.points
                objects.polygons += own.polygons
                try add(own.perClass, to: &objects.perClass, member: "objects", of: s, id: \.id, name: \.name) {
                    $0.boxes += $1.boxes
                    $0.points += $1.points
                    $0.polygons += $1.polygons
                }
                merged.objects = objects
            }
            if var labels = merged.imageLabels, let own = s.manifest.imageLabels {
                labels.unlabeledSources += own.unlabeledSources
                try add(own.perClass, to: &labels.perClass, member: "image_labels", of: s, id: \.id, name: \.name) {
                    $0.tiles += $1.tiles
                    $0.sources += $1.sources
                }
                merged.imageLabels = labels
            }
            if let own = s.manifest.rescaling { merged.rescaling?.sources += own.sources }
        }
    }

    /// Adds shard `s`'s per-class counts `own` to `total`, matching classes by id; a class that
    /// shard 0 does not list is refused (the class list is the same in every shard).
    private func add<T>(_ own: [T], to total: inout [T], member: String, of s: ShardBundle, id: KeyPath<T, Int>,
                        name: KeyPath<T, String>, _ sum: (inout T, T) -> Void) throws(BundleError) {
        for c in own {
            guard let i = total.firstIndex(where: { $0[keyPath: id] == c[keyPath: id] }) else {
                throw BundleError(code: .state, message: "\(member) class \(c[keyPath: id]) (\(c[keyPath: name])), which "
                                  + "\(shards[0].label) does not have", file: s.shown)
            }
            sum(&total[i], c)
        }
    }

    var tiles: Int { shards.reduce(0) { $0 + $1.manifest.counts.tiles } }

    /// The merged manifest before digests: shard 0's, with counts summed, inputs and warnings
    /// joined in shard order (each once), the shard member replaced by the merge member.
    func manifest(layout: MergeLayout, files: [String]) throws(BundleError) -> Manifest {
        var merged = shards[0].manifest
        merged.format = Manifest.Format()
        merged.shard = nil
        var inputs: [Manifest.InputFile] = []
        var seen: [String: (input: Manifest.InputFile, shard: ShardBundle)] = [:]
        var warnings: [String] = []
        var perClass = merged.counts.perClass.map { Manifest.ClassCount(id: $0.id, name: $0.name, tiles: 0, sources: 0) }
        var unlabeled = 0
        for s in shards {
            for input in s.manifest.inputs {
                if let earlier = seen[input.path] {
                    guard earlier.input.sha256 == input.sha256 else {
                        throw BundleError(code: .state, message: "read \(input.path) with SHA-256 \(input.sha256), but "
                                          + "\(earlier.shard.label) read \(earlier.input.sha256); the input changed between "
                                          + "shards: re-run trainset plan and every shard", file: s.shown)
                    }
                    continue
                }
                seen[input.path] = (input, s)
                inputs.append(input)
            }
            for w in s.manifest.warnings where !warnings.contains(w) { warnings.append(w) }
            unlabeled += s.manifest.counts.unlabeledTiles
            try add(s.manifest.counts.perClass, to: &perClass, member: "counts", of: s, id: \.id, name: \.name) {
                $0.tiles += $1.tiles
                $0.sources += $1.sources
            }
        }
        try summedObjectCounts(into: &merged)
        merged.inputs = inputs
        merged.warnings = warnings
        merged.counts = Manifest.Counts(tiles: tiles, sources: shards.reduce(0) { $0 + $1.manifest.counts.sources },
                                        unlabeledTiles: unlabeled, perClass: perClass)
        merged.merge = Manifest.Merge(planID: shards[0].shard.planID, layout: layout.rawValue, shards: zip(shards, files).map {
            Manifest.Merge.Part(index: $0.shard.index, file: $1, contentHash: $0.contentHash,
                                firstSource: $0.shard.firstSource, sources: $0.manifest.counts.sources,
                                firstTile: $0.shard.firstTile, tiles: $0.manifest.counts.tiles)
        })
        return merged
    }
}

/// What each object of the shards is, by the rules of bundle format §13.3, read from shard 0 and
/// required to be the same in every shard.
struct Structure {
    enum Role: Equatable {
        /// `[tiles, …]`: concatenated along dimension 0 (virtually, or by copying chunks).
        case tiles
        /// The same in every shard: kept once.
        case bundle
        /// Rows of the record group `group` (its outermost record group): concatenated, rebased.
        case records(group: String)
    }

    struct Object {
        var info: HDF5DatasetInfo
        var role: Role
        /// The table whose row numbers the dataset holds (`references` attribute).
        var references: String?
    }

    /// Groups other than `/`, parents first.
    var groups: [String] = []
    var datasets: [(path: String, object: Object)] = []
    /// Record groups and whether they are kept once (`scope` = `bundle`).
    var recordGroups: [String: Bool] = [:]

    static func read(_ set: ShardSet) throws(BundleError) -> Structure {
        let first = set.shards[0]
        let structure = try bundleIO(first.shown) { () throws(HDF5Error) -> Structure in
            var s = Structure()
            try s.walk(try File(opening: first.url.path), "/", record: nil)
            return s
        }
        for shard in set.shards {
            let other = shard.url == first.url ? structure : try bundleIO(shard.shown) { () throws(HDF5Error) -> Structure in
                var s = Structure()
                try s.walk(try File(opening: shard.url.path), "/", record: nil)
                return s
            }
            try structure.check(other, of: shard, against: first)
        }
        return structure
    }

    private mutating func walk(_ file: borrowing File, _ group: String, record: String?) throws(HDF5Error) {
        for name in try file.members(of: group) {
            let path = group == "/" ? "/" + name : group + "/" + name
            switch try file.objectKind(at: path) {
            case .group:
                groups.append(path)
                var inner = record
                if record == nil {
                    let scope = try file.hasAttribute(BundleLayout.scopeAttribute, on: path)
                        ? try file.stringAttribute(BundleLayout.scopeAttribute, on: path) : TableScope.shard.rawValue
                    // A plain group marked `bundle` (`/stitch`) is kept once like a bundle table.
                    if try Self.isRecordGroup(file, path) || scope == TableScope.bundle.rawValue {
                        inner = path
                        recordGroups[path] = scope == TableScope.bundle.rawValue
                    }
                }
                try walk(file, path, record: inner)
            case .dataset:
                guard path != BundleLayout.manifest else { continue }
                let info = try file.openDataset(path).info()
                let role: Role = if let record {
                    recordGroups[record] == true ? .bundle : .records(group: record)
                } else {
                    info.shape.isEmpty ? .bundle : .tiles
                }
                let references = try file.hasAttribute(BundleLayout.referencesAttribute, on: path)
                    ? try file.stringAttribute(BundleLayout.referencesAttribute, on: path) : nil
                datasets.append((path, Object(info: info, role: role, references: references)))
            default:
                continue
            }
        }
    }

    /// A table (`columns` attribute) or a ragged group (an `offsets` dataset).
    private static func isRecordGroup(_ file: borrowing File, _ path: String) throws(HDF5Error) -> Bool {
        if try file.hasAttribute("columns", on: path) { return true }
        return try file.objectKind(at: path + "/" + BundleLayout.offsets) == .dataset
    }

    private func check(_ other: Structure, of shard: ShardBundle, against first: ShardBundle) throws(BundleError) {
        func fail(_ path: String, _ what: String) -> BundleError {
            BundleError(code: .format, message: "\(what) (\(first.label) is the reference); all shards of a bundle have one layout",
                        path: path, file: shard.shown)
        }
        if let extra = Set(other.groups).symmetricDifference(groups).sorted().first {
            throw fail(extra, other.groups.contains(extra) ? "group only in this shard" : "group missing")
        }
        let mine = Dictionary(datasets.map { ($0.path, $0.object) }, uniquingKeysWith: { a, _ in a })
        let theirs = Dictionary(other.datasets.map { ($0.path, $0.object) }, uniquingKeysWith: { a, _ in a })
        if let extra = Set(mine.keys).symmetricDifference(theirs.keys).sorted().first {
            throw fail(extra, theirs[extra] != nil ? "dataset only in this shard" : "dataset missing")
        }
        for (path, object) in datasets {
            let o = theirs[path]!
            guard o.info.dtype == object.info.dtype, o.info.shape.count == object.info.shape.count,
                  o.info.shape.dropFirst() == object.info.shape.dropFirst(), o.role == object.role,
                  o.references == object.references else {
                throw fail(path, "is \(o.info.dtype) \(o.info.shape), expected \(object.info.dtype) with shape [n"
                           + object.info.shape.dropFirst().map { ", \($0)" }.joined() + "]")
            }
            if object.role == .tiles, o.info.shape[0] != shard.manifest.counts.tiles {
                throw fail(path, "has \(o.info.shape[0]) rows but the shard has \(shard.manifest.counts.tiles) tiles")
            }
            if object.role == .bundle, shard.digests[path]?.sha256 != first.digests[path]?.sha256 {
                throw fail(path, "differs from the other shards' although it is the same in every shard of a bundle")
            }
        }
    }

    /// The row count of record group `group` in a shard: the length of its datasets.
    func rows(of group: String, in file: borrowing File) throws(HDF5Error) -> Int? {
        let member = datasets.first { entry in
            let name = entry.path.dropFirst(group.count + 1)
            return entry.path.hasPrefix(group + "/") && !name.contains("/") && name != BundleLayout.offsets
        }
        guard let member else { return nil }
        return try file.openDataset(member.path).shape().first
    }
}

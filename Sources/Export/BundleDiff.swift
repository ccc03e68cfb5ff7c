import BundleFormat
import Foundation
import Yams

/// How two bundles differ, for a reviewer comparing dataset versions: inputs, source images
/// and their tiles, classes, and recipe fields.
public struct BundleDiff: Sendable, Codable, Equatable {
    public enum Change: String, Sendable, Codable { case added, removed, changed }

    /// An input file added, removed or changed (by SHA-256) between A and B.
    public struct InputChange: Sendable, Codable, Equatable {
        public var path: String
        public var change: Change
        public var sha256A: String?
        public var sha256B: String?
    }

    /// A source image whose tiles appear, disappear or change between A and B.
    public struct SourceChange: Sendable, Codable, Equatable {
        public var path: String
        public var change: Change
        public var tilesA: Int
        public var tilesB: Int
        /// Top-left corners `[x, y]` of the tiles only A (removed) or only B (added) has.
        public var tileOrigins: [[Int64]]
    }

    /// Per-class tile counts that differ (a class only one side has counts 0 on the other).
    public struct ClassChange: Sendable, Codable, Equatable {
        public var name: String
        public var tilesA: Int
        public var tilesB: Int
    }

    /// A recipe key (dotted path) whose value differs; nil where the key is absent.
    public struct FieldChange: Sendable, Codable, Equatable {
        public var key: String
        public var a: String?
        public var b: String?
    }

    public var a: String
    public var b: String
    public var datasetVersions: [String]
    public var contentHashes: [String]
    public var tileCounts: [Int]
    public var inputs: [InputChange]
    public var sources: [SourceChange]
    public var classes: [ClassChange]
    /// Tiles per split that differ (same shape as class changes; the name is the split's).
    public var splits: [ClassChange]
    /// Linked sample columns added, removed or treated differently: `name: A → B`.
    public var sampleColumns: [FieldChange]
    public var recipe: [FieldChange]

    /// Same decoded content (content hashes equal).
    public var sameContent: Bool { contentHashes[0] == contentHashes[1] }

    /// Compares two bundles; throws when either cannot be read.
    public static func compare(_ urlA: URL, _ urlB: URL) throws(ExportError) -> BundleDiff {
        let (manifestA, summaryA) = try read(urlA)
        let (manifestB, summaryB) = try read(urlB)
        return BundleDiff(
            a: FileSystem.display(urlA), b: FileSystem.display(urlB),
            datasetVersions: [manifestA.dataset.version, manifestB.dataset.version],
            contentHashes: [manifestA.contentHash, manifestB.contentHash],
            tileCounts: [summaryA.tileCount, summaryB.tileCount],
            inputs: inputChanges(manifestA.inputs, manifestB.inputs),
            sources: sourceChanges(summaryA, summaryB),
            classes: classChanges(manifestA.counts.perClass, manifestB.counts.perClass),
            splits: countChanges(summaryA.splitCounts(), summaryB.splitCounts()),
            sampleColumns: sampleColumnChanges(manifestA.samples, manifestB.samples),
            recipe: recipeChanges(manifestA.recipe.text, manifestB.recipe.text))
    }

    private static func read(_ url: URL) throws(ExportError) -> (Manifest, BundleSummary) {
        do {
            let reader = try BundleReader(opening: url)
            return (try reader.manifest(), try BundleSummary(reader))
        } catch {
            throw ExportError(.input, FileSystem.display(url), error.description)
        }
    }

    static func inputChanges(_ a: [Manifest.InputFile], _ b: [Manifest.InputFile]) -> [InputChange] {
        let hashA = Dictionary(a.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        let hashB = Dictionary(b.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        return Set(hashA.keys).union(hashB.keys).sorted().compactMap { path in
            switch (hashA[path], hashB[path]) {
            case (nil, let new?): InputChange(path: path, change: .added, sha256A: nil, sha256B: new)
            case (let old?, nil): InputChange(path: path, change: .removed, sha256A: old, sha256B: nil)
            case (let old?, let new?) where old != new: InputChange(path: path, change: .changed, sha256A: old, sha256B: new)
            default: nil
            }
        }
    }

    /// Sources are matched by path; a source counts as changed when its file hash or its set of
    /// tile origins differs.
    static func sourceChanges(_ a: BundleSummary, _ b: BundleSummary) -> [SourceChange] {
        let tilesA = a.originsBySource(), tilesB = b.originsBySource()
        let hashA = Dictionary(zip(a.sourcePaths, a.sourceHashes), uniquingKeysWith: { first, _ in first })
        let hashB = Dictionary(zip(b.sourcePaths, b.sourceHashes), uniquingKeysWith: { first, _ in first })
        return Set(hashA.keys).union(hashB.keys).sorted().compactMap { path in
            let originsA = tilesA[path] ?? [], originsB = tilesB[path] ?? []
            let change: Change
            switch (hashA[path], hashB[path]) {
            case (nil, _): change = .added
            case (_, nil): change = .removed
            case (let x?, let y?) where x != y || originsA != originsB: change = .changed
            default: return nil
            }
            let onlyA = originsA.filter { !originsB.contains($0) }
            let onlyB = originsB.filter { !originsA.contains($0) }
            return SourceChange(path: path, change: change, tilesA: originsA.count, tilesB: originsB.count,
                                tileOrigins: change == .removed ? onlyA : onlyB)
        }
    }

    static func classChanges(_ a: [Manifest.ClassCount], _ b: [Manifest.ClassCount]) -> [ClassChange] {
        countChanges(Dictionary(a.map { ($0.name, $0.tiles) }, uniquingKeysWith: +),
                     Dictionary(b.map { ($0.name, $0.tiles) }, uniquingKeysWith: +))
    }

    /// Sample columns by name, each described as `type, treatment[, not released]`.
    static func sampleColumnChanges(_ a: JSONValue?, _ b: JSONValue?) -> [FieldChange] {
        func columns(_ v: JSONValue?) -> [String: String] {
            guard case .object(let o)? = v, case .array(let list)? = o["columns"] else { return [:] }
            var out: [String: String] = [:]
            for case .object(let c) in list {
                guard case .string(let name)? = c["name"] else { continue }
                let parts = ["type", "treatment"].compactMap { key -> String? in
                    if case .string(let s)? = c[key] { return s } else { return nil }
                }
                out[name] = parts.joined(separator: ", ") + (c["released"] == .bool(false) ? ", not released" : "")
            }
            return out
        }
        let ca = columns(a), cb = columns(b)
        return Set(ca.keys).union(cb.keys).sorted().compactMap { name in
            ca[name] == cb[name] ? nil : FieldChange(key: name, a: ca[name], b: cb[name])
        }
    }

    static func countChanges(_ countA: [String: Int], _ countB: [String: Int]) -> [ClassChange] {
        Set(countA.keys).union(countB.keys).sorted().compactMap { name in
            let x = countA[name] ?? 0, y = countB[name] ?? 0
            let presentInBoth = countA[name] != nil && countB[name] != nil
            return x == y && presentInBoth ? nil : ClassChange(name: name, tilesA: x, tilesB: y)
        }
    }

    static func recipeChanges(_ a: String, _ b: String) -> [FieldChange] {
        let fieldsA = RecipeFields.flatten(a), fieldsB = RecipeFields.flatten(b)
        return Set(fieldsA.keys).union(fieldsB.keys).sorted().compactMap { key in
            fieldsA[key] == fieldsB[key] ? nil : FieldChange(key: key, a: fieldsA[key], b: fieldsB[key])
        }
    }
}

extension BundleSummary {
    /// Tiles per split; empty when the bundle has no splits.
    func splitCounts() -> [String: Int] {
        var out: [String: Int] = [:]
        for s in split where !s.isEmpty { out[s, default: 0] += 1 }
        return out
    }

    /// Tile origins `[x, y]` per source path, in tile order.
    func originsBySource() -> [String: [[Int64]]] {
        var out: [String: [[Int64]]] = [:]
        for i in 0..<tileCount { out[sourcePath(ofTile: i), default: []].append([x[i], y[i]]) }
        return out
    }
}

/// Flattens a recipe's YAML to `dotted.key → scalar` pairs so two recipes compare field by field
/// regardless of formatting, comments and key order.
enum RecipeFields {
    static func flatten(_ text: String) -> [String: String] {
        guard let node = try? Yams.compose(yaml: text) else { return ["(recipe)": "not valid YAML"] }
        var out: [String: String] = [:]
        visit(node, path: "", into: &out)
        return out
    }

    private static func visit(_ node: Node, path: String, into out: inout [String: String]) {
        switch node {
        case .scalar(let scalar):
            out[path] = scalar.string
        case .mapping(let mapping):
            for (key, value) in mapping {
                let name = key.string ?? "?"
                visit(value, path: path.isEmpty ? name : "\(path).\(name)", into: &out)
            }
        case .sequence(let sequence):
            if sequence.allSatisfy({ $0.scalar != nil }) {
                out[path] = "[" + sequence.compactMap { $0.string }.joined(separator: ", ") + "]"
            } else {
                for (i, element) in sequence.enumerated() { visit(element, path: "\(path)[\(i)]", into: &out) }
            }
        case .alias:
            out[path] = "(alias)"
        }
    }
}

import BundleFormat
import Foundation

/// Whether a bundle's dataset version follows from its parent's by the bump rules
/// (specs/bundle-format/v1.md §12): patch for the same records, minor when records are only
/// added, major when records change, disappear or move between splits.
public struct LineageReport: Sendable, Codable, Equatable {
    public enum Bump: String, Sendable, Codable, Comparable {
        case patch, minor, major
        public static func < (a: Bump, b: Bump) -> Bool {
            let order: [Bump] = [.patch, .minor, .major]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    public var parentVersion: String
    public var childVersion: String
    public var parentContentHash: String
    /// The child's `dataset.parent`, if it names one.
    public var declaredParent: String?
    public var added: Int
    public var removed: Int
    public var changed: Int
    public var moved: Int
    /// A few records of each kind, `source (x, y) [variant]`, for the reader.
    public var examples: [String]
    public var requiredBump: Bump
    public var minimumVersion: String
    public var problems: [String]

    public var passed: Bool { problems.isEmpty }
}

public enum Lineage {
    /// A record is one tile: its source path, origin and augmentation variant.
    private struct RecordID: Hashable {
        var source: String
        var x: Int64
        var y: Int64
        var variant: Int32
        var shown: String { "\(source) (\(x), \(y))" + (variant > 0 ? " [variant \(variant)]" : "") }
    }

    /// Compares `child` with `parent` record by record and checks the child's version.
    public static func check(child: URL, parent: URL) throws(ExportError) -> LineageReport {
        do {
            let c = try BundleReader(opening: child), p = try BundleReader(opening: parent)
            let cm = try c.manifest(), pm = try p.manifest()
            let cr = try records(c), pr = try records(p)
            let co = try c.objects(), po = try p.objects()
            var added = 0, removed = 0, changed = 0, moved = 0
            var examples: [String] = []
            func note(_ what: String, _ id: RecordID) { if examples.count < 10 { examples.append("\(what): \(id.shown)") } }
            for (id, ci) in cr.index.sorted(by: { $0.value < $1.value }) {
                guard let pi = pr.index[id] else {
                    added += 1
                    note("added", id)
                    continue
                }
                if cr.split[ci] != pr.split[pi] {
                    moved += 1
                    note("moved from \(pr.split[pi].isEmpty ? "no split" : pr.split[pi]) to \(cr.split[ci].isEmpty ? "no split" : cr.split[ci])", id)
                }
                let same = try cr.label[ci] == pr.label[pi] && c.tileImage(ci) == p.tileImage(pi)
                    && c.instanceMask(ci) == p.instanceMask(pi) && c.semanticMask(ci) == p.semanticMask(pi)
                    && co.objects(ofTile: ci) == po.objects(ofTile: pi) && co.imageLabels(ofTile: ci) == po.imageLabels(ofTile: pi)
                if !same {
                    changed += 1
                    note("changed", id)
                }
            }
            for (id, _) in pr.index.sorted(by: { $0.value < $1.value }) where cr.index[id] == nil {
                removed += 1
                note("removed", id)
            }
            let bump: LineageReport.Bump = changed + removed + moved > 0 ? .major : added > 0 ? .minor : .patch
            var problems: [String] = []
            let shownChild = FileSystem.display(child)
            guard let pv = SemanticVersion(pm.dataset.version), let cv = SemanticVersion(cm.dataset.version) else {
                throw ExportError(.input, shownChild, "a dataset version is not MAJOR.MINOR.PATCH")
            }
            let minimum = switch bump {
            case .major: SemanticVersion("\(pv.major + 1).0.0")!
            case .minor: SemanticVersion("\(pv.major).\(pv.minor + 1).0")!
            case .patch: SemanticVersion("\(pv.major).\(pv.minor).\(pv.patch + 1)")!
            }
            if cv < minimum {
                problems.append("version \(cv) does not follow \(pv) for these changes: a \(bump.rawValue) bump is needed (at least \(minimum))")
            }
            if cm.dataset.parent == nil {
                problems.append("dataset.parent is not set; set it to \(pm.contentHash) in the recipe to record the lineage")
            } else if cm.dataset.parent != pm.contentHash {
                problems.append("dataset.parent is \(cm.dataset.parent!) but the parent given has content hash \(pm.contentHash)")
            }
            return LineageReport(parentVersion: pm.dataset.version, childVersion: cm.dataset.version,
                                 parentContentHash: pm.contentHash, declaredParent: cm.dataset.parent,
                                 added: added, removed: removed, changed: changed, moved: moved, examples: examples,
                                 requiredBump: bump, minimumVersion: minimum.description, problems: problems)
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError(.input, FileSystem.display(child), "cannot compare with the parent: \(error)")
        }
    }

    private struct Records {
        var index: [RecordID: Int]
        var split: [String]
        var label: [Int32]
    }

    private static func records(_ reader: borrowing BundleReader) throws -> Records {
        let tiles = try reader.table(at: BundleLayout.tiles)
        let sources = try reader.table(at: BundleLayout.sources)
        guard case .int32(let source)? = tiles["source"], case .int64(let xs)? = tiles["x"], case .int64(let ys)? = tiles["y"],
              case .int32(let labels)? = tiles["label"], case .string(let paths)? = sources["path"] else {
            throw ExportError(.input, FileSystem.display(reader.url), "the /tiles or /sources table is incomplete; run trainset validate")
        }
        var variants = Array(repeating: Int32(0), count: xs.count)
        if case .int32(let v)? = tiles["augmentation"] { variants = v }
        var splits = Array(repeating: "", count: xs.count)
        if case .string(let s)? = tiles["split"] { splits = s }
        var index: [RecordID: Int] = [:]
        for i in xs.indices {
            index[RecordID(source: paths[Int(source[i])], x: xs[i], y: ys[i], variant: variants[i])] = i
        }
        return Records(index: index, split: splits, label: labels)
    }
}

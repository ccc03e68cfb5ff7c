import ArgumentParser
import BundleFormat
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a reviewer wants first: provenance, counts, classes and shapes.",
        discussion: "Reads only the manifest and dataset headers; use `validate` to check the data itself.")

    @Argument(help: "The bundle (.h5) to describe.", completion: .file(extensions: ["h5"]))
    var bundle: String

    @Flag(help: "Print the manifest and dataset layout as JSON.")
    var json = false

    func run() throws {
        let manifest: Manifest
        let datasets: [DatasetInfo]
        do {
            let reader = try BundleReader(opening: URL(fileURLWithPath: bundle))
            manifest = try reader.manifest()
            datasets = try reader.datasetInfos()
        } catch var error {
            error.file = bundle  // as the user typed it
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try InspectJSON.render(manifest: manifest, datasets: datasets))
            return
        }
        print(InspectText.render(bundle: bundle, manifest: manifest, datasets: datasets))
    }
}

enum InspectText {
    static func render(bundle: String, manifest m: Manifest, datasets: [DatasetInfo]) -> String {
        var lines: [String] = []
        lines.append("\(bundle)")
        lines.append("  dataset        \(m.dataset.name) \(m.dataset.version)")
        lines.append("  format         \(m.format.name) \(m.format.version)")
        lines.append("  content hash   \(m.contentHash)")
        if let shard = m.shard {
            lines.append("  shard          \(shard.index) of \(shard.count) (plan \(shard.planID)): its rows begin at tile "
                         + "\(shard.firstTile), source \(shard.firstSource) of the merged bundle")
        }
        if let merge = m.merge {
            let held = merge.layout == "virtual" ? "tile data read from the shard files next to it" : "tile data copied in"
            lines.append("  merged from    \(merge.shards.count) shards of plan \(merge.planID) (\(merge.layout): \(held))")
        }
        lines.append("  made by        \(m.tool.name) \(m.tool.version) (commit \(m.tool.gitCommit))")
        lines.append("  libraries      " + m.libraries.map { "\($0.name) \($0.version)" }.joined(separator: ", "))
        lines.append("  recipe         \(m.recipe.path) (sha256 \(m.recipe.sha256.prefix(16))…), seed \(m.seed)")
        let bytes = m.inputs.reduce(Int64(0)) { $0 + $1.bytes }
        lines.append("  inputs         \(m.inputs.count) files, \(bytes) bytes, each with its SHA-256 in the manifest")
        lines.append("  tiles          \(m.counts.tiles) from \(m.counts.sources) images"
                     + " (\(m.tiling.tileWidth)x\(m.tiling.tileHeight), stride \(m.tiling.strideX)x\(m.tiling.strideY), edge \(m.tiling.edge))")
        lines.append("  channels       \(m.channels.names.joined(separator: ", ")) (\(m.channels.pixelType.rawValue), from source channels \(m.channels.sourceIndices.map(String.init).joined(separator: ",")))")
        if let l = m.imageLabels {
            lines.append("  classes        multi-label image classes from \(l.columns.count) columns; \(l.unlabeledSources) images have none")
            for c in l.perClass {
                lines.append("    \(String(c.id).leftPad(3))  \(c.name.rightPad(28)) \(String(c.tiles).leftPad(7)) tiles \(String(c.sources).leftPad(5)) images")
            }
        } else if let o = m.objects, m.counts.unlabeledTiles == m.counts.tiles {
            // Tiles without image labels: a class is described by its objects.
            lines.append("  classes")
            for c in o.perClass {
                let rows = [("boxes", o.boxes, c.boxes), ("points", o.points, c.points), ("polygons", o.polygons, c.polygons)]
                    .filter { $0.1 > 0 }
                lines.append("    \(String(c.id).leftPad(3))  \(c.name.rightPad(28)) " + rows.map { "\(String($0.2).leftPad(7)) \($0.0)" }.joined(separator: " "))
            }
        } else if !m.counts.perClass.isEmpty {
            lines.append("  classes")
            for c in m.counts.perClass {
                lines.append("    \(String(c.id).leftPad(3))  \(c.name.rightPad(28)) \(String(c.tiles).leftPad(7)) tiles \(String(c.sources).leftPad(5)) images")
            }
            if m.counts.unlabeledTiles > 0 { lines.append("         (unlabeled)                  \(String(m.counts.unlabeledTiles).leftPad(7)) tiles") }
        }
        if let o = m.objects {
            let rows = [("boxes", o.boxes), ("points", o.points), ("polygons", o.polygons)].filter { $0.1 > 0 }
                .map { "\($0.1) \($0.0)" }
            let from = o.source == "instance_masks" ? "derived from the instance masks" : "from \(o.source) \(o.path)"
            lines.append("  objects        \(rows.isEmpty ? "none" : rows.joined(separator: ", ")) \(from)"
                         + (o.source == "instance_masks" ? "" : "; \(o.kept) of \(o.read) annotated objects kept")
                         + (o.deriveBoxes && o.source != "instance_masks" ? ", boxes derived from the instance masks" : "")
                         + (o.rasterize == "none" ? "" : ", polygons painted into \(o.rasterize) masks"))
            lines.append("                 tile rule: a cut box keeps >= \(number(o.minArea)) px and >= \(number(o.minVisibility)) of its area; "
                         + "geometry policy \(o.geometryPolicy): \(o.issues.count) issues")
            for issue in o.issues.prefix(5) { lines.append("    \(issue)") }
            if o.issues.count > 5 { lines.append("    … \(o.issues.count - 5) more in the manifest's objects.issues") }
            if !o.skipped.isEmpty { lines.append("                 \(o.skipped.count) objects left out for their class") }
        }
        if let match = m.matching {
            lines.append("  matching       keys \(match.keys.joined(separator: " + ")): \(match.matched) matched, "
                         + "\(match.rowsWithoutImage.count) rows without image, \(match.imagesWithoutRow.count) images without row, "
                         + "\(match.skippedUnlabeled.count) skipped as unlabeled")
        }
        if case .object(let samples)? = m.samples {
            lines.append(contentsOf: samplesLines(samples))
        }
        lines.append("  datasets")
        for d in datasets {
            lines.append("    \(d.path.rightPad(20)) \(d.dtype.rightPad(8)) [\(d.shape.map(String.init).joined(separator: ", "))]"
                         + (d.chunks.isEmpty ? "" : " chunks [\(d.chunks.map(String.init).joined(separator: ", "))]")
                         + (d.virtualFiles.isEmpty ? "" : " virtual over \(d.virtualFiles.count) shard files")
                         + (d.filters.isEmpty ? "" : " " + d.filters.joined(separator: "+")))
        }
        for w in m.warnings { lines.append("  warning        \(w)") }
        return lines.joined(separator: "\n")
    }
}

extension InspectText {
    /// `1` rather than `1.0`, `0.25` as it is.
    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }

    /// The reviewer's questions about linked sample data: which columns left, treated how, and
    /// how the splits came out.
    static func samplesLines(_ s: [String: JSONValue]) -> [String] {
        var lines: [String] = []
        if case .array(let columns)? = s["columns"] {
            let described = columns.compactMap { column -> String? in
                guard case .object(let c) = column, case .string(let name)? = c["name"],
                      case .string(let treatment)? = c["treatment"] else { return nil }
                return c["released"] == .bool(false) ? "\(name) (\(treatment), not released)" : "\(name) (\(treatment))"
            }
            lines.append("  samples        \(described.count) columns: " + described.joined(separator: ", "))
        }
        if case .object(let splits)? = s["splits"], case .array(let counts)? = splits["counts"],
           case .string(let group)? = splits["group_column"] {
            let parts = counts.compactMap { entry -> String? in
                guard case .object(let c) = entry, case .string(let name)? = c["split"],
                      case .number(let groups)? = c["groups"], case .number(let records)? = c["records"] else { return nil }
                return "\(name) \(Int(records)) images / \(Int(groups)) groups"
            }
            lines.append("  splits         by \(group): " + parts.joined(separator: ", "))
        }
        return lines
    }
}

enum InspectJSON {
    static func render(manifest: Manifest, datasets: [DatasetInfo]) throws -> String {
        let manifestObject = try JSONSerialization.jsonObject(with: manifest.jsonData())
        let layout = datasets.map { d -> [String: Any] in
            ["path": d.path, "dtype": d.dtype, "shape": d.shape, "chunks": d.chunks, "filters": d.filters,
             "virtual_files": d.virtualFiles]
        }
        let data = try JSONSerialization.data(withJSONObject: ["manifest": manifestObject, "datasets": layout],
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

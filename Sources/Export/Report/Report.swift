import BundleFormat
import Foundation
import LabelSchema
import Raster

/// `trainset report`: one self-contained HTML page a reviewer opens first — a contact sheet of
/// tiles per class with their instance outlines, class counts per split, tiles per source image
/// and the label mapping report. Thumbnails are embedded as PNG data URIs, so the file can be
/// mailed or archived alone.
public enum Report {
    /// Builds the page for `bundle`, with up to `perClass` tiles per class spread evenly over
    /// the class's tiles (deterministic, so the same bundle gives the same page).
    public static func html(bundle: URL, perClass: Int = 8) throws(ExportError) -> String {
        let shown = FileSystem.display(bundle)
        do {
            let reader = try BundleReader(opening: bundle)
            let m = try reader.manifest()
            let tiles = try reader.table(at: BundleLayout.tiles)
            let sources = try reader.table(at: BundleLayout.sources)
            guard case .int32(let label)? = tiles["label"], case .int32(let source)? = tiles["source"],
                  case .int64(let xs)? = tiles["x"], case .int64(let ys)? = tiles["y"],
                  case .string(let paths)? = sources["path"] else {
                throw ExportError(.input, shown, "the /tiles or /sources table is incomplete; run trainset validate")
            }
            var splits = Array(repeating: "", count: label.count)
            if case .string(let s)? = tiles["split"] { splits = s }

            var body = "<h1>\(escape(m.dataset.name)) \(escape(m.dataset.version))</h1>\n"
            body += "<p class=meta>\(m.counts.tiles) tiles of \(m.tiling.tileWidth)×\(m.tiling.tileHeight) from "
                + "\(m.counts.sources) images · channels \(escape(m.channels.names.joined(separator: ", "))) "
                + "(\(m.channels.pixelType.rawValue)) · content hash <code>\(m.contentHash)</code> · "
                + "trainset \(escape(m.tool.version)) (\(escape(String(m.tool.gitCommit.prefix(12)))))</p>\n"

            // Contact sheet: one row per class (or one row of all tiles when there are no classes).
            // Tiles of an object bundle without tile labels are grouped by the classes of their objects.
            let objects = try reader.objects()
            let colours = try classColours(reader)
            let tileObjects = objects.kinds.isEmpty ? nil : label.indices.map { objects.objects(ofTile: $0) }
            var groups: [(name: String, tiles: [Int])] = m.counts.perClass.isEmpty
                ? [("all tiles", Array(label.indices))]
                : m.counts.perClass.map { c in (c.name, label.indices.filter { label[$0] == Int32(c.id) }) }
                    + (label.contains(-1) ? [("unlabeled", label.indices.filter { label[$0] == -1 })] : [])
            if objects.hasImageLabels {
                // Multi-label: a tile appears in the row of every class it carries.
                let carried = label.indices.map { Set(objects.imageLabels(ofTile: $0)) }
                groups = m.counts.perClass.map { c in (c.name, label.indices.filter { carried[$0].contains(Int32(c.id)) }) }
                    + [("no class", label.indices.filter { carried[$0].isEmpty })]
            } else if let tileObjects, !label.contains(where: { $0 != -1 }) {
                func classes(_ t: TileObjects) -> Set<Int32> {
                    Set(t.boxes.map(\.classID) + t.points.map(\.classID) + t.polygons.map(\.classID))
                }
                groups = m.counts.perClass.map { c in ("\(c.name) (objects)", label.indices.filter { classes(tileObjects[$0]).contains(Int32(c.id)) }) }
                    + [("no objects", label.indices.filter { classes(tileObjects[$0]).isEmpty })]
            }
            body += "<h2>Tiles</h2>\n"
            let picked = groups.map { spread($0.tiles, count: perClass) }
            var images: [Int: ImageBuffer] = [:]
            for i in picked.joined() { images[i] = try reader.tileImage(i) }
            let limits = Thumbnail.limits(picked.joined().map { images[$0]! })
            for (group, chosen) in zip(groups, picked) {
                body += "<div class=row><div class=cls>\(escape(group.name))<br><small>\(group.tiles.count) tiles</small></div>"
                for i in chosen {
                    let thumb = Thumbnail(images[i]!, instances: try reader.instanceMask(i), limits: limits,
                                          objects: tileObjects?[i], colours: colours)
                    let png = PNGEncoder.encode(width: thumb.width, height: thumb.height, rgb: thumb.rgb).base64EncodedString()
                    let title = "tile \(i): \(paths[Int(source[i])]) at (\(xs[i]), \(ys[i]))"
                        + (splits[i].isEmpty ? "" : ", \(splits[i])")
                    body += "<img data-tile=\(i) width=\(thumb.width) height=\(thumb.height) title=\"\(escape(title))\" "
                        + "src=\"data:image/png;base64,\(png)\">"
                }
                body += "</div>\n"
            }

            // Class counts per split.
            let splitNames = Array(Set(splits)).sorted()
            body += "<h2>Classes per split</h2>\n<table><tr><th>class</th>"
                + splitNames.map { "<th>\($0.isEmpty ? "(no split)" : escape($0))</th>" }.joined() + "<th>all</th></tr>\n"
            for group in groups {
                let counts = splitNames.map { s in group.tiles.filter { splits[$0] == s }.count }
                body += "<tr><td>\(escape(group.name))</td>" + counts.map { "<td class=n>\($0)</td>" }.joined()
                    + "<td class=n>\(group.tiles.count)</td></tr>\n"
            }
            body += "</table>\n"

            // Tiles per source image.
            var perSource = Array(repeating: 0, count: paths.count)
            for s in source { perSource[Int(s)] += 1 }
            body += "<h2>Tiles per source image</h2>\n<table><tr><th>source</th><th>tiles</th></tr>\n"
            for (p, n) in zip(paths, perSource) { body += "<tr><td>\(escape(p))</td><td class=n>\(n)</td></tr>\n" }
            body += "</table>\n"

            if let mapping = m.labelMapping {
                body += "<h2>Label mapping</h2>\n<table><tr><th>source value</th><th>class</th><th>count</th><th>first seen</th></tr>\n"
                for e in mapping.entries {
                    body += "<tr><td>\(escape(e.value.isEmpty ? "(empty)" : e.value))</td>"
                        + "<td>\(escape(e.className ?? "unmapped"))</td><td class=n>\(e.count)</td>"
                        + "<td>\(escape(e.locations.first ?? ""))</td></tr>\n"
                }
                body += "</table>\n"
            }
            return page(title: "\(m.dataset.name) \(m.dataset.version)", body: body)
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError(.input, shown, "\(error)")
        }
    }

    /// Class id → colour: the schema's `/classes/colour` (`#RRGGBB`) when present, else a fixed
    /// palette by class position.
    static func classColours(_ reader: borrowing BundleReader) throws(BundleError) -> [Int32: (UInt8, UInt8, UInt8)] {
        let classes = try reader.table(at: BundleLayout.classes)
        guard case .int32(let ids)? = classes["id"] else { return [:] }
        let palette: [(UInt8, UInt8, UInt8)] = [(0, 255, 255), (255, 0, 255), (0, 255, 0), (255, 128, 0), (255, 255, 0), (0, 128, 255)]
        var out: [Int32: (UInt8, UInt8, UInt8)] = [:]
        for (k, id) in ids.enumerated() { out[id] = palette[k % palette.count] }
        if case .string(let hex)? = classes["colour"] {
            for (id, h) in zip(ids, hex) {
                guard h.count == 7, h.hasPrefix("#"), let v = UInt32(h.dropFirst(), radix: 16) else { continue }
                out[id] = (UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
            }
        }
        return out
    }

    /// `count` indices spread evenly over `all`, first and last included.
    static func spread(_ all: [Int], count: Int) -> [Int] {
        guard all.count > count, count > 1 else { return Array(all.prefix(max(count, 0))) }
        return (0..<count).map { all[$0 * (all.count - 1) / (count - 1)] }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang=en><head><meta charset=utf-8><title>\(escape(title))</title>
        <style>
        body { font: 14px/1.4 sans-serif; margin: 16px; background: #fff; color: #222; }
        .meta { color: #555; } code { font-size: 12px; }
        .row { display: flex; align-items: center; gap: 6px; margin: 6px 0; }
        .cls { width: 160px; font-weight: bold; }
        img { image-rendering: pixelated; border: 1px solid #ccc; }
        table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 2px 8px; word-break: break-all; }
        td.n { text-align: right; }
        </style></head>
        <body>
        \(body)</body></html>

        """
    }
}

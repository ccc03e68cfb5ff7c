import Crypto
import Foundation
import Raster

/// The files published next to a bundle so the ML world can find and read it: a tiles table in
/// CSV (what Croissant readers can load), Croissant 1.1 JSON-LD metadata and a Markdown
/// datasheet. All three are derived from the bundle alone, so they can be regenerated.
public struct PublicationFiles: Sendable {
    /// `<bundle>.tiles.csv`: one row per tile, in tile order.
    public var tilesCSV: Data
    /// `<bundle>.croissant.json`.
    public var croissant: Data
    /// `<bundle>.datasheet.md`.
    public var datasheet: String

    /// Sidecar names for a bundle file name.
    public static func names(forBundle name: String) -> (tiles: String, croissant: String, datasheet: String) {
        ("\(name).tiles.csv", "\(name).croissant.json", "\(name).datasheet.md")
    }

    /// Builds the sidecars of the bundle at `bundle`, to be published under the file name
    /// `publishedName` (the bundle may still sit under its temporary name). `today` fills
    /// `datePublished` when the recipe did not give one. `bundleSHA256`, the file's digest when
    /// the caller already read it (`ValidationReport.fileSHA256`), saves reading the file again.
    public static func make(bundle: URL, publishedName: String, today: String,
                            bundleSHA256: String? = nil) throws(BundleError) -> PublicationFiles {
        let reader = try BundleReader(opening: bundle)
        let manifest = try reader.manifest()
        let tiles = try TileRows(reader)
        let csv = tiles.csv()
        let bundleSHA: String
        if let bundleSHA256 { bundleSHA = bundleSHA256 } else { bundleSHA = try FileHashing.sha256(of: bundle) }
        let names = names(forBundle: publishedName)
        let croissant = CroissantDocument(
            manifest: manifest, tiles: tiles, bundleName: publishedName, bundleSHA256: bundleSHA,
            tilesName: names.tiles, tilesSHA256: lowercaseHex(SHA256.hash(data: csv)), today: today)
        return PublicationFiles(tilesCSV: csv, croissant: try croissant.json(),
                                datasheet: Datasheet.render(manifest: manifest, tiles: tiles, bundleName: publishedName))
    }
}

/// The per-tile facts the sidecars publish.
struct TileRows {
    var sourcePath: [String]
    var x: [Int64]
    var y: [Int64]
    var width: [Int32]
    var height: [Int32]
    var label: [Int32]
    var classNames: [Int32: String]
    /// Per-tile split, when the bundle assigns splits.
    var split: [String]?

    var count: Int { x.count }

    init(_ reader: borrowing BundleReader) throws(BundleError) {
        let tiles = try reader.table(at: BundleLayout.tiles)
        let sources = try reader.table(at: BundleLayout.sources)
        let classes = try reader.table(at: BundleLayout.classes)
        guard case .int32(let source) = tiles["source"], case .int64(let xs) = tiles["x"],
              case .int64(let ys) = tiles["y"], case .int32(let ws) = tiles["width"],
              case .int32(let hs) = tiles["height"], case .int32(let labels) = tiles["label"],
              case .string(let paths) = sources["path"],
              case .int32(let ids) = classes["id"], case .string(let names) = classes["name"] else {
            throw BundleError(code: .format, message: "a /tiles, /sources or /classes column is missing or mistyped; run trainset validate",
                              file: reader.url.path)
        }
        sourcePath = source.map { paths.indices.contains(Int($0)) ? paths[Int($0)] : "" }
        x = xs
        y = ys
        width = ws
        height = hs
        label = labels
        classNames = Dictionary(zip(ids, names), uniquingKeysWith: { first, _ in first })
        if case .string(let splits) = tiles["split"] { split = splits }
    }

    /// Split names in order of first appearance.
    var splitNames: [String] {
        var seen: [String] = []
        for s in split ?? [] where !s.isEmpty && !seen.contains(s) { seen.append(s) }
        return seen
    }

    /// RFC 4180 CSV with a header row; fields quoted only when they need it.
    func csv() -> Data {
        var text = "tile,source,x,y,width,height,label,class" + (split == nil ? "" : ",split") + "\n"
        for i in 0..<count {
            var fields = [String(i), sourcePath[i], String(x[i]), String(y[i]), String(width[i]), String(height[i]),
                          String(label[i]), classNames[label[i]] ?? ""]
            if let split { fields.append(split[i]) }
            text += fields.map(Self.quoted).joined(separator: ",") + "\n"
        }
        return Data(text.utf8)
    }

    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

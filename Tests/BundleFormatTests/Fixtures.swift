import BundleFormat
import Foundation
import Raster

/// A fresh directory per test, removed afterwards.
final class TempDir {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("bundletests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}

/// A small bundle's full content: 3 tiles of 2×8×8 uint16 with instance masks, cut from two
/// source images (a 12×8 image giving two tiles, the second padded, and an 8×8 image).
struct SmallBundle {
    static let n = 3, c = 2, h = 8, w = 8

    static let spec = BundleSpec(tileCount: n, channels: c, tileWidth: w, tileHeight: h, pixelType: .uint16,
                                 channelNames: ["DAPI", "µ-GFP"], instanceMasks: true, semanticMasks: false,
                                 deflateLevel: 6, shuffle: true)

    static func image(_ i: Int) -> ImageBuffer {
        let values = (0..<(c * h * w)).map { UInt16(truncatingIfNeeded: i * 4099 + $0 * 37) }
        return ImageBuffer(width: w, height: h, channels: c, pixels: .uint16(values))
    }

    static func mask(_ i: Int) -> LabelImage {
        LabelImage(width: w, height: h, values: (0..<(h * w)).map { UInt32(($0 / 16 + i) % 3) })
    }

    static let tiles = Table(path: "/tiles", columns: [
        Column("source", .int32([0, 0, 1])),
        Column("x", .int64([0, 8, 0])),
        Column("y", .int64([0, 0, 0])),
        Column("width", .int32([8, 8, 8])),
        Column("height", .int32([8, 8, 8])),
        Column("valid_width", .int32([8, 4, 8])),
        Column("valid_height", .int32([8, 8, 8])),
        Column("label", .int32([1, 1, -1])),
    ])

    static let classes = Table(path: "/classes", columns: [
        Column("id", .int32([0, 1])),
        Column("name", .string(["background", "nucleus"])),
    ])

    static let sources = Table(path: "/sources", columns: [
        Column("path", .string(["plate1/a01.tif", "plate1/a02 µ.tif"])),
        Column("sha256", .string([String(repeating: "a", count: 64), String(repeating: "b", count: 64)])),
        Column("key", .string(["a01", "a02"])),
        Column("width", .int64([12, 8])),
        Column("height", .int64([8, 8])),
        Column("channels", .int32([2, 2])),
        Column("label", .int32([1, -1])),
    ])

    static var manifest: Manifest {
        Manifest(tool: .init(name: "trainset", version: "0.0.0-test", gitCommit: "test"),
                 libraries: [.init(name: "hdf5", version: "1.10.8")],
                 recipe: .init(path: "recipe.yaml", sha256: String(repeating: "c", count: 64), text: "seed: 1\n"),
                 dataset: .init(name: "small", version: "1"), seed: 1,
                 inputs: [], counts: .init(tiles: 3, sources: 2, unlabeledTiles: 1,
                                           perClass: [.init(id: 0, name: "background", tiles: 0, sources: 0),
                                                      .init(id: 1, name: "nucleus", tiles: 2, sources: 1)]),
                 matching: nil, labelMapping: nil,
                 tiling: .init(tileWidth: 8, tileHeight: 8, strideX: 8, strideY: 8, edge: "constant", padValue: 0),
                 channels: .init(names: ["DAPI", "µ-GFP"], sourceIndices: [0, 1], pixelType: .uint16, palette: nil),
                 warnings: [])
    }

    /// Writes the bundle and returns the completed manifest.
    @discardableResult
    static func write(to url: URL, tables: [Table] = [tiles, classes, sources], manifest: Manifest = manifest) throws -> Manifest {
        var writer = try BundleWriter(creating: url, spec: spec)
        for i in 0..<n { try writer.appendTile(image: image(i), instanceMask: mask(i), semanticMask: nil) }
        for t in tables { try writer.writeTable(t) }
        return try writer.finish(manifest: manifest)
    }
}

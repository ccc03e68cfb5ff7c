import Crypto
import Foundation
import Raster
import Tiling

/// Augmentation in the export: tile keys that address the random streams, and one augmented
/// variant of a grid tile (specs/augmentation/v1.md).
enum Augmentation {
    /// The tile's identity, from content rather than names or order (DESIGN: renaming or
    /// reordering inputs must not change the draws): SHA-256 over the source file's SHA-256,
    /// the pyramid level (0) and the tile rectangle, as lower-case hex.
    static func tileKey(sourceSHA256: String, tile: Tile) -> String {
        let r = tile.rect
        let text = "trainset/tile/v1\u{0}\(sourceSHA256)\u{0}0\u{0}\(r.x),\(r.y),\(r.width),\(r.height)"
        return lowercaseHex(SHA256.hash(data: Data(text.utf8)))
    }

    /// The bundle's pixel type: the source's, or float32 when the pipeline normalizes.
    static func outputPixelType(_ pipeline: AugmentationPipeline?, input: PixelType, channels: Int,
                                grid: TileGridSpec) -> PixelType {
        guard let pipeline else { return input }
        // The normalize step is always drawn, so any draw tells the type of every tile.
        return pipeline.draw(RandomStream(seed: 0, tileKey: 0, augmentation: 0), channels: channels,
                             tileWidth: grid.tileWidth, tileHeight: grid.tileHeight).outputPixelType(input: input)
    }

    /// Draws variant `k` of `tile` from (seed, tile key, k).
    static func draw(_ pipeline: AugmentationPipeline, seed: UInt64, key: String, variant: Int, channels: Int,
                     grid: TileGridSpec) -> DrawnAugmentation {
        let stream = RandomStream(seed: seed, tileKey: RandomStream.tileKey(fromHex: key)!, augmentation: UInt32(variant))
        return pipeline.draw(stream, channels: channels, tileWidth: grid.tileWidth, tileHeight: grid.tileHeight)
    }

    /// The drawn parameters as stored in `/tiles/parameters`: JSON with sorted keys.
    static func json(_ drawn: DrawnAugmentation) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A DrawnAugmentation holds only numbers and strings; encoding cannot fail.
        return String(decoding: try! encoder.encode(drawn), as: UTF8.self)
    }
}

extension ExportPlan {
    /// The SHA-256 recorded for a source when it was planned.
    func sha256(of source: Source) -> String {
        inputs.first { $0.path == source.path }?.sha256 ?? ""
    }
}

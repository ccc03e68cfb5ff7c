import Foundation
import ImageFormats
import Raster
@testable import Tiling

/// ../shared/data found by walking up from this file, so a fresh clone at any depth works.
enum SharedData {
    static let root: URL? = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared/data")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }()
    static var available: Bool { root != nil }
}

/// A real DSB 2018 image (first `channels` channels, cropped to `crop`) with its instance mask
/// assembled from the per-nucleus PNGs (id = position of the file in name order, from 1), a
/// semantic mask (1 where any nucleus), a box per instance and a point at each centroid.
func dsbSample(_ id: String, crop: PixelRect, channels: Int = 3) throws -> SampleTargets {
    let folder = SharedData.root!.appendingPathComponent("dsb2018-nuclei-instance-masks/stage1_train/\(id)")
    let full = try ImageReader.read(folder.appendingPathComponent("images/\(id).png"))
    let tile = Tile(rect: crop, valid: crop, row: 0, column: 0)
    let image = TileExtractor.selectChannels(TileExtractor.extract(full, tile: tile, edge: .drop, padValue: 0),
                                             Array(0 ..< channels))
    let maskFiles = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("masks").path)
        .filter { $0.hasSuffix(".png") }.sorted()
    var instances = LabelImage(width: crop.width, height: crop.height)
    for (k, name) in maskFiles.enumerated() {
        let mask = try ImageReader.read(folder.appendingPathComponent("masks/\(name)"))
        let cut = TileExtractor.extract(mask, tile: tile, edge: .drop, padValue: 0)
        guard case .uint8(let v) = cut.pixels else { continue }
        for i in 0 ..< crop.width * crop.height where v[i] > 0 { instances.values[i] = UInt32(k + 1) }
    }
    let semantic = LabelImage(width: crop.width, height: crop.height, values: instances.values.map { $0 > 0 ? 1 : 0 })
    let boxes = instanceBoxes(instances).map { item in
        LabeledBox(Box(xMin: Double(item.box.x), yMin: Double(item.box.y), xMax: Double(item.box.x + item.box.width),
                       yMax: Double(item.box.y + item.box.height)), label: Int(item.id), instance: item.id)
    }
    let points = boxes.map { LabeledPoint(Point2D(x: ($0.box.xMin + $0.box.xMax) / 2, y: ($0.box.yMin + $0.box.yMax) / 2),
                                          label: $0.label) }
    // Each box outline as a polygon, with a hole in its middle third.
    let polygons = boxes.prefix(5).map { l in
        let b = l.box, w = b.width / 3, h = b.height / 3
        func ring(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> [Point2D] {
            [Point2D(x: x0, y: y0), Point2D(x: x1, y: y0), Point2D(x: x1, y: y1), Point2D(x: x0, y: y1)]
        }
        return LabeledPolygon(Polygon(exterior: ring(b.xMin, b.yMin, b.xMax, b.yMax),
                                      holes: [ring(b.xMin + w, b.yMin + h, b.xMax - w, b.yMax - h)]), label: l.label)
    }
    return SampleTargets(image: image, semantic: semantic, instances: instances, boxes: boxes, points: points,
                         polygons: polygons)
}

/// A tile covering all of `sample`.
func wholeTile(_ sample: SampleTargets) -> Tile {
    let r = PixelRect(x: 0, y: 0, width: sample.image.width, height: sample.image.height)
    return Tile(rect: r, valid: r, row: 0, column: 0)
}

/// The augmented tile as a new sample, so that transforms can be chained.
func asSample(_ t: AugmentedTile) -> SampleTargets {
    SampleTargets(image: t.image, semantic: t.semantic, instances: t.instances, boxes: t.boxes, points: t.points,
                  polygons: t.polygons)
}

/// Applies drawn steps to the whole of `sample`.
func run(_ steps: [DrawnStep], _ sample: SampleTargets, border: EdgePolicy = .reflect) throws -> AugmentedTile {
    try Augmenter.apply(DrawnAugmentation(steps: steps), to: sample, tile: wholeTile(sample), border: border,
                        padValue: 0, boxFilter: BoxFilter(minArea: 0, minVisibility: 0))
}

/// A single-channel float image from rows.
func floatImage(_ rows: [[Float]]) -> ImageBuffer {
    ImageBuffer(width: rows[0].count, height: rows.count, channels: 1, pixels: .float32(rows.flatMap { $0 }))
}

func floats(_ image: ImageBuffer) -> [Float] {
    guard case .float32(let v) = image.pixels else { preconditionFailure("expected float32") }
    return v
}

let dsbFluorescence = "00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552"
let dsbStained = "00ae65c1c6631ae6f2be1a449902976e6eb8483bf6b0740d00530220832c6d3e"

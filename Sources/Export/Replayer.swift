import BundleFormat
import Foundation
import Raster
import Tiling

/// What `trainset replay` found for one tile.
public struct ReplayResult: Sendable, Codable, Equatable {
    public var tile: Int
    public var source: String
    public var x: Int64
    public var y: Int64
    /// The augmented variant, or nil for a bundle without augmentation.
    public var variant: Int?
    /// Drawing again from (seed, tile key, variant) gives the stored parameters.
    public var parametersMatch: Bool
    /// The regenerated pixels and masks equal the stored ones exactly.
    public var pixelsMatch: Bool
    public var masksMatch: Bool
    /// The regenerated boxes, points, polygons and image labels equal the stored ones.
    public var objectsMatch: Bool

    public var passed: Bool { parametersMatch && pixelsMatch && masksMatch && objectsMatch }
}

/// Regenerates tiles from the inputs, the recipe embedded in the bundle and the tiles' stored
/// augmentation parameters, and compares them with the stored tiles.
public enum Replayer {
    /// Replays `tiles` (indices into `/images`) of `bundle`, reading the inputs under `inputs`.
    /// A source that export reads by regions (larger than `regionThreshold` decoded bytes; see
    /// `RegionReads`) is read here too by regions: only the pixels each replayed tile reads, so
    /// replaying a tile of a whole-slide image does not decode the slide.
    public static func replay(bundle: URL, inputs: URL, tiles indices: [Int],
                              regionThreshold: Int = ExportOptions.defaultRegionThreshold) throws(ExportError) -> [ReplayResult] {
        let shown = FileSystem.display(bundle)
        do {
            let reader = try BundleReader(opening: bundle)
            let manifest = try reader.manifest()
            let table = try reader.table(at: BundleLayout.tiles)
            let sourcePaths = try reader.table(at: BundleLayout.sources)["path"]
            guard case .int32(let source)? = table["source"], case .int64(let xs)? = table["x"],
                  case .int64(let ys)? = table["y"], case .string(let paths)? = sourcePaths else {
                throw ExportError(.input, shown, "the /tiles or /sources table is incomplete; run trainset validate")
            }
            for i in indices where !(0..<reader.tileCount).contains(i) {
                throw ExportError(.input, shown, "tile \(i) does not exist (the bundle has tiles 0…\(reader.tileCount - 1))")
            }
            let recipe = try Recipe.parse(manifest.recipe.text, file: "\(shown)#/manifest/recipe")
            let plan = try Planner.plan(recipe: recipe, text: manifest.recipe.text,
                                        recipeURL: URL(fileURLWithPath: manifest.recipe.path),
                                        root: inputs.standardizedFileURL,
                                        output: FileManager.default.temporaryDirectory.appendingPathComponent("unused.h5"),
                                        overwrite: true)
            var variants: [Int32] = [], stored: [String] = []
            if recipe.augmentation != nil {
                guard case .int32(let v)? = table["augmentation"], case .string(let p)? = table["parameters"] else {
                    throw ExportError(.input, shown, "the recipe augments but /tiles lacks augmentation or parameters")
                }
                (variants, stored) = (v, p)
            }
            var results: [ReplayResult] = []
            let storedObjects = try reader.objects()
            var cache: (path: String, targets: SampleTargets)?
            // Deciding reads a source's file headers: once per source, not once per tile.
            var readByRegions: [String: Bool] = [:]
            for i in indices {
                let path = paths[Int(source[i])]
                guard let planned = plan.sources.first(where: { $0.path == path }),
                      let tile = planned.tiles.first(where: { $0.rect.x == Int(xs[i]) && $0.rect.y == Int(ys[i]) }) else {
                    throw ExportError(.mismatch, shown, "tile \(i): the recipe no longer plans \(path) at (\(xs[i]), \(ys[i]))")
                }
                let drawn = try recipe.augmentation.map { _ in
                    try JSONDecoder().decode(DrawnAugmentation.self, from: Data(stored[i].utf8))
                }
                let targets: SampleTargets
                let regions = try readByRegions[path]
                    ?? RegionReads.usesRegions(planned, plan: plan, threshold: regionThreshold)
                readByRegions[path] = regions
                if regions {
                    let footprint = TileOutputs.footprint(plan, source: planned, tile: tile, drawn: drawn)
                    let read = try RegionReads.read(planned, rect: footprint ?? RegionReads.noPixels, plan: plan)
                    targets = drawn == nil ? read : read.preparedForWarp()
                } else {
                    if cache?.path != path {
                        cache = (path, try Exporter.loadTargets(planned, plan: plan, forWarp: drawn != nil))
                    }
                    targets = cache!.targets
                }
                var result = ReplayResult(tile: i, source: path, x: xs[i], y: ys[i], variant: nil,
                                          parametersMatch: true, pixelsMatch: false, masksMatch: false, objectsMatch: false)
                if let pipeline = recipe.augmentation {
                    let k = Int(variants[i])
                    result.variant = k
                    let key = Augmentation.tileKey(sourceSHA256: plan.sha256(of: planned), tile: tile)
                    let redrawn = Augmentation.draw(pipeline, seed: recipe.seed, key: key, variant: k,
                                                    channels: targets.channels, grid: plan.grid)
                    result.parametersMatch = Augmentation.json(redrawn) == stored[i]
                }
                // The stored parameters, not the redrawn ones: a tile whose parameters differ is
                // still checked against what was applied to it.
                let row = try TileOutputs.produce(plan, source: planned, targets, tile: tile, drawn: drawn)
                let (image, instances, semantic, objects) = (row.image, row.instances, row.semantic, row.objects)
                result.pixelsMatch = try reader.tileImage(i) == image
                result.masksMatch = try reader.instanceMask(i) == instances && reader.semanticMask(i) == semantic
                result.objectsMatch = (objects?.stored ?? TileObjects()) == storedObjects.objects(ofTile: i)
                    && planned.imageLabels == storedObjects.imageLabels(ofTile: i)
                results.append(result)
            }
            return results
        } catch let error as ExportError {
            throw error
        } catch let error as BundleError {
            throw ExportError(.input, shown, error.description)
        } catch {
            throw ExportError(.input, shown, "replay failed: \(error)")
        }
    }
}


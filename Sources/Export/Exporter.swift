import AVDB
import BundleFormat
import Foundation
import ImageFormats
import Raster
import Tiling

/// What an export reports while it runs, for progress bars and logs.
public enum ExportEvent: Sendable {
    case planned(sources: Int, tiles: Int, output: String)
    case sourceDone(index: Int, of: Int, path: String, tiles: Int)
    case validating(temporary: String)
    case published(bundle: String, sidecar: String)
}

/// A finished export: where the bundle is and what its manifest says.
public struct ExportResult: Sendable {
    public var bundle: URL
    public var sidecar: URL
    public var manifest: Manifest
}

/// Runs a plan: reads each source once, cuts its tiles, writes them through the single bundle
/// writer, then validates the finished file and only then publishes it under its final name.
public enum Exporter {
    /// The sidecar manifest path for a bundle: `<bundle>.manifest.json`.
    public static func sidecarURL(for bundle: URL) -> URL {
        bundle.deletingLastPathComponent().appendingPathComponent(bundle.lastPathComponent + ".manifest.json")
    }

    public static func run(_ plan: ExportPlan, progress: (ExportEvent) -> Void = { _ in }) throws(ExportError)
        -> ExportResult {
        let final = plan.output
        let temporary = try temporaryName(for: final, overwrite: plan.overwrite)
        defer { try? FileManager.default.removeItem(at: temporary) }
        progress(.planned(sources: plan.sources.count, tiles: plan.tileCount, output: FileSystem.display(final)))

        let manifest = try write(plan, to: temporary, progress: progress)

        progress(.validating(temporary: FileSystem.display(temporary)))
        let result = try publish(temporary, as: final, manifest: manifest)
        progress(.published(bundle: FileSystem.display(final), sidecar: FileSystem.display(result.sidecar)))
        return result
    }

    private static func write(_ plan: ExportPlan, to temporary: URL, progress: (ExportEvent) -> Void)
        throws(ExportError) -> Manifest {
        var writer: BundleWriter
        do {
            writer = try BundleWriter(creating: temporary, spec: plan.spec)
        } catch {
            throw ExportError(.output, FileSystem.display(plan.output), "cannot create the bundle: \(error)")
        }
        var parameters: [String] = []
        var objects = plan.objects.map { ObjectGroups(kinds: $0.kinds) }
        for (index, source) in plan.sources.enumerated() {
            let targets = try loadTargets(source, plan: plan)
            let (selected, instance, semantic) = (targets.image, targets.instances, targets.semantic)
            for tile in source.tiles {
                do {
                    if let pipeline = plan.recipe.augmentation {
                        let key = Augmentation.tileKey(sourceSHA256: plan.sha256(of: source), tile: tile)
                        for k in 0..<pipeline.variants {
                            let drawn = Augmentation.draw(pipeline, seed: plan.recipe.seed, key: key, variant: k,
                                                          channels: selected.channels, grid: plan.grid)
                            let out = try Augmenter.apply(drawn, to: targets, tile: tile, border: plan.grid.edge,
                                                          padValue: plan.grid.padValue, boxFilter: pipeline.boxFilter)
                            try writer.appendTile(image: out.image, instanceMask: out.instances, semanticMask: out.semantic)
                            ObjectTiling.objects(of: out, source: source, plan: plan).map { objects?.append($0) }
                            parameters.append(Augmentation.json(drawn))
                        }
                    } else {
                        try writer.appendTile(
                            image: TileExtractor.extract(selected, tile: tile, edge: plan.grid.edge, padValue: plan.grid.padValue),
                            instanceMask: instance.map { TileExtractor.extract($0, tile: tile, edge: plan.grid.edge) },
                            semanticMask: semantic.map { TileExtractor.extract($0, tile: tile, edge: plan.grid.edge) })
                        ObjectTiling.objects(of: targets, tile: tile, source: source, plan: plan).map { objects?.append($0) }
                    }
                } catch let error as TilingError {
                    throw ExportError(.input, FileSystem.display(source.url), "augmenting the tile at \(tile.rect) failed: \(error)")
                } catch {
                    throw ExportError(.output, FileSystem.display(plan.output), "writing a tile of \(source.path) failed: \(error)")
                }
            }
            progress(.sourceDone(index: index, of: plan.sources.count, path: source.path, tiles: source.tiles.count * plan.variants))
        }
        do {
            for table in Tables.make(plan, parameters: parameters) { try writer.writeTable(table) }
            if let windows = Tables.stitchWindows(plan) { try writer.writeArrays(group: BundleLayout.stitch, windows, scope: .bundle) }
            for group in (objects?.groups ?? []) + [ObjectTiling.imageLabelGroup(plan)].compactMap({ $0 }) {
                try writer.writeRagged(group)
            }
            return try writer.finish(manifest: ManifestBuilder.make(plan, objects: objects))
        } catch {
            throw ExportError(.output, FileSystem.display(plan.output), "finishing the bundle failed: \(error)")
        }
    }

    /// A source's pixels (bundle channels only) and masks, as every tile of it is cut from them.
    static func loadTargets(_ source: ExportPlan.Source, plan: ExportPlan) throws(ExportError) -> SampleTargets {
        let image = try ImageLoading.read(source, palette: plan.recipe.channels.palette, channels: plan.sourceChannelIndices)
        // Objects are attached (and painted, with `rasterize`) at the size of the file their
        // coordinates refer to; rescaling then treats a painted mask like a mask file (nearest)
        // and scales the boxes, points and polygons with the pixel grid.
        let targets = ObjectTiling.targets(
            image: image,
            semantic: try source.semanticMask.map { (m) throws(ExportError) in try MaskLoading.load(m, for: source) },
            instances: try source.instanceMask.map { (m) throws(ExportError) in try MaskLoading.load(m, for: source) },
            source: source, plan: plan)
        return plan.recipe.rescale.map { Rescaling.apply(targets, to: source, filter: $0.filter) } ?? targets
    }

    /// Today's date (UTC) as `YYYY-MM-DD`, for sidecars whose recipe gives no publication date.
    static func today() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }
}

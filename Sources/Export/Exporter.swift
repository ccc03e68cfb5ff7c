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
        let fm = FileManager.default
        let final = plan.output
        let directory = final.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ExportError(.output, FileSystem.display(directory), "cannot create the output directory: \(error.localizedDescription)")
        }
        StaleTemporaries.remove(forBundle: final.lastPathComponent, in: directory)
        if fm.fileExists(atPath: final.path) && !plan.overwrite {
            throw ExportError(.output, FileSystem.display(final), "already exists; pass --overwrite to replace it")
        }
        // A hidden name in the target directory, so the final rename stays on one file system
        // and an interrupted run never leaves a file that looks like a bundle.
        let temporary = directory.appendingPathComponent(
            ".\(final.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        let sidecarTemporary = URL(fileURLWithPath: temporary.path + ".manifest.json")
        defer {
            try? fm.removeItem(at: temporary)
            try? fm.removeItem(at: sidecarTemporary)
        }
        progress(.planned(sources: plan.sources.count, tiles: plan.tileCount, output: FileSystem.display(final)))

        var manifest = try write(plan, to: temporary, progress: progress)

        progress(.validating(temporary: FileSystem.display(temporary)))
        let report = BundleValidator.validate(temporary)
        guard report.isValid else {
            throw ExportError(.output, FileSystem.display(final),
                              "the written bundle failed validation and was not published: \(report.problems.joined(separator: "; "))")
        }
        manifest = try sidecar(manifest, at: sidecarTemporary)
        let publication: PublicationFiles
        do {
            publication = try PublicationFiles.make(bundle: temporary, publishedName: final.lastPathComponent,
                                                    today: Self.today())
        } catch {
            throw ExportError(.output, FileSystem.display(final), "cannot derive the Croissant metadata and datasheet: \(error)")
        }
        let names = PublicationFiles.names(forBundle: final.lastPathComponent)
        let extras: [(name: String, data: Data)] = [
            (names.tiles, publication.tilesCSV), (names.croissant, publication.croissant),
            (names.datasheet, Data(publication.datasheet.utf8)),
        ]
        var staged: [(temporary: URL, final: URL)] = [(sidecarTemporary, sidecarURL(for: final))]
        defer { for file in staged { try? fm.removeItem(at: file.temporary) } }
        for extra in extras {
            let url = URL(fileURLWithPath: temporary.path + "." + extra.name)
            do {
                try extra.data.write(to: url)
            } catch {
                throw ExportError(.output, FileSystem.display(directory), "cannot write \(extra.name): \(error.localizedDescription)")
            }
            staged.append((url, directory.appendingPathComponent(extra.name)))
        }
        // Sidecars first, the bundle last: a bundle under its final name always has complete sidecars.
        for file in staged { try publish(file.temporary, as: file.final) }
        try publish(temporary, as: final)
        let sidecar = sidecarURL(for: final)
        progress(.published(bundle: FileSystem.display(final), sidecar: FileSystem.display(sidecar)))
        return ExportResult(bundle: final, sidecar: sidecar, manifest: manifest)
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
            if let windows = Tables.stitchWindows(plan) { try writer.writeArrays(group: BundleLayout.stitch, windows) }
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

    private static func sidecar(_ manifest: Manifest, at url: URL) throws(ExportError) -> Manifest {
        do {
            try manifest.jsonData().write(to: url)
        } catch {
            throw ExportError(.output, FileSystem.display(url), "cannot write the sidecar manifest: \(error.localizedDescription)")
        }
        return manifest
    }

    /// rename(2): atomic, and replaces an existing file in one step when --overwrite was given.
    private static func publish(_ temporary: URL, as final: URL) throws(ExportError) {
        guard rename(temporary.path, final.path) == 0 else {
            throw ExportError(.output, FileSystem.display(final), "cannot move the finished file into place: \(String(cString: strerror(errno)))")
        }
    }
}

import AVDB
import BundleFormat
import Foundation
import ImageFormats
import Raster
import Tiling

/// What an export reports while it runs, for progress bars and logs. Events arrive on the
/// thread that called `Exporter.run`, in order.
public enum ExportEvent: Sendable {
    case planned(sources: Int, tiles: Int, output: String)
    /// `tiles` of `of` bundle rows written, `bytes` of chunks stored so far; sent at most
    /// every `Exporter.progressInterval` seconds, and for the last row.
    case tilesWritten(tiles: Int, of: Int, bytes: Int64)
    /// Every row of source `index` (0-based, plan order) is written.
    case sourceDone(index: Int, of: Int, path: String, tiles: Int)
    case validating(temporary: String)
    case published(bundle: String, sidecar: String)
}

/// How an export runs; nothing here changes the bundle's content.
public struct ExportOptions: Sendable {
    /// Threads that read, cut, augment and compress tiles (the calling thread writes them).
    public var workers: Int
    /// OpenBLAS's own threads. The workers already use every core, so 1 unless a test wants
    /// to show that the content does not depend on it.
    public var blasThreads: Int
    /// Decoded bytes (image, masks and working copies) above which a source is read one region
    /// at a time instead of whole (specs/recipe/v1.md §7.1); 0 reads every source that can be
    /// read by regions that way. The CLI takes it from `TRAINSET_REGION_THRESHOLD`.
    public var regionThreshold: Int

    public init(workers: Int = ExportOptions.defaultWorkers, blasThreads: Int = 1,
                regionThreshold: Int = ExportOptions.defaultRegionThreshold) {
        precondition(workers >= 1 && blasThreads >= 1, "workers and BLAS threads must be at least 1")
        precondition(regionThreshold >= 0, "the region threshold cannot be negative")
        self.workers = workers
        self.blasThreads = blasThreads
        self.regionThreshold = regionThreshold
    }

    /// 256 MiB.
    public static let defaultRegionThreshold = RegionReads.defaultThreshold

    /// One worker per core this process may run on.
    public static var defaultWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

#if canImport(Glibc)
/// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not import).
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// A finished export: where the bundle is and what its manifest says.
public struct ExportResult: Sendable {
    public var bundle: URL
    public var sidecar: URL
    public var manifest: Manifest
}

/// Runs a plan: worker threads read and hash each source once, cut, augment and compress its
/// tiles, and the calling thread writes them through the single bundle writer (`Pipeline`);
/// then the finished file is checked and only then published under its final name.
public enum Exporter {
    /// Seconds between `tilesWritten` events.
    public static let progressInterval = 0.25

    /// The sidecar manifest path for a bundle: `<bundle>.manifest.json`.
    public static func sidecarURL(for bundle: URL) -> URL {
        bundle.deletingLastPathComponent().appendingPathComponent(bundle.lastPathComponent + ".manifest.json")
    }

    public static func run(_ plan: ExportPlan, options: ExportOptions = ExportOptions(),
                           progress: (ExportEvent) -> Void = { _ in }) throws(ExportError) -> ExportResult {
        let final = plan.output
        let temporary = try temporaryName(for: final, overwrite: plan.overwrite)
        defer { try? FileManager.default.removeItem(at: temporary) }
        progress(.planned(sources: plan.sources.count, tiles: plan.tileCount, output: FileSystem.display(final)))

        let (manifest, spotChecks) = try write(plan, to: temporary, options: options, progress: progress)

        progress(.validating(temporary: FileSystem.display(temporary)))
        // The check of a file this process wrote: its stored bytes, no inflating of every tile again
        // (`trainset validate` does the full check).
        let result = try publish(temporary, as: final, manifest: manifest, spotChecks: spotChecks)
        progress(.published(bundle: FileSystem.display(final), sidecar: FileSystem.display(result.sidecar)))
        return result
    }

    private static func write(_ plan: ExportPlan, to temporary: URL, options: ExportOptions,
                              progress: (ExportEvent) -> Void) throws(ExportError) -> (Manifest, [SpotCheck]) {
        var writer: BundleWriter
        do {
            writer = try BundleWriter(creating: temporary, spec: plan.spec)
        } catch {
            throw ExportError(.output, FileSystem.display(plan.output), "cannot create the bundle: \(error)")
        }
        BLAS.setThreads(options.blasThreads)
        mapLargeBuffers()
        // Rows at which each source ends, for `sourceDone`.
        var sourceEnds: [Int] = []
        for source in plan.sources { sourceEnds.append((sourceEnds.last ?? 0) + source.tiles.count * plan.variants) }
        var nextSource = 0
        var bytes: Int64 = 0
        var lastReport = Date()
        let outcome = try Pipeline(plan: plan, workers: options.workers, regionThreshold: options.regionThreshold).run { (tile) throws(ExportError) in
            do {
                try writer.append(tile)
            } catch {
                let source = plan.sources[nextSource]
                throw ExportError(.output, FileSystem.display(plan.output), "writing a tile of \(source.path) failed: \(error)")
            }
            bytes += Int64(tile.storedBytes)
            let done = tile.index + 1
            while nextSource < sourceEnds.count && sourceEnds[nextSource] == done {
                let source = plan.sources[nextSource]
                progress(.sourceDone(index: nextSource, of: plan.sources.count, path: source.path,
                                     tiles: source.tiles.count * plan.variants))
                nextSource += 1
            }
            if done == plan.tileCount || Date().timeIntervalSince(lastReport) >= progressInterval {
                lastReport = Date()
                progress(.tilesWritten(tiles: done, of: plan.tileCount, bytes: bytes))
            }
        }
        let hashed = try withReadHashes(plan, outcome.digests)
        do {
            for table in Tables.make(hashed) { try writer.writeTable(table) }
            if let windows = Tables.stitchWindows(hashed) { try writer.writeArrays(group: BundleLayout.stitch, windows, scope: .bundle) }
            for group in (outcome.objects?.groups ?? []) + [ObjectTiling.imageLabelGroup(hashed)].compactMap({ $0 }) {
                try writer.writeRagged(group)
            }
            let spotChecks = writer.spotChecks
            return (try writer.finish(manifest: ManifestBuilder.make(hashed, objects: outcome.objects)), spotChecks)
        } catch {
            throw ExportError(.output, FileSystem.display(plan.output), "finishing the bundle failed: \(error)")
        }
    }

    /// Gives every buffer of 16 MiB or more (a decoded source image, its masks, its warp copy)
    /// its own mapping, returned to the system when freed. glibc's default raises this
    /// threshold to the size of the largest block freed so far, after which source-sized
    /// buffers come from the worker threads' heaps and fragment them: measured at N = 24, peak
    /// RSS 209–277 MB → 144–148 MB, for some more system time (pages mapped afresh for every
    /// source). Row-sized buffers stay on the heap, and each heap keeps up to 16 MiB free at its
    /// top: fixing the mmap threshold also pins the trim threshold at its default 128 KiB, and
    /// the heap then gave its top back after every row and faulted it in again (770 000 page
    /// faults and 17 % system time for 1 296 augmented rows). The rows of the reorder window,
    /// freed by the writer, leave 8–12 MB at a worker heap's top: with 8 MiB that was still
    /// given back and refaulted, 0.7–0.8 M faults at N = 24; 16 MiB halves them and saves 7 % of
    /// the CPU time, for 10 MB more at the peak (Benchmarks/README.md, sixth round).
    private static func mapLargeBuffers() {
        #if canImport(Glibc)
        // M_TRIM_THRESHOLD and M_MMAP_THRESHOLD of <malloc.h>, which Glibc's module map leaves out.
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        _ = glibcMallopt(mmapThreshold, 16 << 20)
        _ = glibcMallopt(trimThreshold, 16 << 20)
        #endif
    }

    /// The plan with the SHA-256 of every pixel input it left to the export, from the read
    /// that decoded it.
    private static func withReadHashes(_ plan: ExportPlan, _ digests: [String: FileDigest]) throws(ExportError) -> ExportPlan {
        var hashed = plan
        for i in hashed.inputs.indices where hashed.inputs[i].sha256.isEmpty {
            guard let digest = digests[hashed.inputs[i].path] else {
                throw ExportError(.input, FileSystem.display(plan.root.appendingPathComponent(hashed.inputs[i].path)),
                                  "was planned as an input but no tile was read from it")
            }
            hashed.inputs[i].sha256 = digest.sha256
        }
        return hashed
    }

    /// A source's pixels (bundle channels only) and masks, as every tile of it is cut from them.
    /// `forWarp`: every tile is augmented, so the sample holds only the warp-ready copy of the
    /// image (`SampleTargets.preparedForWarp`).
    static func loadTargets(_ source: ExportPlan.Source, plan: ExportPlan, forWarp: Bool) throws(ExportError) -> SampleTargets {
        var pixels = SampleTargets(
            image: try ImageLoading.read(source, palette: plan.recipe.channels.palette, channels: plan.sourceChannelIndices))
        // The copy is made before the masks are decoded, so that the planar image is freed
        // before they are held: making it last was the highest point of every load (the
        // planar image, its copy and a uint32 mask at once). Rescaling reads the planar image,
        // so a rescaled source is prepared after it.
        let rescaled = plan.recipe.rescale != nil && source.rescale != nil
        if forWarp && !rescaled { pixels = pixels.preparedForWarp() }
        // Objects are attached (and painted, with `rasterize`) at the size of the file their
        // coordinates refer to; rescaling then treats a painted mask like a mask file (nearest)
        // and scales the boxes, points and polygons with the pixel grid.
        let targets = ObjectTiling.targets(
            pixels,
            semantic: try source.semanticMask.map { (m) throws(ExportError) in try MaskLoading.load(m, for: source) },
            instances: try source.instanceMask.map { (m) throws(ExportError) in try MaskLoading.load(m, for: source) },
            source: source, plan: plan)
        let out = plan.recipe.rescale.map { Rescaling.apply(targets, to: source, filter: $0.filter) } ?? targets
        return forWarp ? out.preparedForWarp() : out
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

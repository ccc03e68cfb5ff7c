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

    public init(workers: Int = ExportOptions.defaultWorkers, blasThreads: Int = 1) {
        precondition(workers >= 1 && blasThreads >= 1, "workers and BLAS threads must be at least 1")
        self.workers = workers
        self.blasThreads = blasThreads
    }

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

        let (written, spotChecks) = try write(plan, to: temporary, options: options, progress: progress)

        progress(.validating(temporary: FileSystem.display(temporary)))
        // The check of a file this process wrote: one read, no inflating of every tile again
        // (`trainset validate` does the full check).
        let report = BundleValidator.validateWritten(temporary, spotChecks: spotChecks)
        guard report.isValid else {
            throw ExportError(.output, FileSystem.display(final),
                              "the written bundle failed validation and was not published: \(report.problems.joined(separator: "; "))")
        }
        let manifest = try sidecar(written, at: sidecarTemporary)
        let publication: PublicationFiles
        do {
            publication = try PublicationFiles.make(bundle: temporary, publishedName: final.lastPathComponent,
                                                    today: Self.today(), bundleSHA256: report.fileSHA256)
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
        let outcome = try Pipeline(plan: plan, workers: options.workers).run { (tile) throws(ExportError) in
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
            for table in Tables.make(hashed, parameters: outcome.parameters) { try writer.writeTable(table) }
            if let windows = Tables.stitchWindows(hashed) { try writer.writeArrays(group: BundleLayout.stitch, windows) }
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
    /// source). Row-sized buffers stay on the heap.
    private static func mapLargeBuffers() {
        #if canImport(Glibc)
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD of <malloc.h>, which Glibc's module map leaves out
        _ = glibcMallopt(mmapThreshold, 16 << 20)
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

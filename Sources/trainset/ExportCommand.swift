import ArgumentParser
import Export
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a recipe's dataset to a validated HDF5 bundle.",
        discussion: """
            Reads the recipe and resolves every input (row/image matching, labels, tile grids) before any \
            pixel is read. Then worker threads (--workers, default one per core) each take images in plan \
            order, read every image and mask file once (hashing it for the manifest as it is read), cut, \
            augment and compress its tiles, and one thread writes the finished chunks in order, so the \
            bundle and its content hash do not depend on the number of workers. The bundle is built under a \
            hidden temporary name in the output directory, checked (structure, tables, manifest, every \
            chunk's checksum, a sample of tiles decoded; `trainset validate` does the full check), and \
            renamed into place; on any error nothing is left at the output path.

            Prints the bundle's path on standard output. Progress goes to standard error: on a terminal \
            a bar with tiles written, rate, throughput and ETA; otherwise one line per image \
            (--progress plain); or, with --progress json, one JSON object per line, each naming its \
            "event": planned {sources, tiles, output}, progress {tiles, total, bytes, elapsed_s, \
            tiles_per_s, eta_s} (at most four a second), source_done {index, of, path, tiles}, validating \
            {temporary}, published {bundle, sidecar}, done {bundle, content_hash, elapsed_s}, warning \
            {message}, notice {message} (a shard skipped or exported again) and error {code, location, \
            message}. --quiet prints only errors.

            With --shard I/N, exports only shard I (0-based) of N: an ordinary bundle of that shard's \
            images, by default <output dir>/<name>.shards/<name>-IIIII-of-NNNNN.h5. With --plan (from \
            `trainset plan`) the shard reads and hashes only its own images and refuses a plan made from \
            other inputs. A shard whose bundle already exists, validates and is this shard of this plan is \
            skipped, so re-running every shard after a failure redoes only the failed ones. Merge the \
            shards with `trainset merge`.

            Images larger than memory: a TIFF source whose decoded pixels and masks exceed 256 MiB is \
            never decoded whole; each batch of tiles reads only the region its tiles (and their \
            augmentation) need, with the same result bit for bit. TRAINSET_REGION_THRESHOLD=BYTES \
            changes the threshold (0: every source that can be read by region is). Recipes with \
            rescale or labels.objects, masks assembled from object files, PNG/JPEG files and TIFFs \
            in strips or tiles over 32 MiB read whole; such a source over 4 GiB decoded is refused. See specs/recipe/v1.md §7.1.

            Exit status: 0 on success, 1 on any error (printed as one line that names the file and \
            row or field).
            """)

    @Argument(help: "The recipe file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var recipe: String

    @Option(name: .shortAndLong, help: "Write the bundle here instead of the recipe's output.path.")
    var output: String?

    @Flag(help: "Replace an existing bundle at the output path.")
    var overwrite = false

    @Flag(help: "Print the plan (inputs, matching, labels, tile counts) as JSON and write nothing.")
    var planOnly = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Option(help: "Worker threads that read, cut, augment and compress tiles (default: one per core).")
    var workers: Int?

    @Option(help: "Progress on standard error: auto (a bar on a terminal, else plain), plain (a line per image) or json (one event per line).")
    var progress: ProgressStyle = .auto

    @Option(help: ArgumentHelp("Export only shard I of N (0-based), e.g. 2/4.", valueName: "I/N"))
    var shard: ShardNumber?

    @Option(help: ArgumentHelp("The shard plan from `trainset plan` (with --shard).", valueName: "plan.json"),
            completion: .file(extensions: ["json"]))
    var plan: String?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers)") }
        _ = try Self.regionThreshold()
        if plan != nil && shard == nil { throw ValidationError("--plan needs --shard I/N") }
        if shard != nil && planOnly { throw ValidationError("--plan-only cannot be combined with --shard; use trainset plan") }
    }

    func run() throws {
        let reporter = ExportProgress(style: progress, quiet: quiet)
        do {
            if let shard {
                try runShard(shard, reporter: reporter)
                return
            }
            // Without --plan-only the export hashes images and masks as it reads them, so that
            // each is read once; the printed plan lists every SHA-256.
            let plan = try Planner.plan(recipeAt: URL(fileURLWithPath: recipe), output: output, overwrite: overwrite,
                                        hashing: planOnly ? .all : .whileExporting)
            for warning in plan.warnings { reporter.warning(warning) }
            if planOnly {
                print(try plan.summaryJSON())
                return
            }
            report(try Exporter.run(plan, options: options) { reporter.handle($0) }, reporter: reporter)
        } catch let error as ExportError {
            reporter.failed(error)
            if error.code == .output {
                // libhdf5 1.10 keeps a file whose flush failed (a full disk) open, and its exit-time
                // cleanup then crashes retrying the write. The temporary file is already removed
                // and nothing else needs exit handlers, so leave without running them.
                fflush(nil)
                _exit(ExitCode.failure.rawValue)
            }
            throw ExitCode.failure
        }
    }

    private var options: ExportOptions {
        ExportOptions(workers: workers ?? ExportOptions.defaultWorkers,
                      regionThreshold: (try? Self.regionThreshold()) ?? ExportOptions.defaultRegionThreshold)
    }

    /// `TRAINSET_REGION_THRESHOLD` (bytes), checked by `validate`.
    static func regionThreshold() throws -> Int {
        guard let text = ProcessInfo.processInfo.environment["TRAINSET_REGION_THRESHOLD"] else {
            return ExportOptions.defaultRegionThreshold
        }
        guard let bytes = Int(text), bytes >= 0 else {
            throw ValidationError("TRAINSET_REGION_THRESHOLD must be a number of bytes (0 or more), got '\(text)'")
        }
        return bytes
    }

    private func runShard(_ shard: ShardNumber, reporter: ExportProgress) throws(ExportError) {
        let outcome = try ShardExport.run(
            recipeAt: URL(fileURLWithPath: recipe), index: shard.index, count: shard.count,
            planFile: plan.map { URL(fileURLWithPath: $0) }, output: output, force: overwrite, options: options,
            notice: { reporter.notice($0) }, progress: { reporter.handle($0) })
        switch outcome {
        case .exported(let result): report(result, reporter: reporter)
        case .skipped(let bundle): print(bundle.path)
        }
    }

    private func report(_ result: ExportResult, reporter: ExportProgress) {
        reporter.finished(contentHash: result.manifest.contentHash, bundle: result.bundle.path)
        // The bundle path is the command's one line of output, so scripts can capture it.
        print(result.bundle.path)
    }
}

/// `I/N` of `--shard`: shard I (0-based) of N.
struct ShardNumber: ExpressibleByArgument {
    var index: Int
    var count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            return nil
        }
        self.index = index
        self.count = count
    }

    static var defaultValueDescription: String { "I/N" }
}

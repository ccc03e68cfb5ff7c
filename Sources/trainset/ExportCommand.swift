import ArgumentParser
import Export
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a recipe's dataset to a validated HDF5 bundle.",
        discussion: """
            Reads the recipe, resolves every input (checksums, row/image matching, labels, tile grids), \
            then reads each image once, cuts its tiles and writes them. The bundle is built under a hidden \
            temporary name in the output directory, validated, and renamed into place; on any error nothing \
            is left at the output path. Prints the bundle's path on standard output and progress on \
            standard error. Exit status: 0 on success, 1 on any error (printed as one line that \
            names the file and row or field).

            With --shard I/N, exports only shard I (0-based) of N: an ordinary bundle of that shard's \
            images, by default <output dir>/<name>.shards/<name>-IIIII-of-NNNNN.h5. With --plan (from \
            `trainset plan`) the shard reads and hashes only its own images and refuses a plan made from \
            other inputs. A shard whose bundle already exists, validates and is this shard of this plan is \
            skipped, so re-running every shard after a failure redoes only the failed ones. Merge the \
            shards with `trainset merge`.
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

    @Option(help: ArgumentHelp("Export only shard I of N (0-based), e.g. 2/4.", valueName: "I/N"))
    var shard: ShardNumber?

    @Option(help: ArgumentHelp("The shard plan from `trainset plan` (with --shard).", valueName: "plan.json"),
            completion: .file(extensions: ["json"]))
    var plan: String?

    func validate() throws {
        if plan != nil && shard == nil { throw ValidationError("--plan needs --shard I/N") }
        if shard != nil && planOnly { throw ValidationError("--plan-only cannot be combined with --shard; use trainset plan") }
    }

    func run() throws {
        do {
            if let shard {
                try runShard(shard)
                return
            }
            let plan = try Planner.plan(recipeAt: URL(fileURLWithPath: recipe), output: output, overwrite: overwrite)
            for warning in plan.warnings where !quiet { Console.error("warning: \(warning)") }
            if planOnly {
                print(try plan.summaryJSON())
                return
            }
            report(try Exporter.run(plan, progress: show))
        } catch let error as ExportError {
            Console.error("error: \(error)")
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

    private func runShard(_ shard: ShardNumber) throws(ExportError) {
        let outcome = try ShardExport.run(
            recipeAt: URL(fileURLWithPath: recipe), index: shard.index, count: shard.count,
            planFile: plan.map { URL(fileURLWithPath: $0) }, output: output, force: overwrite,
            notice: { if !quiet { Console.error($0) } }, progress: show)
        switch outcome {
        case .exported(let result): report(result)
        case .skipped(let bundle): print(bundle.path)
        }
    }

    private func show(_ event: ExportEvent) {
        guard !quiet else { return }
        switch event {
        case .planned(let sources, let tiles, let output):
            Console.error("exporting \(sources) images, \(tiles) tiles -> \(output)")
        case .sourceDone(let index, let total, let path, let tiles):
            Console.error("[\(index + 1)/\(total)] \(path): \(tiles) tiles")
        case .validating:
            Console.error("validating")
        case .published(let bundle, let sidecar):
            Console.error("wrote \(bundle) and \(sidecar)")
        }
    }

    private func report(_ result: ExportResult) {
        if !quiet { Console.error("content hash \(result.manifest.contentHash)") }
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

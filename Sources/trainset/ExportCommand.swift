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

    func run() throws {
        do {
            let plan = try Planner.plan(recipeAt: URL(fileURLWithPath: recipe), output: output, overwrite: overwrite)
            for warning in plan.warnings where !quiet { Console.error("warning: \(warning)") }
            if planOnly {
                print(try plan.summaryJSON())
                return
            }
            let result = try Exporter.run(plan) { event in
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
            if !quiet { Console.error("content hash \(result.manifest.contentHash)") }
            // The bundle path is the command's one line of output, so scripts can capture it.
            print(result.bundle.path)
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
}

import ArgumentParser
import BundleFormat
import Export
import Foundation

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the shard bundles of a sharded export into one bundle.",
        discussion: """
            Takes every shard of one plan (any order) and writes a bundle whose tiles, tables, splits and \
            content hash equal those of a single-process export of the same recipe. By default the tile \
            data (/images, masks) are HDF5 virtual datasets over the shard files, named relative to the \
            merged bundle: keep the shards next to it (move the directory as a whole). --copy writes one \
            self-contained file instead (the shards' compressed chunks are copied as stored). Tables and \
            the manifest are merged; every shard is checked against its own manifest while it is read. \
            Refuses shards of different plans or recipes, a missing or repeated shard, and a damaged \
            shard, naming the file and the shard index. Built under a temporary name, validated, then \
            renamed into place, like an export. Prints the bundle's path.

            Example:
              trainset merge out/moa.shards/*.h5 --output out/moa.h5
            """)

    @Argument(help: "The shard bundles (.h5).", completion: .file(extensions: ["h5"]))
    var shards: [String]

    @Option(name: .shortAndLong, help: "The merged bundle to write.")
    var output: String

    @Flag(help: "Copy the tile data into the merged file instead of referring to the shard files.")
    var copy = false

    @Flag(help: "Replace an existing bundle at the output path.")
    var overwrite = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        do {
            let result = try ShardExport.merge(
                shards.map { URL(fileURLWithPath: $0) }, output: URL(fileURLWithPath: output),
                layout: copy ? .copy : .virtual, overwrite: overwrite) { line in
                if !quiet { Console.error(line) }
            }
            if !quiet {
                Console.error("merged \(shards.count) shards, \(result.manifest.counts.tiles) tiles -> \(output)")
                Console.error("content hash \(result.manifest.contentHash)")
            }
            print(result.bundle.path)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
    }
}

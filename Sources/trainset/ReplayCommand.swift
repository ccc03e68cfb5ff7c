import ArgumentParser
import BundleFormat
import Export
import Foundation

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Regenerate tiles from the inputs and their recorded parameters, and compare.",
        discussion: """
            For each tile asked for, re-reads its source image under --inputs, re-draws its augmentation \
            from (recipe seed, tile key, variant) and checks that it equals the parameters stored with the \
            tile, applies the stored parameters, and compares pixels and masks with the stored tile \
            bit for bit. Works on bundles without augmentation too (the tile is re-cut). \
            A source that export reads by regions (a large tiled TIFF; TRAINSET_REGION_THRESHOLD as \
            for export) is read by regions here too, so replaying tiles of a whole-slide image reads only \
            their pixels. Exit status 0 when every tile matches, 1 otherwise.

            Example:
              trainset replay samples/dsb2018-augmented/out/dsb2018-augmented.h5 \\
                --inputs samples/dsb2018-nuclei/data --tile 0 --tile 7
            """)

    @Argument(help: "The bundle (.h5).", completion: .file(extensions: ["h5"]))
    var bundle: String

    @Option(help: ArgumentHelp("The recipe's input root.", valueName: "dir"), completion: .directory)
    var inputs: String

    @Option(name: .customLong("tile"), help: "A tile index to replay; repeat for several.")
    var tiles: [Int] = []

    @Flag(help: "Replay every tile.")
    var all = false

    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        guard all || !tiles.isEmpty else { throw ValidationError("name at least one --tile N, or --all") }
    }

    func run() throws {
        let results: [ReplayResult]
        do {
            let indices = all ? try Self.allTiles(bundle) : tiles
            results = try Replayer.replay(bundle: URL(fileURLWithPath: bundle), inputs: URL(fileURLWithPath: inputs),
                                          tiles: indices, regionThreshold: try ExportCommand.regionThreshold())
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try JSONText.encode(results))
        } else {
            for r in results {
                let what = r.passed ? "matches" : "DIFFERS ("
                    + [r.parametersMatch ? nil : "parameters", r.pixelsMatch ? nil : "pixels", r.masksMatch ? nil : "masks",
                       r.objectsMatch ? nil : "objects"]
                        .compactMap { $0 }.joined(separator: ", ") + ")"
                print("tile \(r.tile): \(r.source) at (\(r.x), \(r.y))\(r.variant.map { " variant \($0)" } ?? ""): \(what)")
            }
            let failed = results.filter { !$0.passed }.count
            print(failed == 0 ? "\(results.count) tiles replayed exactly" : "\(failed) of \(results.count) tiles differ")
        }
        if results.contains(where: { !$0.passed }) { throw ExitCode.failure }
    }

    private static func allTiles(_ bundle: String) throws -> [Int] {
        Array(0..<(try BundleReader(opening: URL(fileURLWithPath: bundle)).tileCount))
    }
}

import ArgumentParser
import Export
import Foundation

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Divide a recipe's export into shards balanced by pixel count.",
        discussion: """
            Plans the whole export (every input hashed, every image's header read), then assigns the \
            planned images, in plan order, to N shards: contiguous runs whose largest pixel count is as \
            small as possible. The plan file (specs/shard-plan/v1.md) records the recipe's and every \
            input's SHA-256, so a shard run with --plan refuses a plan made from other inputs. Writes \
            the plan to --output (and prints its path) or to standard output; a summary goes to \
            standard error.

            Example:
              trainset plan samples/idr0026-immunotherapy/recipe.yaml --shards 4 -o plan.json
              trainset export samples/idr0026-immunotherapy/recipe.yaml --shard 0/4 --plan plan.json
            """)

    @Argument(help: "The recipe file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var recipe: String

    @Option(help: "Number of shards (1 to the number of images).")
    var shards: Int

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the plan to this file.", valueName: "plan.json"))
    var output: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        do {
            let plan = try Planner.plan(recipeAt: URL(fileURLWithPath: recipe))
            for warning in plan.warnings where !quiet { Console.error("warning: \(warning)") }
            let shardPlan = try ShardPlan.make(plan, shards: shards)
            if !quiet {
                Console.error("plan \(shardPlan.planID): \(shardPlan.sources.count) images, "
                              + "\(shardPlan.shards.last.map { $0.firstTile + $0.tiles } ?? 0) tiles in \(shards) shards")
                for s in shardPlan.shards {
                    Console.error("  shard \(s.index): images \(s.firstSource)..<\(s.firstSource + s.sources), "
                                  + "\(s.tiles) tiles from tile \(s.firstTile), \(s.pixels) pixels")
                }
            }
            let data = try shardPlan.jsonData()
            guard let output else {
                FileHandle.standardOutput.write(data)
                return
            }
            do {
                try data.write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw ExportError(.output, output, "cannot write the plan: \(error.localizedDescription)")
            }
            print(output)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
    }
}

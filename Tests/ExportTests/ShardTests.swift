import BundleFormat
import Foundation
import Testing
@testable import Export

/// Sharded export (issue 7): plans, shard bundles, merging, resuming, Slurm scripts.
@Suite(.serialized) struct ShardTests: CLIRunning {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL

    static func recipe(_ sample: String) -> URL {
        repository.appendingPathComponent("samples/\(sample)/recipe.yaml")
    }

    // MARK: The plan

    /// The smallest possible largest run, by trying every division (small inputs only).
    static func bruteForceBest(_ weights: [Int], _ count: Int) -> Int {
        if count == 1 { return weights.reduce(0, +) }
        var best = Int.max
        for cut in 1...(weights.count - count + 1) {
            let head = weights[..<cut].reduce(0, +)
            best = min(best, max(head, bruteForceBest(Array(weights[cut...]), count - 1)))
        }
        return best
    }

    @Test func partitionIsContiguousOptimalAndLeavesNoShardEmpty() {
        var state: UInt64 = 7
        for length in 1...9 {
            for _ in 0..<20 {
                let weights = (0..<length).map { _ -> Int in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return Int(state >> 33) % 1000 + 1
                }
                for count in 1...length {
                    let runs = ShardPlan.partition(weights, into: count)
                    #expect(runs.count == count)
                    #expect(runs.allSatisfy { !$0.isEmpty })
                    #expect(runs.first?.lowerBound == 0 && runs.last?.upperBound == length)
                    #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                    let largest = runs.map { weights[$0].reduce(0, +) }.max()!
                    #expect(largest == Self.bruteForceBest(weights, count), "weights \(weights) into \(count)")
                    #expect(ShardPlan.partition(weights, into: count) == runs)
                }
            }
        }
        #expect(ShardPlan.partition([5, 5, 5, 5], into: 2) == [0..<2, 2..<4])
        #expect(ShardPlan.partition([1, 100, 1, 1], into: 3) == [0..<1, 1..<2, 2..<4])
    }

    /// specs/shard-plan/v1.md §5.
    @Test func specWorkedExamplePlanID() {
        let hash = { (c: Character) in String(repeating: c, count: 64) }
        let sources = [ShardPlan.Source(path: "images/a.tif", width: 64, height: 48, tiles: 4),
                       ShardPlan.Source(path: "images/b.tif", width: 32, height: 32, tiles: 1)]
        let runs = ShardPlan.partition(sources.map { $0.width * $0.height }, into: 2)
        #expect(runs == [0..<1, 1..<2])
        let plan = ShardPlan(
            planID: "", recipeSHA256: hash("a"), shardCount: 2,
            bundle: .init(pixelType: "uint16", channels: 1, tileWidth: 32, tileHeight: 32),
            inputs: [.init(path: "table.csv", role: "annotation_table", bytes: 1, sha256: hash("b")),
                     .init(path: "images/a.tif", role: "image", bytes: 1, sha256: hash("c")),
                     .init(path: "images/b.tif", role: "image", bytes: 1, sha256: hash("d"))],
            sources: sources,
            shards: [.init(index: 0, firstSource: 0, sources: 1, firstTile: 0, tiles: 4, pixels: 3072),
                     .init(index: 1, firstSource: 1, sources: 1, firstTile: 4, tiles: 1, pixels: 1024)])
        #expect(plan.identity() == "sha256:dedfa45e35cd5ccc22f2d2c2aa10e26c5fa5b04da29930f0eb4535720b862cfc")
    }

    @Test func planFileRoundTripsAndRefusesAnEditedPlan() throws {
        let ws = try Workspace.plateDataset()
        let plan = try ShardPlan.make(try Planner.plan(recipeAt: ws.url("recipe.yaml")), shards: 2)
        #expect(plan.shards.map(\.sources) == [1, 1])
        #expect(plan.shards.map(\.firstTile) == [0, plan.sources[0].tiles])
        #expect(plan.inputs.map(\.path) == ["table.csv", "images/P1/A01.tif", "images/P1/A02.tif"])
        #expect(plan.planID.hasPrefix("sha256:") && plan.planID.count == 71)
        let url = ws.url("plan.json")
        try plan.jsonData().write(to: url)
        #expect(try ShardPlan.load(url) == plan)
        // Making it again from the same inputs gives the same plan, byte for byte.
        #expect(try ShardPlan.make(try Planner.plan(recipeAt: ws.url("recipe.yaml")), shards: 2).jsonData() == (try plan.jsonData()))

        let text = try String(contentsOf: url, encoding: .utf8)
        try text.replacingOccurrences(of: "\"width\" : 64", with: "\"width\" : 65").write(to: url, atomically: true, encoding: .utf8)
        let edited = #expect(throws: ExportError.self) { _ = try ShardPlan.load(url) }
        #expect(edited?.message.contains("plan_id does not match the plan's content") == true)
        let tooMany = #expect(throws: ExportError.self) {
            _ = try ShardPlan.make(try Planner.plan(recipeAt: ws.url("recipe.yaml")), shards: 3)
        }
        #expect(tooMany?.message == "cannot make 3 shards: the recipe selects 2 images and a shard holds at least one; use --shards 2 or fewer")
    }

    // MARK: Shards and merging against the single-process export

    // One sample per kind of content a merge must rebase or keep once: sample tables and splits,
    // augmentation parameters, ragged boxes, sampled grid tiles with /grid and /stitch, balanced
    // multi-label image classes.
    @Test(arguments: [("idr0026-immunotherapy", 4), ("dsb2018-augmented", 3), ("bccd-boxes", 3),
                      ("dsb2018-sampled", 3), ("idr0026-balanced", 2)])
    func mergedShardsEqualTheSingleProcessExport(sample: String, count: Int) throws {
        let ws = try Workspace()
        let recipe = Self.recipe(sample)
        let whole = try Planner.plan(recipeAt: recipe, output: ws.url("single.h5").path)
        let single = try Exporter.run(whole)
        let shardPlan = try ShardPlan.make(whole, shards: count)
        try shardPlan.jsonData().write(to: ws.url("plan.json"))

        var shards: [URL] = []
        for i in 0..<count {
            let outcome = try ShardExport.run(recipeAt: recipe, index: i, count: count, planFile: ws.url("plan.json"),
                                              output: ws.url("single.shards/part-\(i).h5").path)
            guard case .exported(let result) = outcome else { Issue.record("shard \(i) was skipped"); return }
            #expect(result.manifest.shard == shardPlan.identity(ofShard: i))
            #expect(result.manifest.counts.tiles == shardPlan.shards[i].tiles)
            #expect(BundleValidator.validate(result.bundle).isValid)  // an ordinary bundle on its own
            shards.append(result.bundle)
        }
        // Without the plan file a shard plans the whole recipe and cuts it the same way (checked on
        // the quick sample only: augmenting is slow in debug builds).
        if sample == "idr0026-immunotherapy" {
            guard case .exported(let unplanned) = try ShardExport.run(recipeAt: recipe, index: 1, count: count, planFile: nil,
                                                                       output: ws.url("unplanned.h5").path) else { return }
            #expect(unplanned.manifest == (try BundleReader(opening: shards[1]).manifest()))
        }

        for layout in [MergeLayout.virtual, .copy] {
            let output = ws.url("merged-\(layout.rawValue).h5")
            let merged = try ShardExport.merge(shards.reversed(), output: output, layout: layout, overwrite: false)
            #expect(merged.manifest.contentHash == single.manifest.contentHash)
            var plain = merged.manifest
            plain.merge = nil
            #expect(plain == single.manifest)
            #expect(merged.manifest.merge?.shards.map(\.file) == (0..<count).map { "single.shards/part-\($0).h5" })
            #expect(Workspace.published(output.lastPathComponent).allSatisfy {
                FileManager.default.fileExists(atPath: ws.url($0).path)
            })
            let a = try BundleReader(opening: single.bundle), b = try BundleReader(opening: output)
            #expect(try b.table(at: BundleLayout.tiles) == a.table(at: BundleLayout.tiles))
            #expect(try b.table(at: BundleLayout.sources) == a.table(at: BundleLayout.sources))
            let boundary = shardPlan.shards[1].firstTile
            for tile in [0, boundary - 1, boundary, single.manifest.counts.tiles - 1] {
                #expect(try b.tileImage(tile) == a.tileImage(tile))
                #expect(try b.instanceMask(tile) == a.instanceMask(tile))
            }
            let images = try b.datasetInfos().first { $0.path == BundleLayout.images }
            #expect(images?.virtualFiles.count == (layout == .virtual ? count : 0))
        }
        if sample == "idr0026-immunotherapy" {
            // The splits really are there to compare: by individual mouse, more than one split.
            guard case .string(let splits)? = try BundleReader(opening: single.bundle).table(at: BundleLayout.tiles)["split"] else {
                Issue.record("no /tiles/split")
                return
            }
            #expect(Set(splits).count >= 2)
        }
    }

    @Test func aShardRefusesAPlanMadeFromOtherInputs() throws {
        let ws = try Workspace.plateDataset()
        let recipe = ws.url("recipe.yaml")
        try ShardPlan.make(try Planner.plan(recipeAt: recipe), shards: 2).jsonData().write(to: ws.url("plan.json"))
        func refusal(_ index: Int = 1, count: Int = 2) -> String {
            do {
                _ = try ShardExport.run(recipeAt: recipe, index: index, count: count, planFile: ws.url("plan.json"), output: nil)
                return "exported"
            } catch {
                return error.description
            }
        }
        #expect(refusal(count: 4).contains("divides the export into 2 shards, not 4"))

        try ws.copy(fixture: "u16_bigendian.tif", to: "data/images/P1/A02.tif")
        #expect(refusal().contains("plan.json: is stale: input images/P1/A02.tif has SHA-256"))
        #expect(refusal(0) == "exported")  // shard 0 does not read A02

        try ws.write("data/table.csv", Workspace.table + "P1,A03,round,third\n")
        try ws.copy(fixture: "u16_gray.tif", to: "data/images/P1/A03.tif")
        #expect(refusal().contains("is stale: the recipe now selects 3 images, the plan 2"))

        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "seed: 7", with: "seed: 8"))
        #expect(refusal().contains("was made from another recipe"))
    }

    @Test func aSampledShardRefusesAPlanWithoutKeptTiles() throws {
        let ws = try Workspace()
        let recipe = Self.recipe("idr0026-balanced")
        var plan = try ShardPlan.make(try Planner.plan(recipeAt: recipe), shards: 2)
        #expect(plan.sources.allSatisfy { $0.keptTiles != nil })
        // As a 1.0.0 plan was: no kept tiles, a consistent plan_id.
        for i in plan.sources.indices { plan.sources[i].keptTiles = nil }
        plan.planID = plan.identity()
        try plan.jsonData().write(to: ws.url("plan.json"))
        do {
            _ = try ShardExport.run(recipeAt: recipe, index: 0, count: 2, planFile: ws.url("plan.json"), output: ws.url("s.h5").path)
            Issue.record("a plan without kept tiles was accepted for a sampling recipe")
        } catch {
            #expect(error.description.contains("plan.json: does not record the tiles sampling keeps"))
        }
        #expect(!FileManager.default.fileExists(atPath: ws.url("s.h5").path))
    }

    // MARK: Resuming (the CLI, as Slurm runs it)

    @Test func killingOneShardAndRerunningRedoesOnlyThatShard() throws {
        let ws = try Workspace()
        let recipe = Self.recipe("idr0026-immunotherapy").path
        let plan = ws.url("plan.json").path
        try #require(try run(["plan", recipe, "--shards", "4", "-o", plan], in: ws.root).status == 0)
        let shard = { (i: Int) in ws.url("x.shards/x-0000\(i)-of-00004.h5").path }
        func exportArguments(_ i: Int) -> [String] { ["export", recipe, "--shard", "\(i)/4", "--plan", plan, "--output", shard(i)] }
        for i in [0, 1, 3] { try #require(try run(exportArguments(i), in: ws.root).status == 0) }

        let process = Process()
        process.executableURL = Self.executable
        process.arguments = exportArguments(2)
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let directory = ws.url("x.shards").path
        var sawTemporary = false
        for _ in 0..<20_000 where process.isRunning {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if entries.contains(where: { $0.hasPrefix(".x-00002-of-00004.h5.tmp-") }) {
                kill(process.processIdentifier, SIGKILL)
                sawTemporary = true
                break
            }
            usleep(500)
        }
        process.waitUntilExit()
        try #require(sawTemporary && process.terminationReason == .uncaughtSignal, "shard 2 finished before it could be killed")
        #expect(!FileManager.default.fileExists(atPath: shard(2)))

        let incomplete = try run(["merge", shard(0), shard(1), shard(3), "--output", ws.url("x.h5").path], in: ws.root)
        #expect(incomplete.status == 1)
        #expect(incomplete.stderr.contains("shard 2 of 4 (plan sha256:"), "\(incomplete.stderr)")
        #expect(incomplete.stderr.contains("is missing; export it with trainset export RECIPE --shard 2/4"))
        // A refused merge leaves nothing behind, under the final name or a temporary one.
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.root.path).sorted() == ["plan.json", "x.shards"])

        for i in 0..<4 {
            let rerun = try run(exportArguments(i), in: ws.root)
            #expect(rerun.status == 0)
            #expect(rerun.stdout == shard(i) + "\n")
            if i == 2 {
                #expect(rerun.stderr.contains("exporting 57 images, 228 tiles"), "\(rerun.stderr)")
            } else {
                #expect(rerun.stderr.hasPrefix("skipped shard \(i)/4: "), "\(rerun.stderr)")
                #expect(!rerun.stderr.contains("exporting"))
            }
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "temporary files left: \(left)")  // the killed run's temporary was removed

        let merged = try run(["merge"] + (0..<4).map(shard) + ["--output", ws.url("x.h5").path], in: ws.root)
        #expect(merged.status == 0, "\(merged.stderr)")
        let single = try Exporter.run(try Planner.plan(recipeAt: URL(fileURLWithPath: recipe), output: ws.url("single.h5").path))
        #expect(try BundleReader(opening: ws.url("x.h5")).manifest().contentHash == single.manifest.contentHash)
    }

    // MARK: Slurm scripts

    @Test func slurmScriptsRunEachShardThenMergeAfterAllSucceeded() throws {
        let ws = try Workspace.plateDataset()
        let plan = try ShardPlan.make(try Planner.plan(recipeAt: ws.url("recipe.yaml")), shards: 2)
        let job = SlurmJob(trainset: "/bin/echo", recipe: ws.url("recipe.yaml"), plan: plan, directory: ws.url("slurm"),
                           bundle: ws.url("out/tiny.h5"), layout: .copy,
                           resources: .init(partition: "short", time: "0:30:00", memory: "2G", cpus: 2, maxParallel: 1,
                                            extra: ["--constraint=ssd"]),
                           name: "tiny set")
        try job.write()
        #expect(try ShardPlan.load(job.planFile) == plan)
        let export = try String(contentsOf: ws.url("slurm/export.sbatch"), encoding: .utf8)
        for line in ["#SBATCH --array=0-1%1", "#SBATCH --partition=short", "#SBATCH --time=0:30:00", "#SBATCH --mem=2G",
                     "#SBATCH --cpus-per-task=2", "#SBATCH --constraint=ssd", "#SBATCH --job-name=trainset-export-tiny-set",
                     "#SBATCH --output=\(ws.url("slurm/logs").path)/export-%A_%a.log"] {
            #expect(export.contains(line + "\n"), "\(line) missing from export.sbatch")
        }
        for name in ["export.sbatch", "merge.sbatch", "submit.sh"] {
            let syntax = try shell(["-n", ws.url("slurm/\(name)").path], environment: [:])
            #expect(syntax.status == 0, "\(name): \(syntax.stderr)")
        }
        // With trainset replaced by echo, each script prints the command it would run.
        let task = try shell([ws.url("slurm/export.sbatch").path], environment: ["SLURM_ARRAY_TASK_ID": "1"])
        #expect(task.stdout == "export \(ws.url("recipe.yaml").path) --shard 1/2 --plan \(job.planFile.path) --output "
                + "\(ShardExport.defaultOutput(forBundle: ws.url("out/tiny.h5"), index: 1, count: 2).path) --quiet\n")
        let merge = try shell([ws.url("slurm/merge.sbatch").path], environment: [:])
        #expect(merge.stdout == "merge \(job.shardFiles.map(\.path).joined(separator: " ")) --output \(ws.url("out/tiny.h5").path) "
                + "--overwrite --copy\n")
        #expect(job.shardFiles.map(\.lastPathComponent) == ["tiny-00000-of-00002.h5", "tiny-00001-of-00002.h5"])

        // submit.sh against a stand-in sbatch that records its arguments and answers job ids.
        let bin = ws.url("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try ws.write("bin/sbatch", """
            #!/bin/sh
            echo "$*" >> \(ws.url("sbatch.calls").path)
            n=$(wc -l < \(ws.url("sbatch.calls").path))
            echo "$((100 + n));cluster"

            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: ws.url("bin/sbatch").path)
        let submitted = try shell([ws.url("slurm/submit.sh").path],
                                  environment: ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        #expect(submitted.stdout == "101 102\n")
        #expect(try String(contentsOf: ws.url("sbatch.calls"), encoding: .utf8)
                == "--parsable export.sbatch\n--parsable --dependency=afterok:101 merge.sbatch\n")
    }

    /// Runs `bash arguments…` with extra environment variables.
    func shell(_ arguments: [String], environment: [String: String]) throws -> CLIRun {
        try launch(URL(fileURLWithPath: "/bin/bash"), arguments, environment: environment)
    }
}

import ArgumentParser
import BundleFormat
import Export
import Foundation

struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write Slurm job scripts that export a recipe in shards and merge them.",
        discussion: """
            Plans the export into N shards (as `trainset plan`) and writes, into the directory: \
            plan.json; export.sbatch, a job array whose task I runs `trainset export --shard I/N --plan`; \
            merge.sbatch, which runs `trainset merge` on every shard; and submit.sh, which submits the \
            array and then the merge with --dependency=afterok on it, printing both job ids. Paths in \
            the scripts are absolute. Submitting again after a failure redoes only the shards that are \
            missing or invalid. Nothing is submitted by this command.

            Example:
              trainset slurm samples/idr0035-moa/recipe.yaml --shards 8 --partition short --time 1:00:00 \\
                --mem 4G --cpus 2 -o slurm/
              slurm/submit.sh
            """)

    @Argument(help: "The recipe file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var recipe: String

    @Option(help: "Number of shards (array tasks).")
    var shards: Int

    @Option(name: [.customShort("o"), .customLong("directory")],
            help: ArgumentHelp("Directory for the scripts, plan.json and logs/ (default: <bundle>.slurm).", valueName: "dir"))
    var directory: String?

    @Option(help: ArgumentHelp("The merged bundle (default: the recipe's output.path); shards go in <name>.shards/ next to it.",
                               valueName: "bundle.h5"))
    var bundle: String?

    @Option(help: "Slurm partition (#SBATCH --partition).")
    var partition: String?

    @Option(help: "Time limit per job, e.g. 2:00:00 (#SBATCH --time).")
    var time: String?

    @Option(help: "Memory per job, e.g. 8G (#SBATCH --mem).")
    var mem: String?

    @Option(help: "CPUs per task (#SBATCH --cpus-per-task).")
    var cpus: Int?

    @Option(help: "Account to charge (#SBATCH --account).")
    var account: String?

    @Option(help: "Quality of service (#SBATCH --qos).")
    var qos: String?

    @Option(help: "Run at most this many shards at once (--array=0-N%K).")
    var maxParallel: Int?

    @Option(help: ArgumentHelp("A further #SBATCH option for both jobs, e.g. --sbatch=--constraint=ssd (repeatable).",
                               valueName: "option"))
    var sbatch: [String] = []

    @Flag(help: "Merge into one self-contained file (trainset merge --copy).")
    var copy = false

    @Option(help: ArgumentHelp("The trainset executable the jobs run (default: this one).", valueName: "path"))
    var trainset: String?

    func run() throws {
        do {
            let recipeURL = URL(fileURLWithPath: recipe).standardizedFileURL
            let plan = try Planner.plan(recipeAt: recipeURL, output: bundle)
            let shardPlan = try ShardPlan.make(plan, shards: shards)
            let merged = plan.output
            let directory = self.directory.map { URL(fileURLWithPath: $0) }
                ?? merged.deletingPathExtension().appendingPathExtension("slurm")
            let executable = trainset.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
                ?? Bundle.main.executableURL?.resolvingSymlinksInPath().path ?? CommandLine.arguments[0]
            let job = SlurmJob(
                trainset: executable, recipe: recipeURL, plan: shardPlan, directory: directory, bundle: merged,
                layout: copy ? .copy : .virtual,
                resources: SlurmJob.Resources(partition: partition, time: time, memory: mem, cpus: cpus, account: account, qos: qos,
                                              maxParallel: maxParallel, extra: sbatch),
                name: plan.recipe.dataset.name)
            try job.write()
            Console.error("plan \(shardPlan.planID): \(shardPlan.sources.count) images in \(shards) shards; "
                          + "shards go to \(job.shardFiles[0].deletingLastPathComponent().path)/, the merged bundle to \(merged.path)")
            Console.error("submit with: \(job.directory.appendingPathComponent("submit.sh").path)")
            print(job.directory.path)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
    }
}

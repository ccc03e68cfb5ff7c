import BundleFormat
import Foundation

/// The Slurm scripts of a sharded export (`trainset slurm`): one job array whose task `i`
/// exports shard `i`, and a merge job that runs only when every task succeeded.
///
/// Every path in the scripts is absolute, so they run from any directory and on any node that
/// sees the same file system. Re-submitting after a failure redoes only the shards that are
/// missing or invalid (finished shards are skipped by `trainset export --shard`).
public struct SlurmJob: Sendable {
    /// `#SBATCH` resources; nil leaves the cluster's default.
    public struct Resources: Sendable {
        public var partition: String?
        public var time: String?
        public var memory: String?
        public var cpus: Int?
        public var account: String?
        public var qos: String?
        /// At most this many shard tasks at once (`--array=0-N%K`).
        public var maxParallel: Int?
        /// Further `#SBATCH` options, written as given (e.g. `--constraint=ssd`).
        public var extra: [String]

        public init(partition: String? = nil, time: String? = nil, memory: String? = nil, cpus: Int? = nil,
                    account: String? = nil, qos: String? = nil, maxParallel: Int? = nil, extra: [String] = []) {
            self.partition = partition
            self.time = time
            self.memory = memory
            self.cpus = cpus
            self.account = account
            self.qos = qos
            self.maxParallel = maxParallel
            self.extra = extra
        }
    }

    /// The `trainset` executable the jobs run.
    public var trainset: String
    public var recipe: URL
    public var plan: ShardPlan
    /// Where the scripts, `plan.json` and `logs/` go.
    public var directory: URL
    /// The merged bundle.
    public var bundle: URL
    public var layout: MergeLayout
    public var resources: Resources
    /// The dataset name, for job names.
    public var name: String

    public init(trainset: String, recipe: URL, plan: ShardPlan, directory: URL, bundle: URL, layout: MergeLayout,
                resources: Resources, name: String) {
        self.trainset = trainset
        self.recipe = recipe.standardizedFileURL
        self.plan = plan
        self.directory = directory.standardizedFileURL
        self.bundle = bundle.standardizedFileURL
        self.layout = layout
        self.resources = resources
        self.name = name
    }

    public var planFile: URL { directory.appendingPathComponent("plan.json") }
    public var shardFiles: [URL] {
        (0..<plan.shardCount).map { ShardExport.defaultOutput(forBundle: bundle, index: $0, count: plan.shardCount) }
    }

    /// The files to write, with their text, in the order they are written.
    public func files() -> [(name: String, text: String, executable: Bool)] {
        [("export.sbatch", exportScript(), false), ("merge.sbatch", mergeScript(), false), ("submit.sh", submitScript(), true)]
    }

    /// Writes `plan.json`, the scripts and an empty `logs/` into `directory`.
    public func write() throws(ExportError) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
            try plan.jsonData().write(to: planFile, options: .atomic)
            for file in files() {
                let url = directory.appendingPathComponent(file.name)
                try Data(file.text.utf8).write(to: url, options: .atomic)
                try fm.setAttributes([.posixPermissions: file.executable ? 0o755 : 0o644], ofItemAtPath: url.path)
            }
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError(.output, FileSystem.display(directory), "cannot write the Slurm scripts: \(error.localizedDescription)")
        }
    }

    private var jobName: String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" })
    }

    private func header(_ job: String, log: String, array: String?) -> [String] {
        var lines = ["#!/bin/bash", "# Written by trainset \(ToolInfo.version) (`trainset slurm`) for \(recipe.path);",
                     "# plan \(plan.planID) (\(plan.shardCount) shards). Submit both jobs with submit.sh.",
                     "#SBATCH --job-name=trainset-\(job)-\(jobName)"]
        if let array { lines.append("#SBATCH --array=\(array)") }
        lines.append("#SBATCH --output=\(directory.appendingPathComponent("logs").path)/\(log)")
        let r = resources
        for (option, value) in [("partition", r.partition), ("time", r.time), ("mem", r.memory), ("account", r.account),
                                ("qos", r.qos), ("cpus-per-task", r.cpus.map(String.init))] {
            if let value { lines.append("#SBATCH --\(option)=\(value)") }
        }
        lines += r.extra.map { "#SBATCH \($0)" }
        return lines + ["set -euo pipefail"]
    }

    func exportScript() -> String {
        let count = plan.shardCount
        let parallel = resources.maxParallel.map { "%\($0)" } ?? ""
        let first = ShardExport.defaultOutput(forBundle: bundle, index: 0, count: count).path
        // The default shard names with the task's index in place of shard 0's.
        let prefix = String(first.dropLast("00000-of-\(ShardExport.padded(count)).h5".count))
        var lines = header("export", log: "export-%A_%a.log", array: "0-\(count - 1)\(parallel)")
        lines += [
            "# Shard ${SLURM_ARRAY_TASK_ID} of \(count); a shard that already exists and validates is skipped.",
            "shard=\"$(printf '%s%05d%s' \(Self.quoted(prefix)) \"$SLURM_ARRAY_TASK_ID\" '-of-\(ShardExport.padded(count)).h5')\"",
            "exec \(Self.quoted(trainset)) export \(Self.quoted(recipe.path)) --shard \"$SLURM_ARRAY_TASK_ID/\(count)\" \\",
            "  --plan \(Self.quoted(planFile.path)) --output \"$shard\" --quiet",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    func mergeScript() -> String {
        var lines = header("merge", log: "merge-%j.log", array: nil)
        lines.append("exec \(Self.quoted(trainset)) merge \\")
        lines += shardFiles.map { "  \(Self.quoted($0.path)) \\" }
        lines.append("  --output \(Self.quoted(bundle.path)) --overwrite\(layout == .copy ? " --copy" : "")")
        return lines.joined(separator: "\n") + "\n"
    }

    func submitScript() -> String {
        """
        #!/bin/sh
        # Submits the shard exports as one job array, and the merge to start only when every shard
        # succeeded (--dependency=afterok). Prints "<array job id> <merge job id>" on standard output.
        # Running it again after a failure redoes only the shards that are missing or invalid.
        set -eu
        cd \(Self.quoted(directory.path))
        array=$(sbatch --parsable export.sbatch)
        array=${array%%;*}
        merge=$(sbatch --parsable --dependency=afterok:"$array" merge.sbatch)
        merge=${merge%%;*}
        echo "submitted shard exports as job array $array and the merge as job $merge" >&2
        echo "$array $merge"

        """
    }

    /// A single-quoted shell word.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

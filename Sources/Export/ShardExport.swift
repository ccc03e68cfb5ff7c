import BundleFormat
import Foundation

/// One shard of a sharded export (`trainset export RECIPE --shard I/N`), resumable: a shard whose
/// bundle already exists, validates and belongs to the same plan is not exported again.
public enum ShardExport {
    /// What running a shard did.
    public enum Outcome: Sendable {
        case exported(ExportResult)
        /// The bundle at this path was already this shard of this plan, and valid.
        case skipped(URL)
    }

    /// Where shard `index` of `count` goes by default: `<dir>/<stem>.shards/<stem>-IIIII-of-NNNNN.h5`
    /// next to the bundle the recipe names.
    public static func defaultOutput(forBundle bundle: URL, index: Int, count: Int) -> URL {
        let stem = bundle.deletingPathExtension().lastPathComponent
        return bundle.deletingLastPathComponent().appendingPathComponent("\(stem).shards")
            .appendingPathComponent("\(stem)-\(padded(index))-of-\(padded(count)).h5")
    }

    /// `n` zero-padded to five digits (more when larger), as shard file names number shards.
    static func padded(_ n: Int) -> String {
        String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n)
    }

    /// Exports shard `index` of `count` of the recipe at `recipeURL`. With `planFile`, the shard
    /// reads only its own images (the plan says which) and refuses a plan made from other inputs;
    /// without, it plans the whole recipe and divides it as `trainset plan` would. `output`
    /// overrides the default shard path; `force` exports even over a valid shard; `options` are
    /// the export's (workers). `notice`
    /// receives one line about skipping or redoing.
    public static func run(recipeAt recipeURL: URL, index: Int, count: Int, planFile: URL?, output: String?,
                           force: Bool = false, options: ExportOptions = ExportOptions(), notice: (String) -> Void = { _ in },
                           progress: (ExportEvent) -> Void = { _ in })
        throws(ExportError) -> Outcome {
        let (recipe, text) = try Recipe.load(recipeURL)
        let shardPlan: ShardPlan
        var wholePlan: ExportPlan?
        if let planFile {
            shardPlan = try ShardPlan.load(planFile)
            let recipeSHA = FileDigest.of(data: Data(text.utf8))
            guard shardPlan.recipeSHA256 == recipeSHA else {
                throw ExportError(.mismatch, FileSystem.display(planFile), "was made from another recipe (SHA-256 "
                                  + "\(shardPlan.recipeSHA256.prefix(12))…, \(FileSystem.display(recipeURL)) is \(recipeSHA.prefix(12))…); "
                                  + "re-run trainset plan and export every shard again")
            }
            guard shardPlan.shardCount == count else {
                throw ExportError(.mismatch, FileSystem.display(planFile),
                                  "divides the export into \(shardPlan.shardCount) shards, not \(count); use --shard I/\(shardPlan.shardCount)")
            }
        } else {
            let whole = try Planner.plan(recipeAt: recipeURL)
            shardPlan = try ShardPlan.make(whole, shards: count)
            wholePlan = whole
        }
        guard (0..<count).contains(index) else {
            throw ExportError(.recipe, FileSystem.display(recipeURL), "--shard \(index)/\(count): the index must be 0…\(count - 1)")
        }
        let target = output.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? defaultOutput(forBundle: Planner.defaultOutput(recipe, at: recipeURL), index: index, count: count)
        let identity = shardPlan.identity(ofShard: index)
        var replacing = false
        if FileManager.default.fileExists(atPath: target.path) {
            if let reason = force ? "exists; replacing it (--overwrite)" : reasonToRedo(target, identity: identity) {
                notice("re-exporting shard \(index)/\(count): \(FileSystem.display(target)) \(reason)")
                replacing = true
            } else {
                notice("skipped shard \(index)/\(count): \(FileSystem.display(target)) is already this shard of plan "
                       + "\(identity.planID.prefix(19))… and valid")
                return .skipped(target)
            }
        }
        var plan: ExportPlan
        if let wholePlan {
            plan = wholePlan.restricted(toShard: index, of: shardPlan)
        } else {
            let shown = FileSystem.display(planFile!)
            plan = try Planner.plan(recipeAt: recipeURL, select: shardPlan.selection(shard: index, planFile: shown), balance: false)
            try shardPlan.applySummaries(to: &plan, shard: index, planFile: shown)
            try shardPlan.check(plan, shard: index, planFile: shown)
            plan.shard = identity
        }
        plan.output = target
        plan.overwrite = replacing
        return .exported(try Exporter.run(plan, options: options, progress: progress))
    }

    /// Why an existing shard file must be exported again, or nil when it is this shard and valid.
    static func reasonToRedo(_ url: URL, identity: Manifest.Shard) -> String? {
        let report = BundleValidator.validate(url)
        guard report.isValid else { return "does not validate (\(report.problems.first ?? "")); replacing it" }
        let shard: Manifest.Shard?
        do {
            shard = try BundleReader(opening: url).manifest().shard
        } catch {
            return "cannot be read (\(error)); replacing it"
        }
        guard let shard else { return "is not a shard bundle; replacing it" }
        guard shard == identity else {
            return "is shard \(shard.index)/\(shard.count) of plan \(shard.planID.prefix(19))…, not shard "
                + "\(identity.index)/\(identity.count) of plan \(identity.planID.prefix(19))…; replacing it"
        }
        return nil
    }

    /// Merges shard bundles into one published bundle at `output`, as `trainset merge` does:
    /// built under a temporary name, validated, sidecars first, then renamed into place.
    public static func merge(_ shards: [URL], output: URL, layout: MergeLayout, overwrite: Bool,
                             progress: (String) -> Void = { _ in }) throws(ExportError) -> ExportResult {
        let final = output.standardizedFileURL
        let finalReal = final.resolvingSymlinksInPath()
        if let clash = shards.first(where: { $0.standardizedFileURL.resolvingSymlinksInPath() == finalReal }) {
            throw ExportError(.output, FileSystem.display(clash), "is one of the shards; choose another --output")
        }
        let temporary = try Exporter.temporaryName(for: final, overwrite: overwrite)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let manifest: Manifest
        do {
            manifest = try BundleMerger.merge(shards, into: temporary, namesRelativeTo: final.deletingLastPathComponent(),
                                              layout: layout, progress: progress)
        } catch {
            throw ExportError(error.code == .io ? .output : .input, error.file ?? "", error.description.dropPrefix(error.file))
        }
        progress("validating the merged bundle")
        return try Exporter.publish(temporary, as: final, manifest: manifest)
    }
}

private extension String {
    /// The description without its leading `file: `, which ExportError's location repeats.
    func dropPrefix(_ file: String?) -> String {
        guard let file, hasPrefix(file + ": ") else { return self }
        return String(dropFirst(file.count + 2))
    }
}

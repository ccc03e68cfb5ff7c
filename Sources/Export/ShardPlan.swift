import BundleFormat
import Crypto
import Foundation

/// How a sharded export divides a plan's source images among shards (specs/shard-plan/v1.md):
/// contiguous runs of the planned source order, balanced by pixel count, so that shard `i`'s
/// tiles are one block of the single-process bundle's rows and merging them in shard order
/// gives the single-process tile order.
public struct ShardPlan: Sendable, Codable, Equatable {
    public struct Format: Sendable, Codable, Equatable {
        public var name = ShardPlan.formatName
        public var version = "1.1.0"
    }

    /// One source image of the whole plan, in plan order.
    public struct Source: Sendable, Codable, Equatable {
        /// As in the bundle's `/sources/path`.
        public var path: String
        public var width: Int
        public var height: Int
        /// Bundle tiles cut from it (grid tiles times augmented variants).
        public var tiles: Int
        /// With `sampling`: the `[x, y]` origins of the tile positions the whole plan kept, in
        /// bundle order. The class balance weighs every source's tiles against every other's, so a
        /// shard cannot decide it from its own images (specs/shard-plan/v1.md §4).
        public var keptTiles: [[Int]]? = nil
        enum CodingKeys: String, CodingKey { case path, width, height, tiles, keptTiles = "kept_tiles" }
    }

    /// Manifest members that describe the whole export and that a shard reading only its own
    /// images could not compute; every shard's manifest carries these (bundle format §13.1).
    public struct Summaries: Sendable, Codable, Equatable {
        /// `objects` without its row counts (which are each shard's own and summed by a merge).
        public var objects: Manifest.Objects?
        public var sampling: Manifest.Sampling?
    }

    /// One shard: a contiguous run of `sources`.
    public struct Shard: Sendable, Codable, Equatable {
        public var index: Int
        public var firstSource: Int
        public var sources: Int
        public var firstTile: Int
        public var tiles: Int
        /// Pixels of its source images, the quantity the plan balances.
        public var pixels: Int
        enum CodingKeys: String, CodingKey {
            case index, sources, tiles, pixels, firstSource = "first_source", firstTile = "first_tile"
        }

        /// Its rows of the plan's `sources`.
        public var sourceRange: Range<Int> { firstSource..<(firstSource + sources) }
    }

    /// What every shard's bundle must agree on, checked before a shard writes anything.
    public struct BundleFacts: Sendable, Codable, Equatable {
        public var pixelType: String
        public var channels: Int
        public var tileWidth: Int
        public var tileHeight: Int
        enum CodingKeys: String, CodingKey {
            case channels, pixelType = "pixel_type", tileWidth = "tile_width", tileHeight = "tile_height"
        }
    }

    public static let formatName = "trainset-shard-plan"

    public var format = Format()
    /// `sha256:` + the SHA-256 of the plan's identity text (specs/shard-plan/v1.md §3).
    public var planID: String
    /// SHA-256 of the recipe file's bytes, as `manifest.recipe.sha256`.
    public var recipeSHA256: String
    public var shardCount: Int
    public var bundle: BundleFacts
    /// Every input file of the whole plan, in the manifest's order.
    public var inputs: [Manifest.InputFile]
    public var sources: [Source]
    public var shards: [Shard]
    /// Present when the recipe has `labels.objects` or `sampling`.
    public var summaries: Summaries? = nil

    enum CodingKeys: String, CodingKey {
        case format, bundle, inputs, sources, shards, summaries
        case planID = "plan_id", recipeSHA256 = "recipe_sha256", shardCount = "shard_count"
    }

    /// Divides a whole plan's sources into `count` shards.
    public static func make(_ plan: ExportPlan, shards count: Int) throws(ExportError) -> ShardPlan {
        guard plan.shard == nil else { preconditionFailure("a shard plan is made from the whole plan") }
        guard count >= 1 else { throw ExportError(.recipe, plan.recipePath, "--shards must be at least 1") }
        guard count <= plan.sources.count else {
            throw ExportError(.recipe, plan.recipePath, "cannot make \(count) shards: the recipe selects \(plan.sources.count) "
                              + "images and a shard holds at least one; use --shards \(plan.sources.count) or fewer")
        }
        let sampled = plan.sampling != nil
        let sources = plan.sources.map {
            Source(path: $0.path, width: $0.width, height: $0.height, tiles: $0.tiles.count * plan.variants,
                   keptTiles: sampled ? $0.tiles.map { [$0.rect.x, $0.rect.y] } : nil)
        }
        var shards: [Shard] = []
        var firstTile = 0
        for (index, run) in partition(sources.map { $0.width * $0.height }, into: count).enumerated() {
            let tiles = sources[run].reduce(0) { $0 + $1.tiles }
            shards.append(Shard(index: index, firstSource: run.lowerBound, sources: run.count, firstTile: firstTile, tiles: tiles,
                                pixels: sources[run].reduce(0) { $0 + $1.width * $1.height }))
            firstTile += tiles
        }
        var shardPlan = ShardPlan(
            planID: "", recipeSHA256: FileDigest.of(data: Data(plan.recipeText.utf8)), shardCount: count,
            bundle: BundleFacts(plan.spec), inputs: plan.inputs, sources: sources, shards: shards)
        if plan.objects != nil || plan.sampling != nil {
            shardPlan.summaries = Summaries(objects: plan.objects?.manifest, sampling: plan.sampling)
        }
        shardPlan.planID = shardPlan.identity()
        return shardPlan
    }

    /// Contiguous runs of `weights` (in order), exactly `count` of them and none empty, whose
    /// largest total is as small as possible. Among the optimal divisions it takes, shard by
    /// shard, the longest first run, so the result is a function of the weights alone.
    public static func partition(_ weights: [Int], into count: Int) -> [Range<Int>] {
        precondition(count >= 1 && count <= weights.count, "need 1 ≤ count ≤ number of weights")
        precondition(weights.allSatisfy { $0 >= 0 }, "weights must not be negative")
        // The smallest bound on a run's total that greedy filling meets with at most `count` runs.
        var low = weights.max()!, high = weights.reduce(0, +)
        while low < high {
            let mid = low + (high - low) / 2
            if greedyRuns(weights, bound: mid) <= count { high = mid } else { low = mid + 1 }
        }
        // Fill each run up to the bound, leaving at least one weight for every later run.
        var runs: [Range<Int>] = []
        var start = 0
        for k in 0..<count {
            var end = start + 1
            if k == count - 1 {
                end = weights.count
            } else {
                var total = weights[start]
                while end < weights.count - (count - k - 1), total + weights[end] <= low {
                    total += weights[end]
                    end += 1
                }
            }
            runs.append(start..<end)
            start = end
        }
        return runs
    }

    private static func greedyRuns(_ weights: [Int], bound: Int) -> Int {
        var runs = 1, total = 0
        for w in weights {
            if total + w > bound {
                runs += 1
                total = 0
            }
            total += w
        }
        return runs
    }

    /// The identity text of specs/shard-plan/v1.md §3, hashed: what makes two plans the same plan.
    func identity() -> String {
        var text = "trainset-shard-plan/v1\nrecipe\t\(recipeSHA256)\n"
        for input in inputs { text += "input\t\(input.sha256)\t\(input.path)\n" }
        for s in sources {
            text += "source\t\(s.path)\t\(s.width)\t\(s.height)\t\(s.tiles)\n"
            if let kept = s.keptTiles { text += "kept\t" + kept.map { $0.map(String.init).joined(separator: ",") }.joined(separator: " ") + "\n" }
        }
        for s in shards { text += "shard\t\(s.index)\t\(s.firstSource)\t\(s.sources)\n" }
        return "sha256:" + FileDigest.of(data: Data(text.utf8))
    }

    /// The manifest's `shard` member for shard `index`.
    public func identity(ofShard index: Int) -> Manifest.Shard {
        Manifest.Shard(index: index, count: shardCount, planID: planID, firstSource: shards[index].firstSource,
                       firstTile: shards[index].firstTile)
    }

    // MARK: Files

    /// The plan file's text: JSON with sorted keys and a trailing newline.
    public func jsonData() throws(ExportError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(self)
            data.append(0x0A)
            return data
        } catch {
            throw ExportError(.output, "", "cannot encode the shard plan: \(error)")
        }
    }

    /// Reads and checks a plan file: its format, its shards against its sources, and its
    /// `plan_id` against its content (a hand-edited plan is refused).
    public static func load(_ url: URL) throws(ExportError) -> ShardPlan {
        let shown = FileSystem.display(url)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ExportError(.input, shown, "cannot read the shard plan: \(error.localizedDescription)")
        }
        let plan: ShardPlan
        do {
            plan = try JSONDecoder().decode(ShardPlan.self, from: data)
        } catch {
            throw ExportError(.input, shown, "is not a trainset shard plan (specs/shard-plan/v1.md): \(error)")
        }
        guard plan.format.name == formatName, plan.format.version.hasPrefix("1.") else {
            throw ExportError(.input, shown, "is \(plan.format.name) \(plan.format.version), expected \(formatName) 1.x")
        }
        var next = 0, tile = 0
        for (i, s) in plan.shards.enumerated() {
            guard s.index == i, s.firstSource == next, s.sources >= 1, s.firstTile == tile,
                  s.firstSource + s.sources <= plan.sources.count else {
                throw ExportError(.input, shown, "shards[\(i)] does not continue where the shard before it ends; regenerate the plan with trainset plan")
            }
            next += s.sources
            tile += plan.sources[s.sourceRange].reduce(0) { $0 + $1.tiles }
        }
        guard plan.shards.count == plan.shardCount, next == plan.sources.count else {
            throw ExportError(.input, shown, "its \(plan.shards.count) shards do not cover its \(plan.sources.count) sources; regenerate the plan with trainset plan")
        }
        guard plan.identity() == plan.planID else {
            throw ExportError(.input, shown, "plan_id does not match the plan's content (was it edited?); regenerate it with trainset plan")
        }
        return plan
    }

    // MARK: Checks of a shard against the plan

    /// The `select` of `Planner.plan` for shard `index`: refuses a recipe whose images are no longer
    /// the plan's, in the plan's order.
    func selection(shard index: Int, planFile: String) -> ([String]) throws(ExportError) -> Range<Int> {
        let expected = sources.map(\.path)
        let range = shards[index].sourceRange
        return { (paths) throws(ExportError) -> Range<Int> in
            guard paths == expected else {
                let difference = zip(paths, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(paths.count, expected.count)
                let detail = difference < min(paths.count, expected.count)
                    ? "image \(difference) is now \(paths[difference]), the plan has \(expected[difference])"
                    : "the recipe now selects \(paths.count) images, the plan \(expected.count)"
                throw ExportError(.mismatch, planFile, "is stale: \(detail); re-run trainset plan and export every shard again")
            }
            return range
        }
    }

    /// Gives a shard's own plan what only the whole plan knows: the tiles sampling kept (the
    /// balance ran over every source) and the whole export's `objects` and `sampling` manifest
    /// members, so that every shard's manifest carries the same ones (bundle format §13.1).
    func applySummaries(to plan: inout ExportPlan, shard index: Int, planFile: String) throws(ExportError) {
        for (i, planned) in zip(plan.sources.indices, sources[shards[index].sourceRange]) {
            guard let kept = planned.keptTiles else {
                // A 1.0.0 plan has no kept tiles; the shard alone would keep others than the whole export.
                guard plan.recipe.sampling == nil else {
                    throw ExportError(.mismatch, planFile, "does not record the tiles sampling keeps (made by an older "
                                      + "trainset, format \(format.version)); re-run trainset plan and export every shard again")
                }
                continue
            }
            // The kept tiles are an ordered subsequence of the positions the shard planned.
            var next = 0, keep: [Int] = []
            for (j, tile) in plan.sources[i].tiles.enumerated() where next < kept.count && kept[next] == [tile.rect.x, tile.rect.y] {
                keep.append(j)
                next += 1
            }
            guard next == kept.count else {
                throw ExportError(.mismatch, planFile, "is stale: \(planned.path) no longer has a tile at "
                                  + "\(kept[next]) where the plan keeps one; re-run trainset plan and export every shard again")
            }
            plan.sources[i].tiles = keep.map { plan.sources[i].tiles[$0] }
            plan.sources[i].foreground = plan.sources[i].foreground.map { f in keep.map { f[$0] } }
        }
        plan.spec.tileCount = plan.tileCount
        if let summaries {
            if let objects = summaries.objects { plan.objects?.manifest = objects }
            plan.sampling = summaries.sampling
        }
    }

    /// Refuses a shard plan made from other inputs than the plan file's: every input the shard
    /// read must be in the plan with the same SHA-256, and its images and bundle shape must be the
    /// planned ones.
    func check(_ plan: ExportPlan, shard index: Int, planFile: String) throws(ExportError) {
        let stale = "re-run trainset plan and export every shard again"
        let recorded = Dictionary(inputs.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        for input in plan.inputs where recorded[input.path] != input.sha256 {
            let was = recorded[input.path].map { "SHA-256 \($0.prefix(12))…" } ?? "not in the plan"
            throw ExportError(.mismatch, planFile, "is stale: input \(input.path) has SHA-256 \(input.sha256.prefix(12))… but was "
                              + "\(was) when the plan was made; \(stale)")
        }
        for (source, planned) in zip(plan.sources, sources[shards[index].sourceRange]) {
            // The kept tiles themselves were matched by `applySummaries`.
            let now = Source(path: source.path, width: source.width, height: source.height, tiles: source.tiles.count * plan.variants,
                             keptTiles: planned.keptTiles)
            guard now == planned else {
                throw ExportError(.mismatch, planFile, "is stale: \(source.path) is \(now.width)x\(now.height) with \(now.tiles) tiles, "
                                  + "planned \(planned.width)x\(planned.height) with \(planned.tiles); \(stale)")
            }
        }
        let facts = BundleFacts(plan.spec)
        guard facts == bundle else {
            throw ExportError(.mismatch, planFile, "is stale: the images now give \(facts.channels) channels of \(facts.pixelType) in "
                              + "\(facts.tileWidth)x\(facts.tileHeight) tiles, the plan \(bundle.channels) of \(bundle.pixelType) in "
                              + "\(bundle.tileWidth)x\(bundle.tileHeight); \(stale)")
        }
    }
}

extension ShardPlan.BundleFacts {
    init(_ spec: BundleSpec) {
        self.init(pixelType: spec.pixelType.rawValue, channels: spec.channels, tileWidth: spec.tileWidth,
                  tileHeight: spec.tileHeight)
    }
}

extension ExportPlan {
    /// This whole plan cut down to shard `index` of `shards`: its sources, the inputs they and the
    /// shared files (tables, schema, study) need, and its tile count.
    public func restricted(toShard index: Int, of shards: ShardPlan) -> ExportPlan {
        precondition(shard == nil && shards.sources.map(\.path) == sources.map(\.path), "restrict the plan the shards were made of")
        let range = shards.shards[index].sourceRange
        var restricted = self
        restricted.sources = Array(sources[range])
        let kept = Set(restricted.sources.flatMap(\.inputPaths))
        let dropped = Set(sources.flatMap(\.inputPaths)).subtracting(kept)
        restricted.inputs = inputs.filter { !dropped.contains($0.path) }
        restricted.spec.tileCount = restricted.tileCount
        restricted.shard = shards.identity(ofShard: index)
        return restricted
    }
}

extension ExportPlan.Source {
    /// The input files read for this source alone: the image and its mask files.
    var inputPaths: [String] {
        var paths = [path]
        for mask in [instanceMask, semanticMask] {
            switch mask {
            case .file(let path, _): paths.append(path)
            case .objects(_, let files): paths += files.map(\.path)
            case nil: break
            }
        }
        return paths
    }
}

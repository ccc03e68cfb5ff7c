import BundleFormat
import Crypto
import Foundation
import Raster
import Tiling

/// Which tiles each source contributes (specs/recipe/v1.md §8): the planned positions (grid or
/// random), then the foreground filter, then the class balance. All of it runs in planning,
/// so the plan fixes the tile list and the bundle's shape before any tile is cut; the filter
/// reads the masks (or, for Otsu, the image) of every source to do so.
enum TileSelection {
    /// The positions planned on a source of `width × height`: the grid with its rows and
    /// columns, or `sampling.random_tiles` random tiles (no grid).
    static func positions(_ recipe: Recipe, grid: TileGridSpec, width: Int, height: Int, sourceSHA256: String)
        -> (tiles: [Tile], grid: (rows: Int, columns: Int)?) {
        if let count = recipe.sampling?.randomTiles {
            let tiles = randomTiles(count: count, width: grid.tileWidth, height: grid.tileHeight, imageWidth: width,
                                    imageHeight: height, random: randomStream(seed: recipe.seed, sourceSHA256: sourceSHA256))
            return (tiles, nil)
        }
        let tiles = TileGrid.tiles(imageWidth: width, imageHeight: height, spec: grid)
        // Row-major order: the last tile is in the last row and column.
        return (tiles, ((tiles.last?.row ?? -1) + 1, (tiles.last?.column ?? -1) + 1))
    }

    /// The stream a source's random positions are drawn from: keyed by the source's content
    /// (the first 16 hex digits of SHA-256 of `trainset/random-tiles/v1␀<source sha256>`), so
    /// renaming or reordering inputs moves no tile.
    static func randomStream(seed: UInt64, sourceSHA256: String) -> RandomStream {
        let digest = SHA256.hash(data: Data("trainset/random-tiles/v1\u{0}\(sourceSHA256)".utf8))
        let key = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return RandomStream(seed: seed, tileKey: key, augmentation: 0)
    }

    /// What the filters need besides the sources.
    struct Context {
        var seed: UInt64
        var edge: EdgePolicy
        var palette: Recipe.PaletteChoice?
        var channelIndices: [Int]
        var sha256: [String: String]
        /// Internal label → (bundle id, name).
        var classIDs: [Int]
        var classNames: [String]
    }

    /// Applies the foreground filter and the class balance of `sampling` to the planned
    /// `sources` (their `tiles`, in place) and reports what each kept and dropped. `groups`
    /// holds each source's balance group.
    static func apply(_ sampling: Recipe.Sampling, to sources: inout [ExportPlan.Source], groups: [String],
                      context: Context) throws(ExportError) -> Manifest.Sampling {
        let positions = sources.map(\.tiles.count)
        var belowForeground = Array(repeating: 0, count: sources.count)
        var overCap = Array(repeating: 0, count: sources.count)
        var thresholds: [Double?] = Array(repeating: nil, count: sources.count)
        if let foreground = sampling.foreground {
            for i in sources.indices {
                let fractions: [Double]
                if sources[i].tiles.isEmpty {
                    fractions = []
                } else {
                    let (map, threshold) = try foregroundMap(foreground.source, of: sources[i], context: context)
                    fractions = sources[i].tiles.map { foregroundFraction(map, tile: $0, edge: context.edge) }
                    thresholds[i] = threshold
                }
                let keep = fractions.indices.filter { fractions[$0] >= foreground.minFraction }
                belowForeground[i] = fractions.count - keep.count
                sources[i].tiles = keep.map { sources[i].tiles[$0] }
                sources[i].foreground = keep.map { fractions[$0] }
            }
        }
        var classes: [Manifest.Sampling.ClassCount]?
        if let balance = sampling.balance {
            var candidates: [SamplingCandidate] = [], owners: [(source: Int, tile: Int)] = []
            for (i, source) in sources.enumerated() {
                let sha = context.sha256[source.path] ?? ""
                for (j, tile) in source.tiles.enumerated() {
                    let key = Augmentation.tileKey(sourceSHA256: sha, tile: tile)
                    candidates.append(SamplingCandidate(key: RandomStream.tileKey(fromHex: key)!, classID: Int(source.label),
                                                        group: groups[i]))
                    owners.append((i, j))
                }
            }
            let chosen = balancedSample(candidates, seed: context.seed, perClass: balance.perClass ?? .max,
                                        perGroup: balance.perGroup ?? .max)
            var keep = sources.map { Array(repeating: false, count: $0.tiles.count) }
            for c in chosen { keep[owners[c].source][owners[c].tile] = true }
            for i in sources.indices {
                let kept = keep[i].indices.filter { keep[i][$0] }
                overCap[i] = sources[i].tiles.count - kept.count
                sources[i].tiles = kept.map { sources[i].tiles[$0] }
                sources[i].foreground = sources[i].foreground.map { f in kept.map { f[$0] } }
            }
            classes = classReport(candidates, chosen: chosen, context: context)
        }
        return Manifest.Sampling(
            positions: sampling.randomTiles == nil ? "grid" : "random", randomTiles: sampling.randomTiles,
            foreground: sampling.foreground.map { f in
                switch f.source {
                case .instanceMask: .init(source: "instance_mask", polarity: nil, minFraction: f.minFraction)
                case .semanticMask: .init(source: "semantic_mask", polarity: nil, minFraction: f.minFraction)
                case .otsu(let polarity): .init(source: "otsu", polarity: polarity.rawValue, minFraction: f.minFraction)
                }
            },
            balance: sampling.balance.map { .init(perClass: $0.perClass, perGroup: $0.perGroup, groupColumn: $0.groupColumn) },
            sources: sources.indices.map { i in
                .init(path: sources[i].path, positions: positions[i], belowForeground: belowForeground[i], overCap: overCap[i],
                      kept: sources[i].tiles.count, otsuThreshold: thresholds[i])
            },
            classes: classes)
    }

    /// The foreground map of a source at its tiling size (rescaled like a mask when the
    /// recipe rescales), and the Otsu threshold when it came from the image.
    static func foregroundMap(_ source: Recipe.Sampling.Foreground.Source, of s: ExportPlan.Source, context: Context)
        throws(ExportError) -> (LabelImage, Double?) {
        var map: LabelImage
        var threshold: Double?
        // The filter needs the whole mask (decoded, then as 32-bit labels) or, for Otsu, the
        // whole image (about 11 bytes per sample with its float planes).
        let perPixel: Int
        switch source {
        case .instanceMask, .semanticMask: perPixel = 2 + 4
        case .otsu: perPixel = 11 * s.channels
        }
        let (pixels, overflow) = s.readWidth.multipliedReportingOverflow(by: s.readHeight)
        try RegionReads.requireWhole(s, bytes: overflow || pixels > Int.max / perPixel ? .max : pixels * perPixel,
                                     needs: "sampling.foreground")
        switch source {
        // The recipe reader refuses a mask filter without that kind of mask, and the planner
        // gives every source the recipe's masks.
        case .instanceMask: map = try MaskLoading.load(s.instanceMask!, for: s)
        case .semanticMask: map = try MaskLoading.load(s.semanticMask!, for: s)
        case .otsu(let polarity):
            let image = try ImageLoading.read(s, palette: context.palette, channels: context.channelIndices)
            (map, threshold) = tissueMap(image, polarity: polarity)
        }
        if s.rescale != nil { map = Rescale.labels(map, width: s.width, height: s.height) }
        return (map, threshold)
    }

    /// Per class (by bundle id; −1 = unlabeled): candidates, kept, groups, the most any group kept.
    static func classReport(_ candidates: [SamplingCandidate], chosen: [Int], context: Context)
        -> [Manifest.Sampling.ClassCount] {
        var keptPerGroup: [Int: [String: Int]] = [:], groupsPerClass: [Int: Set<String>] = [:], total: [Int: Int] = [:]
        for c in candidates {
            total[c.classID, default: 0] += 1
            groupsPerClass[c.classID, default: []].insert(c.group)
        }
        for i in chosen { keptPerGroup[candidates[i].classID, default: [:]][candidates[i].group, default: 0] += 1 }
        return total.keys.map { label in
            let kept = keptPerGroup[label] ?? [:]
            return Manifest.Sampling.ClassCount(
                id: label < 0 ? -1 : context.classIDs[label], name: label < 0 ? "" : context.classNames[label],
                candidates: total[label]!, kept: kept.values.reduce(0, +), groups: groupsPerClass[label]!.count,
                maxPerGroup: kept.values.max() ?? 0)
        }.sorted { $0.id < $1.id }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Raster

/// How overlapping tiles are blended back into a whole image (stored with the grid so a
/// prediction can be stitched without guessing; bundle format §5.6).
public enum BlendMode: String, Codable, Sendable, CaseIterable, NamedChoice {
    /// Each tile contributes only its central part: weight 0 in the outer half-overlap bands,
    /// 1 elsewhere, so every pixel of a regular grid with stride = tile − overlap is owned by
    /// exactly one tile. (At the image border there is no neighbour to own the band; a stitcher
    /// gives it weight 1 there, bundle format §5.6.)
    case crop
    /// Every tile pixel weighs 1; overlapping predictions are averaged.
    case average
    /// A Hann window (sin² ramp), floored at 10⁻³ so that image corners covered by a single
    /// tile keep a non-zero weight.
    case hann
}

/// The blending weights along one axis of a tile of `length` pixels laid with `overlap`
/// (tile size − stride, clamped to ≥ 0). The 2-D weight of pixel (y, x) is the product of the
/// y and x windows.
public func blendWindow(_ mode: BlendMode, length: Int, overlap: Int) -> [Double] {
    let overlap = max(0, min(overlap, length))
    switch mode {
    case .average:
        return Array(repeating: 1, count: length)
    case .crop:
        let cut = overlap / 2
        return (0 ..< length).map { $0 < cut || $0 >= length - (overlap - cut) ? 0 : 1 }
    case .hann:
        // s·s, not pow(s, 2): the optimizer rewrites pow(s, 2) to s·s in release builds only,
        // and the C library's pow need not round the square the same way, so the window (and
        // the content hash) differed between debug and release builds.
        return (0 ..< length).map { i in
            let s = sin(Double.pi * (Double(i) + 0.5) / Double(length))
            return max(s * s, 1e-3)
        }
    }
}

/// Otsu's threshold of a histogram: the bin edge that maximises between-class variance.
/// Returns the index t such that bins 0 … t form the lower class (ties: the first maximum).
public func otsuThreshold(histogram: [Int]) -> Int {
    let total = Double(histogram.reduce(0, +))
    guard total > 0 else { return 0 }
    let sumAll = histogram.enumerated().reduce(0.0) { $0 + Double($1.offset) * Double($1.element) }
    var weightLow = 0.0, sumLow = 0.0, best = -1.0, bestIndex = 0
    for (t, count) in histogram.enumerated() {
        weightLow += Double(count)
        sumLow += Double(t) * Double(count)
        let weightHigh = total - weightLow
        guard weightLow > 0, weightHigh > 0 else { continue }
        let meanLow = sumLow / weightLow, meanHigh = (sumAll - sumLow) / weightHigh
        let between = weightLow * weightHigh * (meanLow - meanHigh) * (meanLow - meanHigh)
        if between > best {
            best = between
            bestIndex = t
        }
    }
    return bestIndex
}

/// Which side of Otsu's threshold is tissue (foreground).
public enum TissuePolarity: String, Codable, Sendable, CaseIterable, NamedChoice {
    /// Tissue is darker than the background (bright-field, H&E).
    case dark
    /// Tissue is brighter than the background (fluorescence).
    case bright
}

/// A tissue map of `image` by Otsu's threshold of its channel mean: 1 = tissue, 0 =
/// background, and the threshold in intensity units (for the manifest).
///
/// The mean over channels is binned into 256 equal bins between its minimum and maximum;
/// Otsu's bin t splits them. `dark` tissue is bins 0 … t (mean < threshold), `bright` tissue
/// the bins above (mean ≥ threshold), where threshold = min + (t + 1)/256 · (max − min). A
/// constant image has no tissue.
public func tissueMap(_ image: ImageBuffer, polarity: TissuePolarity) -> (map: LabelImage, threshold: Double) {
    let planes = floatPlanes(image), n = image.width * image.height
    let mean = (0 ..< n).map { i in (0 ..< image.channels).reduce(0.0) { $0 + Double(planes[$1 * n + i]) } / Double(image.channels) }
    let lo = mean.min() ?? 0, hi = mean.max() ?? 0
    guard hi > lo else { return (LabelImage(width: image.width, height: image.height, values: Array(repeating: 0, count: n)), hi) }
    let bin = { (v: Double) in min(Int((v - lo) / (hi - lo) * 256), 255) }
    var histogram = [Int](repeating: 0, count: 256)
    for v in mean { histogram[bin(v)] += 1 }
    let t = otsuThreshold(histogram: histogram)
    let values: [UInt32] = mean.map { (bin($0) <= t) == (polarity == .dark) ? 1 : 0 }
    return (LabelImage(width: image.width, height: image.height, values: values), lo + Double(t + 1) / 256 * (hi - lo))
}

/// The fraction of `tile`'s pixels that are foreground (non-zero) in `map`, the tile cut from
/// the map as masks are cut (`TileExtractor`): padding past the image edge mirrors the map
/// with `reflect` and is background with `constant`.
public func foregroundFraction(_ map: LabelImage, tile: Tile, edge: EdgePolicy) -> Double {
    let cut = TileExtractor.extract(map, tile: tile, edge: edge)
    return Double(cut.values.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }) / Double(cut.values.count)
}

/// A candidate tile for class-balanced sampling.
public struct SamplingCandidate: Sendable, Equatable {
    /// The tile's key folded to 64 bits; decides its rank, so the choice does not depend on
    /// the order candidates are listed in.
    public var key: UInt64
    public var classID: Int
    /// The group (subject, plate, image, …) the per-group cap applies to.
    public var group: String
    public init(key: UInt64, classID: Int, group: String) { (self.key, self.classID, self.group) = (key, classID, group) }
}

/// Class-balanced selection: every class keeps up to `perClass` candidates and no group more
/// than `perGroup` within a class. Candidates are taken greedily in rank order, the rank being
/// `splitMix64(seed XOR key)` (ties: key, class, group), so the chosen set is a function of the
/// candidate set alone, whatever order it is listed in. Returns the indices of the chosen
/// candidates, ascending.
public func balancedSample(_ candidates: [SamplingCandidate], seed: UInt64, perClass: Int = .max, perGroup: Int = .max) -> [Int] {
    let ranked = candidates.indices.sorted { i, j in
        let a = candidates[i], b = candidates[j]
        let ra = splitMix64(seed ^ a.key), rb = splitMix64(seed ^ b.key)
        if ra != rb { return ra < rb }
        if a.key != b.key { return a.key < b.key }
        if a.classID != b.classID { return a.classID < b.classID }
        // Identical candidates (same content, class and group) are interchangeable; the index
        // only makes the sort a total order.
        return a.group != b.group ? Array(a.group.utf8).lexicographicallyPrecedes(Array(b.group.utf8)) : i < j
    }
    var perClassCount: [Int: Int] = [:], perGroupCount: [String: Int] = [:]
    var chosen: [Int] = []
    for i in ranked {
        let c = candidates[i]
        let groupKey = "\(c.classID)\u{1F}\(c.group)"
        guard perClassCount[c.classID, default: 0] < perClass, perGroupCount[groupKey, default: 0] < perGroup else { continue }
        perClassCount[c.classID, default: 0] += 1
        perGroupCount[groupKey, default: 0] += 1
        chosen.append(i)
    }
    return chosen.sorted()
}

/// `count` distinct random tiles of `width × height` lying fully inside an image, in row-major
/// order (y, then x), with grid row and column −1.
///
/// Each position draws x = `integer(below: imageWidth − width + 1)`, then y =
/// `integer(below: imageHeight − height + 1)` from `random`'s sequential interface; a position
/// drawn before is skipped. When `count` reaches the number of positions, every position is
/// returned without drawing. An image smaller than the tile has none.
public func randomTiles(count: Int, width: Int, height: Int, imageWidth: Int, imageHeight: Int,
                        random: RandomStream) -> [Tile] {
    guard width <= imageWidth, height <= imageHeight, count > 0 else { return [] }
    let columns = imageWidth - width + 1, rows = imageHeight - height + 1
    var origins: [(y: Int, x: Int)] = []
    if count >= columns * rows {
        origins = (0 ..< rows).flatMap { y in (0 ..< columns).map { (y, $0) } }
    } else {
        var r = random
        var seen = Set<Int>()
        while origins.count < count {
            let x = r.integer(below: columns), y = r.integer(below: rows)
            if seen.insert(y * columns + x).inserted { origins.append((y, x)) }
        }
        origins.sort { $0.y != $1.y ? $0.y < $1.y : $0.x < $1.x }
    }
    return origins.map { o in
        let rect = PixelRect(x: o.x, y: o.y, width: width, height: height)
        return Tile(rect: rect, valid: rect, row: -1, column: -1)
    }
}

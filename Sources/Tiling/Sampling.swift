#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Raster

/// How overlapping tiles are blended back into a whole image (stored with the grid so a
/// prediction can be stitched without guessing).
public enum BlendMode: String, Codable, Sendable, CaseIterable {
    /// Each tile contributes only its central part: weight 1 within `overlap / 2` of nothing,
    /// 0 in the outer half-overlap band, so every pixel is owned by exactly one tile of a
    /// regular grid with stride = tile − overlap.
    case crop
    /// Every tile pixel weighs 1; overlapping predictions are averaged.
    case average
    /// A separable Hann window (sin² ramp), floored at 10⁻³ so that image corners covered by a
    /// single tile keep a non-zero weight.
    case hann
}

/// Per-pixel blending weights of a `width × height` tile, row-major, for tiles laid with
/// overlap `overlapX`, `overlapY` (tile size − stride, ≥ 0).
public func blendWeights(_ mode: BlendMode, width: Int, height: Int, overlapX: Int, overlapY: Int) -> [Float] {
    func axis(_ n: Int, _ overlap: Int) -> [Double] {
        switch mode {
        case .average:
            return Array(repeating: 1, count: n)
        case .crop:
            let cut = overlap / 2
            return (0 ..< n).map { $0 < cut || $0 >= n - (overlap - cut) ? 0 : 1 }
        case .hann:
            return (0 ..< n).map { i in max(pow(sin(Double.pi * (Double(i) + 0.5) / Double(n)), 2), 1e-3) }
        }
    }
    let wx = axis(width, overlapX), wy = axis(height, overlapY)
    return wy.flatMap { y in wx.map { Float(y * $0) } }
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

/// Which tiles are worth exporting.
public enum ForegroundFilter: Codable, Sendable, Equatable {
    /// Keep tiles whose mask has at least this fraction of non-zero pixels.
    case maskFraction(Double)
    /// Keep tiles with at least `fraction` of tissue pixels, tissue being darker than Otsu's
    /// threshold of the whole image's mean-over-channels intensity (bright-field background is
    /// bright), computed on a 256-bin histogram.
    case tissue(fraction: Double)
}

/// A per-pixel foreground map of `image` by Otsu on its channel mean (true = tissue, darker
/// than the threshold), and the threshold used in intensity units, for the manifest.
public func tissueMask(_ image: ImageBuffer) -> (mask: [Bool], threshold: Double) {
    let planes = floatPlanes(image), n = image.width * image.height
    let mean = (0 ..< n).map { i in (0 ..< image.channels).reduce(0.0) { $0 + Double(planes[$1 * n + i]) } / Double(image.channels) }
    let lo = mean.min() ?? 0, hi = mean.max() ?? 0
    guard hi > lo else { return (Array(repeating: false, count: n), hi) }
    let bin = { (v: Double) in min(Int((v - lo) / (hi - lo) * 256), 255) }
    var histogram = [Int](repeating: 0, count: 256)
    for v in mean { histogram[bin(v)] += 1 }
    let t = otsuThreshold(histogram: histogram)
    return (mean.map { bin($0) <= t }, lo + Double(t + 1) / 256 * (hi - lo))
}

/// The fraction of `tile`'s in-image pixels for which `foreground` is true.
public func foregroundFraction(_ foreground: [Bool], imageWidth: Int, tile: Tile) -> Double {
    let v = tile.valid
    var count = 0
    for y in v.y ..< v.y + v.height {
        for x in v.x ..< v.x + v.width where foreground[y * imageWidth + x] { count += 1 }
    }
    return Double(count) / Double(tile.rect.width * tile.rect.height)
}

/// A candidate tile for class-balanced sampling.
public struct SamplingCandidate: Sendable, Equatable {
    /// The tile's key folded to 64 bits; decides its rank, so the choice does not depend on
    /// the order candidates are listed in.
    public var key: UInt64
    public var classID: Int
    /// The group (subject, plate, …) the per-group cap applies to.
    public var group: String
    public init(key: UInt64, classID: Int, group: String) { (self.key, self.classID, self.group) = (key, classID, group) }
}

/// Class-balanced selection: every class gets up to `perClass` tiles and no group more than
/// `perGroup` tiles within a class. Candidates are ranked by a keyed hash of (seed, key), so the
/// result is a deterministic function of the candidate set. Returns the chosen keys, sorted.
public func balancedSample(_ candidates: [SamplingCandidate], seed: UInt64, perClass: Int, perGroup: Int) -> [UInt64] {
    let ranked = candidates.sorted {
        let a = splitMix64(seed ^ $0.key), b = splitMix64(seed ^ $1.key)
        return a != b ? a < b : $0.key < $1.key
    }
    var perClassCount: [Int: Int] = [:], perGroupCount: [String: Int] = [:]
    var chosen: [UInt64] = []
    for c in ranked {
        let groupKey = "\(c.classID)\u{1F}\(c.group)"
        guard perClassCount[c.classID, default: 0] < perClass, perGroupCount[groupKey, default: 0] < perGroup else { continue }
        perClassCount[c.classID, default: 0] += 1
        perGroupCount[groupKey, default: 0] += 1
        chosen.append(c.key)
    }
    return chosen.sorted()
}

/// `count` random tiles of `width × height` lying fully inside an image, their origins drawn
/// from `random` (the image's stream), in draw order.
public func randomTiles(count: Int, width: Int, height: Int, imageWidth: Int, imageHeight: Int,
                        random: RandomStream) -> [Tile] {
    guard width <= imageWidth, height <= imageHeight else { return [] }
    var r = random
    return (0 ..< count).map { i in
        let x = r.integer(below: imageWidth - width + 1), y = r.integer(below: imageHeight - height + 1)
        let rect = PixelRect(x: x, y: y, width: width, height: height)
        return Tile(rect: rect, valid: rect, row: i, column: 0)
    }
}

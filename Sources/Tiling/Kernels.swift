internal import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A matrix whose every row holds one contiguous run of weights: row `i` has `weights[i]` in
/// columns `starts[i] ..< starts[i] + weights[i].count`. Resampling and blurring along one axis
/// are such matrices (a few taps per output sample), which is why they can run either as a
/// dense GEMM or as a short loop over the taps.
public struct BandMatrix: Sendable, Equatable {
    /// Number of output samples.
    public let rows: Int
    /// Number of input samples.
    public let columns: Int
    /// First input column of each row's run.
    public let starts: [Int]
    /// Each row's weights, in column order.
    public let weights: [[Float]]

    init(rows: Int, columns: Int, starts: [Int], weights: [[Float]]) {
        precondition(starts.count == rows && weights.count == rows)
        for (s, w) in zip(starts, weights) { precondition(s >= 0 && s + w.count <= columns, "band row out of range") }
        self.rows = rows
        self.columns = columns
        self.starts = starts
        self.weights = weights
    }

    /// The matrix in row-major dense form, for GEMM.
    public func dense() -> [Float] {
        var m = [Float](repeating: 0, count: rows * columns)
        for r in 0 ..< rows {
            for (k, w) in weights[r].enumerated() { m[r * columns + starts[r] + k] = w }
        }
        return m
    }

    /// The filter used to resample an axis of `input` samples to `output` samples.
    public enum Filter: String, Codable, Sendable, CaseIterable, NamedChoice {
        /// Triangle (bilinear), support 1.
        case bilinear
        /// Keys cubic with a = −0.5 (Catmull–Rom), support 2.
        case bicubic

        var support: Double { self == .bilinear ? 1 : 2 }

        @inline(__always) func weight(_ x: Double) -> Double {
            // `magnitude`, the same value as `abs`, which is not always inlined.
            let x = x.magnitude
            switch self {
            case .bilinear: return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    /// Resampling of an axis of `input` samples to `output` samples with `filter`, widened by
    /// the reduction factor when shrinking so that downsampling averages instead of aliasing.
    /// Follows Pillow's `ImagingResample` coefficient rule exactly (pixel centres at i + ½,
    /// taps outside the axis dropped and the rest renormalised), so Pillow can check it.
    public static func resampling(input: Int, output: Int, filter: Filter) -> BandMatrix {
        precondition(input >= 1 && output >= 1)
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        var starts: [Int] = [], weights: [[Float]] = []
        for i in 0 ..< output {
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), input)
            var w = (lo ..< hi).map { filter.weight((Double($0) - center + 0.5) / filterScale) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            starts.append(lo)
            weights.append(w.map(Float.init))
        }
        return BandMatrix(rows: output, columns: input, starts: starts, weights: weights)
    }

    /// Gaussian smoothing of an axis of `count` samples, like
    /// `scipy.ndimage.gaussian_filter1d(mode="mirror", truncate=4)`: radius ⌊4σ + ½⌋, taps
    /// past an end mirrored without repeating the end sample (the tiler's `reflect`).
    public static func gaussian(count: Int, sigma: Double) -> BandMatrix {
        precondition(count >= 1 && sigma > 0)
        return gaussians.value(GaussianKey(count: count, sigma: sigma.bitPattern)) { makeGaussian(count: count, sigma: sigma) }
    }

    private struct GaussianKey: Hashable, Sendable {
        var count: Int
        var sigma: UInt64
    }

    private static let gaussians = Memo<GaussianKey, BandMatrix>(capacity: 32)

    private static func makeGaussian(count: Int, sigma: Double) -> BandMatrix {
        let radius = Int(4 * sigma + 0.5)
        let taps = (-radius ... radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let total = taps.reduce(0, +)
        var starts: [Int] = [], weights: [[Float]] = []
        // Mirrored taps fold onto samples already hit; each sample's sum runs in tap order.
        var acc = [Double](repeating: 0, count: count)
        for i in 0 ..< count {
            var lo = count, hi = -1
            for (k, w) in taps.enumerated() {
                let j = reflectIndex(i + k - radius, count: count)
                acc[j] += w / total
                lo = min(lo, j)
                hi = max(hi, j)
            }
            starts.append(lo)
            weights.append((lo ... hi).map { Float(acc[$0]) })
            for j in lo ... hi { acc[j] = 0 }
        }
        return BandMatrix(rows: count, columns: count, starts: starts, weights: weights)
    }
}

/// The numeric kernels of the augmentations, each with a BLAS implementation and a plain loop.
///
/// Both are public so that `Benchmarks/` can time them against each other; the augmentations
/// use the path named by each kernel's `…Path` constant (see Benchmarks/README.md). The choice
/// is a constant, never decided at run time, because the two paths round differently and a
/// bundle must not depend on the machine's speed. Every constant is now the loop: the loops won
/// where BLAS was not needed, and OpenBLAS's results depend on the kernel it picks for the CPU,
/// which a bundle must not either (docs/limits.md).
public enum Kernels {
    /// Which implementation of a kernel to run.
    public enum Path: String, Sendable, CaseIterable {
        case blas
        case loop
    }

    /// Path used for separable resampling and blur.
    public static let separablePath: Path = .loop
    /// Path used for channel mixing and colour deconvolution: the loop, whose sums run in the
    /// order specs/augmentation/v1.md §6.1 states. OpenBLAS was 2–4× faster here, but
    /// Debian's build picks its kernels for the CPU it runs on, and its FMA kernels round
    /// differently from its SSE ones: the same recipe gave two content hashes on two machines.
    public static let mixPath: Path = .loop
    /// Path used for warp coordinate generation.
    public static let coordinatesPath: Path = .loop

    /// `rowsOp · plane · colsOpᵀ` for each of `count` row-major `height × width` planes stored
    /// one after the other: resamples or blurs along y with `rowsOp` (`outHeight × height`) and
    /// along x with `colsOp` (`outWidth × width`). The planes come out one after the other too.
    public static func separable(_ planes: [Float], count: Int = 1, width: Int, height: Int,
                                 rowsOp: BandMatrix, colsOp: BandMatrix, path: Path) -> [Float] {
        precondition(planes.count == count * width * height && rowsOp.columns == height && colsOp.columns == width)
        let outW = colsOp.rows, outH = rowsOp.rows, plane = width * height
        switch path {
        case .blas:
            // GEMM sums over one inner index per output element inside one thread; OpenBLAS
            // splits work across threads by output blocks only, so the thread count cannot
            // change a sum's order (checked by KernelTests).
            let cx = colsOp.dense(), ry = rowsOp.dense()
            var tmp = [Float](repeating: 0, count: height * outW)
            var out = [Float](repeating: 0, count: count * outH * outW)
            planes.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for p in 0 ..< count {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(height), Int32(outW), Int32(width),
                                    1, src.baseAddress.map { $0 + p * plane }, Int32(width), cx, Int32(width), 0, &tmp, Int32(outW))
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outH), Int32(outW), Int32(height),
                                    1, ry, Int32(height), tmp, Int32(outW), 0, dst.baseAddress.map { $0 + p * outH * outW }, Int32(outW))
                    }
                }
            }
            return out
        case .loop:
            // Runs of output columns that share one weight row at consecutive starts (all of a
            // blur's interior): each run is summed tap by tap across its columns, which
            // vectorises, and still adds every column's taps in order from zero.
            var runs: [(first: Int, count: Int)] = []
            for x in 0 ..< outW {
                if let last = runs.last, colsOp.weights[x] == colsOp.weights[last.first],
                   colsOp.starts[x] == colsOp.starts[last.first] + last.count {
                    runs[runs.count - 1].count += 1
                } else {
                    runs.append((x, 1))
                }
            }
            // Every output sample is written (each sum starts from zero), so nothing is cleared first.
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: height * outW)
            defer { tmp.deallocate() }
            return [Float](unsafeUninitializedCapacity: count * outH * outW) { out, initialized in
                planes.withUnsafeBufferPointer { src in
                    for p in 0 ..< count {
                        let input = src.baseAddress! + p * plane
                        for y in 0 ..< height {
                            for run in runs {
                                weightedSum(into: tmp + y * outW + run.first, count: run.count,
                                            weights: colsOp.weights[run.first],
                                            taps: input + y * width + colsOp.starts[run.first], tapStride: 1)
                            }
                        }
                        let output = out.baseAddress! + p * outH * outW
                        for y in 0 ..< outH {
                            weightedSum(into: output + y * outW, count: outW, weights: rowsOp.weights[y],
                                        taps: tmp + rowsOp.starts[y] * outW, tapStride: outW)
                        }
                    }
                }
                initialized = count * outH * outW
            }
        }
    }

    /// out[j] = Σₖ weights[k] · taps[k · tapStride + j] for j < count, each sum from zero in tap
    /// order. Several outputs at a time with the sums held in registers, so the output is written
    /// once rather than once per tap; every lane adds in the same order, so the bits are those
    /// of one output at a time.
    @inline(__always) static func weightedSum(into out: UnsafeMutablePointer<Float>, count: Int, weights: [Float],
                                              taps: UnsafePointer<Float>, tapStride: Int) {
        weights.withUnsafeBufferPointer { w in
            // Sixteen (four independent register sums: one sum's chain of additions would leave
            // the adder waiting), then four, then one.
            var j = blocks(SIMD16<Float>.self, from: 0, into: out, count: count, weights: w, taps: taps, tapStride: tapStride)
            j = blocks(SIMD4<Float>.self, from: j, into: out, count: count, weights: w, taps: taps, tapStride: tapStride)
            while j < count {
                var acc: Float = 0
                for k in w.indices { acc += w[k] * taps[k &* tapStride &+ j] }
                out[j] = acc
                j &+= 1
            }
        }
    }

    /// `weightedSum`'s outputs from `j` on, `V.scalarCount` at a time while they last; returns
    /// the first output left.
    @inline(__always) private static func blocks<V: SIMD>(
        _: V.Type, from j: Int, into out: UnsafeMutablePointer<Float>, count: Int, weights w: UnsafeBufferPointer<Float>,
        taps: UnsafePointer<Float>, tapStride: Int
    ) -> Int where V.Scalar == Float {
        var j = j
        while j &+ V.scalarCount <= count {
            var acc = V()
            for k in w.indices { acc += w[k] * UnsafeRawPointer(taps + (k &* tapStride &+ j)).loadUnaligned(as: V.self) }
            UnsafeMutableRawPointer(out + j).storeBytes(of: acc, as: V.self)
            j &+= V.scalarCount
        }
        return j
    }

    /// `matrix · planes + offsets`: mixes `channels` planes of `count` samples into
    /// `matrix.count / channels` planes (`matrix` row-major, one row per output channel).
    public static func mix(_ planes: [Float], channels: Int, count: Int, matrix: [Float], offsets: [Float],
                           path: Path) -> [Float] {
        precondition(planes.count == channels * count && matrix.count % channels == 0)
        let outC = matrix.count / channels
        precondition(offsets.count == outC)
        var out = [Float](repeating: 0, count: outC * count)
        for o in 0 ..< outC {
            for i in 0 ..< count { out[o * count + i] = offsets[o] }
        }
        switch path {
        case .blas:
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outC), Int32(count), Int32(channels),
                        1, matrix, Int32(channels), planes, Int32(count), 1, &out, Int32(count))
        case .loop:
            planes.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for o in 0 ..< outC {
                        for c in 0 ..< channels {
                            let w = matrix[o * channels + c]
                            let d = o * count, s = c * count
                            for i in 0 ..< count { dst[d + i] += w * src[s + i] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Source coordinates `inverse(x + ½, y + ½)` of every pixel centre of a `width × height`
    /// output, row-major, as two arrays (x, y).
    public static func coordinates(_ inverse: Affine2D, width: Int, height: Int, path: Path) -> (x: [Double], y: [Double]) {
        let n = width * height
        switch path {
        case .blas:
            // [x y 1] rows (n × 3) times the transposed 2 × 3 map gives n × 2 coordinates.
            var grid = [Double](repeating: 1, count: n * 3)
            for y in 0 ..< height {
                for x in 0 ..< width {
                    let i = (y * width + x) * 3
                    grid[i] = Double(x) + 0.5
                    grid[i + 1] = Double(y) + 0.5
                }
            }
            let m = [inverse.a, inverse.c, inverse.b, inverse.d, inverse.tx, inverse.ty]  // 3 × 2
            var out = [Double](repeating: 0, count: n * 2)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), 2, 3,
                        1, grid, 3, m, 2, 0, &out, 2)
            var xs = [Double](repeating: 0, count: n), ys = xs
            for i in 0 ..< n { xs[i] = out[2 * i]; ys[i] = out[2 * i + 1] }
            return (xs, ys)
        case .loop:
            // Written once each, through pointers: no clearing pass and no bounds checks, so
            // the loop vectorises.
            func axis(_ m: Double, _ k: Double, _ t: Double) -> [Double] {
                [Double](unsafeUninitializedCapacity: n) { out, initialized in
                    guard let base = out.baseAddress else { return }
                    for y in 0 ..< height {
                        let py = Double(y) + 0.5, row = base + y * width
                        for x in 0 ..< width { (row + x).initialize(to: m * (Double(x) + 0.5) + k * py + t) }
                    }
                    initialized = n
                }
            }
            return (axis(inverse.a, inverse.b, inverse.tx), axis(inverse.c, inverse.d, inverse.ty))
        }
    }
}

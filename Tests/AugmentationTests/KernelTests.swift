import Foundation
import Raster
import Testing
@testable import Tiling

/// Kernels against independent implementations (values computed with numpy 2.x, scipy 1.17.1
/// and Pillow; the script is in the comment of each test) and BLAS against loop.
@Suite(.serialized) struct KernelTests {
    // np.arange(35).reshape(5,7) * 7 % 23
    static let a: [Float] = [0, 7, 14, 21, 5, 12, 19, 3, 10, 17, 1, 8, 15, 22, 6, 13, 20, 4, 11, 18, 2,
                             9, 16, 0, 7, 14, 21, 5, 12, 19, 3, 10, 17, 1, 8]

    // scipy.ndimage.gaussian_filter(a, 1.3, mode='mirror', truncate=4.0)
    static let gauss: [Float] = [8.816269, 9.605226, 10.60562, 10.70405, 11.255976, 12.841553, 13.762871, 9.330301,
                                 9.917663, 10.565311, 10.571258, 11.207639, 12.68073, 13.462821, 10.378492, 10.477838,
                                 10.363388, 10.29516, 11.13237, 12.250724, 12.673774, 11.217403, 10.813806, 10.015744,
                                 10.021329, 11.026874, 11.684047, 11.728008, 11.524612, 10.905696, 9.83519, 9.89525,
                                 10.948085, 11.381109, 11.263616]

    @Test(arguments: Kernels.Path.allCases)
    func gaussianBlurMatchesScipyMirror(path: Kernels.Path) {
        let out = Kernels.separable(Self.a, width: 7, height: 5, rowsOp: .gaussian(count: 5, sigma: 1.3),
                                    colsOp: .gaussian(count: 7, sigma: 1.3), path: path)
        for (x, y) in zip(out, Self.gauss) { #expect(abs(x - y) < 1e-4) }
    }

    /// The loop path's bits are defined (specs/augmentation/v1.md §6.1: each output summed from
    /// zero in source order, x before y), so they are compared exactly with one output at a time,
    /// on widths that exercise every block size of the vectorised sums.
    @Test(arguments: [(37, 29), (16, 5), (3, 21), (70, 45)])
    func loopPathSumsEachOutputInTapOrder(width: Int, height: Int) {
        let plane = (0 ..< width * height).map { Float(($0 * 7919) % 4099) / 7 }
        let ops: [(BandMatrix, BandMatrix)] = [
            (.gaussian(count: height, sigma: 1), .gaussian(count: width, sigma: 1)),
            (.resampling(input: height, output: height * 2 / 3 + 1, filter: .bicubic),
             .resampling(input: width, output: width * 3 / 2, filter: .bilinear)),
        ]
        for (rows, cols) in ops {
            func apply(_ m: BandMatrix, _ i: Int, _ value: (Int) -> Float) -> Float {
                var acc: Float = 0
                for (k, w) in m.weights[i].enumerated() { acc += w * value(m.starts[i] + k) }
                return acc
            }
            var tmp = [Float](repeating: 0, count: height * cols.rows)
            for y in 0 ..< height {
                for x in 0 ..< cols.rows { tmp[y * cols.rows + x] = apply(cols, x) { plane[y * width + $0] } }
            }
            var expected = [Float](repeating: 0, count: rows.rows * cols.rows)
            for y in 0 ..< rows.rows {
                for x in 0 ..< cols.rows { expected[y * cols.rows + x] = apply(rows, y) { tmp[$0 * cols.rows + x] } }
            }
            let out = Kernels.separable(plane, width: width, height: height, rowsOp: rows, colsOp: cols, path: .loop)
            #expect(out == expected, "\(width) × \(height)")
            // Planes stored one after the other are each transformed on their own.
            let reversed = Array(plane.reversed())
            let two = Kernels.separable(plane + reversed, count: 2, width: width, height: height, rowsOp: rows,
                                        colsOp: cols, path: .loop)
            #expect(Array(two.prefix(out.count)) == out && Array(two.suffix(out.count)) == Kernels.separable(
                reversed, width: width, height: height, rowsOp: rows, colsOp: cols, path: .loop))
        }
    }

    // Image.fromarray(a.astype(np.float32), 'F').resize(size, Image.BILINEAR / Image.BICUBIC)
    @Test(arguments: [
        (BandMatrix.Filter.bilinear, 3, 4, [6.75, 12.61765, 13.75, 10.25, 9.01471, 13.82738, 10.875, 9.35784, 12.53571,
                                            12.32143, 9.58824, 8.64286] as [Float]),
        (.bicubic, 3, 4, [6.26892, 12.87299, 14.00873, 10.22697, 9.09807, 13.77178, 10.75987, 9.48627, 12.51485,
                          12.35348, 9.45633, 8.49889]),
    ])
    func shrinkingMatchesPillow(filter: BandMatrix.Filter, width: Int, height: Int, expected: [Float]) {
        for path in Kernels.Path.allCases {
            let out = Kernels.separable(Self.a, width: 7, height: 5,
                                        rowsOp: .resampling(input: 5, output: height, filter: filter),
                                        colsOp: .resampling(input: 7, output: width, filter: filter), path: path)
            for (x, y) in zip(out, expected) { #expect(abs(x - y) < 1e-4, "\(path)") }
        }
    }

    // The first row of the same image enlarged to 11 × 9 with Pillow's BICUBIC (negative lobes kept in 'F').
    @Test func enlargingMatchesPillow() {
        let expected: [Float] = [-0.73637, 2.29276, 7.38514, 11.7117, 17.96941, 22.62791, 10.54868, 4.87098, 11.02602,
                                 16.21887, 19.248]
        let out = Kernels.separable(Self.a, width: 7, height: 5, rowsOp: .resampling(input: 5, output: 9, filter: .bicubic),
                                    colsOp: .resampling(input: 7, output: 11, filter: .bicubic), path: .loop)
        for (x, y) in zip(out.prefix(11), expected) { #expect(abs(x - y) < 1e-4) }
    }

    // Rotation by 30° about the centre, bilinear, mirrored border:
    // scipy.ndimage.map_coordinates(a, [sy - .5, sx - .5], order=1, mode='mirror') with
    // (sx, sy) = Rᵀ(p − c) + c for every pixel centre p.
    @Test func rotationMatchesScipyMapCoordinates() throws {
        let expected: [Float] = [13.50962, 13.56029, 14.93044, 5.80385, 13.36603, 16.4167, 13.0182, 7.41154, 12.77757,
                                 11.0955, 4.90192, 12.4641, 14.68911, 5.47114, 4.31347, 11.87564, 16.35641, 4.0,
                                 11.56218, 19.12436, 8.30866, 4.78461, 10.97372, 13.19873, 4.63878, 10.66025, 13.60031,
                                 8.18138, 10.88269, 10.0718, 14.55256, 2.19615, 8.36603, 12.9282, 17.49038]
        let image = ImageBuffer(width: 7, height: 5, channels: 1, pixels: .float32(Self.a))
        let out = try run([.affine(rotation: 30, scale: 1, shear: 0, translateX: 0, translateY: 0, interpolation: .bilinear)],
                          SampleTargets(image: image))
        for (x, y) in zip(floats(out.image), expected) { #expect(abs(x - y) < 1e-4) }
    }

    // rgb_from_hed = skimage's; od = -log(max(px/255, 1e-6)); out = exp(-((od @ inv(rgb_from_hed)) * alpha + beta) @ rgb_from_hed) * 255
    @Test func stainJitterMatchesNumpy() throws {
        let pixels: [[Float]] = [[200, 150, 180], [90, 40, 120], [255, 255, 255], [0, 10, 250]]
        let planar = (0 ..< 3).flatMap { c in pixels.map { $0[c] } }
        let image = ImageBuffer(width: 4, height: 1, channels: 3, pixels: .float32(planar.map { $0 / 255 }))
        let out = try run([.stainJitter(alpha: [1.1, 0.9, 1.0], beta: [0.05, -0.02, 0])], SampleTargets(image: image))
        let expected: [Float] = [191.482, 148.328, 177.081, 80.145, 38.299, 114.751, 247.192, 251.153, 251.883, 0.0, 0.59, 104.634]
        let got = floats(out.image)
        for p in 0 ..< 4 {
            for c in 0 ..< 3 { #expect(abs(got[c * 4 + p] * 255 - expected[p * 3 + c]) < 0.02, "pixel \(p) channel \(c)") }
        }
    }

    /// Every kernel's BLAS and loop versions agree to rounding, and the version the augmenter
    /// uses gives bit-identical results with 1 and 2 OpenBLAS threads. (OpenBLAS's sgemm does
    /// not: on this machine the two-GEMM separable product differed in ~12 % of samples between
    /// 1 and 2 threads, one reason the separable kernel runs as a loop; see Benchmarks/README.md.)
    @Test func kernelPathsInUseIgnoreTheBLASThreadCount() {
        let w = 300, h = 200
        let plane = (0 ..< w * h).map { Float(($0 * 7919) % 1000) / 10 }
        let rows = BandMatrix.resampling(input: h, output: 130, filter: .bicubic)
        let cols = BandMatrix.resampling(input: w, output: 170, filter: .bicubic)
        let planes = plane + plane.reversed() + plane.map { 100 - $0 }
        let m: [Float] = [0.9, 0.1, 0.05, -0.1, 1.1, 0, 0.2, 0.3, 0.7]
        func all(_ separable: Kernels.Path, _ mix: Kernels.Path, _ coordinates: Kernels.Path) -> [[Float]] {
            let c = Kernels.coordinates(.rotation(degrees: 33), width: w, height: h, path: coordinates)
            return [Kernels.separable(plane, width: w, height: h, rowsOp: rows, colsOp: cols, path: separable),
                    Kernels.mix(planes, channels: 3, count: w * h, matrix: m, offsets: [1, 2, 3], path: mix),
                    c.x.map(Float.init), c.y.map(Float.init)]
        }
        let blas = all(.blas, .blas, .blas), loop = all(.loop, .loop, .loop)
        for (b, l) in zip(blas, loop) { #expect(zip(b, l).allSatisfy { abs($0 - $1) < 1e-3 }) }

        var inUse: [[[Float]]] = []
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            inUse.append(all(Kernels.separablePath, Kernels.mixPath, Kernels.coordinatesPath))
        }
        BLAS.setThreads(1)
        for (k, name) in ["separable", "mix", "coordinates x", "coordinates y"].enumerated() {
            let differing = zip(inUse[0][k], inUse[1][k]).filter { $0 != $1 }.count
            #expect(differing == 0, "\(name): \(differing) values differ between 1 and 2 BLAS threads")
        }
    }

    /// Channel mixing sums in the order specs/augmentation/v1.md §6.1 states, from the offset,
    /// one Float rounding per product and per sum; values chosen so that other orders differ.
    @Test func mixSumsFromTheOffsetInChannelOrder() {
        let count = 257
        let planes: [Float] = (0 ..< 3 * count).map { (i: Int) -> Float in
            let coarse = Float((i * 7919) % 1009) / 7
            return coarse + 1e-3 * Float(i % 13)
        }
        let matrix: [Float] = [0.7, 0.2, 0.1, -0.3, 1.1, 0.2, 0.05, 0.15, 0.8]
        let offsets: [Float] = [1e4, -3.25, 0.1]
        let out = Kernels.mix(planes, channels: 3, count: count, matrix: matrix, offsets: offsets, path: Kernels.mixPath)
        var reordered = 0
        for k in 0 ..< 3 {
            for i in 0 ..< count {
                var expected = offsets[k]
                for c in 0 ..< 3 { expected = expected + matrix[k * 3 + c] * planes[c * count + i] }
                #expect(out[k * count + i].bitPattern == expected.bitPattern, "output \(k), sample \(i)")
                var products: Float = 0
                for c in 0 ..< 3 { products = products + matrix[k * 3 + c] * planes[c * count + i] }
                if products + offsets[k] != expected { reordered += 1 }
            }
        }
        // The data tell the two orders apart, so the bit checks above could fail for another order.
        #expect(reordered > 10)
    }

    @Test func bandRowsSumToOne() {
        for (n, out) in [(10, 3), (10, 25), (7, 7)] {
            for filter in BandMatrix.Filter.allCases {
                let m = BandMatrix.resampling(input: n, output: out, filter: filter)
                for w in m.weights { #expect(abs(w.reduce(0, +) - 1) < 1e-5) }
            }
        }
        for w in BandMatrix.gaussian(count: 9, sigma: 2.5).weights { #expect(abs(w.reduce(0, +) - 1) < 1e-5) }
    }
}

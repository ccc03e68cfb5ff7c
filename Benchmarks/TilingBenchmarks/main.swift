// Times each BLAS kernel of Tiling against its loop version. Run from the package root:
//   swift run -c release TilingBenchmarks
// and copy the table into Benchmarks/README.md with the date and machine.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tiling

/// Monotonic seconds.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Median wall time in milliseconds of `runs` calls (after one warm-up call).
func median(runs: Int = 15, _ body: () -> Void) -> Double {
    body()
    let times = (0 ..< runs).map { _ in
        let start = now()
        body()
        return (now() - start) * 1000
    }.sorted()
    return times[runs / 2]
}

/// Deterministic test data: a smooth pattern, so no generator is needed.
func plane(_ w: Int, _ h: Int) -> [Float] {
    (0 ..< w * h).map { i in
        let x = Double(i % w), y = Double(i / w)
        let v: Double = 128 + 100 * sin(x * 0.05) * cos(y * 0.03)
        return Float(v)
    }
}

BLAS.setThreads(1)
var rows: [(String, Double, Double)] = []
@MainActor func bench(_ name: String, _ kernel: (Kernels.Path) -> Void) {
    rows.append((name, median { kernel(.blas) }, median { kernel(.loop) }))
}

for (w, out) in [(512, 256), (1024, 512), (512, 1024)] {
    let p = plane(w, w)
    let r = BandMatrix.resampling(input: w, output: out, filter: .bilinear)
    bench("resample \(w)² → \(out)² bilinear") { _ = Kernels.separable(p, width: w, height: w, rowsOp: r, colsOp: r, path: $0) }
}
for (w, sigma) in [(256, 1.0), (512, 2.0), (512, 8.0)] {
    let p = plane(w, w)
    let g = BandMatrix.gaussian(count: w, sigma: sigma)
    bench("gaussian blur \(w)², σ = \(sigma)") { _ = Kernels.separable(p, width: w, height: w, rowsOp: g, colsOp: g, path: $0) }
}
for (c, n) in [(3, 512 * 512), (8, 512 * 512)] {
    let planes = Array((0 ..< c).flatMap { _ in plane(512, 512) })
    let m = (0 ..< c * c).map { Float($0 % (c + 1) == 0 ? 1 : 0.05) }
    bench("channel mix \(c) → \(c), 512²") {
        _ = Kernels.mix(planes, channels: c, count: n, matrix: m, offsets: Array(repeating: 0, count: c), path: $0)
    }
}
let warp = Affine2D.rotation(degrees: 17).then(.translation(3, 4))
bench("warp coordinates 512²") { _ = Kernels.coordinates(warp, width: 512, height: 512, path: $0) }

print("| kernel | BLAS (ms) | loop (ms) | faster |")
print("|---|---:|---:|---|")
/// `x` with `digits` decimals, without Foundation.
func fixed(_ x: Double, _ digits: Int) -> String {
    let scale = (0 ..< digits).reduce(1.0) { r, _ in r * 10 }
    let v = Int((x * scale).rounded())
    let whole = String(v / Int(scale)), fraction = String(v % Int(scale))
    return whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
}
for (name, blas, loop) in rows {
    let faster = blas < loop ? "BLAS ×\(fixed(loop / blas, 2))" : "loop ×\(fixed(blas / loop, 2))"
    print("| \(name) | \(fixed(blas, 3)) | \(fixed(loop, 3)) | \(faster) |")
}
print("\nOpenBLAS: \(BLAS.version)")

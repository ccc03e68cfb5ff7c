// Times each BLAS kernel of Tiling against its loop version, then one augmented tile of the
// issue-9 job step by step. Run from the package root:
//   swift run -c release TilingBenchmarks            # both tables
//   swift run -c release TilingBenchmarks augment    # only the augmented tile (for profiling)
// and copy the tables into Benchmarks/README.md with the date and machine.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Raster
import Tiling

/// Monotonic seconds.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// This thread's CPU seconds: on a shared machine far steadier than wall time.
func cpuNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Fewest CPU milliseconds of `runs` calls (after one warm-up call).
func fastestCPU(runs: Int = 15, _ body: () -> Void) -> Double {
    body()
    return (0 ..< runs).map { _ in
        let start = cpuNow()
        body()
        return (cpuNow() - start) * 1000
    }.min()!
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
let onlyAugment = CommandLine.arguments.dropFirst().contains("augment")
var rows: [(String, Double, Double)] = []
@MainActor func bench(_ name: String, _ kernel: (Kernels.Path) -> Void) {
    rows.append((name, median { kernel(.blas) }, median { kernel(.loop) }))
}

for (w, out) in onlyAugment ? [] : [(512, 256), (1024, 512), (512, 1024)] {
    let p = plane(w, w)
    let r = BandMatrix.resampling(input: w, output: out, filter: .bilinear)
    bench("resample \(w)² → \(out)² bilinear") { _ = Kernels.separable(p, width: w, height: w, rowsOp: r, colsOp: r, path: $0) }
}
for (w, sigma) in onlyAugment ? [] : [(256, 1.0), (512, 2.0), (512, 8.0)] {
    let p = plane(w, w)
    let g = BandMatrix.gaussian(count: w, sigma: sigma)
    bench("gaussian blur \(w)², σ = \(sigma)") { _ = Kernels.separable(p, width: w, height: w, rowsOp: g, colsOp: g, path: $0) }
}
for (c, n) in onlyAugment ? [] : [(3, 512 * 512), (8, 512 * 512)] {
    let planes = Array((0 ..< c).flatMap { _ in plane(512, 512) })
    let m = (0 ..< c * c).map { Float($0 % (c + 1) == 0 ? 1 : 0.05) }
    bench("channel mix \(c) → \(c), 512²") {
        _ = Kernels.mix(planes, channels: c, count: n, matrix: m, offsets: Array(repeating: 0, count: c), path: $0)
    }
}
let warp = Affine2D.rotation(degrees: 17).then(.translation(3, 4))
if !onlyAugment {
    bench("warp coordinates 512²") { _ = Kernels.coordinates(warp, width: 512, height: 512, path: $0) }
    print("| kernel | BLAS (ms) | loop (ms) | faster |")
    print("|---|---:|---:|---|")
}
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
if !onlyAugment { print("\nOpenBLAS: \(BLAS.version)") }

// One augmented variant of the issue-9 job (Benchmarks/recipe.yaml) on a 2048² two-channel
// uint16 source, step by step: what each step adds to a bundle row.
let side = 2048, channels = 2
var seed: UInt64 = 9
let source = ImageBuffer(width: side, height: side, channels: channels, pixels: .uint16((0 ..< side * side * channels).map { i in
    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return UInt16(truncatingIfNeeded: 3000 + (i % side) + Int(seed >> 54))
}))
// Prepared as an export prepares every source of an augmenting recipe.
let sample = SampleTargets(image: source, instances: LabelImage(width: side, height: side,
                                                                values: (0 ..< side * side).map { UInt32($0 / 5000) }))
    .preparedForWarp()
let tile = Tile(rect: PixelRect(x: 896, y: 672, width: 256, height: 256), valid: PixelRect(x: 896, y: 672, width: 256, height: 256),
                row: 3, column: 4)
let geometric: [DrawnStep] = [.flip(horizontal: true, vertical: false), .rot90(quarterTurns: 1),
                              .affine(rotation: 23, scale: 1.1, shear: 0, translateX: 0, translateY: 0, interpolation: .bilinear)]
let variants: [(String, [DrawnStep])] = [
    ("flip + rot90 + affine (bilinear image, nearest mask)", geometric),
    ("… + blur σ = 1", geometric + [.blur(sigma: 1)]),
    ("… + gamma 0.8 (the job's variant)", geometric + [.blur(sigma: 1), .intensity(brightness: 0, contrast: 1, gamma: 0.8)]),
    ("flip only (a lattice warp: pixels copied)", [.flip(horizontal: true, vertical: false)]),
]
print("\n| one augmented 256² tile of a 2048² × 2 uint16 source | CPU ms (fastest of 15) |")
print("|---|---:|")
for (name, steps) in variants {
    let ms = fastestCPU {
        _ = try! Augmenter.apply(DrawnAugmentation(steps: steps), to: sample, tile: tile,
                                 border: .reflect, padValue: 0, boxFilter: BoxFilter())
    }
    print("| \(name) | \(fixed(ms, 3)) |")
}

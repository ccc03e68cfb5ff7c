#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Tiling

/// `IntensityKernel` must give the reference formula's bits (C library `pow` per sample) for
/// every sample, and must actually take its table path for ordinary samples.
@Suite("Intensity kernel")
struct IntensityKernelTests {
    /// Samples a uint16 image's intensity steps meet: integers, blurred fractions, values
    /// near 0, and the awkward ones (0, negative, subnormal, huge, infinite, NaN).
    static func samples(count: Int, seed: UInt64) -> [Float] {
        var state = seed
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        var values: [Float] = [0, -0.0, -3, Float(bitPattern: 0x1000), 1e-38, 0.5, 1, 65535, 65535.5, 70000, 3e38,
                               .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for i in 0 ..< count {
            let u = Double(next()) / Double(1 << 53)
            switch i % 4 {
            case 0: values.append(Float(Int(u * 65536)))
            case 1: values.append(Float(u * 65535))
            case 2: values.append(Float(u * 50))
            default: values.append(Float(pow(10, u * 12 - 8)))
            }
        }
        return values
    }

    @Test("same bits as pow for every sample", arguments: [0.01, 0.3, 0.8, 1, 1.25, 2.5, 5.9, 7, 100])
    func sameBitsAsPow(gamma: Double) {
        let input = Self.samples(count: 200_000, seed: UInt64(gamma * 1000))
        for (brightness, contrast, range) in [(0.0, 1.0, 65535.0), (-0.1, 0.8, 65535), (0.3, 1.7, 255), (0, 10, 1), (-1, 0, 65535)] {
            let kernel = IntensityKernel(gamma: gamma, brightness: brightness, contrast: contrast, range: range)
            var output = input
            let decidedByPow = kernel.apply(&output)
            var mismatches = 0
            for (x, y) in zip(input, output) {
                let reference = kernel.exact(x)
                if !(reference.bitPattern == y.bitPattern || (reference.isNaN && y.isNaN)) { mismatches += 1 }
            }
            #expect(mismatches == 0, "gamma \(gamma), brightness \(brightness), contrast \(contrast), range \(range)")
            #expect(decidedByPow <= input.count)
        }
    }

    /// On samples of a uint16 image after a blur (fractions spread over the whole range), the
    /// tables decide almost every sample: `pow` only where v ± δ straddles a Float boundary.
    @Test("pow decides few samples of an ordinary image", arguments: [0.3, 0.8, 1.25, 2.5])
    func powDecidesFewSamples(gamma: Double) {
        let input = Self.samples(count: 100_000, seed: 7).filter { $0.isFinite && $0 >= 1 && $0 <= 65535 }
        var output = input
        let kernel = IntensityKernel(gamma: gamma, brightness: 0.02, contrast: 1.1, range: 65535)
        let decidedByPow = kernel.apply(&output)
        #expect(zip(input, output).allSatisfy { kernel.exact($0).bitPattern == $1.bitPattern })
        #expect(decidedByPow * 20 < input.count, "gamma \(gamma): pow decided \(decidedByPow) of \(input.count)")
    }
}

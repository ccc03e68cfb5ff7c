#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `intensity` step, `Float(((max(v / range, 0))^γ − ½)·contrast + ½ + brightness)·range)`
/// per sample, giving exactly the bits of computing it with the C library's `pow` for every
/// sample, at a fraction of the cost (`pow` was a sixth of an augmented export's CPU time).
///
/// How it stays exact: x^γ is first approximated from tables, x = m·2^e with
/// x^γ = (2^e)^γ · m0^γ · (m / m0)^γ, where m0 is the centre of the 1/1024-wide mantissa
/// interval holding m and (m / m0)^γ = (1 + d)^γ, |d| < 2⁻¹¹, is the binomial series to d².
/// The tables hold the C library's `pow` values (and `exp2` ones, which an optimized build
/// substitutes for `pow(2, y)`; either is within about an ulp), so the approximation r is within a
/// relative E = 1.01·|C(γ, 3)|·2⁻³³ + 5·10⁻¹⁵ of `pow(x, γ)` (the series' remainder, the
/// tables' and `pow`'s own rounding, x from a multiplication instead of a division). The
/// sample's value is then known to lie within δ of the value v computed from r, δ being 25
/// times the bound on that error carried through the formula, plus the formula's own
/// rounding with the same margin. When v − δ and v + δ round to the same Float, that Float is
/// the exact result (rounding is monotone); otherwise, for a few samples in a thousand, `pow`
/// decides. Zero, negative, non-finite and out-of-table inputs always take `pow`.
struct IntensityKernel {
    let gamma: Double
    let brightness: Double
    let contrast: Double
    let range: Double
    /// (2^e)^γ for e in `exponents`.
    private let powers: [Double]
    /// m0^γ and 1 / m0, side by side, for the 1024 mantissa intervals.
    private let mantissas: [Double]
    /// The binomial coefficients of (1 + d)^γ for d¹ and d².
    private let c1, c2: Double
    /// δ = r·`relativeSlack` + `absoluteSlack` (see the type's comment).
    private let relativeSlack, absoluteSlack: Double
    private static let exponents = -256 ..< 256
    private static let mantissaBits = 10

    init(gamma: Double, brightness: Double, contrast: Double, range: Double) {
        (self.gamma, self.brightness, self.contrast, self.range) = (gamma, brightness, contrast, range)
        c1 = gamma
        c2 = gamma * (gamma - 1) / 2
        let c3 = abs(c2 * (gamma - 2) / 3)
        // Consecutive terms of the remainder shrink by at most ρ, so it is below |c3·d³| / (1 − ρ).
        let relativeError = c3 * 0x1p-33 / (1 - Self.shrink(gamma)) + 5e-15
        let roundingError = 4 * 0x1p-53
        relativeSlack = range * abs(contrast) * 25 * (relativeError + roundingError)
        absoluteSlack = range * 25 * roundingError * (abs(contrast) + abs(brightness) + 1)
        (powers, mantissas) = Self.tables.value(gamma.bitPattern) {
            let powers = Self.exponents.map { pow(2, Double($0) * gamma) }
            let count = 1 << Self.mantissaBits
            var mantissas: [Double] = []
            mantissas.reserveCapacity(2 * count)
            for k in 0 ..< count {
                let centre = 1 + (Double(k) + 0.5) / Double(count)
                mantissas.append(pow(centre, gamma))
                mantissas.append(1 / centre)
            }
            return (powers, mantissas)
        }
    }

    /// `powers` and `mantissas` by the bits of γ: they depend on nothing else.
    private static let tables = Memo<UInt64, ([Double], [Double])>(capacity: 16)

    /// The step's result for one sample, as the reference formula computes it.
    @inline(__always) func exact(_ sample: Float) -> Float {
        let x = pow(max(Double(sample) / range, 0), gamma)
        return Float(((x - 0.5) * contrast + 0.5 + brightness) * range)
    }

    /// Applies the step to every sample of `planes`; returns how many samples `pow` decided.
    @discardableResult func apply(_ planes: inout [Float]) -> Int {
        guard gamma > 0, gamma.isFinite, Self.shrink(gamma) < 1 else {
            for i in planes.indices { planes[i] = exact(planes[i]) }
            return planes.count
        }
        let shift = UInt64(52 - Self.mantissaBits), lowest = Self.exponents.lowerBound, slots = Self.exponents.count
        let reciprocalRange = 1 / range
        let (c1, c2, brightness, contrast, range) = (c1, c2, brightness, contrast, range)
        let (relativeSlack, absoluteSlack) = (relativeSlack, absoluteSlack)
        var decidedByPow = 0
        planes.withUnsafeMutableBufferPointer { samples in
            powers.withUnsafeBufferPointer { powers in
                mantissas.withUnsafeBufferPointer { mantissas in
                    for i in samples.indices {
                        let sample = samples[i]
                        let x = Double(sample) * reciprocalRange
                        let bits = x.bitPattern
                        let slot = Int(truncatingIfNeeded: (bits >> 52) & 0x7ff) &- 1023 &- lowest
                        let k = 2 &* Int(truncatingIfNeeded: (bits >> shift) & 0x3ff)
                        // x > 0 and finite with its exponent in the table (this also excludes NaN).
                        if x > 0, slot >= 0, slot < slots {
                            let m = Double(bitPattern: (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000)
                            let d = m * mantissas[k &+ 1] - 1
                            let r = powers[slot] * mantissas[k] * (1 + d * (c1 + d * c2))
                            let v = ((r - 0.5) * contrast + 0.5 + brightness) * range
                            let delta = r * relativeSlack + absoluteSlack
                            let low = Float(v - delta)
                            if low == Float(v + delta) && r < 1e300 {
                                samples[i] = low
                                continue
                            }
                        }
                        samples[i] = exact(sample)
                        decidedByPow &+= 1
                    }
                }
            }
        }
        return decidedByPow
    }

    /// `apply` then `roundInPlace`, for samples that are whole numbers in [0, top] (the
    /// `each_step` rounding keeps them so): each sample's result depends on its value alone,
    /// so a table of all top + 1 results gives the same bits. The table is used when it is no
    /// larger than the tile, and kept for recurring parameters.
    func applyRounding(_ planes: inout [Float], top: Float) {
        let count = Int(top) + 1
        guard planes.count >= count else {
            apply(&planes)
            roundInPlace(&planes, top: top)
            return
        }
        let key = [gamma, brightness, contrast, range].map(\.bitPattern)
        let table = Self.roundedTables.value(key) {
            var values = (0 ..< count).map(Float.init)
            apply(&values)
            roundInPlace(&values, top: top)
            return values
        }
        // The index by `wholeNumbers`, without a checked conversion per sample. NaN, which the
        // conversion would trap on, is found after the loop (its index is clamped, so it reads
        // inside the table meanwhile).
        let last = SIMD8<UInt32>(repeating: UInt32(count - 1))
        var nan = SIMDMask<SIMD8<Int32>>()
        table.withUnsafeBufferPointer { table in
            planes.withUnsafeMutableBufferPointer { samples in
                var i = 0
                while i + 8 <= samples.count {
                    let p = UnsafeMutableRawPointer(samples.baseAddress! + i)
                    let x = p.loadUnaligned(as: SIMD8<Float>.self)
                    nan .|= x .!= x
                    let index = pointwiseMin(wholeNumbers(x), last)
                    var y = SIMD8<Float>()
                    for k in 0 ..< 8 { y[k] = table[Int(index[k])] }
                    p.storeBytes(of: y, as: SIMD8<Float>.self)
                    i += 8
                }
                for j in i ..< samples.count { samples[j] = table[Int(samples[j])] }
            }
        }
        precondition(!any(nan), "an augmented sample is NaN")
    }

    /// `applyRounding`'s tables (256 KiB for 16-bit images) by the bits of the parameters.
    private static let roundedTables = Memo<[UInt64], [Float]>(capacity: 8)

    /// The largest ratio of consecutive terms of the series' remainder, |(γ − k) / (k + 1)|·2⁻¹¹
    /// for k ≥ 3; below 1 for every γ a recipe allows.
    private static func shrink(_ gamma: Double) -> Double { max(abs(gamma - 3) / 4, 1) * 0x1p-11 }
}

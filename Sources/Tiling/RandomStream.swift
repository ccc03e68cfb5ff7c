#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A counter-based random generator (Philox4x32-10, Salmon et al., SC'11) addressed by
/// (recipe seed, tile key, augmentation index, stream).
///
/// Counter-based so that a tile's draws depend only on *which* tile and variant it is, never on
/// the order in which workers reach it, and so that any value can be recomputed on its own
/// (`block(_:)`) — per-pixel noise is drawn by pixel index, which keeps it independent of how a
/// tile is split across loops or threads. The mapping is specified in specs/augmentation/v1.md.
public struct RandomStream: Sendable, Equatable, Codable {
    /// The recipe's seed.
    public let seed: UInt64
    /// The tile's key folded to 64 bits (see `tileKey(fromHex:)`).
    public let tileKey: UInt64
    /// Which augmented variant of the tile (0 = first).
    public let augmentation: UInt32
    /// Separates independent uses within one variant: 0 for the parameter draws, 1 + step
    /// index for a step's per-pixel fields (noise, elastic displacement).
    public let stream: UInt32

    /// Next block to hand out through the sequential interface.
    private var position: UInt64 = 0
    private var buffered: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var bufferedCount = 0

    private enum CodingKeys: String, CodingKey { case seed, tileKey, augmentation, stream }

    public init(seed: UInt64, tileKey: UInt64, augmentation: UInt32, stream: UInt32 = 0) {
        self.seed = seed
        self.tileKey = tileKey
        self.augmentation = augmentation
        self.stream = stream
    }

    /// The same tile and variant with another stream, for a step's own field.
    public func substream(_ stream: UInt32) -> RandomStream {
        RandomStream(seed: seed, tileKey: tileKey, augmentation: augmentation, stream: stream)
    }

    public static func == (a: RandomStream, b: RandomStream) -> Bool {
        a.seed == b.seed && a.tileKey == b.tileKey && a.augmentation == b.augmentation && a.stream == b.stream
    }

    /// Folds a hexadecimal tile key (a SHA-256 digest) to 64 bits: its first 16 hex digits,
    /// big-endian. Returns nil when those are not hexadecimal digits.
    public static func tileKey(fromHex hex: String) -> UInt64? {
        let prefix = hex.prefix(16)
        guard prefix.count == 16 else { return nil }
        return UInt64(prefix, radix: 16)
    }

    /// The Philox key: seed and tile key mixed with SplitMix64's finalizer, because Philox has
    /// only 64 key bits and both inputs must move every output bit.
    var key: (UInt32, UInt32) {
        let k = splitMix64(seed ^ splitMix64(tileKey &+ 0x9E37_79B9_7F4A_7C15))
        return (UInt32(truncatingIfNeeded: k), UInt32(truncatingIfNeeded: k >> 32))
    }

    /// The four words of block `index`: Philox4x32-10 of counter (index low, index high,
    /// augmentation, stream) under `key`.
    public func block(_ index: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        philox4x32_10(counter: (UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                                augmentation, stream), key: key)
    }

    /// The next 32 random bits of the sequential interface.
    public mutating func nextUInt32() -> UInt32 {
        if bufferedCount == 0 {
            buffered = block(position)
            position += 1
            bufferedCount = 4
        }
        defer { bufferedCount -= 1 }
        switch bufferedCount {
        case 4: return buffered.0
        case 3: return buffered.1
        case 2: return buffered.2
        default: return buffered.3
        }
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        let hi = UInt64(nextUInt32() >> 5), lo = UInt64(nextUInt32() >> 6)
        return Double(hi << 26 | lo) * 0x1p-53
    }

    /// Uniform in [lower, upper]. A degenerate range still consumes a draw, so that narrowing
    /// one range in a recipe never shifts the values drawn after it.
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        let u = uniform()
        return lower == upper ? lower : lower + (upper - lower) * u
    }

    /// True with probability `p`; always consumes one draw.
    public mutating func chance(_ p: Double) -> Bool { uniform() < p }

    /// A standard normal deviate (Box–Muller, first value only, so each call consumes the
    /// same number of words).
    public mutating func normal() -> Double {
        let u1 = uniform(), u2 = uniform()
        return (-2 * log1pNegative(u1)).squareRoot() * cosTwoPi(u2)
    }

    /// Uniform integer in 0 ..< n.
    public mutating func integer(below n: Int) -> Int {
        precondition(n > 0)
        return min(Int(uniform() * Double(n)), n - 1)
    }
}

/// Two standard normals from the block at `index` (Box–Muller on its four words), for fields
/// drawn by pixel index.
func normalPair(_ stream: RandomStream, _ index: UInt64) -> (Double, Double) {
    let w = stream.block(index)
    let u1 = Double(UInt64(w.0 >> 5) << 26 | UInt64(w.1 >> 6)) * 0x1p-53
    let u2 = Double(UInt64(w.2 >> 5) << 26 | UInt64(w.3 >> 6)) * 0x1p-53
    let r = (-2 * log1pNegative(u1)).squareRoot()
    return (r * cosTwoPi(u2), r * sinTwoPi(u2))
}

/// A uniform in [0, 1) from the first two words of the block at `index`.
func uniformAt(_ stream: RandomStream, _ index: UInt64) -> Double {
    let w = stream.block(index)
    return Double(UInt64(w.0 >> 5) << 26 | UInt64(w.1 >> 6)) * 0x1p-53
}

/// log(1 − u) for u in [0, 1): never log(0).
@inline(__always) func log1pNegative(_ u: Double) -> Double { log1p(-u) }
@inline(__always) func cosTwoPi(_ u: Double) -> Double { cos(2 * Double.pi * u) }
@inline(__always) func sinTwoPi(_ u: Double) -> Double { sin(2 * Double.pi * u) }

/// SplitMix64's output function (Steele, Lea & Flood 2014).
func splitMix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Philox4x32 with 10 rounds, as in Random123 (`philox4x32_R(10, …)`).
func philox4x32_10(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32))
    -> (UInt32, UInt32, UInt32, UInt32)
{
    var c = counter
    var k = key
    for round in 0 ..< 10 {
        if round > 0 { k = (k.0 &+ 0x9E37_79B9, k.1 &+ 0xBB67_AE85) }
        let p0 = UInt64(0xD251_1F53) * UInt64(c.0)
        let p1 = UInt64(0xCD9E_8D57) * UInt64(c.2)
        c = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
             UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: p0))
    }
    return c
}

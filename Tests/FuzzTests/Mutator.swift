import Foundation

/// SplitMix64: a tiny seeded generator, so every mutated input can be rebuilt from its name.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One seeded mutation of a seed file. `apply` is a pure function of the seed bytes and
/// `(kind, seed)`, so a failing input is reproduced from the name printed by the harness.
struct Mutation: CustomStringConvertible, Sendable {
    enum Kind: String, CaseIterable, Sendable {
        /// Flip 1–8 random bits.
        case bitFlips
        /// Overwrite 1–4 bytes (or 2/4-byte words) with boundary values: 0, 0xFF, 0x7F, 0x80, 0xFFFF…
        case interestingValues
        /// Cut the file at a random point.
        case truncate
        /// Copy a random chunk to another place (inserting it), as a length-confused writer might.
        case duplicateChunk
        /// Replace a random range with a chunk of the same file taken from elsewhere.
        case splice
        /// Add or subtract a small amount to a 16/32-bit word read in either byte order:
        /// how length fields, offsets and counts go wrong.
        case lengthTweak
        /// Delete a random range.
        case deleteChunk
        /// Replace ASCII digits with other digits or delete structural characters: for text formats.
        case textTokens
    }

    var kind: Kind
    var seed: UInt64

    var description: String { "\(kind.rawValue)#\(seed)" }

    static let interesting8: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x0A, 0x22, 0x2C, 0x09, 0x3C, 0x7B, 0x5B]
    static let interesting32: [UInt32] = [0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE]
    static let textTokens: [String] = ["-1", "0", "99999999999999999999", "1e308", "NaN", "\"", ",", "\n", "{", "}", "[", "]",
                                      ":", "<", ">", "&", "'", "\\", "\u{0}", "null", "\t", "- ", "*a", "&a ", "!!binary ", "..", "/"]

    func apply(to input: [UInt8]) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var bytes = input
        guard !bytes.isEmpty else { return [UInt8(truncatingIfNeeded: rng.next())] }
        func index() -> Int { Int(rng.next() % UInt64(bytes.count)) }
        switch kind {
        case .bitFlips:
            for _ in 0..<(1 + Int(rng.next() % 8)) {
                bytes[index()] ^= UInt8(1) << UInt8(rng.next() % 8)
            }
        case .interestingValues:
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let width = [1, 2, 4][Int(rng.next() % 3)]
                let at = index()
                let value: UInt32 = width == 1 ? UInt32(Self.interesting8[Int(rng.next() % UInt64(Self.interesting8.count))])
                    : Self.interesting32[Int(rng.next() % UInt64(Self.interesting32.count))]
                let bigEndian = rng.next() % 2 == 0
                for k in 0..<width where at + k < bytes.count {
                    let shift = bigEndian ? (width - 1 - k) * 8 : k * 8
                    bytes[at + k] = UInt8(truncatingIfNeeded: value >> UInt32(shift))
                }
            }
        case .truncate:
            bytes.removeSubrange(index()...)
        case .duplicateChunk:
            let start = index()
            let length = min(bytes.count - start, 1 + Int(rng.next() % 256))
            let chunk = Array(bytes[start..<(start + length)])
            bytes.insert(contentsOf: chunk, at: index())
        case .splice:
            let from = index(), to = index()
            let length = min(bytes.count - from, bytes.count - to, 1 + Int(rng.next() % 64))
            bytes.replaceSubrange(to..<(to + length), with: bytes[from..<(from + length)])
        case .lengthTweak:
            for _ in 0..<(1 + Int(rng.next() % 2)) {
                let width = rng.next() % 2 == 0 ? 2 : 4
                let at = index()
                guard at + width <= bytes.count else { continue }
                let bigEndian = rng.next() % 2 == 0
                var value: UInt32 = 0
                for k in 0..<width { value |= UInt32(bytes[at + k]) << UInt32(bigEndian ? (width - 1 - k) * 8 : k * 8) }
                let delta = UInt32(1 + rng.next() % 35)
                value = rng.next() % 2 == 0 ? value &+ delta : value &- delta
                if rng.next() % 4 == 0 { value = value &* 16 }
                for k in 0..<width {
                    bytes[at + k] = UInt8(truncatingIfNeeded: value >> UInt32(bigEndian ? (width - 1 - k) * 8 : k * 8))
                }
            }
        case .deleteChunk:
            let start = index()
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + Int(rng.next() % 128)))
        case .textTokens:
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let token = Array(Self.textTokens[Int(rng.next() % UInt64(Self.textTokens.count))].utf8)
                let at = index()
                let removed = min(bytes.count - at, Int(rng.next() % 4))
                bytes.replaceSubrange(at..<(at + removed), with: token)
            }
        }
        return bytes
    }

    /// The `count` mutations used for a format: kinds in turn, seeds derived from the format
    /// name so that formats do not share inputs.
    static func schedule(format: String, count: Int, kinds: [Kind] = Kind.allCases) -> [Mutation] {
        var base: UInt64 = 0xCBF2_9CE4_8422_2325 // FNV-1a of the format name
        for byte in format.utf8 { base = (base ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return (0..<count).map { i in Mutation(kind: kinds[i % kinds.count], seed: base &+ UInt64(i)) }
    }
}

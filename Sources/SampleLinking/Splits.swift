import Crypto
import Foundation

/// A named split and its share of the groups.
public struct SplitFraction: Sendable, Codable, Equatable {
    /// Split name, e.g. `train`.
    public var name: String
    /// Share in [0, 1]; the shares of a configuration sum to 1.
    public var fraction: Double

    /// A split share.
    public init(name: String, fraction: Double) {
        self.name = name
        self.fraction = fraction
    }
}

/// How stratification by class assigns groups.
public enum StratificationMethod: String, Sendable, Codable, Equatable {
    /// No stratification: each group by its own hash position. Stable (adding groups moves none).
    case none
    /// Within each class, groups sorted by hash position and cut at the class's quotas
    /// (largest-remainder rounding). Exact per-class proportions; NOT stable: adding groups to a
    /// class can move that class's groups that sit next to a cut.
    case rank
}

/// Assigns groups (individuals, patients, plates) to splits by a keyed hash, so a group never
/// straddles splits and, without rank stratification, adding groups never moves existing ones.
///
/// Position of a group g: HMAC-SHA-256 with key `"trainset/split/v1" ‖ 0x00 ‖ seed (8 bytes,
/// big-endian)` over the UTF-8 bytes of g; the first 8 bytes as a big-endian integer, shifted
/// right by 11, divided by 2^53 — a number in [0, 1). Split i takes positions in
/// [f₁+…+fᵢ₋₁, f₁+…+fᵢ); the last split also takes any rounding remainder up to 1.
public struct SplitAssigner: Sendable {
    /// Splits in configuration order.
    public let fractions: [SplitFraction]
    /// The recipe seed.
    public let seed: UInt64
    // Bytes, not SymmetricKey, which is not Sendable.
    private let key: [UInt8]

    /// Checks the fractions: at least one split, unique non-empty names, each in [0, 1], sum 1 (±1e-9).
    public init(seed: UInt64, fractions: [SplitFraction]) throws(SampleLinkingError) {
        func bad(_ why: String) -> SampleLinkingError {
            SampleLinkingError(.invalidSplitConfiguration, why, keyPath: "splits.fractions")
        }
        guard !fractions.isEmpty else { throw bad("list at least one split, e.g. train: 0.8, val: 0.1, test: 0.1") }
        var names: Set<String> = []
        for f in fractions {
            guard !f.name.isEmpty, names.insert(f.name).inserted else { throw bad("split names must be non-empty and unique; \"\(f.name)\" is not") }
            guard f.fraction >= 0, f.fraction <= 1, f.fraction.isFinite else { throw bad("fraction of \"\(f.name)\" is \(f.fraction); use a number in [0, 1]") }
        }
        let sum = fractions.reduce(0) { $0 + $1.fraction }
        guard abs(sum - 1) <= 1e-9 else { throw bad("fractions sum to \(sum); they must sum to 1") }
        self.fractions = fractions
        self.seed = seed
        var keyBytes = Array("trainset/split/v1".utf8) + [0]
        for shift in stride(from: 56, through: 0, by: -8) { keyBytes.append(UInt8(truncatingIfNeeded: seed >> UInt64(shift))) }
        self.key = keyBytes
    }

    /// The group's hash position in [0, 1).
    public func position(ofGroup group: String) -> Double {
        let mac = Array(HMAC<SHA256>.authenticationCode(for: Array(group.utf8), using: SymmetricKey(data: key)))
        var x: UInt64 = 0
        for b in mac.prefix(8) { x = x << 8 | UInt64(b) }
        return Double(x >> 11) / 9_007_199_254_740_992  // 2^53
    }

    /// The split of a group, from its position alone.
    public func split(ofGroup group: String) -> String {
        let u = position(ofGroup: group)
        var upper = 0.0
        for f in fractions.dropLast() {
            upper += f.fraction
            if u < upper { return f.name }
        }
        return fractions.last!.name
    }

    /// Splits of `groups` with per-group classes (`classes[i]` for `groups[i]`); a group listed
    /// several times gets the class occurring most often among its entries (ties: the smallest
    /// by code points). Returns group → split; group order in the input does not matter.
    public func assign(groups: [String], classes: [String]? = nil, method: StratificationMethod = .none) -> [String: String] {
        var result: [String: String] = [:]
        guard method == .rank, let classes else {
            for g in groups where result[g] == nil { result[g] = split(ofGroup: g) }
            return result
        }
        precondition(classes.count == groups.count, "one class per group entry")
        var counts: [String: [String: Int]] = [:]
        for (g, c) in zip(groups, classes) { counts[g, default: [:]][c, default: 0] += 1 }
        var members: [String: [String]] = [:]
        for (g, byClass) in counts {
            let mode = byClass.max { a, b in a.value != b.value ? a.value < b.value : b.key.unicodeScalars.lexicographicallyPrecedes(a.key.unicodeScalars) }!.key
            members[mode, default: []].append(g)
        }
        for (_, gs) in members {
            let ordered = gs.map { ($0, position(ofGroup: $0)) }
                .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) }
            var cursor = 0
            for (i, quota) in Self.quotas(count: ordered.count, fractions: fractions.map(\.fraction)).enumerated() {
                for (g, _) in ordered[cursor..<cursor + quota] { result[g] = fractions[i].name }
                cursor += quota
            }
        }
        return result
    }

    /// Largest-remainder apportionment of `count` items; ties go to the earlier split.
    static func quotas(count: Int, fractions: [Double]) -> [Int] {
        let exact = fractions.map { $0 * Double(count) }
        var q = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(q[$0]), -$0) > (exact[$1] - Double(q[$1]), -$1) }
        for i in order.prefix(count - q.reduce(0, +)) { q[i] += 1 }
        return q
    }
}

/// One tile (or record) as the leakage audit sees it.
public struct SplitMembership: Sendable, Codable, Equatable {
    /// Group key (individual, patient, …).
    public var group: String
    /// Source image the tile was cut from.
    public var source: String
    /// Split the tile is in.
    public var split: String

    /// A membership row.
    public init(group: String, source: String, split: String) {
        self.group = group
        self.source = source
        self.split = split
    }
}

/// What the leakage audit found.
public struct LeakageReport: Sendable, Codable, Equatable {
    /// A key found in more than one split.
    public struct Leak: Sendable, Codable, Equatable {
        /// The group or source.
        public var key: String
        /// The splits it occurs in, sorted.
        public var splits: [String]
    }
    /// Groups in two or more splits, sorted by key.
    public var groupsInSeveralSplits: [Leak]
    /// Source images in two or more splits, sorted by key.
    public var sourcesInSeveralSplits: [Leak]
    /// True when nothing leaks.
    public var isClean: Bool { groupsInSeveralSplits.isEmpty && sourcesInSeveralSplits.isEmpty }

    /// One line per leak, for `validate` output.
    public var messages: [String] {
        groupsInSeveralSplits.map { "group \"\($0.key)\" is in splits \($0.splits.joined(separator: ", "))" }
            + sourcesInSeveralSplits.map { "source image \"\($0.key)\" is in splits \($0.splits.joined(separator: ", "))" }
    }
}

/// Checks that no group and no source image sits in two splits (the bundle's leak check).
public enum LeakageAudit {
    /// Audits tile memberships; order of the input does not matter.
    public static func audit(_ memberships: [SplitMembership]) -> LeakageReport {
        func leaks(_ key: (SplitMembership) -> String) -> [LeakageReport.Leak] {
            var splits: [String: Set<String>] = [:]
            for m in memberships { splits[key(m), default: []].insert(m.split) }
            return splits.filter { $0.value.count > 1 }
                .map { LeakageReport.Leak(key: $0.key, splits: $0.value.sorted()) }
                .sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
        }
        return LeakageReport(groupsInSeveralSplits: leaks(\.group), sourcesInSeveralSplits: leaks(\.source))
    }
}

import Foundation
import Testing
@testable import SampleLinking

@Suite("Splits and leakage audit")
struct SplitTests {
    static let fractions: [SplitFraction] = [.init(name: "train", fraction: 0.8), .init(name: "val", fraction: 0.1), .init(name: "test", fraction: 0.1)]

    /// Values from Python: hmac.new(b"trainset/split/v1\0" + seed.to_bytes(8, "big"), group, sha256), first 8 bytes >> 11 / 2**53.
    @Test(arguments: [(UInt64(42), "mouse 50", 0.45093840142421937, "train"), (42, "mouse 51", 0.9111899415576267, "test"),
                      (0, "patient-001", 0.4789809237291076, "train")])
    func positionMatchesTheSpecDefinition(seed: UInt64, group: String, position: Double, split: String) throws {
        let assigner = try SplitAssigner(seed: seed, fractions: Self.fractions)
        #expect(assigner.position(ofGroup: group) == position)
        #expect(assigner.split(ofGroup: group) == split)
    }

    @Test func addingTenPercentNewGroupsMovesNoOldGroup() throws {
        let assigner = try SplitAssigner(seed: 2024, fractions: Self.fractions)
        let old = (0..<1000).map { String(format: "patient-%04d", $0) }
        let new = (1000..<1100).map { String(format: "patient-%04d", $0) }
        let before = assigner.assign(groups: old)
        let after = assigner.assign(groups: (new + old).reversed())
        #expect(after.count == 1100)
        #expect(old.allSatisfy { before[$0] == after[$0] })
        // Shares are binomial around the fractions: within 4 standard deviations.
        for f in Self.fractions {
            let n = Double(before.values.filter { $0 == f.name }.count)
            #expect(abs(n - 1000 * f.fraction) <= 4 * (1000 * f.fraction * (1 - f.fraction)).squareRoot(), "\(f.name): \(n)")
        }
    }

    @Test func seedChangesTheAssignment() throws {
        let groups = (0..<200).map { "g\($0)" }
        let a = try SplitAssigner(seed: 1, fractions: Self.fractions).assign(groups: groups)
        let b = try SplitAssigner(seed: 2, fractions: Self.fractions).assign(groups: groups)
        #expect(groups.filter { a[$0] != b[$0] }.count > 20)
    }

    @Test func rankStratificationGivesExactPerClassQuotas() throws {
        let assigner = try SplitAssigner(seed: 5, fractions: Self.fractions)
        var groups: [String] = [], classes: [String] = []
        for i in 0..<30 { groups.append("tumour-\(i)"); classes.append("tumour") }
        for i in 0..<10 { groups.append("normal-\(i)"); classes.append("normal") }
        let result = assigner.assign(groups: groups, classes: classes, method: .rank)
        func count(_ prefix: String, _ split: String) -> Int { result.filter { $0.key.hasPrefix(prefix) && $0.value == split }.count }
        #expect(["train", "val", "test"].map { count("tumour", $0) } == [24, 3, 3] as [Int])
        #expect(["train", "val", "test"].map { count("normal", $0) } == [8, 1, 1] as [Int])
        // Within a class the lowest positions go to the first split.
        let normals = groups.filter { $0.hasPrefix("normal") }.sorted { assigner.position(ofGroup: $0) < assigner.position(ofGroup: $1) }
        #expect(normals.prefix(8).allSatisfy { result[$0] == "train" } && result[normals[9]] == "test")
    }

    @Test(arguments: [(10, [0.8, 0.1, 0.1], [8, 1, 1]), (7, [0.5, 0.25, 0.25], [3, 2, 2]), (3, [0.34, 0.33, 0.33], [1, 1, 1]), (0, [1.0], [0])])
    func largestRemainderQuotas(count: Int, fractions: [Double], expected: [Int]) {
        #expect(SplitAssigner.quotas(count: count, fractions: fractions) == expected)
    }

    @Test func badFractionsAreRefused() {
        #expect(linkingError { _ = try SplitAssigner(seed: 0, fractions: [.init(name: "a", fraction: 0.5)]) }?.code == .invalidSplitConfiguration)
        #expect(linkingError { _ = try SplitAssigner(seed: 0, fractions: [.init(name: "a", fraction: 0.5), .init(name: "a", fraction: 0.5)]) }?.code == .invalidSplitConfiguration)
        #expect(linkingError { _ = try SplitAssigner(seed: 0, fractions: []) }?.code == .invalidSplitConfiguration)
    }

    @Test func auditFindsAGroupInTwoSplits() {
        var tiles = (0..<6).map { SplitMembership(group: "p\($0 / 2)", source: "img\($0).tif", split: $0 < 4 ? "train" : "test") }
        #expect(LeakageAudit.audit(tiles).isClean)
        tiles.append(SplitMembership(group: "p2", source: "img9.tif", split: "train"))
        let report = LeakageAudit.audit(tiles)
        #expect(report.groupsInSeveralSplits == [.init(key: "p2", splits: ["test", "train"])])
        #expect(report.sourcesInSeveralSplits.isEmpty)
        #expect(report.messages == ["group \"p2\" is in splits test, train"])
    }

    @Test func auditFindsASourceImageInTwoSplits() {
        let tiles = [SplitMembership(group: "a", source: "x.tif", split: "train"), SplitMembership(group: "b", source: "x.tif", split: "val")]
        let report = LeakageAudit.audit(tiles)
        #expect(!report.isClean && report.sourcesInSeveralSplits == [.init(key: "x.tif", splits: ["train", "val"])])
    }

    static let idr0042Style = """
    Dataset Name,Image Name,Characteristics [Individual]
    training,a.tif,donor 1
    training,b.tif,donor 1
    test,c.tif,donor 2
    training,d.tif,donor 3
    """

    @Test func splitsFromAColumn() throws {
        let config = SamplesConfig(table: "idr0042.csv", keys: ["Image Name"], splits: SplitConfig(
            groupColumn: "Characteristics [Individual]", fromColumn: "Dataset Name",
            valueMap: [.init(value: "training", split: "train")]))
        let result = try linkCSV(Self.idr0042Style, config: config)
        #expect(result.records.map(\.split) == ["train", "train", "test", "train"])
        #expect(result.manifest.splits?.method == "column")
        #expect(result.manifest.splits?.counts == [.init(split: "test", groups: 1, records: 1), .init(split: "train", groups: 2, records: 3)])
        let leaky = Self.idr0042Style.replacingOccurrences(of: "test,c.tif,donor 2", with: "test,c.tif,donor 1")
        let error = linkingError { _ = try linkCSV(leaky, config: config) }
        #expect(error?.code == .groupStraddlesSplits && error?.line == 4)
    }

    @Test func groupIdsDoNotLeakADroppedGroupColumn() throws {
        let csv = "sample,patient_id,grade\nS1,P-77,2\nS2,P-77,3\nS3,P-12,2\n"
        let config = SamplesConfig(table: "s.csv", keys: ["sample"], privacy: PrivacyConfig(columns: [ColumnPolicy(column: "patient_id", treatment: .drop)]),
                                   splits: SplitConfig(groupColumn: "patient_id", fractions: Self.fractions, seed: 1))
        let result = try linkCSV(csv, config: config)
        #expect(result.records.map(\.group) == ["group-1", "group-1", "group-2"])
        #expect(result.records[0].split == result.records[1].split)
        #expect(try !canonicalJSON(result.records).contains("P-77"))
    }
}

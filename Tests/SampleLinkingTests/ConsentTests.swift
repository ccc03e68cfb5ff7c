import Foundation
import Testing
@testable import SampleLinking

@Suite("Embargo and consent")
struct ConsentTests {
    static let csv = """
    sample,consent,released
    S1,DUO:0000042,
    S2,DUO:0000042;DUO_0000015,
    S3,GRU PUB,2026-01-01
    S4,,
    """
    static let now = SampleDate(year: 2025, month: 6, day: 1)!

    func config(_ consent: ConsentConfig) -> SamplesConfig {
        SamplesConfig(table: "c.csv", keys: ["sample"], columns: ["sample"], consent: consent)
    }

    @Test func futureStudyReleaseExcludesEverythingUnlessOverridden() throws {
        var consent = ConsentConfig(releaseDate: "2030-01-01")
        let records = [SampleLinkRecord(id: "a.tif", keyValues: ["S1"]), SampleLinkRecord(id: "orphan.tif", keyValues: ["S9"])]
        let result = try linkCSV(Self.csv, config: config(consent), records: records, now: Self.now)
        #expect(result.records.map(\.excluded) == [true, true])
        #expect(result.samples.rowCount == 0)
        #expect(result.manifest.consent.excluded.map(\.record) == ["a.tif", "orphan.tif"])
        #expect(result.manifest.consent.excluded[0].reasons == ["embargo: release date 2030-01-01 is after 2025-06-01"])
        // The day itself is released.
        let onTheDay = try linkCSV(Self.csv, config: config(consent), records: records, now: SampleDate(year: 2030, month: 1, day: 1)!)
        #expect(onTheDay.manifest.consent.excluded.isEmpty)

        consent.overrides = [ConsentOverride(rule: "embargo", reason: "embargo lifted by the PI in writing, 2025-05-30")]
        let overridden = try linkCSV(Self.csv, config: config(consent), records: records, now: Self.now)
        #expect(overridden.records.map(\.excluded) == [false, false])
        #expect(overridden.manifest.consent.overrides == [AppliedOverride(rule: "embargo", reason: "embargo lifted by the PI in writing, 2025-05-30", records: 2)])
        consent.overrides = [ConsentOverride(rule: "embargo", reason: " ")]
        #expect(linkingError { _ = try linkCSV(Self.csv, config: config(consent), now: Self.now) }?.code == .invalidConfiguration)
    }

    @Test func perRowCodesAndDates() throws {
        let consent = ConsentConfig(releaseDateColumn: "released", dataUseColumn: "consent")
        let result = try linkCSV(Self.csv, config: config(consent), now: Self.now)
        #expect(result.records.map(\.excluded) == [false, true, true, false])
        #expect(result.manifest.consent.excluded == [
            ExcludedRecord(record: "img-S2", reasons: ["DUO:0000015: no general methods research (NMDS); a training set is methods development"]),
            ExcludedRecord(record: "img-S3", reasons: ["embargo: release date 2026-01-01 is after 2025-06-01"]),
        ])
        #expect(result.samples.rowCount == 2 && result.samples.sourceLines == [2, 5])
        #expect(result.records.map(\.sampleRow) == [0, nil, nil, 1])
        #expect(result.manifest.consent.conditions == [])  // PUB is attached only to S3, which the embargo excludes
        #expect(result.manifest.consent.checkedOn == "2025-06-01")
    }

    @Test func moratoriumAndTimeLimitDependOnTheirDates() throws {
        let csv = "sample\nS1\n"
        func excluded(_ c: ConsentConfig) throws -> [String] {
            try linkCSV(csv, config: config(c).with { $0.columns = nil }, now: Self.now).manifest.consent.excluded.flatMap(\.reasons)
        }
        #expect(try excluded(ConsentConfig(dataUse: ["DUO:0000024"])) == ["DUO:0000024: publication moratorium (MOR) without consent.moratorium_until"])
        #expect(try excluded(ConsentConfig(dataUse: ["MOR"], moratoriumUntil: "2025-07-01")) == ["DUO:0000024: publication moratorium (MOR) until 2025-07-01"])
        #expect(try excluded(ConsentConfig(dataUse: ["MOR"], moratoriumUntil: "2025-05-01")) == [])
        #expect(try excluded(ConsentConfig(dataUse: ["DUO:0000025"])) == ["DUO:0000025: time limit on use (TS) without consent.use_until"])
        #expect(try excluded(ConsentConfig(dataUse: ["TS"], useUntil: "2025-06-01")) == [])
        #expect(try excluded(ConsentConfig(dataUse: ["TS"], useUntil: "2025-05-31")) == ["DUO:0000025: time limit on use (TS) ended 2025-05-31"])
        #expect(try excluded(ConsentConfig(dataUse: ["NMDS"], overrides: [.init(rule: "DUO_0000015", reason: "method is a clinical tool, approved by DAC 12")])) == [])
    }

    @Test func unknownCodesMustBeAccepted() throws {
        let csv = "sample\nS1\n"
        let error = linkingError { _ = try linkCSV(csv, config: SamplesConfig(table: "c.csv", keys: ["sample"], consent: ConsentConfig(dataUse: ["ABC:1"])), now: Self.now) }
        #expect(error?.code == .unknownDataUseCode && error?.message.contains("ABC:1") == true)
        let accepted = try linkCSV(csv, config: SamplesConfig(table: "c.csv", keys: ["sample"], consent: ConsentConfig(dataUse: ["ABC:1"], acceptedCodes: ["abc:1"])), now: Self.now)
        #expect(accepted.manifest.consent.excluded.isEmpty)
    }

    @Test(arguments: [("DUO:0000015", "DUO:0000015"), ("duo_0000024", "DUO:0000024"), ("ts", "DUO:0000025"), ("PUB", "DUO:0000019"), ("DUO:0000099", nil)])
    func codeSpellings(code: String, canonical: String?) {
        #expect(DataUseCode.canonical(code) == canonical)
    }
}

extension SamplesConfig {
    func with(_ change: (inout SamplesConfig) -> Void) -> SamplesConfig {
        var copy = self
        change(&copy)
        return copy
    }
}

@Suite("Determinism")
struct DeterminismTests {
    @Test func outputDoesNotDependOnRecordOrderOrRuns() throws {
        let csv = "sample,patient,grade,site\nS1,P1,2,north\nS2,P1,3,south\nS3,P2,2,north\nS4,P3,1,north\n"
        let config = SamplesConfig(table: "d.csv", keys: ["sample"], privacy: PrivacyConfig(quasiIdentifiers: ["site"]),
                                   splits: SplitConfig(groupColumn: "patient", fractions: [.init(name: "train", fraction: 0.5), .init(name: "test", fraction: 0.5)], seed: 3))
        let records = ["S1", "S2", "S3", "S4"].map { SampleLinkRecord(id: $0 + ".tif", keyValues: [$0]) }
        let a = try linkCSV(csv, config: config, records: records)
        let b = try linkCSV(csv, config: config, records: records.reversed())
        #expect(try canonicalJSON(a) == canonicalJSON(try linkCSV(csv, config: config, records: records)))
        #expect(a.samples == b.samples)
        #expect(a.records == b.records.reversed())
        #expect(a.manifest.kAnonymity?.k == 1 && a.manifest.kAnonymity?.smallestClasses.first?.values == ["south"])
    }
}

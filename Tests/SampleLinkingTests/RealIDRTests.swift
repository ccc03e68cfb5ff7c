import AVDB
import Foundation
import Testing
@testable import SampleLinking

@Suite("Real IDR tables", .enabled(if: SharedData.available, "needs shared/data next to the repository"))
struct RealIDRTests {
    static let idr0026 = "idr0026-weigelin-immunotherapy/idr0026-experimentA-annotation.csv"

    /// Records as the export makes them: one per table row, keyed by Dataset Name + Image Name.
    func idr0026Records() throws -> (records: [SampleLinkRecord], table: CSVTable) {
        let table = try CSVTable(contentsOf: SharedData.idr(Self.idr0026))
        let d = table.header.firstIndex(of: "Dataset Name")!, n = table.header.firstIndex(of: "Image Name")!
        return (table.rows.map { SampleLinkRecord(id: $0[d] + "/" + $0[n], keyValues: [$0[d], $0[n]]) }, table)
    }

    func idr0026Config() -> SamplesConfig {
        SamplesConfig(table: SharedData.idr(Self.idr0026).path, tableKind: .annotationTable,
                      keys: ["Dataset Name", "Image Name"],
                      splits: SplitConfig(groupColumn: "Characteristics [Individual]",
                                          fractions: [.init(name: "train", fraction: 0.8), .init(name: "val", fraction: 0.1), .init(name: "test", fraction: 0.1)],
                                          seed: 7))
    }

    @Test func idr0026LinksAndTypesItsSampleColumns() throws {
        let (records, _) = try idr0026Records()
        let result = try SampleLinker(config: idr0026Config()).link(records: records, now: SampleDate(year: 2025)!)
        #expect(result.joinReport.matchedRecords == 227)
        #expect(result.joinReport.unmatchedRecords.isEmpty && result.joinReport.unmatchedRows.isEmpty)
        #expect(result.samples.rowCount == 227)
        // Only the sample families are carried; image and phenotype columns are not.
        let names = result.samples.columns.map(\.name)
        #expect(names.contains("Characteristics [Sex]") && names.contains("Comment [Field]"))
        #expect(!names.contains("Image Name") && !names.contains("Phenotype 1") && !names.contains("Channels"))

        let sex = try #require(result.column("Characteristics [Sex]"))
        #expect(sex.type == .categorical && sex.categories == ["male"])
        let age = try #require(result.column("Characteristics [Age]"))
        #expect(age.type == .quantity && age.unit == "week")
        #expect(age.doubles!.allSatisfy { $0 == 8 } && age.upperDoubles!.allSatisfy { $0 == 14 })
        #expect(age.text(at: 0) == "8-14 week")
        let individual = try #require(result.column("Characteristics [Individual]"))
        #expect(individual.type == .categorical)
        #expect(individual.categories == ["mouse 48", "mouse 49", "mouse 50", "mouse 51", "mouse 52", "mouse 53", "mouse 54",
                                          "mouse 55", "mouse 56", "mouse 57", "mouse 64", "mouse 65", "mouse 66", "mouse 67"])
        let clinical = try #require(result.column("Characteristics [Clinical Information]"))
        #expect(clinical.text(at: 5) == "OVA expressing tumor")
        let field = try #require(result.column("Comment [Field]"))
        #expect(field.type == .integer)
        // Data row 100 (line 101): mouse 49, field 2 (checked with Python's csv module).
        let link = result.records[99]
        #expect(link.record == "TreatStartDay3_CTL_anti-CD137_Day3PostTreat_mouse49/Pos 01_all Ch_all TP.tif")
        let row = try #require(link.sampleRow)
        #expect(result.samples.sourceLines[row] == 101)
        #expect(individual.text(at: row) == "mouse 49" && field.ints![row] == 2)
        #expect(link.group == "mouse 49")

        // Splits: one individual, one split, across its 2 datasets.
        var splitOfGroup: [String: Set<String>] = [:]
        for r in result.records { splitOfGroup[r.group!, default: []].insert(r.split!) }
        #expect(splitOfGroup.count == 14 && splitOfGroup.values.allSatisfy { $0.count == 1 })
        let audit = LeakageAudit.audit(result.records.map { SplitMembership(group: $0.group!, source: $0.record, split: $0.split!) })
        #expect(audit.isClean)

        let manifestColumn = try #require(result.manifest.columns.first { $0.name == "Characteristics [Age]" })
        #expect(manifestColumn.type == .quantity && manifestColumn.treatment == .keep && manifestColumn.released)
        #expect(manifestColumn.source.hasSuffix("idr0026-experimentA-annotation.csv"))
    }

    @Test func imageNameAloneIsNotAUniqueKey() throws {
        var config = idr0026Config()
        config.keys = ["Image Name"]
        let error = linkingError { _ = try SampleLinker(config: config).link(records: [], now: SampleDate(year: 2025)!) }
        #expect(error?.code == .duplicateKey)
        // Python: "Pos 00_all Ch_TP 0-36_reg_crop.tif" first repeats on line 67, first seen on line 32.
        #expect(error?.line == 67)
        #expect(error?.message.contains("line 32") == true)
        #expect(error?.message.contains("Pos 00_all Ch_TP 0-36_reg_crop.tif") == true)
    }

    @Test func unmatchedRecordsAndRowsAreNamed() throws {
        var (records, _) = try idr0026Records()
        records = Array(records.dropFirst(2)) + [SampleLinkRecord(id: "extra.tif", keyValues: ["nope", "extra.tif"])]
        let result = try SampleLinker(config: idr0026Config()).link(records: records, now: SampleDate(year: 2025)!)
        #expect(result.joinReport.matchedRecords == 225)
        #expect(result.joinReport.unmatchedRecords == ["extra.tif"])
        #expect(result.joinReport.unmatchedRows.map(\.line) == [2, 3])
        #expect(result.joinReport.unmatchedRows[0].key == ["TreatStartDay3_Control_Day3PostTreat_mouse50", "3.50.6-3.140922_11-36-07.00.pattern"])
        #expect(result.samples.rowCount == 225 && result.samples.sourceLines.first == 4)
        #expect(result.records.last?.sampleRow == nil && result.records.last?.split == nil)
    }

    /// The identifier check must not cry wolf on real, public sample columns.
    @Test(arguments: [
        "idr0026-weigelin-immunotherapy/idr0026-experimentA-annotation.csv",
        "idr0025-stadler-proteinatlas/idr0025-screenA-annotation.csv",
        "idr0035-caie-drugresponse/idr0035-screenA-annotation.csv",
        "idr0038-held-kidneylightsheet/idr0038-experimentB-annotation.csv",
    ])
    func noIdentifierFalseAlarmsOnRealTables(path: String) throws {
        let table = try CSVTable(contentsOf: SharedData.idr(path))
        let flagged = table.header.indices.filter { i in
            IdentifierDetector.reason(forName: table.header[i]) != nil
                || IdentifierDetector.reason(forValues: table.rows.map { $0[i] }) != nil
        }.map { table.header[$0] }
        #expect(flagged == [])
    }
}

import BundleFormat
import Foundation
import HDF5
import Testing
@testable import Export

/// Sample data through the whole export: linking, privacy, splits, and the leakage audit.
@Suite struct SamplesExportTests {
    static let sampleTable = """
        Plate,Well,patient,patient_name,age,sex
        P1,A01,pt-1,Ada Lovelace,67,F
        P1,A02,pt-2,Alan Turing,41,M
        P1,A03,pt-2,Alan Turing,41,M

        """

    /// The plate dataset plus a third well, a sample table and a `samples` section.
    static func linkedDataset(treatment: String?) throws -> Workspace {
        let ws = try Workspace.plateDataset()
        try ws.write("data/table.csv", Workspace.table + "P1,A03,round,third\n")
        try ws.copy(fixture: "u16_bigendian.tif", to: "data/images/P1/A03.tif")
        try ws.write("data/samples.csv", sampleTable)
        var section = """
            samples:
              table: samples.csv
              keys: [Plate, Well]
              splits:
                group_column: patient
                fractions: [{name: train, fraction: 0.5}, {name: test, fraction: 0.5}]
            """
        if let treatment {
            section += "\n  privacy:\n    columns:\n      - {column: patient_name, treatment: \(treatment)}"
        }
        try ws.write("recipe.yaml", Workspace.recipe + section + "\n")
        return ws
    }

    @Test func undeclaredIdentifierColumnStopsTheExport() throws {
        let ws = try Self.linkedDataset(treatment: nil)
        guard let error = ws.failingExport() else { Issue.record("exported an undeclared patient_name"); return }
        #expect(error.description.contains("patient_name"), "\(error)")
        #expect(error.location.hasSuffix("data/samples.csv"), "\(error)")
        #expect(!error.description.contains("\n"))
        #expect(ws.outputEntries().isEmpty)
    }

    @Test func droppedColumnIsAbsentButListed() throws {
        let ws = try Self.linkedDataset(treatment: "drop")
        let result = try ws.export()
        let reader = try BundleReader(opening: result.bundle)
        let samples = try reader.table(at: "/samples")
        // A sample table's columns are all candidates (specs/samples/v1.md §2.1); only the named one is dropped.
        #expect(samples.columns.map(\.name).sorted() == ["Plate", "Well", "age", "patient", "sex"])
        #expect(samples["age"] == .int64([67, 41, 41]))
        guard case .object(let section)? = result.manifest.samples, case .array(let columns)? = section["columns"] else {
            Issue.record("manifest has no samples.columns")
            return
        }
        let dropped = columns.first { $0 == $0 && { if case .object(let o) = $0 { o["name"] == .string("patient_name") } else { false } }($0) }
        guard case .object(let entry)? = dropped else { Issue.record("patient_name not listed in the manifest"); return }
        #expect(entry["released"] == .bool(false))
        #expect(entry["treatment"] == .string("drop"))
        // The name appears nowhere in the published files.
        for name in Workspace.published("tiny.h5") {
            let bytes = try Data(contentsOf: ws.url("out/\(name)"))
            #expect(bytes.range(of: Data("Lovelace".utf8)) == nil, "\(name) contains a dropped name")
        }
    }

    /// Both wells of pt-2 land in one split; tiles carry their source's split and sample row.
    @Test func splitsFollowTheGroup() throws {
        let ws = try Self.linkedDataset(treatment: "drop")
        let result = try ws.export()
        let reader = try BundleReader(opening: result.bundle)
        let sources = try reader.table(at: "/sources")
        let tiles = try reader.table(at: "/tiles")
        guard case .string(let groups)? = sources["group"], case .string(let splits)? = sources["split"],
              case .int32(let rows)? = sources["sample"], case .string(let tileSplit)? = tiles["split"],
              case .int32(let tileSource)? = tiles["source"] else {
            Issue.record("sample columns missing: \(sources.columns.map(\.name)) \(tiles.columns.map(\.name))")
            return
        }
        #expect(groups == ["pt-1", "pt-2", "pt-2"])
        #expect(rows == [0, 1, 2])
        #expect(splits[1] == splits[2])
        #expect(Set(splits).isSubset(of: ["train", "test"]))
        #expect(tileSplit == tileSource.map { splits[Int($0)] })
        #expect(BundleValidator.validate(result.bundle).isValid)
    }

    /// An edited bundle that puts one group in two splits fails validation naming the group.
    @Test func validateCatchesAGroupInTwoSplits() throws {
        let ws = try Self.linkedDataset(treatment: "drop")
        let result = try ws.export()
        let tiles = try BundleReader(opening: result.bundle).table(at: "/tiles")
        guard case .string(var tileSplit)? = tiles["split"], case .int32(let tileSource)? = tiles["source"] else {
            Issue.record("no /tiles/split")
            return
        }
        // Move the first tile of the third well (pt-2) to the other split.
        let i = try #require(tileSource.firstIndex(of: 2))
        tileSplit[i] = tileSplit[i] == "train" ? "test" : "train"
        do {
            let file = try File(opening: result.bundle.path, mode: .readWrite)
            try file.openDataset("/tiles/split").writeStrings(tileSplit)
        }
        let report = BundleValidator.validate(result.bundle)
        #expect(!report.isValid)
        #expect(report.problems.contains { $0.contains("group \"pt-2\" is in splits") }, "\(report.problems)")
        #expect(report.problems.contains { $0.contains("images/P1/A03.tif") }, "\(report.problems)")
    }

    @Test func misspelledSamplesKeyIsNamed() throws {
        let ws = try Self.linkedDataset(treatment: "drop")
        let text = try String(contentsOf: ws.url("recipe.yaml"), encoding: .utf8)
        try ws.write("recipe.yaml", text.replacingOccurrences(of: "group_column", with: "group_colum"))
        guard let error = ws.failingExport() else { Issue.record("accepted a misspelled key"); return }
        #expect(error.code == .recipe)
        #expect(error.description.contains("recipe.yaml:2"), "\(error)")
        #expect(error.message.contains("group_colum"), "\(error)")
    }
}

extension SamplesExportTests {
    /// `diff` shows the sample columns whose treatment changed and the tiles per split.
    @Test func diffShowsSampleColumnsAndSplits() throws {
        let ws = try Self.linkedDataset(treatment: "drop")
        let a = try ws.export(output: "out/a.h5")
        var text = try String(contentsOf: ws.url("recipe.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "      - {column: patient_name, treatment: drop}",
                                         with: "      - {column: patient_name, treatment: drop}\n      - {column: sex, treatment: drop}")
        text = text.replacingOccurrences(of: "fractions: [{name: train, fraction: 0.5}, {name: test, fraction: 0.5}]",
                                         with: "fractions: [{name: train, fraction: 1.0}]")
        try ws.write("recipe.yaml", text)
        let b = try ws.export(output: "out/b.h5")
        let diff = try BundleDiff.compare(a.bundle, b.bundle)
        let sex = try #require(diff.sampleColumns.first { $0.key == "sex" })
        #expect(sex.a?.contains("keep") == true && sex.b?.hasSuffix("drop, not released") == true, "\(sex)")
        #expect(diff.sampleColumns.count == 1, "\(diff.sampleColumns)")
        let train = diff.splits.first { $0.name == "train" }
        #expect(train?.tilesB == 18, "\(diff.splits)")
        #expect(diff.splits.map(\.name).sorted() == (diff.splits.contains { $0.name == "test" } ? ["test", "train"] : ["train"]))
    }
}

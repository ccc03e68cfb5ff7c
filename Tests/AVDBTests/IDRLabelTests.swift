import Foundation
import Testing
import LabelSchema
@testable import AVDB

@Suite(.enabled(if: SharedData.available, "../shared/data is absent"))
struct IDRLabelTests {
    static let dir = "idr0025-stadler-proteinatlas/"

    func load() throws -> (AnnotationTable, IDRStudy, Schema) {
        (try AnnotationTable(contentsOf: SharedData.idr(Self.dir + "idr0025-screenA-annotation.csv")),
         try IDRStudy(contentsOf: SharedData.idr(Self.dir + "idr0025-study.txt")),
         try Schema.load(contentsOf: fixtureURL("label-schema/idr0025-localization.json")))
    }

    /// Expected values from Python's csv module over the same file (line numbers are
    /// `reader.line_num`; the CMPO → id table is the fixture's).
    @Test func idr0025PhenotypesMapThroughCMPOAccessions() throws {
        let (table, study, schema) = try load()
        let (ids, report) = try IDRLabels.normalizePhenotypes(table, study: study, schema: schema)
        #expect(ids.count == 288)
        #expect(Array(ids.prefix(6)) == [[5], [4, 11], [1], [5], [1], [3]])
        #expect(ids.filter { !$0.isEmpty }.count == 118)
        #expect(ids.filter { $0.count > 1 }.count == 28)
        #expect(ids[59] == [1, 2, 6] && ids[71] == [1, 2, 6])
        let file = table.file
        #expect(report.unmapped == [
            MappingReport.Entry(value: "antibody localized in nuclear membrane", term: "CMPO:0000443", classId: nil, className: nil,
                                count: 6, locations: [156, 168, 247, 250, 259, 262].map { "\(file):\($0)" }),
            MappingReport.Entry(value: "antibody localized in nucleoli fibrillar center", term: "CMPO:0000444", classId: nil,
                                className: nil, count: 2, locations: [151, 163].map { "\(file):\($0)" }),
        ])
        // Every mapped value went through its accession, none through text.
        let mapped = report.entries.filter { $0.classId != nil }
        #expect(mapped.count == 12 && mapped.allSatisfy { $0.rule == .term })
        #expect(mapped.first { $0.term == "CMPO:0000390" }?.count == 16)
        #expect(mapped.first { $0.term == "CMPO:0000440" }
            == MappingReport.Entry(value: "antibody localized in actin filaments", term: "CMPO:0000440", classId: 11,
                                   className: "actin filament", rule: .term, count: 6, locations: []))
        try report.check(unknown: schema.unknown)
    }

    @Test func characteristicsResolveThroughTermSources() throws {
        let (table, study, schema) = try load()
        let organism = try IDRLabels.characteristicLabel(table, row: 0, name: "Organism", sources: study.termSources, schema: schema)
        #expect(organism == SourceLabel(value: "Homo sapiens", term: TermID(prefix: "NCBITaxon", localID: "9606")))
        let line = try IDRLabels.characteristicLabel(table, row: 0, name: "Cell Line", sources: study.termSources, schema: schema)
        #expect(line?.term?.curie == "EFO:0002869")
    }

    @Test func undeclaredPrefixNamesTableLine() throws {
        let (_, _, schema) = try load()
        let table = AnnotationTable(try CSVTable(text: "Well,Phenotype 1,Phenotype 1 Term Accession\nA1,round,XYZ_0001\n", file: "t.csv"))
        let sources = TermSources(file: "study.txt", names: ["CMPO"], uris: ["http://www.ebi.ac.uk/cmpo/"])
        #expect {
            try IDRLabels.phenotypeLabels(table, row: 0, sources: sources, schema: schema)
        } throws: { error in
            let e = error as? AVDBError
            return e?.code == .unknownTermSource && e?.description.hasPrefix("t.csv:2: accession \"XYZ_0001\" uses prefix \"XYZ\"") == true
        }
    }

    /// A draft from the observed phenotypes maps every one of them (schema init --from).
    @Test func draftFromObservedPhenotypesMapsEverything() throws {
        let (table, study, schema) = try load()
        var observed: [SourceLabel: Int] = [:]
        for row in 0..<table.rowCount {
            for label in try IDRLabels.phenotypeLabels(table, row: row, sources: study.termSources, schema: schema) {
                observed[label, default: 0] += 1
            }
        }
        let draft = SchemaDraft.build(name: "idr0025-draft", kinds: [.multiLabelImageClass],
                                      observations: observed.map { SchemaDraft.Observation($0.key, count: $0.value) })
        #expect(draft.classes.count == 14)
        #expect(draft.classes.first?.name == "antibody localized in Golgi apparatus")
        let (_, report) = try IDRLabels.normalizePhenotypes(table, study: study, schema: draft)
        #expect(report.unmapped.isEmpty)
        // 156 = the sum of the 14 per-accession counts Python finds.
        #expect(report.entries.map(\.count).reduce(0, +) == 156)
    }
}

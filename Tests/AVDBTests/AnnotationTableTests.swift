import AVDB
import Foundation
import Testing

@Suite("Annotation tables")
struct AnnotationTableTests {
    static let csv = """
        Image Name,Characteristics [Sex],Term Source 1 REF,Term Source 1 Accession,Characterisics [Growth Condition],\
        Phenotype,Phenotype Term Name,Phenotype Term Accession,Phenotype 2,Phenotype 2 Term Accession
        a.tif,male,PATO,PATO_0000384,,round,round nuclei,CMPO_0000118,,
        b.tif,,,,37 C,,,,elongated,CMPO_0000077

        """

    @Test func characteristicsWithTermSourcesAndMisspeltHeader() throws {
        let table = AnnotationTable(try CSVTable(text: Self.csv, file: "t.csv"))
        #expect(table.characteristicColumns.map(\.name) == ["Sex", "Growth Condition"])
        #expect(table.characteristicColumns[0].termSourceIndex == 2)
        #expect(table.characteristicColumns[0].accessionIndex == 3)
        #expect(table.characteristicColumns[1].termSourceIndex == nil)
        #expect(table.warnings.map(\.description) == [
            "t.csv: warning: column 5 \"Characterisics [Growth Condition]\" is read as \"Characteristics [Growth Condition]\" (misspelt header)",
        ])
        #expect(table.characteristics(row: 0) == [
            Characteristic(name: "Sex", value: "male", termSource: "PATO", accession: "PATO_0000384"),
        ])
        #expect(table.characteristics(row: 1) == [
            Characteristic(name: "Growth Condition", value: "37 C", termSource: nil, accession: nil),
        ])
    }

    @Test func phenotypesInBothColumnStyles() throws {
        let table = AnnotationTable(try CSVTable(text: Self.csv, file: "t.csv"))
        #expect(table.phenotypeColumns.map(\.name) == ["Phenotype", "Phenotype 2"])
        #expect(table.phenotypeColumns[1].termNameIndex == nil)
        #expect(table.phenotypes(row: 0) == [
            Phenotype(column: "Phenotype", value: "round", termName: "round nuclei", accession: "CMPO_0000118"),
        ])
        #expect(table.phenotypes(row: 1) == [
            Phenotype(column: "Phenotype 2", value: "elongated", termName: nil, accession: "CMPO_0000077"),
        ])
    }

    @Test func lookupByName() throws {
        let table = AnnotationTable(try CSVTable(text: Self.csv, file: "t.csv"))
        #expect(try table.values(column: "Image Name") == ["a.tif", "b.tif"])
        #expect(try table.value(row: 1, column: "Characteristics [Sex]") == "")
        #expect(table.line(ofRow: 1) == 3)
    }

    @Test(arguments: [
        ("image name", "unknown column \"image name\"; did you mean \"Image Name\"?"),
        ("Image Nmae", "unknown column \"Image Nmae\"; did you mean \"Image Name\"?"),
        ("Phenotype 1", "unknown column \"Phenotype 1\"; did you mean \"Phenotype\" or \"Phenotype 2\"?"),
        ("Well", "unknown column \"Well\"; the table has columns \"Image Name\", \"Characteristics [Sex]\", \"Term Source 1 REF\", \"Term Source 1 Accession\", \"Characterisics [Growth Condition]\", \"Phenotype\", \"Phenotype Term Name\", \"Phenotype Term Accession\", \"Phenotype 2\", \"Phenotype 2 Term Accession\""),
    ])
    func unknownColumnSuggestsNearMatches(name: String, message: String) throws {
        let table = AnnotationTable(try CSVTable(text: Self.csv, file: "t.csv"))
        let error = #expect(throws: AVDBError.self) { try table.columnIndex(named: name) }
        #expect(error?.code == .unknownColumn)
        #expect(error?.column == name)
        #expect(error?.message == message)
    }
}

@Suite("Real IDR annotation tables: columns", .enabled(if: SharedData.available, "needs ../shared/data"))
struct RealAnnotationTableTests {
    @Test func idr0035NearMatch() throws {
        let url = SharedData.idr("idr0035-caie-drugresponse/idr0035-screenA-annotation.csv")
        let table = try AnnotationTable(contentsOf: url)
        let error = #expect(throws: AVDBError.self) { try table.columnIndex(named: "Compound MOA") }
        #expect(error?.description
            == "\(url.path): unknown column \"Compound MOA\"; did you mean \"Compound MOA (from Ljosa et al, 2013)\"?")
        #expect(try table.columnIndex(named: "Compound MOA (from Ljosa et al, 2013)") == 14)
        #expect(table.phenotypeColumns.isEmpty)
        #expect(table.characteristics(row: 0) == [
            Characteristic(name: "Organism", value: "Homo sapiens", termSource: "NCBITaxon", accession: "NCBITaxon_9606"),
            Characteristic(name: "Cell Line", value: "MCF-7", termSource: "EFO", accession: "EFO_0001203"),
        ])
    }

    @Test func idr0025PhenotypesOfOneWell() throws {
        let table = try AnnotationTable(contentsOf: SharedData.idr("idr0025-stadler-proteinatlas/idr0025-screenA-annotation.csv"))
        #expect(table.phenotypeColumns.count == 14)
        #expect(table.phenotypeColumns.allSatisfy { $0.termNameIndex != nil && $0.accessionIndex != nil })
        let plates = try table.values(column: "Plate")
        let wells = try table.values(column: "Well")
        let row = try #require(plates.indices.first { plates[$0] == "10x images plate 1" && wells[$0] == "E12" })
        #expect(row == 59)
        #expect(table.phenotypes(row: row) == [
            Phenotype(column: "Phenotype 5", value: "antibody localized in cytoplasm",
                      termName: "protein localized in cytosol phenotype", accession: "CMPO_0000393"),
            Phenotype(column: "Phenotype 7", value: "antibody localized in Golgi apparatus",
                      termName: "protein localized in golgi phenotype", accession: "CMPO_0000390"),
            Phenotype(column: "Phenotype 9", value: "antibody localized in nucleus",
                      termName: "protein localized in nucleus phenotype", accession: "CMPO_0000398"),
        ])
        // Python: sum of non-empty Phenotype N cells over all rows.
        #expect((0..<table.rowCount).map { table.phenotypes(row: $0).count }.reduce(0, +) == 156)
        #expect(table.warnings.isEmpty)
    }

    @Test func idr0026CharacteristicsAndPhenotypes() throws {
        let table = try AnnotationTable(contentsOf: SharedData.idr("idr0026-weigelin-immunotherapy/idr0026-experimentA-annotation.csv"))
        #expect(table.characteristicColumns.map(\.name)
            == ["Organism", "Strain", "Sex", "Age", "Individual", "Organism Part", "Clinical Information"])
        let sex = try #require(table.characteristics(row: 0).first { $0.name == "Sex" })
        #expect(sex == Characteristic(name: "Sex", value: "male", termSource: "PATO", accession: "PATO_0000384"))
        #expect(table.characteristics(row: 0).first { $0.name == "Individual" }?.value == "mouse 50")
        // Phenotype 3, 6, 7 and 8 have no term columns in this table.
        #expect(table.phenotypeColumns.map(\.name) == (1...8).map { "Phenotype \($0)" })
        #expect(table.phenotypeColumns.filter { $0.termNameIndex == nil }.map(\.name)
            == ["Phenotype 3", "Phenotype 6", "Phenotype 7", "Phenotype 8"])
        #expect(table.phenotypes(row: 0).isEmpty)
        let phenotypes = table.phenotypes(row: 100)
        #expect(phenotypes.map(\.value) == [
            "reduced tumor growth", "reduced CTL speed", "increased CTL confinement",
            "enhanced CTL killing", "enhanced CTL proliferation", "enhanced CTL density",
        ])
        #expect(phenotypes[1] == Phenotype(column: "Phenotype 2", value: "reduced CTL speed",
                                           termName: "decreased cell movement speed", accession: "CMPO_0000240"))
        #expect(phenotypes[2] == Phenotype(column: "Phenotype 3", value: "increased CTL confinement", termName: nil, accession: nil))
        #expect((0..<table.rowCount).map { table.phenotypes(row: $0).count }.reduce(0, +) == 510)
    }

    @Test func idr0038MisspeltCharacteristicIsAWarning() throws {
        let url = SharedData.idr("idr0038-held-kidneylightsheet/idr0038-experimentB-annotation.csv")
        let table = try AnnotationTable(contentsOf: url)
        #expect(table.warnings.map(\.description) == [
            "\(url.path): warning: column 19 \"Characterisics [Growth Condition]\" is read as \"Characteristics [Growth Condition]\" (misspelt header)",
        ])
        #expect(table.characteristics(row: 0) == [
            Characteristic(name: "Organism", value: "Mus musculus", termSource: "NCBITaxon", accession: "NCBITaxon_10090"),
            Characteristic(name: "Strain", value: "CD1 mus strain", termSource: "EFO", accession: "EFO_0005180"),
            // Term Source 5 sits between 2 and 3 in this header: position, not number, pairs them.
            Characteristic(name: "Genotype", value: "wild type genotype", termSource: "EFO", accession: "EFO_0005168"),
            Characteristic(name: "Organism Part", value: "kidney", termSource: "UBERON", accession: "UBERON_0002113"),
            Characteristic(name: "Developmental Stage", value: "embryonic day 13.5", termSource: "EFO", accession: "EFO_0002564"),
            Characteristic(name: "Growth Condition",
                           value: "1 micromolar 5(6) Carboxyfluorescein, 20 micrograms per milliliter PNA-rh",
                           termSource: nil, accession: nil),
        ])
    }
}

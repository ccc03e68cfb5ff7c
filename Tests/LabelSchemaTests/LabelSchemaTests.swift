import Foundation
import Testing
@testable import LabelSchema

/// A few mechanism-of-action values of IDR study idr0035 (BBBC021), as they appear there.
private let moa = ["Actin disruptors", "Aurora kinase inhibitors", "DMSO", "Microtubule stabilizers"]

@Suite struct ClassListTests {
    @Test func idsFollowTheListedOrder() throws {
        let list = try ClassList(names: moa)
        #expect(list.classes.map(\.id) == [0, 1, 2, 3])
        #expect(list.classes[1] == LabelClass(id: 1, name: "Aurora kinase inhibitors", synonyms: []))
        #expect(list.id(of: "DMSO") == 2)
        #expect(list.id(of: "dmso") == nil)
    }

    @Test func namesAreTrimmed() throws {
        let list = try ClassList(names: ["  nucleus ", "cell\t"])
        #expect(list.classes.map(\.name) == ["nucleus", "cell"])
    }

    @Test func rejectsDuplicatesAndEmptyNamesNamingThem() {
        #expect(throws: LabelSchemaError(
            code: .invalidClassList,
            message: "invalid class list: class 2 \"actin  DISRUPTORS\" duplicates class 0 \"Actin disruptors\"; "
                + "class 3 has an empty name (give each class one distinct, non-empty name)")) {
            try ClassList(names: ["Actin disruptors", "DMSO", " actin  DISRUPTORS", "   "])
        }
        #expect(throws: LabelSchemaError.self) { try ClassList(names: []) }
    }
}

@Suite struct LabelNormalizerTests {
    @Test func exactMatchingMapsOnlyIdenticalValues() throws {
        var n = LabelNormalizer(classes: try ClassList(names: moa), matching: .exact)
        #expect(n.normalize("DMSO", at: "a.csv:2") == 2)
        #expect(n.normalize("Actin disruptors", at: "a.csv:3") == 0)
        #expect(n.normalize("dmso", at: "a.csv:4") == nil)
        #expect(n.normalize("DMSO ", at: "a.csv:5") == nil)
    }

    @Test func caseInsensitiveMatchingTrimsCollapsesAndFolds() throws {
        var n = LabelNormalizer(classes: try ClassList(names: moa), matching: .caseInsensitive)
        #expect(n.normalize("actin  Disruptors", at: "a.csv:2") == 0)
        #expect(n.normalize(" AURORA kinase\tinhibitors ", at: "a.csv:3") == 1)
        #expect(n.normalize("dmso", at: "a.csv:4") == 2)
        #expect(n.normalize("Kinase inhibitors", at: "a.csv:5") == nil)
    }

    @Test func reportCountsEveryValueAndLocatesUnmappedOnes() throws {
        var n = LabelNormalizer(classes: try ClassList(names: moa), matching: .caseInsensitive)
        let rows = ["DMSO", "Actin disruptors", "", "DMSO", "Eg5 inhibitors", "  ", "dmso", "Eg5 inhibitors"]
        for (i, value) in rows.enumerated() { _ = n.normalize(value, at: "annotation.csv:\(i + 2)") }
        let report = n.report
        #expect(report.emptyCount == 2)
        #expect(report.entries == [
            .init(value: "Actin disruptors", classId: 0, className: "Actin disruptors", rule: .exact, count: 1, locations: []),
            .init(value: "DMSO", classId: 2, className: "DMSO", rule: .exact, count: 2, locations: []),
            .init(value: "Eg5 inhibitors", classId: nil, className: nil, count: 2,
                  locations: ["annotation.csv:6", "annotation.csv:9"]),
            .init(value: "dmso", classId: 2, className: "DMSO", rule: .normalized, count: 1, locations: []),
        ])
        #expect(report.unmapped.map(\.value) == ["Eg5 inhibitors"])
    }

    @Test func keepsTheFirstTwentyLocationsButCountsAll() throws {
        var n = LabelNormalizer(classes: try ClassList(names: ["a"]), matching: .exact)
        for i in 1 ... 25 { _ = n.normalize("b", at: "row \(i)") }
        let entry = try #require(n.report.unmapped.first)
        #expect(entry.count == 25)
        #expect(entry.locations == (1 ... 20).map { "row \($0)" })
    }

    @Test func unknownValuePolicy() throws {
        var n = LabelNormalizer(classes: try ClassList(names: moa), matching: .exact)
        _ = n.normalize("DMSO", at: "a.csv:2")
        try n.report.check(.error)
        _ = n.normalize("Eg5 inhibitors", at: "a.csv:3")
        _ = n.normalize("Eg5 inhibitors", at: "a.csv:4")
        try n.report.check(.skip)
        #expect(throws: LabelSchemaError(
            code: .unmappedValues,
            message: "1 label value(s) match no class: \"Eg5 inhibitors\" (2×, first at a.csv:3); add them to the "
                + "class list, fix the source, or set the unknown-value policy to skip")) {
            try n.report.check(.error)
        }
    }

    @Test func reportEncodesWithSortedKeysAndOmitsMissingClass() throws {
        var n = LabelNormalizer(classes: try ClassList(names: ["DMSO"]), matching: .exact)
        _ = n.normalize("DMSO", at: "r1")
        _ = n.normalize("x", at: "r2")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(n.report), as: UTF8.self)
        #expect(json == #"{"emptyCount":0,"entries":[{"classId":0,"className":"DMSO","count":1,"locations":[],"rule":"exact","value":"DMSO"},"#
            + #"{"count":1,"locations":["r2"],"value":"x"}]}"#)
        #expect(try JSONDecoder().decode(MappingReport.self, from: Data(json.utf8)) == n.report)
    }
}

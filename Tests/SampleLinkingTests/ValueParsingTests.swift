import Foundation
import Testing
@testable import SampleLinking

@Suite("Cell parsing and column typing")
struct ValueParsingTests {
    @Test(arguments: [
        ("2017-04-17", "2017-04-17"), ("2017-04", "2017-04"), ("2017", "2017"), ("2017/04/17", "2017-04-17"),
        ("17.04.2017", "2017-04-17"), ("17 April 2017", "2017-04-17"), ("17-Apr-2017", "2017-04-17"),
        ("April 17, 2017", "2017-04-17"), ("Sept 2016", "2016-09"), ("2017-04-17T10:22:00Z", "2017-04-17"),
        ("2016-02-29", "2016-02-29"),
    ])
    func datesParse(text: String, iso: String) {
        #expect(ValueParser.date(text)?.description == iso)
    }

    @Test(arguments: ["04/17/2017", "17/04/2017", "2017-02-29", "2017-13-01", "mouse 50", "2017-4-31", ""])
    func ambiguousOrImpossibleDatesDoNotParse(text: String) {
        #expect(ValueParser.date(text) == nil)
    }

    @Test(arguments: [
        ("65 years", 65.0, 65.0, "year"), ("3 months", 3, 3, "month"), ("8 to 14 week old", 8, 14, "week"),
        ("8-14 weeks", 8, 14, "week"), ("12.5 mg", 12.5, 12.5, "mg"), ("65years", 65, 65, "year"), ("40 yr of age", 40, 40, "year"),
    ])
    func quantitiesParse(text: String, low: Double, high: Double, unit: String) {
        let q = ValueParser.quantity(text)
        #expect(q == SampleQuantity(low: low, high: high, unit: unit))
    }

    @Test func bareNumberNeedsADeclaredUnit() {
        #expect(ValueParser.quantity("65") == nil)
        #expect(ValueParser.quantity("65", defaultUnit: "years") == SampleQuantity(low: 65, high: 65, unit: "year"))
        #expect(ValueParser.quantity("14 to 8 weeks") == nil)
    }

    @Test func inference() {
        #expect(ColumnTyper.inferType(["1", "-2", nil, "+3"]) == .integer)
        #expect(ColumnTyper.inferType(["1", "2.5", "3e-2"]) == .float)
        #expect(ColumnTyper.inferType(["2017-01-02", "2018"]) == .date)
        #expect(ColumnTyper.inferType(["65 years", "3 months"]) == .quantity)
        #expect(ColumnTyper.inferType(["10 mg", "3 months"]) != .quantity)
        #expect(ColumnTyper.inferType(["a", "b", "a", "b"]) == .categorical)
        #expect(ColumnTyper.inferType(["a", "b", "c"]) == .text)
        #expect(ColumnTyper.inferType([nil, nil]) == .text)
    }

    @Test func mixedTimeUnitsConvertToTheFirstUnit() throws {
        let c = try ColumnTyper.type(name: "Age", cells: ["2 years", "6 months", nil], declaration: nil, file: "t.csv", lines: [2, 3, 4])
        #expect(c.type == .quantity && c.unit == "year")
        #expect(c.doubles![0] == 2 && abs(c.doubles![1] - 0.5) < 1e-12)
        #expect(c.valid == [true, true, false])
    }

    @Test func declaredTypeFailureNamesFileLineAndColumn() throws {
        let csv = "id,age\nA,64\nB,sixty\n"
        let config = SamplesConfig(table: "people.csv", keys: ["id"],
                                   types: [ColumnTypeEntry(column: "age", ColumnTypeDeclaration(type: .integer))])
        let error = linkingError { _ = try linkCSV(csv, config: config) }
        #expect(error?.code == .valueDoesNotParse)
        #expect(error?.file == "people.csv" && error?.line == 3 && error?.column == "age")
        #expect(error?.description.hasPrefix("people.csv:3: column \"age\": \"sixty\" is not an integer") == true)
    }

    @Test func declaredCategoriesAreTheDictionary() throws {
        let csv = "id,sex\nA,male\nB,female\nC,NA\n"
        let config = SamplesConfig(table: "s.csv", keys: ["id"], types: [
            ColumnTypeEntry(column: "sex", ColumnTypeDeclaration(type: .categorical, categories: ["male", "female", "other"]))])
        let sex = try #require(try linkCSV(csv, config: config).column("sex"))
        #expect(sex.categories == ["female", "male", "other"])
        #expect(sex.ints == [1, 0, -1])
        #expect(sex.valid == [true, true, false])
        let bad = linkingError { _ = try linkCSV("id,sex\nA,m\n", config: config) }
        #expect(bad?.code == .valueDoesNotParse && bad?.line == 2)
    }
}

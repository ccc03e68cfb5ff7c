import AVDB
import Foundation
import Testing

@Suite("CSV reader")
struct CSVTests {
    private func table(_ text: String, file: String = "t.csv", options: CSVOptions = .init()) throws -> CSVTable {
        try CSVTable(text: text, file: file, options: options)
    }

    @Test func embeddedCommaAndDoubledQuotes() throws {
        let t = try table("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",z\n")
        #expect(t.header == ["a", "b", "c"])
        #expect(t.rows == [CSVRecord(line: 2, fields: ["x, y", "say \"hi\"", "z"])])
    }

    @Test func embeddedNewlinesShiftLineNumbers() throws {
        let t = try table("id,note\n1,\"two\nlines\"\n2,\"three\r\nline\rbreaks\"\n3,plain\n")
        #expect(t.rows.map(\.line) == [2, 4, 7])
        #expect(t.rows[0].fields == ["1", "two\nlines"])
        #expect(t.rows[1].fields == ["2", "three\r\nline\rbreaks"])
        #expect(t.rows[2].fields == ["3", "plain"])
    }

    @Test func crlfLineEndsAndBOM() throws {
        let t = try table("\u{FEFF}Plate,Well\r\nP1,A1\r\nP1,A2\r\n")
        #expect(t.header == ["Plate", "Well"])
        #expect(t.rows.map(\.fields) == [["P1", "A1"], ["P1", "A2"]])
        #expect(t.rows.map(\.line) == [2, 3])
    }

    @Test func loneCRLineEndsAndQuotedEmptyFields() throws {
        let t = try table("a,b\r\"\",x\r\"\",\"\"\r")
        #expect(t.rows == [CSVRecord(line: 2, fields: ["", "x"]), CSVRecord(line: 3, fields: ["", ""])])
    }

    @Test func noFinalNewlineTrailingEmptyFieldAndBlankLines() throws {
        let t = try table("a,b\n\n1,\n\n2,x")
        #expect(t.rows == [CSVRecord(line: 3, fields: ["1", ""]), CSVRecord(line: 5, fields: ["2", "x"])])
    }

    @Test func pythonCompatibleQuoteQuirks() throws {
        // What Python's csv module gives: a quote inside an unquoted field is literal, text
        // after a closing quote is appended.
        let t = try table("a,b\nab\"c,\"x\"y\n")
        #expect(t.rows[0].fields == ["ab\"c", "xy"])
    }

    @Test(arguments: [
        ("t.tsv", CSVDelimiter.byExtension),
        ("t.txt", CSVDelimiter.byExtension),
        ("t.csv", CSVDelimiter.tab),
    ])
    func tabDelimited(file: String, delimiter: CSVDelimiter) throws {
        let t = try table("k\tv\n\"a\tb\"\tc,d\n", file: file, options: .init(delimiter: delimiter))
        #expect(t.rows[0].fields == ["a\tb", "c,d"])
    }

    @Test func headerOnly() throws {
        let t = try table("a,b,c\n")
        #expect(t.header == ["a", "b", "c"])
        #expect(t.rows.isEmpty)
    }

    @Test(arguments: ["", "\n\n", "\u{FEFF}"])
    func emptyFile(text: String) {
        let error = #expect(throws: AVDBError.self) { try table(text, file: "empty.csv") }
        #expect(error?.code == .emptyFile)
        #expect(error?.description == "empty.csv: file is empty; expected a header line with column names")
    }

    @Test func raggedRowIsAnErrorNamingFileAndLine() {
        let error = #expect(throws: AVDBError.self) {
            try table("a,b,c\n1,2,3\n\"multi\nline\",2,3\n4,5\n", file: "idr0035-screenA-annotation.csv")
        }
        #expect(error?.code == .fieldCountMismatch)
        #expect(error?.line == 5)
        #expect(error?.description == "idr0035-screenA-annotation.csv:5: row has 2 fields, header has 3")
    }

    @Test func raggedRowsAllowedOnRequest() throws {
        let t = try table("a,b,c\n1,2\n", options: .init(allowRaggedRows: true))
        #expect(t.rows[0].fields == ["1", "2"])
        #expect(t.rows[0][2] == "")
    }

    @Test func unterminatedQuoteNamesTheLineWhereItOpened() {
        let error = #expect(throws: AVDBError.self) { try table("a,b\n1,2\n3,\"open\nstill open\n", file: "bad.csv") }
        #expect(error?.code == .unterminatedQuote)
        #expect(error?.line == 3)
        #expect(error?.description.hasPrefix("bad.csv:3: quoted field opened here is never closed") == true)
    }

    @Test func invalidUTF8() {
        let bytes: [UInt8] = Array("a,b\n1,".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        let error = #expect(throws: AVDBError.self) { try CSVTable(bytes: bytes, file: "latin1.csv") }
        #expect(error?.code == .invalidUTF8)
        #expect(error?.description == "latin1.csv:2: field 2 is not valid UTF-8; re-save the file as UTF-8")
    }

    @Test func duplicateHeaderNames() {
        let error = #expect(throws: AVDBError.self) { try table("Plate,Well,Plate\n", file: "d.csv") }
        #expect(error?.code == .duplicateColumn)
        #expect(error?.column == "Plate")
        #expect(error?.description == "d.csv:1: columns 1 and 3 are both named \"Plate\"; rename one of them")
    }

    @Test func limits() {
        let long = #expect(throws: AVDBError.self) {
            try table("a\n12345\n", options: .init(maxFieldLength: 4))
        }
        #expect(long?.code == .fieldTooLong)
        #expect(long?.line == 2)

        let wide = #expect(throws: AVDBError.self) {
            try table("a,b,c\n", options: .init(maxFieldsPerRecord: 2))
        }
        #expect(wide?.code == .tooManyFields)

        let big = #expect(throws: AVDBError.self) {
            try table("a,b\n1,2\n", options: .init(maxFileSize: 4))
        }
        #expect(big?.code == .fileTooLarge)
    }

    @Test func fileSizeLimitIsCheckedBeforeReading() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("t.csv", "a,b\n1,2\n")
        let error = #expect(throws: AVDBError.self) { try CSVTable(contentsOf: file, options: .init(maxFileSize: 4)) }
        #expect(error?.code == .fileTooLarge)
        #expect(error?.file == file.path)
    }

    @Test func missingFile() {
        let error = #expect(throws: AVDBError.self) {
            try CSVTable(contentsOf: URL(fileURLWithPath: "/nonexistent/x.csv"))
        }
        #expect(error?.code == .fileUnreadable)
        #expect(error?.description.hasPrefix("/nonexistent/x.csv: cannot open file") == true)
    }

    @Test func errorDescriptionStaysOnOneLine() {
        let error = AVDBError(.unknownColumn, "value \"a\nb\"", file: "f.csv", line: 3)
        #expect(error.description == "f.csv:3: value \"a\\nb\"")
    }
}

/// The four real IDR tables, checked against what Python's `csv` module reads from them.
@Suite("Real IDR annotation tables", .enabled(if: SharedData.available, "needs ../shared/data"))
struct RealCSVTests {
    @Test(arguments: [
        // file, data rows, columns, total characters of all cells (header included),
        // non-empty cells — all as computed by Python 3 csv.reader.
        ("idr0025-stadler-proteinatlas/idr0025-screenA-annotation.csv", 288, 76, 134_746, 6_840),
        ("idr0026-weigelin-immunotherapy/idr0026-experimentA-annotation.csv", 227, 41, 117_847, 6_578),
        ("idr0035-caie-drugresponse/idr0035-screenA-annotation.csv", 3300, 17, 657_698, 49_491),
        ("idr0038-held-kidneylightsheet/idr0038-experimentB-annotation.csv", 10, 27, 6_515, 285),
    ])
    func shape(file: String, rows: Int, columns: Int, characters: Int, nonEmpty: Int) throws {
        let t = try CSVTable(contentsOf: SharedData.idr(file))
        #expect(t.rows.count == rows)
        #expect(t.header.count == columns)
        let all = [t.header] + t.rows.map(\.fields)
        // Python's len() counts code points, as unicodeScalars does.
        #expect(all.joined().map(\.unicodeScalars.count).reduce(0, +) == characters)
        #expect(all.joined().filter { !$0.isEmpty }.count == nonEmpty)
        #expect(t.rows.map(\.line) == Array(2...(rows + 1)))
    }

    @Test func idr0035Cells() throws {
        let t = try CSVTable(contentsOf: SharedData.idr("idr0035-caie-drugresponse/idr0035-screenA-annotation.csv"))
        #expect(t.header[14] == "Compound MOA (from Ljosa et al, 2013)")
        #expect(t.rows[0].fields == [
            "Week1_22123", "B2", "14", "Homo sapiens", "NCBITaxon", "NCBITaxon_9606", "MCF-7", "EFO", "EFO_0001203",
            "1", "Week1", "DMSO", "", "", "", "negative control", "DAPI:DNA;Phallodin:F-actin;B-tubulin",
        ])
        // The file holds two literal backslashes at each stereo bond; neither CSV nor we unescape them.
        #expect(t.rows[1][13]
            == #"C[C@@H]1CCC[C@@H](O)\\C=C\\C(=O)O[C@]23[C@@H](\\C=C\\C1)[C@H](O)C(=C)[C@@H](C)[C@H]2[C@H](Cc4ccccc4)NC3=O"#)
        #expect(t.rows[1][13].count == 105)
        #expect(t.rows[1][14] == "Actin disruptors")
        // Line 1803 quotes a compound name holding a comma.
        #expect(t.rows[1801].line == 1803)
        #expect(t.rows[1801][11] == "ICI-182,780")
        #expect(t.rows[3299][0] == "Week9_39301")
        #expect(t.rows[3299][1] == "G11")
        #expect(Set(t.rows.map { $0[11] }).count == 113)
        #expect(Set(t.rows.map { $0[14] }).count == 13)
    }
}

import AVDB
import Foundation
import Testing

@Suite("Matching rows to image files")
struct ImageMatchingTests {
    static let plateTable = """
        Plate,Well,Compound
        Week1_22123,B2,DMSO
        Week1_22123,B3,taxol
        Week2_24121,B2,DMSO

        """

    private func table(_ text: String = plateTable) throws -> AnnotationTable {
        AnnotationTable(try CSVTable(text: text, file: "plates.csv"))
    }

    @Test func matchedMissingAndUnreferenced() throws {
        let dir = try TemporaryDirectory()
        try dir.write("images/Week1_22123/B2.tif")
        try dir.write("images/Week2_24121/B2.tif")
        try dir.write("images/Week2_24121/C7.tif")  // no row
        try dir.write("images/Week2_24121/notes.txt")  // not an image
        try dir.write("images/.hidden.tif")
        try dir.write("other/elsewhere.tif")  // outside the template's directory

        let result = try ImageMatcher.match(
            table: try table(), keyColumns: ["Plate", "Well"],
            template: try PathTemplate("images/{Plate}/{Well}.tif"), root: dir.url)
        #expect(result.matched.map { "row \($0.row), line \($0.line): \($0.path)" } == [
            "row 0, line 2: images/Week1_22123/B2.tif",
            "row 2, line 4: images/Week2_24121/B2.tif",
        ])
        #expect(result.missing.map(\.description) == ["line 3: Plate=Week1_22123, Well=B3 → images/Week1_22123/B3.tif (not found)"])
        #expect(result.missing.first?.key == "Plate=Week1_22123, Well=B3")
        #expect(result.unreferenced == ["images/Week2_24121/C7.tif"])
    }

    @Test func explicitImagePattern() throws {
        let dir = try TemporaryDirectory()
        try dir.write("raw/a.png")
        try dir.write("raw/b.png")
        try dir.write("raw/c.png")
        let t = AnnotationTable(try CSVTable(text: "Image Name\na.png\nb.png\n", file: "t.csv"))
        let result = try ImageMatcher.match(table: t, keyColumns: ["Image Name"],
                                            template: try PathTemplate("raw/{Image Name}"),
                                            root: dir.url, imagePattern: "raw/*.png")
        #expect(result.matched.map(\.path) == ["raw/a.png", "raw/b.png"])
        #expect(result.missing.isEmpty)
        #expect(result.unreferenced == ["raw/c.png"])
    }

    @Test func duplicateKeyNamesBothLines() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: AVDBError.self) {
            try ImageMatcher.match(table: try table("Plate,Well\nP1,A1\nP1,A2\nP1,A1\n"), keyColumns: ["Plate", "Well"],
                                   template: try PathTemplate("{Plate}/{Well}.tif"), root: dir.url)
        }
        #expect(error?.code == .duplicateKey)
        #expect(error?.description
            == "plates.csv:4: rows at lines 2 and 4 have the same key Plate=P1, Well=A1; key columns must identify one row")
    }

    @Test func keyDefaultsToTheTemplateVariables() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: AVDBError.self) {
            try ImageMatcher.match(table: try table(), template: try PathTemplate("{Well}.tif"), root: dir.url)
        }
        #expect(error?.code == .duplicateKey)
        #expect(error?.message == "rows at lines 2 and 4 have the same key Well=B2; key columns must identify one row")
    }

    @Test(arguments: ["..", ".", "../../etc/passwd", "a/b", #"a\b"#])
    func valueEscapingTheRootIsAnError(value: String) throws {
        let dir = try TemporaryDirectory()
        let t = AnnotationTable(try CSVTable(
            text: "Image Name\nok.tif\n\"\(value.replacingOccurrences(of: "\"", with: "\"\""))\"\n", file: "t.csv"))
        let error = #expect(throws: AVDBError.self) {
            try ImageMatcher.match(table: t, keyColumns: ["Image Name"],
                                   template: try PathTemplate("images/{Image Name}"), root: dir.url)
        }
        #expect(error?.code == .pathEscapesRoot)
        #expect(error?.line == 3)
        #expect(error?.column == "Image Name")
        #expect(error?.description.hasPrefix("t.csv:3: value \"\(value)\" of column \"Image Name\" would make a path that escapes the dataset root") == true)
    }

    @Test func emptyValueIsAnError() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: AVDBError.self) {
            try ImageMatcher.match(table: try table("Plate,Well\nP1,\n"), keyColumns: ["Plate", "Well"],
                                   template: try PathTemplate("{Plate}/{Well}.tif"), root: dir.url)
        }
        #expect(error?.code == .emptyKeyValue)
        #expect(error?.description == "plates.csv:2: column \"Well\" is empty but the path template \"{Plate}/{Well}.tif\" needs it")
    }

    @Test func templateVariableMustBeAColumn() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: AVDBError.self) {
            try ImageMatcher.match(table: try table(), keyColumns: ["Plate", "Well"],
                                   template: try PathTemplate("images/{Plate}/{well}.tif"), root: dir.url)
        }
        #expect(error?.code == .invalidTemplate)
        #expect(error?.column == "well")
        #expect(error?.description
            == "plates.csv: path template \"images/{Plate}/{well}.tif\" uses {well}, which is not a column; did you mean \"Well\"?")
    }

    @Test func unknownKeyColumn() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: AVDBError.self) {
            try ImageMatcher.match(table: try table(), keyColumns: ["Plates"],
                                   template: try PathTemplate("{Plate}.tif"), root: dir.url)
        }
        #expect(error?.code == .unknownColumn)
        #expect(error?.message == "unknown column \"Plates\"; did you mean \"Plate\"?")
    }

    @Test(arguments: [
        ("", "path template \"\" is empty"),
        ("/abs/{A}.tif", "path template \"/abs/{A}.tif\" is absolute; write it relative to the dataset root"),
        ("../{A}.tif", "path template \"../{A}.tif\" has an empty, \".\" or \"..\" path segment; images must lie below the dataset root"),
        ("a//{A}.tif", "path template \"a//{A}.tif\" has an empty, \".\" or \"..\" path segment; images must lie below the dataset root"),
        ("{A.tif", "path template \"{A.tif\" has a \"{\" that is never closed"),
        ("A}.tif", "path template \"A}.tif\" has a \"}\" without a matching \"{\""),
        ("{}.tif", "path template \"{}.tif\" has an empty or nested {}"),
    ])
    func invalidTemplates(template: String, message: String) {
        let error = #expect(throws: AVDBError.self) { try PathTemplate(template) }
        #expect(error?.code == .invalidTemplate)
        #expect(error?.message == message)
    }

    @Test func templateParts() throws {
        let t = try PathTemplate("data/images/{Plate}/{Plate}_{Well}.tif")
        #expect(t.variables == ["Plate", "Well"])
        #expect(t.fixedDirectory == "data/images")
        #expect(try PathTemplate("{Dataset Name}/{Image Name}").fixedDirectory == "")
        #expect(try PathTemplate("flat/{Image Name}").fixedDirectory == "flat")
    }

    @Test func templateFromImagePath() throws {
        let masks = try PathTemplate("stage1_train/{stem}/masks")
        #expect(try masks.path(forImage: "stage1_train/abc/images/abc.png") == "stage1_train/abc/masks")
        let sibling = try PathTemplate("{dir}/{stem}_mask.tif")
        #expect(try sibling.path(forImage: "plate1/img.ome.tif") == "plate1/img.ome_mask.tif")
        #expect(try sibling.path(forImage: "top.png") == "top_mask.tif")
        #expect(try PathTemplate("labels/{name}").path(forImage: "x/y.png") == "labels/y.png")
        let error = #expect(throws: AVDBError.self) { try PathTemplate("{Plate}.tif").path(forImage: "a.png") }
        #expect(error?.code == .invalidTemplate)
    }

    @Test func globListing() throws {
        let dir = try TemporaryDirectory()
        for path in ["s/b/images/b.png", "s/a/images/a.png", "s/a/images/a.tif", "s/a/masks/m1.png",
                     "s/.git/images/x.png", "s/c/images/sub/deeper.png", "s/d/images"] {
            try dir.write(path)
        }
        #expect(try ImageLister.list(root: dir.url, pattern: "s/*/images/*.png") == ["s/a/images/a.png", "s/b/images/b.png"])
        #expect(try ImageLister.list(root: dir.url, pattern: "s/?/images/a.*") == ["s/a/images/a.png", "s/a/images/a.tif"])
        #expect(try ImageLister.list(root: dir.url, pattern: "s/a/masks/m1.png") == ["s/a/masks/m1.png"])
        #expect(try ImageLister.list(root: dir.url, pattern: "s/*/nothing/*").isEmpty)
        #expect(try ImageLister.images(root: dir.url, under: "s/c") == ["s/c/images/sub/deeper.png"])
        #expect(try ImageLister.images(root: dir.url, under: "missing").isEmpty)
        for bad in ["/s/*.png", "s/../x", "s/**/x.png", ""] {
            let error = #expect(throws: AVDBError.self) { try ImageLister.list(root: dir.url, pattern: bad) }
            #expect(error?.code == .invalidPattern)
        }
    }
}

@Suite("Real data: listing", .enabled(if: SharedData.available, "needs ../shared/data"))
struct RealListingTests {
    @Test func dsbImagesAndMaskFolders() throws {
        let images = try ImageLister.list(root: SharedData.dsb, pattern: "stage1_train/*/images/*.png")
        #expect(images.count == 20)
        #expect(images.first == "stage1_train/00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552/images/00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552.png")
        let masks = try PathTemplate("stage1_train/{stem}/masks/*.png")
        let firstMasks = try ImageLister.list(root: SharedData.dsb, pattern: try masks.path(forImage: images[0]))
        #expect(firstMasks.count == 27)
        let all = try ImageLister.list(root: SharedData.dsb, pattern: "stage1_train/*/masks/*.png")
        #expect(all.count == 940)
    }

    @Test func idr0026RowsAgainstSyntheticFiles() throws {
        let table = try AnnotationTable(contentsOf: SharedData.idr("idr0026-weigelin-immunotherapy/idr0026-experimentA-annotation.csv"))
        let dir = try TemporaryDirectory()
        let names = try table.values(column: "Image Name")
        let datasets = try table.values(column: "Dataset Name")
        // Create every image but the last row's.
        for row in 0..<(table.rowCount - 1) { try dir.write("\(datasets[row])/\(names[row])") }
        let result = try ImageMatcher.match(table: table, keyColumns: ["Dataset Name", "Image Name"],
                                            template: try PathTemplate("{Dataset Name}/{Image Name}"), root: dir.url)
        #expect(result.matched.count == 226)
        #expect(result.missing.map(\.key)
            == ["Dataset Name=TreatStartDay7_CTL_anti-CD137_Day3PostTreat_mouse56, Image Name=Pos 03_all Ch_all TP_registered_cropped.tif"])
        // `.pattern` files are not image extensions, so only the TIFFs are listed; all are referenced.
        #expect(result.unreferenced.isEmpty)
    }
}

import BundleFormat
import Crypto
import Foundation
import ImageFormats
import Raster
import Testing
@testable import Export

@Suite struct ExportTests {
    /// Tiles must hold exactly the source pixels of their rectangle (mirrored past the edge),
    /// with the row's class, and the manifest must hash every input.
    @Test func exportedTilesAreTheSourcePixels() throws {
        let ws = try Workspace.plateDataset()
        let result = try ws.export()
        #expect(result.bundle == ws.url("out/tiny.h5"))
        #expect(BundleValidator.validate(result.bundle).isValid)

        let reader = try BundleReader(opening: result.bundle)
        let tiles = try reader.table(at: "/tiles")
        let sources = try reader.table(at: "/sources")
        guard case .string(let paths) = sources.columns.first(where: { $0.name == "path" })?.data,
              case .int32(let source) = tiles.columns.first(where: { $0.name == "source" })?.data,
              case .int64(let xs) = tiles.columns.first(where: { $0.name == "x" })?.data,
              case .int64(let ys) = tiles.columns.first(where: { $0.name == "y" })?.data,
              case .int32(let labels) = tiles.columns.first(where: { $0.name == "label" })?.data
        else {
            Issue.record("tile or source table lacks a column: \(tiles.columns.map(\.name)) \(sources.columns.map(\.name))")
            return
        }
        #expect(paths == ["images/P1/A01.tif", "images/P1/A02.tif"])
        // 64x48 with 32-pixel tiles at stride 24: x = 0, 24, 48 (the last reaches the edge), y = 0, 24.
        #expect(xs.count == 12)
        #expect(Array(xs.prefix(6)) == [0, 24, 48, 0, 24, 48] && Array(ys.prefix(6)) == [0, 0, 0, 24, 24, 24])
        #expect(labels == Array(repeating: 0, count: 6) + Array(repeating: 1, count: 6))

        for i in xs.indices {
            let image = try ImageReader.read(ws.url("data").appendingPathComponent(paths[Int(source[i])]))
            let tile = try reader.tileImage(i)
            guard case .uint16(let got) = tile.pixels, case .uint16(let src) = image.pixels else {
                Issue.record("tile \(i) is not uint16")
                continue
            }
            var expected: [UInt16] = []
            for y in 0..<32 {
                for x in 0..<32 {
                    expected.append(src[reflect(Int(ys[i]) + y, image.height) * image.width + reflect(Int(xs[i]) + x, image.width)])
                }
            }
            #expect(got == expected, "tile \(i) at (\(xs[i]), \(ys[i]))")
        }

        let manifest = try reader.manifest()
        for input in manifest.inputs {
            let data = try Data(contentsOf: ws.url("data").appendingPathComponent(input.path))
            #expect(input.sha256 == SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(), "\(input.path)")
            #expect(input.bytes == Int64(data.count))
        }
        #expect(Set(manifest.inputs.map(\.path)) == ["table.csv", "images/P1/A01.tif", "images/P1/A02.tif"])
        #expect(manifest.counts.perClass.map(\.tiles) == [6, 6])
        #expect(manifest.seed == 7)
        #expect(manifest.recipe.text == Workspace.recipe)
        #expect(try Data(contentsOf: result.sidecar) == manifest.jsonData())
    }

    /// numpy's `reflect`: mirror without repeating the edge pixel.
    private func reflect(_ i: Int, _ n: Int) -> Int {
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * (n - 1) - i }
        return i
    }

    @Test func sameInputsGiveTheSameContentHash() throws {
        let ws = try Workspace.plateDataset()
        let first = try ws.export(output: "out/a.h5")
        let second = try ws.export(output: "out/b.h5")
        #expect(first.manifest.contentHash.hasPrefix("sha256:"))
        #expect(first.manifest.contentHash == second.manifest.contentHash)

        // A changed pixel must change the hash.
        try ws.copy(fixture: "u16_tiled.tif", to: "data/images/P1/A02.tif")
        let third = try ws.export(output: "out/c.h5")
        #expect(third.manifest.contentHash != first.manifest.contentHash)
    }

    @Test func instanceAndSemanticMasksTravelWithTheirTiles() throws {
        let ws = try Workspace()
        try ws.copy(fixture: "u16_gray.tif", to: "data/img/a.tif")
        try ws.copy(fixture: "u8_gray.tif", to: "data/classes/a.tif")
        try ws.copy(fixture: "u8_gray.tif", to: "data/labels/a.tif")
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: masks, version: 1.0.0}
            inputs: {root: data, images: "img/*.tif"}
            labels:
              instance_masks: {file: "labels/{stem}.tif"}
              semantic_masks: {file: "classes/{stem}.tif"}
            tiling: {size: [40, 30], stride: [20, 15], edge: drop}
            output: {path: out/masks.h5}
            """)
        let result = try ws.export()
        let reader = try BundleReader(opening: result.bundle)
        let mask = try ImageReader.read(ws.url("data/classes/a.tif"))
        guard case .uint8(let src) = mask.pixels else { Issue.record("mask fixture is not uint8"); return }
        // drop: x = 0, 20 (40 would pass the edge), y = 0, 15 (30 would pass the edge).
        let origins = [(0, 0), (20, 0), (0, 15), (20, 15)]
        #expect(reader.tileCount == origins.count && reader.hasInstanceMasks && reader.hasSemanticMasks)
        for (i, (x0, y0)) in origins.enumerated() {
            var expected: [UInt32] = []
            for y in y0..<(y0 + 30) { for x in x0..<(x0 + 40) { expected.append(UInt32(src[y * mask.width + x])) } }
            #expect(try reader.semanticMask(i)?.values == expected, "semantic mask of tile \(i)")
            #expect(try reader.instanceMask(i)?.values == expected, "instance mask of tile \(i)")
        }
    }

    // MARK: Bad input: one line naming the file and row or field, and nothing at the output path.

    private func expectFailure(_ ws: Workspace, code: ExportError.Code, location: String, message: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = ws.failingExport() else {
            Issue.record("the export succeeded", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.location.hasSuffix(location), "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), "\(error)", sourceLocation: sourceLocation)
        #expect(ws.outputEntries().isEmpty, "left behind: \(ws.outputEntries())", sourceLocation: sourceLocation)
    }

    @Test func missingImageNamesTheRow() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("data/table.csv", Workspace.table + "P1,B07,round,third\n")
        expectFailure(ws, code: .mismatch, location: "data/table.csv", message: "line 4: Plate=P1, Well=B07 → images/P1/B07.tif (not found)")
    }

    @Test func imageWithoutRowIsNamed() throws {
        let ws = try Workspace.plateDataset()
        try ws.copy(fixture: "u16_gray.tif", to: "data/images/P2/C03.tif")
        expectFailure(ws, code: .mismatch, location: "data/table.csv", message: "images have no row (images_without_row: error): images/P2/C03.tif")
    }

    @Test func missingImageCanBeReportedInstead() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("data/table.csv", Workspace.table + "P1,B07,round,third\n")
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "rows_without_image: error",
                                                                           with: "rows_without_image: report"))
        let result = try ws.export()
        #expect(result.manifest.matching?.rowsWithoutImage.count == 1)
        #expect(result.manifest.matching?.rowsWithoutImage.first?.contains("B07") == true)
    }

    @Test(arguments: [("bad_truncated.tif", "damaged TIFF"), ("bad_corrupt_lzw.tif", "damaged TIFF"),
                      ("bad_random.bin", "not a TIFF, PNG or JPEG file")])
    func corruptTIFFNamesTheFile(fixture: String, message: String) throws {
        let ws = try Workspace.plateDataset()
        try ws.copy(fixture: fixture, to: "data/images/P1/A02.tif")
        expectFailure(ws, code: .input, location: "/data/images/P1/A02.tif", message: message)
    }

    @Test func truncatedPNGNamesTheFile() throws {
        let ws = try Workspace()
        try ws.copy(fixture: "rgb8.png", to: "data/a.png")
        try ws.copy(fixture: "bad_truncated.png", to: "data/b.png")
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: png, version: 1.0.0}
            inputs: {root: data, images: "*.png"}
            tiling: {size: 16}
            output: {path: out/png.h5}
            """)
        expectFailure(ws, code: .input, location: "/data/b.png", message: "damaged or truncated PNG")
    }

    @Test func unknownColumnSuggestsTheNearestOne() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "column: Phenotype", with: "column: Phenotyp"))
        expectFailure(ws, code: .mismatch, location: "/data/table.csv",
                      message: "labels.image_class.column: unknown column \"Phenotyp\"; did you mean \"Phenotype\"?")
    }

    @Test func unknownKeyColumnIsNamed() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "keys: [Plate, Well]", with: "keys: [Plate, Wel]"))
        expectFailure(ws, code: .mismatch, location: "/data/table.csv", message: "unknown column \"Wel\"; did you mean \"Well\"?")
    }

    @Test func malformedCSVRowNamesTheLine() throws {
        let ws = try Workspace.plateDataset()
        // Line 3 has one field too many.
        try ws.write("data/table.csv", "Plate,Well,Phenotype,Comment\nP1,A01,round,x\nP1,A02,elongated,y,extra\n")
        expectFailure(ws, code: .input, location: "/data/table.csv:3", message: "row has 5 fields, header has 4")
    }

    @Test func unterminatedQuoteNamesTheLine() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("data/table.csv", "Plate,Well,Phenotype,Comment\nP1,A01,round,\"never closed\nP1,A02,elongated,y\n")
        expectFailure(ws, code: .input, location: "/data/table.csv:2", message: "quoted field opened here is never closed")
    }

    @Test func recipeWithAWrongTypeNamesTheField() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "size: 32", with: "size: [32, wide]"))
        expectFailure(ws, code: .recipe, location: "/recipe.yaml:17", message: "tiling.size[1]: expected an integer, got 'wide'")
    }

    @Test func valueOutsideTheClassListNamesTheRow() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("data/table.csv", Workspace.table.replacingOccurrences(of: "elongated", with: "elongate"))
        expectFailure(ws, code: .mismatch, location: "/data/table.csv", message: "data/table.csv:3); add them to the class list")
    }

    @Test func existingBundleIsKeptUnlessOverwriteIsGiven() throws {
        let ws = try Workspace.plateDataset()
        let first = try ws.export()
        let before = try Data(contentsOf: first.bundle)
        expectFailureKeeping(ws, bundle: first.bundle)
        #expect(try Data(contentsOf: first.bundle) == before)
        _ = try ws.export(overwrite: true)
        #expect(ws.outputEntries() == Workspace.published("tiny.h5"))
    }

    private func expectFailureKeeping(_ ws: Workspace, bundle: URL) {
        guard let error = ws.failingExport() else { Issue.record("overwrote without --overwrite"); return }
        #expect(error.code == .output && error.message.contains("--overwrite"), "\(error)")
        #expect(ws.outputEntries() == Workspace.published("tiny.h5"))
    }
}

/// Class labels through a label schema: the schema's ids, synonyms and ontology terms.
@Suite struct SchemaExportTests {
    static let schema = """
        {
          "format": "trainset-label-schema/1",
          "name": "cell-shape",
          "version": "1.0.0",
          "kinds": ["image_class"],
          "classes": [
            {"id": 7, "name": "circular", "colour": "#1F77B4", "synonyms": ["round"], "terms": ["PATO:0000411"]},
            {"id": 3, "name": "elongated", "colour": "#D62728", "terms": ["PATO:0001154"]}
          ]
        }

        """

    @Test func schemaIdsSynonymsAndTermsReachTheBundle() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("data/shapes.json", Self.schema)
        // The second row's value is unknown to the schema, but its accession names a class term.
        try ws.write("data/table.csv", """
            Plate,Well,Phenotype,Phenotype Term Accession
            P1,A01,round,
            P1,A02,stretched,PATO_0001154

            """)
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(
            of: "    classes: [round, elongated]",
            with: "    schema: shapes.json\n    term_column: Phenotype Term Accession"))
        let result = try ws.export()
        let reader = try BundleReader(opening: result.bundle)
        let classes = try reader.table(at: "/classes")
        #expect(classes["id"] == .int32([3, 7]))
        #expect(classes["name"] == .string(["elongated", "circular"]))
        #expect(classes["colour"] == .string(["#D62728", "#1F77B4"]))
        #expect(classes["terms"] == .string(["PATO:0001154", "PATO:0000411"]))
        #expect(try reader.table(at: "/sources")["label"] == .int32([7, 3]))
        #expect(result.manifest.counts.perClass.map(\.id) == [3, 7])
        #expect(result.manifest.labelSchema?.text == Self.schema)
        #expect(result.manifest.labelSchema?.version == "1.0.0")
        let rules = result.manifest.labelMapping?.entries.map { "\($0.value)→\($0.className ?? "-") \($0.rule.map { "\($0)" } ?? "-")" }
        #expect(rules?.count == 2, "\(rules ?? [])")
        #expect(BundleValidator.validate(result.bundle).isValid)
    }

    @Test func brokenSchemaIsNamedWithItsPath() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("data/shapes.json", Self.schema.replacingOccurrences(of: "\"id\": 3", with: "\"id\": 7"))
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "    classes: [round, elongated]",
                                                                           with: "    schema: shapes.json"))
        guard let error = ws.failingExport() else { Issue.record("accepted a schema with a repeated id"); return }
        #expect(error.location.hasSuffix("data/shapes.json"), "\(error)")
        #expect(error.message.contains("classes[1]"), "\(error)")
        #expect(ws.outputEntries().isEmpty)
    }
}

import BundleFormat
import Foundation
import ImageFormats
import Testing
@testable import Export

/// `verify` and `diff`: what a reviewer runs on a published bundle.
@Suite struct ReviewTests {
    @Test func verifyReproducesAnUntouchedBundle() throws {
        let ws = try Workspace.plateDataset()
        let result = try ws.export()
        let report = try Verifier.verify(bundle: result.bundle, inputs: ws.url("data"))
        #expect(report.passed, "\(report)")
        #expect(report.inputsChecked == 3)
        #expect(report.reproducedContentHash == result.manifest.contentHash)
        #expect(ws.outputEntries() == Workspace.published("tiny.h5"))
    }

    /// One changed input must be named, and exactly the tiles that cover it.
    @Test func verifyNamesAChangedInputAndItsTiles() throws {
        let ws = try Workspace.plateDataset()
        let result = try ws.export()
        // Same 64x48 size, different pixels.
        try ws.copy(fixture: "u16_tiled.tif", to: "data/images/P1/A02.tif")
        let report = try Verifier.verify(bundle: result.bundle, inputs: ws.url("data"))
        #expect(!report.passed)
        #expect(report.inputProblems.map(\.path) == ["images/P1/A02.tif"])
        #expect(report.inputProblems.first?.actualSHA256 != nil)
        // u16_tiled.tif is 50x40, so A02 now has a different tile grid: position differences.
        #expect(report.reexportError == nil, "\(report.reexportError ?? "")")
        #expect(report.differingTiles.allSatisfy { $0.source == "images/P1/A02.tif" })
        #expect(!report.differingTiles.isEmpty)
        #expect(report.differingDatasets.contains("/images"))
    }

    @Test func verifyReportsAMissingInput() throws {
        let ws = try Workspace.plateDataset()
        let result = try ws.export()
        try FileManager.default.removeItem(at: ws.url("data/images/P1/A01.tif"))
        let report = try Verifier.verify(bundle: result.bundle, inputs: ws.url("data"))
        #expect(!report.passed)
        #expect(report.inputProblems == [.init(path: "images/P1/A01.tif",
                                               expectedSHA256: result.manifest.inputs.first { $0.path == "images/P1/A01.tif" }!.sha256,
                                               actualSHA256: nil)])
        #expect(report.reexportError?.contains("images/P1/A01.tif") == true, "\(report.reexportError ?? "")")
    }

    /// Version 1.1.0 adds one well: the diff shows that image, its six tiles, the table change,
    /// the class count and the version field, and nothing else.
    @Test func diffShowsExactlyTheAddedImageAndItsTiles() throws {
        let ws = try Workspace.plateDataset()
        let old = try ws.export(output: "out/v1.0.h5")
        try ws.write("data/table.csv", Workspace.table + "P1,A03,round,third\n")
        try ws.copy(fixture: "u16_bigendian.tif", to: "data/images/P1/A03.tif")
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "version: 0.1.0", with: "version: 0.2.0"))
        let new = try ws.export(output: "out/v1.1.h5")

        let diff = try BundleDiff.compare(old.bundle, new.bundle)
        #expect(!diff.sameContent)
        #expect(diff.datasetVersions == ["0.1.0", "0.2.0"])
        #expect(diff.tileCounts == [12, 18])
        #expect(diff.inputs.map(\.path) == ["images/P1/A03.tif", "table.csv"])
        #expect(diff.inputs.map(\.change) == [.added, .changed])
        #expect(diff.sources.count == 1)
        let added = try #require(diff.sources.first)
        #expect(added.path == "images/P1/A03.tif" && added.change == .added)
        #expect(added.tilesA == 0 && added.tilesB == 6)
        #expect(added.tileOrigins == [[0, 0], [24, 0], [48, 0], [0, 24], [24, 24], [48, 24]])
        #expect(diff.classes == [.init(name: "round", tilesA: 6, tilesB: 12)])
        #expect(diff.recipe == [.init(key: "dataset.version", a: "0.1.0", b: "0.2.0")])
    }

    @Test func diffOfABundleWithItselfIsEmpty() throws {
        let ws = try Workspace.plateDataset()
        let a = try ws.export(output: "out/a.h5")
        let b = try ws.export(output: "out/b.h5")
        let diff = try BundleDiff.compare(a.bundle, b.bundle)
        #expect(diff.sameContent)
        #expect(diff.inputs.isEmpty && diff.sources.isEmpty && diff.classes.isEmpty && diff.recipe.isEmpty)
    }

    @Test func recipeFieldsIgnoreFormattingAndOrder() {
        let a = "tiling: {size: 32, stride: 24}\ndataset: {name: x, version: 1.0.0}\n"
        let b = "# comment\ndataset:\n  version: 1.0.0\n  name: x\ntiling:\n  stride: 24\n  size: 32\n"
        #expect(BundleDiff.recipeChanges(a, b).isEmpty)
        #expect(BundleDiff.recipeChanges(a, b.replacingOccurrences(of: "stride: 24", with: "stride: 16"))
                == [.init(key: "tiling.stride", a: "24", b: "16")])
    }

    /// The sidecars are published with the bundle, hash the published bytes, and carry the
    /// study's citation but none of its contact details.
    @Test func croissantAndDatasheetArePublishedWithTheBundle() throws {
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../samples/idr0035-moa").standardizedFileURL
        let ws = try Workspace()
        let result = try Exporter.run(Planner.plan(recipeAt: samples.appendingPathComponent("recipe.yaml"),
                                                   output: ws.url("out/moa.h5").path))
        #expect(ws.outputEntries() == ["moa.h5", "moa.h5.croissant.json", "moa.h5.datasheet.md",
                                       "moa.h5.manifest.json", "moa.h5.tiles.csv"])
        let croissant = try JSONSerialization.jsonObject(with: Data(contentsOf: ws.url("out/moa.h5.croissant.json"))) as? [String: Any]
        let files = croissant?["distribution"] as? [[String: Any]]
        let bundleBytes = try Data(contentsOf: result.bundle)
        #expect(files?.first?["sha256"] as? String == FileDigest.of(data: bundleBytes))
        #expect(files?.first?["contentUrl"] as? String == "moa.h5")
        #expect(croissant?["version"] as? String == "1.0.0")
        #expect(croissant?["datePublished"] as? String == "2026-11-25")
        #expect((croissant?["citeAs"] as? String)?.contains("10.1158/1535-7163.MCT-09-1148") == true)
        let csv = try String(contentsOf: ws.url("out/moa.h5.tiles.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + result.manifest.counts.tiles)
        #expect(csv.hasPrefix("tile,source,x,y,width,height,label,class\n0,images/Week1_22123/B3.tif,0,0,64,64,0,Actin disruptors\n"))

        let datasheet = try String(contentsOf: ws.url("out/moa.h5.datasheet.md"), encoding: .utf8)
        #expect(datasheet.contains("| 0 | Actin disruptors | 36 | 3 |"))
        #expect(datasheet.contains(result.manifest.contentHash))
        for text in [datasheet, String(decoding: try Data(contentsOf: result.sidecar), as: UTF8.self)] {
            #expect(!text.contains("@ed.ac.uk"), "a study contact e-mail leaked")
            #expect(!text.contains("Institute of Genetics"), "a study postal address leaked")
        }
        // The study file lists six publications with parallel title/author/DOI columns.
        #expect(result.manifest.study?.publications.count == 6)
        #expect(result.manifest.study?.publications.last?.doi == "https://doi.org/10.1038/nmeth.4397")
    }
}

/// Dataset versions and lineage: the bump a change needs, and the declared parent.
@Suite struct LineageTests {
    @Test func addingAnImageNeedsAMinorBumpAndTheParentHash() throws {
        let ws = try Workspace.plateDataset()
        let old = try ws.export(output: "out/v0.1.h5")
        try ws.write("data/table.csv", Workspace.table + "P1,A03,round,third\n")
        try ws.copy(fixture: "u16_bigendian.tif", to: "data/images/P1/A03.tif")

        // A patch bump and no parent: both are named.
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "version: 0.1.0", with: "version: 0.1.1"))
        let patch = try Lineage.check(child: ws.export(output: "out/patch.h5").bundle, parent: old.bundle)
        #expect(patch.added == 6 && patch.removed == 0 && patch.changed == 0 && patch.moved == 0)
        #expect(patch.requiredBump == .minor && patch.minimumVersion == "0.2.0")
        #expect(patch.problems.count == 2, "\(patch.problems)")

        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(
            of: "version: 0.1.0", with: "version: 0.2.0, parent: \"\(old.manifest.contentHash)\""))
        let minor = try Lineage.check(child: ws.export(output: "out/minor.h5").bundle, parent: old.bundle)
        #expect(minor.passed, "\(minor.problems)")
    }

    @Test func changedPixelsNeedAMajorBump() throws {
        let ws = try Workspace.plateDataset()
        let old = try ws.export(output: "out/v0.1.h5")
        // Another uint16 image, 50x40: four tiles keep their origin with new pixels, two disappear.
        try ws.copy(fixture: "u16_tiled.tif", to: "data/images/P1/A02.tif")
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(
            of: "version: 0.1.0", with: "version: 0.2.0, parent: \"\(old.manifest.contentHash)\""))
        let report = try Lineage.check(child: ws.export(output: "out/new.h5").bundle, parent: old.bundle)
        #expect(report.changed == 4 && report.removed == 2 && report.added == 0)
        #expect(report.requiredBump == .major)
        #expect(report.problems == ["version 0.2.0 does not follow 0.1.0 for these changes: a major bump is needed (at least 1.0.0)"])
    }
}

@Suite struct ReportTests {
    /// The page embeds one thumbnail per shown tile, and each is a PNG that libpng decodes to the
    /// tile's own stretched pixels.
    @Test func thumbnailsArePNGsOfTheTiles() throws {
        let ws = try Workspace.plateDataset()
        let result = try ws.export()
        let html = try Report.html(bundle: result.bundle, perClass: 3)
        let images = html.components(separatedBy: "src=\"data:image/png;base64,").dropFirst()
        #expect(images.count == 6, "3 per class, 2 classes")
        #expect(html.contains("<td>round</td><td class=n>6</td><td class=n>6</td>"))
        let first = try #require(images.first?.components(separatedBy: "\"").first)
        let png = ws.url("thumb.png")
        try Data(base64Encoded: first)!.write(to: png)
        let decoded = try ImageReader.read(png)
        let tile = try BundleReader(opening: result.bundle).tileImage(0)
        #expect(decoded.width == 32 && decoded.height == 32 && decoded.channels == 3)
        // A grey tile: all three channels equal, and brighter source pixels never get darker.
        guard case .uint8(let rgb) = decoded.pixels, case .uint16(let src) = tile.pixels else {
            Issue.record("unexpected pixel types")
            return
        }
        let plane = 32 * 32
        #expect((0..<plane).allSatisfy { rgb[$0] == rgb[plane + $0] && rgb[$0] == rgb[2 * plane + $0] })
        let order = (0..<plane).sorted { src[$0] < src[$1] }
        #expect(zip(order, order.dropFirst()).allSatisfy { rgb[$0.0] <= rgb[$0.1] })
    }

    @Test func spreadPicksEvenlyIncludingBothEnds() {
        #expect(Report.spread(Array(0..<10), count: 4) == [0, 3, 6, 9])
        #expect(Report.spread([5, 6], count: 4) == [5, 6])
        #expect(Report.escape("<a&\"b>") == "&lt;a&amp;&quot;b&gt;")
    }
}

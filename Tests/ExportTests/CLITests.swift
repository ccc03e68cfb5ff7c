import Foundation
import Testing

/// The CLI end to end: export, validate, inspect, verify and diff on a workspace dataset.
@Suite struct CLITests: CLIRunning {
    @Test func exportPrintsTheBundlePathThenValidateAndInspectRead() throws {
        let ws = try Workspace.plateDataset()
        let export = try run(["export", "recipe.yaml"], in: ws.root)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout == ws.url("out/tiny.h5").path + "\n")
        #expect(export.stderr.contains("[2/2] images/P1/A02.tif: 6 tiles"))

        let validate = try run(["validate", "out/tiny.h5"], in: ws.root)
        #expect(validate.status == 0)
        #expect(validate.stdout.contains("valid"))

        let inspect = try run(["inspect", "out/tiny.h5", "--json"], in: ws.root)
        #expect(inspect.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        let counts = (json?["manifest"] as? [String: Any])?["counts"] as? [String: Any]
        #expect(counts?["tiles"] as? Int == 12)
    }

    /// Each bad input: exit status 1, one error line on stderr (the last; progress lines may
    /// precede it) naming the file, relative to the working directory, and the row or field;
    /// nothing on stdout, nothing in out/.
    @Test(arguments: [
        ("data/images/P1/A02.tif", "truncated", "error: data/images/P1/A02.tif: damaged TIFF"),
        ("data/table.csv", "missing row image", "error: data/table.csv: 1 rows have no image"),
        ("data/table.csv", "malformed row", "error: data/table.csv:3: row has 5 fields, header has 4"),
        ("recipe.yaml", "wrong type", "error: recipe.yaml:17: tiling.size: expected an integer, got 'big'"),
        ("recipe.yaml", "unknown column", "error: data/table.csv: labels.image_class.column: unknown column \"Phenotyp\""),
    ])
    func badInputIsOneLineAndNoBundle(file: String, breakage: String, expected: String) throws {
        let ws = try Workspace.plateDataset()
        switch breakage {
        case "truncated": try ws.copy(fixture: "bad_truncated.tif", to: file)
        case "missing row image": try ws.write(file, Workspace.table + "P1,B07,round,third\n")
        case "malformed row": try ws.write(file, "Plate,Well,Phenotype,Comment\nP1,A01,round,x\nP1,A02,elongated,y,extra\n")
        case "wrong type": try ws.write(file, Workspace.recipe.replacingOccurrences(of: "size: 32", with: "size: big"))
        default: try ws.write(file, Workspace.recipe.replacingOccurrences(of: "column: Phenotype", with: "column: Phenotyp"))
        }
        let result = try run(["export", "recipe.yaml"], in: ws.root)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.filter { $0.hasPrefix("error:") }.count == 1, "\(result.stderr)")
        #expect(lines.last.map { $0.hasPrefix(expected) } == true, "\(result.stderr)")
        #expect(ws.outputEntries().isEmpty)
    }

    @Test func missingRecipeAndNonBundleAreOneLineErrors() throws {
        let ws = try Workspace()
        let export = try run(["export", "nope.yaml"], in: ws.root)
        #expect(export.status == 1)
        #expect(export.stderr == "error: nope.yaml: recipe file not found\n")

        try ws.write("fake.h5", "not hdf5")
        let validate = try run(["validate", "fake.h5"], in: ws.root)
        #expect(validate.status == 1)
        #expect(validate.stderr.hasPrefix("fake.h5: cannot open the file: not an HDF5 file"), "\(validate.stderr)")
        #expect(validate.stderr.hasSuffix("\nfake.h5: INVALID (1 problem)\n"), "\(validate.stderr)")
        let inspect = try run(["inspect", "fake.h5"], in: ws.root)
        #expect(inspect.status == 1)
        #expect(inspect.stderr.hasPrefix("error: fake.h5: not an HDF5 file"), "\(inspect.stderr)")
        #expect(inspect.stderr.split(separator: "\n").count == 1, "\(inspect.stderr)")
    }

    /// diff follows diff(1): 0 same content, 1 different, 2 error; verify: 0 reproduced, 1 not.
    @Test func verifyAndDiffExitStatuses() throws {
        let ws = try Workspace.plateDataset()
        #expect(try run(["export", "recipe.yaml", "-q", "--output", "out/a.h5"], in: ws.root).status == 0)
        #expect(try run(["export", "recipe.yaml", "-q", "--output", "out/b.h5"], in: ws.root).status == 0)
        let verify = try run(["verify", "out/a.h5", "--inputs", "data"], in: ws.root)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasSuffix("out/a.h5: VERIFIED (reproduced exactly from its recipe and inputs)\n"))
        let same = try run(["diff", "out/a.h5", "out/b.h5"], in: ws.root)
        #expect(same.status == 0 && same.stdout.contains("same content sha256:"))

        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "stride: 24", with: "stride: 16"))
        #expect(try run(["export", "recipe.yaml", "-q", "--output", "out/c.h5"], in: ws.root).status == 0)
        let different = try run(["diff", "out/a.h5", "out/c.h5", "--json"], in: ws.root)
        #expect(different.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(different.stdout.utf8)) as? [String: Any]
        let recipe = json?["recipe"] as? [[String: Any]]
        #expect(recipe?.first?["key"] as? String == "tiling.stride")
        #expect(try run(["diff", "out/a.h5", "out/missing.h5"], in: ws.root).status == 2)

        try FileManager.default.removeItem(at: ws.url("data/images/P1/A02.tif"))
        let broken = try run(["verify", "out/a.h5", "--inputs", "data"], in: ws.root)
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("missing images/P1/A02.tif"), "\(broken.stdout)")
    }

    @Test func helpTeachesTheCommands() throws {
        let ws = try Workspace()
        let help = try run(["--help"], in: ws.root)
        #expect(help.status == 0)
        for command in ["export", "validate", "inspect", "verify", "diff"] { #expect(help.stdout.contains(command)) }
        let exportHelp = try run(["export", "--help"], in: ws.root)
        #expect(exportHelp.stdout.contains("--output"))
        #expect(exportHelp.stdout.contains("--overwrite"))
        for option in ["--workers", "--progress", "--quiet", "tiles_per_s", "eta_s"] {
            #expect(exportHelp.stdout.contains(option), "export --help does not mention \(option)")
        }
    }

    /// `--progress json`: every line on standard error is one JSON object naming its event,
    /// from `planned` to `done`, with the rows written counting up to the total.
    @Test func jsonProgressIsOneEventPerLine() throws {
        let ws = try Workspace.plateDataset()
        let export = try run(["export", "recipe.yaml", "--progress", "json", "--workers", "2"], in: ws.root)
        #expect(export.status == 0, "\(export.stderr)")
        let events = try export.stderr.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        let names = events.compactMap { $0["event"] as? String }
        #expect(names.count == events.count)
        #expect(names.first == "planned" && names.last == "done")
        #expect(names.filter { $0 == "source_done" }.count == 2)
        #expect(names.contains("validating") && names.contains("published"))
        let written = events.filter { $0["event"] as? String == "progress" }.compactMap { $0["tiles"] as? Int }
        #expect(written.last == 12 && written == written.sorted())
        #expect(events.last?["content_hash"] as? String != nil)

        let failed = try run(["export", "recipe.yaml", "--progress", "json"], in: ws.root)
        #expect(failed.status == 1)
        let last = try JSONSerialization.jsonObject(with: Data(failed.stderr.split(separator: "\n").last!.utf8)) as? [String: Any]
        #expect(last?["event"] as? String == "error")
        #expect((last?["message"] as? String)?.contains("--overwrite") == true, "\(failed.stderr)")
    }

    @Test func zeroWorkersIsRefused() throws {
        let ws = try Workspace.plateDataset()
        let export = try run(["export", "recipe.yaml", "--workers", "0"], in: ws.root)
        #expect(export.status != 0)
        #expect(export.stderr.contains("--workers must be at least 1"), "\(export.stderr)")
        #expect(ws.outputEntries().isEmpty)
    }
}

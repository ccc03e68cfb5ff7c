import Export
import Foundation
import Testing

/// `trainset schema validate|init|diff` and `trainset labels report`, run as the built binary on
/// the kept schema fixtures and the idr0035 sample.
@Suite struct SchemaCLITests: CLIRunning {
    /// The repository checkout this file belongs to (Tests/ExportTests/ → two levels up).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL
    static let keptV1 = "Tests/Fixtures/label-schema/kept-v1.json"
    static let keptV1Renamed = "Tests/Fixtures/label-schema/kept-v1-renamed.json"
    static let moaRecipe = repository.appendingPathComponent("samples/idr0035-moa/recipe.yaml")
    static let moaColumn = "Compound MOA (from Ljosa et al, 2013)"

    static func jsonObject(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Each command's help has an example whose input files exist in the repository.
    @Test(arguments: [["schema", "validate"], ["schema", "init"], ["schema", "diff"], ["labels", "report"], ["schema"]])
    func helpShowsAnExampleOnRealFiles(command: [String]) throws {
        let help = try run(command + ["--help"], in: Self.repository)
        #expect(help.status == 0)
        let example = try #require(help.stdout.components(separatedBy: "Example").dropFirst().first?
            .components(separatedBy: "USAGE:").first)
        #expect(example.contains("trainset \(command.joined(separator: " ")) "), "\(help.stdout)")
        let words = example.split(whereSeparator: \.isWhitespace).map(String.init)
        let inputs = words.indices.filter { i in
            (words[i].hasSuffix(".json") || words[i].hasSuffix(".yaml")) && i > 0 && words[i - 1] != "-o"
        }
        #expect(!inputs.isEmpty)
        for i in inputs {
            #expect(FileManager.default.fileExists(atPath: Self.repository.appendingPathComponent(words[i]).path), "\(words[i])")
        }
    }

    @Test func validateSummarizesTheKeptV1Fixture() throws {
        let text = try run(["schema", "validate", Self.keptV1], in: Self.repository)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stderr.isEmpty)
        let lines = text.stdout.split(separator: "\n").map { String($0) }
        #expect(lines.first == "\(Self.keptV1): valid")
        #expect(lines.contains("  schema     blood-smear-cells 1.2.0"))
        #expect(lines.contains("  matching   normalized; unknown values: map to 'other'"))
        #expect(lines.contains("  mappings   4"))
        // Colour upper-cased, the leukocyte's IRI shown as its CURIE.
        #expect(lines.contains { $0.contains(" 1  blood cell ") && $0.hasSuffix("#7F7F7F  terms CL:0000081") }, "\(text.stdout)")
        #expect(lines.contains {
            $0.contains(" 2  erythrocyte ")
                && $0.hasSuffix("#D62728  parent 'blood cell'  terms CL:0000232  synonyms \"RBC\", \"red blood cell\"")
        }, "\(text.stdout)")
        #expect(lines.contains { $0.contains(" 3  leukocyte ") && $0.contains("terms CL:0000738") }, "\(text.stdout)")

        // The JSON summary against the fixture file read independently.
        let json = try run(["schema", "validate", Self.keptV1, "--json"], in: Self.repository)
        #expect(json.status == 0)
        let summary = try Self.jsonObject(json.stdout)
        let fixture = try Self.jsonObject(String(decoding: try Data(contentsOf: Self.repository.appendingPathComponent(Self.keptV1)),
                                                 as: UTF8.self))
        let fileClasses = try #require(fixture["classes"] as? [[String: Any]])
        let shownClasses = try #require(summary["classes"] as? [[String: Any]])
        #expect(shownClasses.map { $0["id"] as? Int } == fileClasses.map { $0["id"] as? Int })
        #expect(shownClasses.map { $0["name"] as? String } == fileClasses.map { $0["name"] as? String })
        #expect(shownClasses.map { $0["parent"] as? String } == fileClasses.map { $0["parent"] as? String })
        #expect(shownClasses.map { ($0["colour"] as? String) ?? "" } == fileClasses.map { (($0["colour"] as? String) ?? "").uppercased() })
        #expect(shownClasses.map { $0["synonyms"] as? [String] ?? [] } == fileClasses.map { $0["synonyms"] as? [String] ?? [] })
        #expect(summary["kinds"] as? [String] == fixture["kinds"] as? [String])
        #expect(summary["mappings"] as? Int == (fixture["mappings"] as? [Any])?.count)
        #expect(summary["version"] as? String == "1.2.0")
        #expect(summary["valid"] as? Bool == true)
    }

    /// A broken schema: exit 1, nothing on stdout, one line naming the file and the JSON path.
    @Test(arguments: [
        ("\"parent\": \"blood cell\", \"terms\": [\"CL:0000233", "\"parent\": \"blood cels\", \"terms\": [\"CL:0000233", "classes[4].parent"),
        ("\"colour\": \"#D62728\"", "\"colour\": \"red\"", "classes[2].colour"),
        ("\"version\": \"1.2.0\"", "\"version\": \"1.2\"", "version"),
        ("\"class\": \"platelet\"}", "\"class\": \"thrombocytes\"}", "mappings[1].class"),
    ])
    func validateNamesTheBrokenPath(original: String, broken: String, path: String) throws {
        let ws = try Workspace()
        let text = String(decoding: try Data(contentsOf: Self.repository.appendingPathComponent(Self.keptV1)), as: UTF8.self)
        #expect(text.components(separatedBy: original).count == 2, "the breakage must hit one place")
        try ws.write("broken.json", text.replacingOccurrences(of: original, with: broken))
        let result = try run(["schema", "validate", "broken.json"], in: ws.root)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: broken.json: \(path): "), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")

        let json = try run(["schema", "validate", "broken.json", "--json"], in: ws.root)
        #expect(json.status == 1)
        let error = try Self.jsonObject(json.stdout)["error"] as? [String: Any]
        #expect(error?["path"] as? String == path)
    }

    @Test func initDraftsTheTwelveMoAClassesFromTheIdr0035Table() throws {
        let ws = try Workspace()
        let first = try run(["schema", "init", "--from", Self.moaRecipe.path, "-o", "moa.json"], in: ws.root)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.isEmpty)
        // 3300 rows, 2668 of them without a MoA (counted with Python's csv module).
        #expect(first.stderr.contains("12 classes from 12 distinct values"), "\(first.stderr)")
        #expect(first.stderr.contains("(3300 rows, 2668 empty)"), "\(first.stderr)")

        let validate = try run(["schema", "validate", "moa.json", "--json"], in: ws.root)
        #expect(validate.status == 0, "\(validate.stderr)")
        let summary = try Self.jsonObject(validate.stdout)
        let classes = try #require(summary["classes"] as? [[String: Any]])
        // The recipe's hand-written class list is the independent truth for the table's values.
        let curated = try #require(try Recipe.load(Self.moaRecipe).recipe.labels.imageClass?.classes)
        #expect(curated.count == 12)
        #expect(classes.compactMap { $0["name"] as? String } == curated.sorted())
        #expect(classes.compactMap { $0["id"] as? Int } == Array(1...12))
        #expect(summary["name"] as? String == "idr0035-moa-sample")
        #expect(summary["version"] as? String == "0.1.0")
        #expect(summary["kinds"] as? [String] == ["image_class"])

        // Never overwrites without --overwrite.
        try ws.write("moa.json", "keep me")
        let again = try run(["schema", "init", "--from", Self.moaRecipe.path, "-o", "moa.json"], in: ws.root)
        #expect(again.status == 1)
        #expect(again.stderr == "error: moa.json: already exists; pass --overwrite to replace it\n")
        #expect(try String(contentsOf: ws.url("moa.json"), encoding: .utf8) == "keep me")
        let forced = try run(["schema", "init", "--from", Self.moaRecipe.path, "-o", "moa.json", "--overwrite"], in: ws.root)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try run(["schema", "validate", "moa.json"], in: ws.root).status == 0)
    }

    /// idr0025's real annotation table and study file; nil (test disabled with a message) when a
    /// checkout has no shared data.
    static let idr0025 = Workspace.sharedData("idr-annotation-csv/idr0025-stadler-proteinatlas")

    /// A real IDR phenotype column: its CMPO accession (resolved through the study's Term Source
    /// rows) becomes the drafted class's term. idr0025's `Phenotype 1` is filled in 6 of 288 rows,
    /// all "antibody localized in actin filaments" / CMPO_0000440 (counted with Python's csv module).
    @Test(.enabled(if: idr0025 != nil, "../shared/data/idr-annotation-csv/idr0025-stadler-proteinatlas not found"))
    func initTakesTermsFromIDRAccessions() throws {
        let ws = try Workspace()
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: idr0025-phenotype-1, version: 0.1.0}
            seed: 1
            inputs:
              root: \(try #require(Self.idr0025).path)
              study_file: idr0025-study.txt
              annotations:
                file: idr0025-screenA-annotation.csv
                keys: [Plate, Well]
                image_path: "images/{Plate}/{Well}.tif"
            labels:
              image_class:
                column: Phenotype 1
                classes: [placeholder]
            tiling: {size: 64}
            output: {path: out/x.h5}

            """)
        let result = try run(["schema", "init", "--from", "recipe.yaml", "-o", "draft.json"], in: ws.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("(288 rows, 282 empty)"), "\(result.stderr)")
        let summary = try Self.jsonObject(try run(["schema", "validate", "draft.json", "--json"], in: ws.root).stdout)
        let classes = try #require(summary["classes"] as? [[String: Any]])
        #expect(classes.count == 1)
        #expect(classes.first?["name"] as? String == "antibody localized in actin filaments")
        #expect(classes.first?["terms"] as? [String] == ["CMPO:0000440"])
    }

    @Test func initWithAnUnknownColumnIsOneLineError() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("recipe.yaml", Workspace.recipe.replacingOccurrences(of: "column: Phenotype", with: "column: Comments"))
        let result = try run(["schema", "init", "--from", "recipe.yaml"], in: ws.root)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: data/table.csv: unknown column \"Comments\""), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func diffNamesTheRenameAndTheMajorVersionItNeeds() throws {
        let result = try run(["schema", "diff", Self.keptV1, Self.keptV1Renamed], in: Self.repository)
        #expect(result.status == 1, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { String($0) }
        #expect(lines.contains("  major  class renamed: 'erythrocyte' → 'red blood cell' (id 2)"), "\(result.stdout)")
        #expect(lines.contains("  minor  class added: 'smudge cell' (id 6)"), "\(result.stdout)")
        #expect(lines.contains("  patch  colour changed: 'leukocyte': #1F77B4 → #0000FF"), "\(result.stdout)")
        #expect(lines.contains("required bump: major (1.2.0 → at least 2.0.0)"))
        #expect(lines.last?.contains("NOT sufficient") == true && lines.last?.contains("2.0.0") == true)

        let json = try Self.jsonObject(try run(["schema", "diff", Self.keptV1, Self.keptV1Renamed, "--json"], in: Self.repository).stdout)
        #expect(json["required_bump"] as? String == "major")
        #expect(json["minimum_version"] as? String == "2.0.0")
        #expect(json["version_is_sufficient"] as? Bool == false)
        let kinds = (json["changes"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.contains("class renamed") && kinds.contains("synonym removed") && kinds.contains("mapping removed"))
    }

    /// Exit 0 when the new version suffices (here: unchanged and bumped to 2.0.0), 2 on an unusable file.
    @Test func diffExitStatuses() throws {
        let ws = try Workspace()
        let source = Self.repository.appendingPathComponent(Self.keptV1Renamed)
        try ws.write("bumped.json", try String(contentsOf: source, encoding: .utf8)
            .replacingOccurrences(of: "\"version\": \"1.3.0\"", with: "\"version\": \"2.0.0\""))
        let old = Self.repository.appendingPathComponent(Self.keptV1).path
        let bumped = try run(["schema", "diff", old, "bumped.json"], in: ws.root)
        #expect(bumped.status == 0, "\(bumped.stdout)\(bumped.stderr)")
        #expect(bumped.stdout.hasSuffix("version 2.0.0 is sufficient\n"))
        let same = try run(["schema", "diff", old, old], in: ws.root)
        #expect(same.status == 0 && same.stdout.contains("no changes"))
        let missing = try run(["schema", "diff", old, "nope.json"], in: ws.root)
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("error: nope.json: "), "\(missing.stderr)")
    }

    @Test func labelsReportCountsTheSampleWellsLikeTheTable() throws {
        // Independent count: the MoA of every table row whose image the sample ships.
        let data = Self.repository.appendingPathComponent("samples/idr0035-moa/data")
        let rows = try SimpleCSV.rows(of: data.appendingPathComponent("idr0035-screenA-annotation.csv"))
        let header = rows[0]
        let plate = try #require(header.firstIndex(of: "Plate")), well = try #require(header.firstIndex(of: "Well"))
        let moa = try #require(header.firstIndex(of: Self.moaColumn))
        var expected: [String: Int] = [:]
        for row in rows.dropFirst() {
            let image = data.appendingPathComponent("images/\(row[plate])/\(row[well]).tif")
            if FileManager.default.fileExists(atPath: image.path) { expected[row[moa], default: 0] += 1 }
        }
        #expect(expected.values.reduce(0, +) == 12)

        let result = try run(["labels", "report", "samples/idr0035-moa/recipe.yaml", "--json"], in: Self.repository)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try Self.jsonObject(result.stdout)
        let entries = try #require((json["report"] as? [String: Any])?["entries"] as? [[String: Any]])
        var shown: [String: Int] = [:]
        for e in entries {
            shown[e["value"] as? String ?? "", default: 0] += e["count"] as? Int ?? 0
            #expect(e["class_name"] as? String == e["value"] as? String)
        }
        #expect(shown == expected)
        #expect((json["unmapped"] as? [Any])?.count == 0)
        #expect(json["passes"] as? Bool == true)
        let unreached = Set(json["classes_without_values"] as? [String] ?? [])
        #expect(unreached == Set(try #require(json["classes"] as? [String])).subtracting(expected.keys))

        let text = try run(["labels", "report", "samples/idr0035-moa/recipe.yaml"], in: Self.repository)
        #expect(text.status == 0)
        for (value, count) in expected {
            #expect(text.stdout.split(separator: "\n").contains {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(count)  \"\(value)\"") && $0.contains("→ \(value) (")
            }, "\(value): \(text.stdout)")
        }
        #expect(text.stdout.hasSuffix("unmapped values: none\n"))
    }

    /// An unknown value is listed with the table line it is on; the recipe's `unknown: error`
    /// makes the exit status 1 after the full report.
    @Test func labelsReportListsUnmappedValuesWithFileAndLine() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("data/table.csv", Workspace.table.replacingOccurrences(of: "elongated", with: "oval"))
        let result = try run(["labels", "report", "recipe.yaml"], in: ws.root)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map { String($0) }
        #expect(lines.contains("unmapped values: 1"), "\(result.stdout)")
        #expect(lines.contains("  \"oval\" 1× at data/table.csv:3"), "\(result.stdout)")
        #expect(lines.contains("classes no value reached: 'elongated'"), "\(result.stdout)")
        #expect(result.stderr.hasPrefix("error: recipe.yaml: 1 value(s) of 'Phenotype' match no class"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}

/// Comma-separated rows with RFC 4180 quoting, one record per line (the idr0035 table has no
/// line breaks inside fields); independent of the AVDB reader under test.
enum SimpleCSV {
    static func rows(of url: URL) throws -> [[String]] {
        try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline).map { line in
            var fields: [String] = [], field = "", quoted = false
            let characters = Array(line)
            var i = 0
            while i < characters.count {
                let c = characters[i]
                if quoted {
                    if c == "\"" && i + 1 < characters.count && characters[i + 1] == "\"" {
                        field.append(c)  // a doubled quote is a literal quote
                        i += 1
                    } else if c == "\"" {
                        quoted = false
                    } else {
                        field.append(c)
                    }
                } else if c == "\"" {
                    quoted = true
                } else if c == "," {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(c)
                }
                i += 1
            }
            fields.append(field)
            return fields
        }
    }
}

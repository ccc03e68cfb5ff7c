import BundleFormat
import Foundation
import LabelSchema
import Testing
@testable import Export

/// Multi-label image classes from the real idr0025 table: every `Phenotype N` of a well, mapped
/// through its CMPO accession to the classes of `Tests/Fixtures/label-schema/idr0025-localization.json`.
@Suite("Multi-label image classes: idr0025", .serialized,
       .enabled(if: Repository.shared != nil, "needs ../shared/data/idr-annotation-csv"))
struct IDR0025ImageLabelTests: CLIRunning {
    static let table = "idr0025-screenA-annotation.csv"

    static func recipe(unknown: String) -> String {
        """
        recipe_version: 1
        dataset: {name: idr0025-localization, version: 0.1.0}
        seed: 25
        inputs:
          root: data
          study_file: idr0025-study.txt
          annotations:
            file: \(table)
            keys: [Plate, Well]
            image_path: "images/{Plate}/{Well}.png"
        labels:
          image_labels:
            phenotypes: idr
            schema: localization.json
            unlabeled: skip
            unknown: \(unknown)
        tiling: {size: 48}
        output: {path: out/idr0025.h5}

        """
    }

    /// The real table and study file, the schema fixture, and one small image per well (the IDR
    /// images are not available offline; the labels are what is tested).
    static func workspace(unknown: String = "ignore") throws -> (Workspace, [[String]]) {
        let ws = try Workspace()
        let idr = try #require(Repository.shared).appendingPathComponent("idr-annotation-csv/idr0025-stadler-proteinatlas")
        for name in [table, "idr0025-study.txt"] {
            try FileManager.default.createDirectory(at: ws.url("data"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: idr.appendingPathComponent(name), to: ws.url("data/\(name)"))
        }
        try FileManager.default.copyItem(at: Repository.root.appendingPathComponent("Tests/Fixtures/label-schema/idr0025-localization.json"),
                                         to: ws.url("data/localization.json"))
        let rows = try SimpleCSV.rows(of: ws.url("data/\(table)"))
        let plate = rows[0].firstIndex(of: "Plate")!, well = rows[0].firstIndex(of: "Well")!
        for row in rows.dropFirst() { try ws.copy(fixture: "gray8.png", to: "data/images/\(row[plate])/\(row[well]).png") }
        try ws.write("recipe.yaml", recipe(unknown: unknown))
        return (ws, rows)
    }

    /// Accession (CURIE) → class id, read from the schema file here rather than through LabelSchema.
    static func termTable() throws -> [String: Int32] {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent("Tests/Fixtures/label-schema/idr0025-localization.json"))
        let classes = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["classes"] as? [[String: Any]])
        var out: [String: Int32] = [:]
        for c in classes {
            for term in c["terms"] as? [String] ?? [] {
                // CURIE as written, or the CMPO IRI form http://www.ebi.ac.uk/cmpo/CMPO_0000390.
                let curie = term.hasPrefix("http") ? term.split(separator: "/").last!.replacingOccurrences(of: "_", with: ":") : term
                out[curie] = Int32(c["id"] as! Int)
            }
        }
        return out
    }

    @Test func everyWellCarriesTheClassesOfItsAccessions() throws {
        let (ws, rows) = try Self.workspace()
        let result = try ws.export()
        let header = rows[0]
        let accessions = header.indices.filter { header[$0].hasPrefix("Phenotype ") && header[$0].hasSuffix(" Term Accession") }
        #expect(accessions.count == 14)
        let terms = try Self.termTable()
        let (plate, well) = (header.firstIndex(of: "Plate")!, header.firstIndex(of: "Well")!)
        var expected: [String: [Int32]] = [:]
        var unmapped: [String: [Int]] = [:]   // accession → table lines
        for (k, row) in rows.enumerated().dropFirst() {
            let filled = accessions.map { row[$0] }.filter { !$0.isEmpty }
            guard !filled.isEmpty else { continue }
            var ids: Set<Int32> = []
            for a in filled {
                let curie = a.replacingOccurrences(of: "_", with: ":")
                if let id = terms[curie] { ids.insert(id) } else { unmapped[curie, default: []].append(k + 1) }
            }
            expected["images/\(row[plate])/\(row[well]).png"] = ids.sorted()
        }
        #expect(expected.count == 120)

        let reader = try BundleReader(opening: result.bundle)
        let objects = try reader.objects()
        #expect(objects.hasImageLabels)
        guard case .string(let paths)? = try reader.table(at: BundleLayout.sources)["path"],
              case .int32(let source)? = try reader.table(at: BundleLayout.tiles)["source"] else {
            Issue.record("no /sources/path or /tiles/source"); return
        }
        #expect(Set(paths) == Set(expected.keys))
        for t in source.indices {
            #expect(objects.imageLabels(ofTile: t) == expected[paths[Int(source[t])]], "tile \(t)")
        }
        #expect(expected.values.filter { $0.count > 1 }.count == 28)

        // Every unmapped value is listed with its accession, count and table lines.
        let report = try #require(result.manifest.labelMapping)
        let file = ws.url("data/\(Self.table)").path
        #expect(Set(report.unmapped.compactMap(\.term)) == Set(unmapped.keys))
        for entry in report.unmapped {
            let lines = try #require(unmapped[entry.term!])
            #expect(entry.count == lines.count)
            #expect(entry.locations == lines.map { "\(file):\($0)" })
        }
        #expect(report.entries.filter { $0.classId != nil }.allSatisfy { $0.rule == .term })

        let counts = try #require(result.manifest.imageLabels)
        #expect(counts.columns.count == 14 && counts.termColumns.count == 14)
        for c in counts.perClass {
            #expect(c.sources == expected.values.filter { $0.contains(Int32(c.id)) }.count, "\(c.name)")
            #expect(c.tiles == c.sources)  // one 48x48 tile per 64x48 image
        }
        #expect(counts.unlabeledSources == expected.values.filter(\.isEmpty).count)
        #expect(BundleValidator.validate(result.bundle).problems == [])
    }

    /// `labels report` lists both unmapped phenotypes with their table lines; under `unknown: error`
    /// the same report ends in one error line and exit status 1.
    @Test func labelsReportListsEveryUnmappedPhenotype() throws {
        let (ws, _) = try Self.workspace()
        let ok = try run(["labels", "report", "recipe.yaml"], in: ws.root)
        #expect(ok.status == 0, "\(ok.stderr)")
        let lines = ok.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "recipe.yaml: column 'Phenotype 1' … 'Phenotype 14' (14 columns) of data/\(Self.table)", "\(ok.stdout)")
        #expect(lines.contains("unmapped values: 2"), "\(ok.stdout)")
        #expect(lines.contains("  \"antibody localized in nuclear membrane\" (CMPO:0000443) 6× at "
                               + [156, 168, 247, 250, 259, 262].map { "data/\(Self.table):\($0)" }.joined(separator: ", ")), "\(ok.stdout)")
        #expect(lines.contains("  \"antibody localized in nucleoli fibrillar center\" (CMPO:0000444) 2× at "
                               + [151, 163].map { "data/\(Self.table):\($0)" }.joined(separator: ", ")), "\(ok.stdout)")

        try ws.write("recipe.yaml", Self.recipe(unknown: "error"))
        let failing = try run(["labels", "report", "recipe.yaml"], in: ws.root)
        #expect(failing.status == 1)
        #expect(failing.stdout == ok.stdout)
        #expect(failing.stderr.hasPrefix("error: recipe.yaml: 2 value(s) of 'Phenotype 1' … 'Phenotype 14' (14 columns) match no class"),
                "\(failing.stderr)")
        #expect(failing.stderr.split(separator: "\n").count == 1)
        // The export itself refuses, naming the values and where they first occur.
        guard let error = ws.failingExport() else { Issue.record("unknown phenotypes passed unknown: error"); return }
        #expect(error.description.contains("labels.image_labels: 2 label value(s) match no class: \"antibody localized in nuclear membrane\""))
        #expect(ws.outputEntries().isEmpty)
    }
}

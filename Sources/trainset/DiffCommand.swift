import ArgumentParser
import Export
import Foundation

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show how two bundles differ: inputs, source images and tiles, classes, recipe.",
        discussion: """
            Compares manifests and tile tables, not bytes: two bundles with the same content hash hold the \
            same data however they were compressed. Sources are matched by their path under the input root. \
            Exit status 0 when both have the same content, 1 when they differ (like diff(1)), 2 on error.

            Example:
              trainset diff old/idr0035-moa.h5 new/idr0035-moa.h5
            """)

    @Argument(help: "The older bundle (A).", completion: .file(extensions: ["h5"]))
    var a: String

    @Argument(help: "The newer bundle (B).", completion: .file(extensions: ["h5"]))
    var b: String

    @Flag(help: "Print the differences as JSON.")
    var json = false

    func run() throws {
        let diff: BundleDiff
        do {
            diff = try BundleDiff.compare(URL(fileURLWithPath: a), URL(fileURLWithPath: b))
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(2)
        }
        print(json ? try JSONText.encode(diff) : Self.text(diff))
        if !diff.sameContent { throw ExitCode.failure }
    }

    static func text(_ d: BundleDiff) -> String {
        var lines = ["--- \(d.a)  (version \(d.datasetVersions[0]), \(d.tileCounts[0]) tiles)",
                     "+++ \(d.b)  (version \(d.datasetVersions[1]), \(d.tileCounts[1]) tiles)"]
        if d.sameContent { lines.append("same content \(d.contentHashes[0])") }
        let sign: [BundleDiff.Change: String] = [.added: "+", .removed: "-", .changed: "~"]
        if !d.inputs.isEmpty {
            lines.append("inputs")
            for i in d.inputs { lines.append("  \(sign[i.change]!) \(i.path)") }
        }
        if !d.sources.isEmpty {
            lines.append("sources (tiles A → B)")
            for s in d.sources {
                let origins = s.tileOrigins.prefix(8).map { "(\($0[0]),\($0[1]))" }.joined(separator: " ")
                let more = s.tileOrigins.count > 8 ? " …" : ""
                lines.append("  \(sign[s.change]!) \(s.path)  \(s.tilesA) → \(s.tilesB)"
                             + (s.tileOrigins.isEmpty ? "" : "  tiles at \(origins)\(more)"))
            }
        }
        if !d.classes.isEmpty {
            lines.append("classes (tiles A → B)")
            for c in d.classes { lines.append("  \(c.name)  \(c.tilesA) → \(c.tilesB)") }
        }
        if !d.splits.isEmpty {
            lines.append("splits (tiles A → B)")
            for c in d.splits { lines.append("  \(c.name)  \(c.tilesA) → \(c.tilesB)") }
        }
        if !d.sampleColumns.isEmpty {
            lines.append("sample columns")
            for f in d.sampleColumns { lines.append("  \(f.key): \(f.a ?? "(absent)") → \(f.b ?? "(absent)")") }
        }
        if !d.recipe.isEmpty {
            lines.append("recipe")
            for f in d.recipe { lines.append("  \(f.key): \(f.a ?? "(absent)") → \(f.b ?? "(absent)")") }
        }
        return lines.joined(separator: "\n")
    }
}

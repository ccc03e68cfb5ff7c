import ArgumentParser
import Export
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-derive a bundle from its embedded recipe and inputs, and compare.",
        discussion: """
            Re-hashes every input the manifest lists (under --inputs, the recipe's input root), re-runs the \
            recipe stored in the bundle on those inputs into a temporary bundle, and compares content hashes. \
            On a mismatch it names the inputs whose bytes differ and the tiles whose content differs. \
            Exit status 0 when the bundle is reproduced exactly, 1 otherwise.

            Example:
              trainset verify samples/idr0035-moa/out/idr0035-moa.h5 --inputs samples/idr0035-moa/data
            """)

    @Argument(help: "The bundle (.h5) to verify.", completion: .file(extensions: ["h5"]))
    var bundle: String

    @Option(help: ArgumentHelp("The directory the recipe's input paths are relative to (its inputs.root).",
                               valueName: "dir"),
            completion: .directory)
    var inputs: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: "List at most this many differing tiles in the text report.")
    var maxTiles = 20

    func run() throws {
        let report: VerifyReport
        do {
            report = try Verifier.verify(bundle: URL(fileURLWithPath: bundle), inputs: URL(fileURLWithPath: inputs)) { line in
                if !json { Console.error(line) }
            }
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try JSONText.encode(Wrapped(passed: report.passed, report: report)))
        } else {
            print(Self.text(report, maxTiles: maxTiles))
        }
        if !report.passed { throw ExitCode.failure }
    }

    private struct Wrapped: Encodable {
        var passed: Bool
        var report: VerifyReport
    }

    static func text(_ r: VerifyReport, maxTiles: Int) -> String {
        var lines: [String] = []
        let inputsOK = r.inputProblems.isEmpty
        lines.append("inputs     \(r.inputsChecked - r.inputProblems.count) of \(r.inputsChecked) match the manifest")
        for p in r.inputProblems {
            lines.append("  \(p.actualSHA256 == nil ? "missing" : "changed") \(p.path)"
                         + (p.actualSHA256.map { " (sha256 \($0.prefix(16))…, manifest \(p.expectedSHA256.prefix(16))…)" } ?? ""))
        }
        if let error = r.reexportError {
            lines.append("re-export  failed: \(error)")
        } else {
            lines.append("expected   \(r.expectedContentHash)")
            lines.append("reproduced \(r.reproducedContentHash ?? "-")")
        }
        if let counts = r.tileCounts { lines.append("tiles      \(counts[0]) in the bundle, \(counts[1]) re-derived") }
        if !r.differingDatasets.isEmpty { lines.append("datasets   differ: \(r.differingDatasets.joined(separator: ", "))") }
        if !r.differingTiles.isEmpty {
            lines.append("tiles      \(r.differingTiles.count) differ:")
            for t in r.differingTiles.prefix(maxTiles) {
                lines.append("  tile \(t.index): \(t.source) at (\(t.x), \(t.y)): \(t.parts.joined(separator: ", "))")
            }
            if r.differingTiles.count > maxTiles { lines.append("  … \(r.differingTiles.count - maxTiles) more (--json lists all)") }
        }
        lines.append(r.passed ? "\(r.bundle): VERIFIED (reproduced exactly from its recipe and inputs)"
                     : "\(r.bundle): NOT VERIFIED" + (inputsOK ? "" : " (inputs differ from the manifest)"))
        return lines.joined(separator: "\n")
    }
}

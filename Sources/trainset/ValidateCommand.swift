import ArgumentParser
import BundleFormat
import Export
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a bundle against the bundle format spec and its own manifest.",
        discussion: """
            Checks the layout (datasets, dtypes, chunking, filters, table columns), the consistency of the \
            tables with each other and with the manifest, reads every chunk (so Fletcher-32 catches corrupted \
            bytes) and recomputes the content hash. With --parent, also checks the lineage: the bundle's \
            dataset.parent names the parent's content hash, and its version follows the parent's by the bump \
            rules (patch: same records; minor: records only added; major: records changed, removed or moved \
            between splits). A merged bundle with virtual tile data (trainset merge) is checked together \
            with its shard files: each mapping, that each shard file exists and is the one merged, and \
            each shard dataset's storage. Several bundles are checked one after another; the exit status \
            is 0 when all are valid, 1 otherwise.

            A damaged file can crash libhdf5 itself (1.10.8 recurses without end on some broken object \
            headers); trainset reads in a supervised process, so such a file ends in one error line naming \
            it, with exit status 1, and the reports already printed stand.

            Examples:
              trainset validate new/moa.h5 --parent old/moa.h5
              trainset validate shards/*.h5 --json     # one JSON object per line
            """)

    @Argument(help: "The bundles (.h5) to check.", completion: .file(extensions: ["h5"]))
    var bundles: [String]

    @Flag(help: "Print each report as JSON: one object for one bundle, one object per line (JSON Lines) for several.")
    var json = false

    @Option(help: ArgumentHelp("The bundle this one is a new version of; checks lineage and version bump.",
                               valueName: "bundle"), completion: .file(extensions: ["h5"]))
    var parent: String?

    func validate() throws {
        guard !bundles.isEmpty else { throw ValidationError("name at least one bundle to check") }
        if parent != nil && bundles.count > 1 {
            throw ValidationError("--parent checks one bundle; name just the new version")
        }
    }

    func run() throws {
        var allValid = true
        for bundle in bundles {
            let report = BundleValidator.validate(URL(fileURLWithPath: bundle))
            if let parent, report.isValid {
                try checkLineage(bundle, parent)
            }
            show(bundle, report)
            // Each bundle's verdict is out before the next file is opened: a library crash on a
            // later, damaged file must not lose the results already reached.
            fflush(nil)
            allValid = allValid && report.isValid
        }
        if !allValid { throw ExitCode.failure }
    }

    private func show(_ bundle: String, _ report: ValidationReport) {
        if json {
            let object: [String: Any] = [
                "bundle": bundle, "valid": report.isValid, "problems": report.problems,
                "checks": report.checks, "content_hash": report.contentHash ?? NSNull(),
            ]
            let options: JSONSerialization.WritingOptions = bundles.count == 1 ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
            // Plain strings and numbers only, so serialization cannot fail.
            let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else if report.isValid {
            print("\(bundle): valid (\(report.checks.count) checks)")
            if let hash = report.contentHash { Swift.print("content hash \(hash)") }
        } else {
            for problem in report.problems { Console.error("\(bundle): \(problem)") }
            Console.error("\(bundle): INVALID (\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s"))")
        }
    }

    private func checkLineage(_ bundle: String, _ parent: String) throws {
        let lineage: LineageReport
        do {
            lineage = try Lineage.check(child: URL(fileURLWithPath: bundle), parent: URL(fileURLWithPath: parent))
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try JSONText.encode(lineage))
        } else {
            print("\(bundle): \(lineage.childVersion) after \(parent) \(lineage.parentVersion): \(lineage.added) records added, "
                  + "\(lineage.removed) removed, \(lineage.changed) changed, \(lineage.moved) moved between splits; "
                  + "needs a \(lineage.requiredBump.rawValue) bump (at least \(lineage.minimumVersion))")
            for e in lineage.examples { print("  \(e)") }
            for p in lineage.problems { Console.error("\(bundle): \(p)") }
        }
        if !lineage.passed { throw ExitCode.failure }
    }
}

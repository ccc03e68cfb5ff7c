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
            each shard dataset's storage. Exit status 0 when valid, 1 otherwise.

            Example:
              trainset validate new/moa.h5 --parent old/moa.h5
            """)

    @Argument(help: "The bundle (.h5) to check.", completion: .file(extensions: ["h5"]))
    var bundle: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("The bundle this one is a new version of; checks lineage and version bump.",
                               valueName: "bundle"), completion: .file(extensions: ["h5"]))
    var parent: String?

    func run() throws {
        let report = BundleValidator.validate(URL(fileURLWithPath: bundle))
        if let parent, report.isValid {
            try checkLineage(parent)
        }
        if json {
            let object: [String: Any] = [
                "bundle": bundle, "valid": report.isValid, "problems": report.problems,
                "checks": report.checks, "content_hash": report.contentHash ?? NSNull(),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if report.isValid {
            print("\(bundle): valid (\(report.checks.count) checks)")
            if let hash = report.contentHash { print("content hash \(hash)") }
        } else {
            for problem in report.problems { Console.error("\(bundle): \(problem)") }
            Console.error("\(bundle): INVALID (\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s"))")
        }
        if !report.isValid { throw ExitCode.failure }
    }

    private func checkLineage(_ parent: String) throws {
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

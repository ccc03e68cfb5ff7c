import ArgumentParser
import BundleFormat
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a bundle against the bundle format spec and its own manifest.",
        discussion: """
            Checks the layout (datasets, dtypes, chunking, filters, table columns), the consistency of the \
            tables with each other and with the manifest, reads every chunk (so Fletcher-32 catches corrupted \
            bytes) and recomputes the content hash. Exit status 0 when valid, 1 otherwise.
            """)

    @Argument(help: "The bundle (.h5) to check.", completion: .file(extensions: ["h5"]))
    var bundle: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = BundleValidator.validate(URL(fileURLWithPath: bundle))
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
}

import ArgumentParser
import Export
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML page showing a bundle: tiles per class, splits, sources, label mapping.",
        discussion: """
            The page embeds its thumbnails (PNG data URIs), so it can be opened, mailed or archived on its own. \
            Thumbnails stretch each channel between its 1st and 99th percentiles and outline instance masks \
            in yellow.

            Example:
              trainset report samples/dsb2018-nuclei/out/dsb2018-nuclei.h5 -o report.html
            """)

    @Argument(help: "The bundle (.h5).", completion: .file(extensions: ["h5"]))
    var bundle: String

    @Option(name: .shortAndLong, help: "Where to write the HTML page.")
    var output: String

    @Option(help: "Tiles shown per class.")
    var perClass = 8

    func run() throws {
        do {
            let html = try Report.html(bundle: URL(fileURLWithPath: bundle), perClass: perClass)
            try Data(html.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch let error as ExportError {
            Console.error("error: \(error)")
            throw ExitCode.failure
        } catch {
            Console.error("error: \(output): cannot write the report: \(error.localizedDescription)")
            throw ExitCode.failure
        }
        print(output)
    }
}

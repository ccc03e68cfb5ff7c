import ArgumentParser
import Export
import Foundation
import LabelSchema

/// `trainset labels …`: what the label values of a dataset become.
struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "Show how a recipe's label values map onto its classes.",
        discussion: """
            Example:
              trainset labels report samples/idr0035-moa/recipe.yaml
            """,
        subcommands: [LabelsReportCommand.self])
}

struct LabelsReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Plan a recipe (no pixels written) and print its label mapping report.",
        discussion: """
            Resolves the recipe exactly as `export` does (table, image matching, class list) and prints, \
            for every distinct value of labels.image_class.column in the rows that have an image: the \
            class it maps to, the rule that decided, and how often it occurs; then the classes no value \
            reached, and every unmapped value with the file:line of its rows (the first \
            \(LabelNormalizer.maxLocations)). This is the report an export stores in the manifest's \
            label_mapping.

            Unknown values do not stop the report: it is printed in full, and then the exit status is 1 \
            with one `error:` line when the recipe's policies would make `export` fail on them \
            (labels.image_class.unknown: error, or unlabeled: error with empty values); otherwise 0.

            Example:
              trainset labels report samples/idr0035-moa/recipe.yaml
            """)

    @Argument(help: "The recipe file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var recipe: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let recipeURL = URL(fileURLWithPath: recipe)
        let plan: ExportPlan
        let policy: Recipe.ImageClass
        do {
            let loaded = try Recipe.load(recipeURL)
            var parsed = loaded.recipe
            guard let labels = parsed.labels.imageClass else {
                throw ExportError(.recipe, recipe, "labels.image_class: the recipe maps no label values (only masks); nothing to report")
            }
            policy = labels
            // Plan leniently so the report lists every unknown and empty value instead of
            // stopping at the first; the recipe's own policies decide the exit status below.
            parsed.labels.imageClass?.unknown = .skip
            parsed.labels.imageClass?.unlabeled = .skip
            plan = try Planner.plan(recipe: parsed, text: loaded.text, recipeURL: recipeURL,
                                    root: RecipeRoot.url(of: parsed, recipeAt: recipeURL),
                                    output: URL(fileURLWithPath: parsed.output.path, relativeTo: recipeURL.deletingLastPathComponent()).standardizedFileURL,
                                    overwrite: false)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
        let report = plan.labelMapping ?? MappingReport(entries: [], emptyCount: 0)
        let table = plan.recipe.inputs.annotations.map { RecipeRoot.display(plan.root.appendingPathComponent($0.file)) } ?? recipe
        let unreached = plan.classNames.filter { name in !report.entries.contains { $0.className == name } }
        var failure: String?
        if policy.unknown == .error, !report.unmapped.isEmpty {
            failure = "\(report.unmapped.count) value(s) of '\(policy.column)' match no class and labels.image_class.unknown is error: "
                + "add them to labels.image_class.classes, fix \(table), or set unknown to skip"
        } else if policy.unlabeled == .error, report.emptyCount > 0 {
            failure = "\(report.emptyCount) row(s) have an empty '\(policy.column)' and labels.image_class.unlabeled is error: "
                + "fill them in \(table) or set unlabeled to skip or keep"
        }
        if json {
            print(try JSONText.encode(Output(recipe: recipe, table: table, column: policy.column, classes: plan.classNames,
                                             report: report, unmapped: report.unmapped, classesWithoutValues: unreached,
                                             passes: failure == nil)))
        } else {
            print(text(report, table: table, column: policy.column, classes: plan.classNames, unreached: unreached))
        }
        if let failure {
            Console.error("error: \(recipe): \(failure)")
            throw ExitCode.failure
        }
    }

    private struct Output: Encodable {
        var recipe: String
        var table: String
        var column: String
        var classes: [String]
        var report: MappingReport
        var unmapped: [MappingReport.Entry]
        var classesWithoutValues: [String]
        var passes: Bool
    }

    func text(_ r: MappingReport, table: String, column: String, classes: [String], unreached: [String]) -> String {
        let occurrences = r.entries.reduce(0) { $0 + $1.count }
        var lines = ["\(recipe): column '\(column)' of \(table)",
                     "  \(r.entries.count) distinct values, \(occurrences) labelled rows, \(r.emptyCount) empty; \(classes.count) classes"]
        let width = r.entries.map { $0.value.count + 2 }.max() ?? 0
        for e in r.entries {
            let target = e.classId.map { "\(e.className ?? "") (\($0))" } ?? "(unmapped)"
            let rule = e.rule.map { "  [\($0.rawValue)]" } ?? ""
            lines.append("  \(String(e.count).leftPad(6))  \("\"\(e.value)\"".rightPad(width)) → \(target)\(rule)")
        }
        if !unreached.isEmpty {
            lines.append("classes no value reached: " + unreached.map { "'\($0)'" }.joined(separator: ", "))
        }
        let unmapped = r.unmapped
        lines.append(unmapped.isEmpty ? "unmapped values: none" : "unmapped values: \(unmapped.count)")
        for e in unmapped {
            let more = e.count > e.locations.count ? " … (\(e.count - e.locations.count) more)" : ""
            lines.append("  \"\(e.value)\" \(e.count)× at " + e.locations.joined(separator: ", ") + more)
        }
        return lines.joined(separator: "\n")
    }
}

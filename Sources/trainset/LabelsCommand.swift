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
            Resolves the recipe exactly as `export` does (table, image matching, class list, annotation \
            files) and prints, for every distinct label value: the class it maps to, the rule that \
            decided, and how often it occurs; then the classes no value reached, and every unmapped \
            value with where it occurs (file:line of table rows, file: object of annotations; the first \
            \(LabelNormalizer.maxLocations)). Image-level values come from labels.image_class.column or \
            the labels.image_labels columns of the rows that have an image; object labels from the \
            labels.objects annotation files. These are the reports an export stores in the manifest \
            (label_mapping, objects.label_mapping).

            Unknown values do not stop the report: it is printed in full, and then the exit status is 1 \
            with one `error:` line when the recipe's policies would make `export` fail on them (unknown: \
            error, or unlabeled: error with empty values); otherwise 0.

            Example:
              trainset labels report samples/idr0035-moa/recipe.yaml
            """)

    @Argument(help: "The recipe file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var recipe: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    /// One report of the recipe: image-level values or object labels.
    private struct Section: Encodable {
        /// What the values are: `column 'X' of table.csv`, `object labels of boxes.csv`.
        var title: String
        var report: MappingReport
        var unmapped: [MappingReport.Entry]
        var classesWithoutValues: [String]
        /// The error the recipe's policies make of this report, if any.
        var failure: String?
    }

    func run() throws {
        let recipeURL = URL(fileURLWithPath: recipe)
        let plan: ExportPlan
        let labels: Recipe.Labels
        do {
            let loaded = try Recipe.load(recipeURL)
            var parsed = loaded.recipe
            labels = parsed.labels
            guard labels.imageClass != nil || labels.imageLabels != nil || labels.objects?.source != nil else {
                throw ExportError(.recipe, recipe, "labels: the recipe maps no label values (only masks); nothing to report")
            }
            // Plan leniently so the report lists every unknown and empty value instead of
            // stopping at the first; the recipe's own policies decide the exit status below.
            parsed.labels.imageClass?.unknown = .skip
            parsed.labels.imageClass?.unlabeled = .skip
            parsed.labels.imageLabels?.unknown = .ignore
            parsed.labels.imageLabels?.unlabeled = .keep
            parsed.labels.objects?.unknown = .skip
            parsed.labels.objects?.unlabeled = .keep
            parsed.labels.objects?.geometry = .drop
            plan = try Planner.plan(recipe: parsed, text: loaded.text, recipeURL: recipeURL,
                                    root: RecipeRoot.url(of: parsed, recipeAt: recipeURL),
                                    output: URL(fileURLWithPath: parsed.output.path, relativeTo: recipeURL.deletingLastPathComponent()).standardizedFileURL,
                                    overwrite: false)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
        let table = plan.recipe.inputs.annotations.map { RecipeRoot.display(plan.root.appendingPathComponent($0.file)) } ?? recipe
        var sections: [(key: String, section: Section)] = []
        func section(_ title: String, _ report: MappingReport?, unknownFails: Bool, unlabeledFails: Bool, field: String,
                     fix: String) -> Section {
            let report = report ?? MappingReport(entries: [], emptyCount: 0)
            var failure: String?
            if unknownFails, !report.unmapped.isEmpty {
                failure = "\(report.unmapped.count) value(s) of \(title) match no class and \(field).unknown is error: \(fix)"
            } else if unlabeledFails, report.emptyCount > 0 {
                failure = "\(report.emptyCount) of \(title) are empty and \(field).unlabeled is error: "
                    + "fill them in or set unlabeled to skip or keep"
            }
            return Section(title: title, report: report, unmapped: report.unmapped,
                           classesWithoutValues: plan.classNames.filter { name in !report.entries.contains { $0.className == name } },
                           failure: failure)
        }
        if let policy = labels.imageClass {
            sections.append(("image_class", section(
                "'\(policy.column)'", plan.labelMapping, unknownFails: policy.unknown == .error,
                unlabeledFails: policy.unlabeled == .error, field: "labels.image_class",
                fix: "add them to labels.image_class.classes, fix \(table), or set unknown to skip")))
        }
        if let policy = labels.imageLabels {
            let columns = plan.imageLabelColumns.values
            sections.append(("image_labels", section(
                columns.count == 1 ? "'\(columns[0])'" : "'\(columns.first ?? "")' … '\(columns.last ?? "")' (\(columns.count) columns)",
                plan.labelMapping, unknownFails: policy.unknown == .error, unlabeledFails: policy.unlabeled == .error,
                field: "labels.image_labels", fix: "add them to the classes, fix \(table), or set unknown to ignore or skip")))
        }
        if let policy = labels.objects, let source = policy.source {
            sections.append(("objects", section(
                "the object labels in \(source.path)", plan.objects?.manifest.labelMapping,
                unknownFails: policy.unknown == .error, unlabeledFails: policy.unlabeled == .error, field: "labels.objects",
                fix: "add them to the classes, fix the annotation files, or set unknown to skip")))
        }
        let failure = sections.compactMap(\.section.failure).first
        if json {
            let image = sections.first { $0.key != "objects" }?.section
            print(try JSONText.encode(Output(
                recipe: recipe, table: table, column: labels.imageClass?.column, columns: labels.imageLabels.map { _ in plan.imageLabelColumns.values },
                classes: plan.classNames, report: image?.report, unmapped: image?.unmapped,
                classesWithoutValues: image?.classesWithoutValues, objects: sections.first { $0.key == "objects" }?.section,
                passes: failure == nil)))
        } else {
            print(sections.map { text($0.section, table: table, classes: plan.classNames) }.joined(separator: "\n"))
        }
        if let failure {
            Console.error("error: \(recipe): \(failure)")
            throw ExitCode.failure
        }
    }

    /// The image-level report's fields at the top level (as before objects existed), the object
    /// labels' report under `objects`.
    private struct Output: Encodable {
        var recipe: String
        var table: String
        var column: String?
        var columns: [String]?
        var classes: [String]
        var report: MappingReport?
        var unmapped: [MappingReport.Entry]?
        var classesWithoutValues: [String]?
        var objects: Section?
        var passes: Bool
    }

    private func text(_ s: Section, table: String, classes: [String]) -> String {
        let r = s.report
        let occurrences = r.entries.reduce(0) { $0 + $1.count }
        let objects = s.title.hasPrefix("the object labels"), several = s.title.hasSuffix("columns)")
        var lines = ["\(recipe): " + (objects ? s.title : "column \(s.title) of \(table)"),
                     "  \(r.entries.count) distinct values, \(occurrences) labelled \(objects ? "objects" : several ? "values" : "rows"), "
                     + "\(r.emptyCount) empty; \(classes.count) classes"]
        let width = r.entries.map { $0.value.count + 2 }.max() ?? 0
        for e in r.entries {
            let target = e.classId.map { "\(e.className ?? "") (\($0))" } ?? "(unmapped)"
            let rule = e.rule.map { "  [\($0.rawValue)]" } ?? ""
            lines.append("  \(String(e.count).leftPad(6))  \("\"\(e.value)\"".rightPad(width)) → \(target)\(rule)")
        }
        if !s.classesWithoutValues.isEmpty {
            lines.append("classes no value reached: " + s.classesWithoutValues.map { "'\($0)'" }.joined(separator: ", "))
        }
        lines.append(s.unmapped.isEmpty ? "unmapped values: none" : "unmapped values: \(s.unmapped.count)")
        for e in s.unmapped {
            let more = e.count > e.locations.count ? " … (\(e.count - e.locations.count) more)" : ""
            lines.append("  \"\(e.value)\"" + (e.term.map { " (\($0))" } ?? "") + " \(e.count)× at " + e.locations.joined(separator: ", ") + more)
        }
        return lines.joined(separator: "\n")
    }
}

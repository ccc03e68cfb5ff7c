import ArgumentParser
import AVDB
import Export
import Foundation
import LabelSchema

struct SchemaInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Draft a label schema from the label values found in the data a recipe names.",
        discussion: """
            Reads the recipe's annotation table and counts every value of its labels.image_class column \
            over ALL rows, not only the rows that have an image, so the draft knows the whole vocabulary \
            of the table (the idr0035 sample ships images for 12 wells but its table has all 12 MoA \
            classes). When the column is an IDR `Phenotype N` or `Characteristics [X]` column whose \
            accession column is filled and the recipe names a study file, the accession becomes the \
            class's ontology term (via the study's Term Source rows) and values sharing a term become \
            synonyms of one class. Classes get ids 1…n in name order (0 stays free for background), \
            colours from a fixed palette and version 0.1.0; review names, colours and parents before use. \
            The draft passes `trainset schema validate`. Writes to standard output unless -o is given; \
            an existing file is only replaced with --overwrite.

            Example:
              trainset schema init --from samples/idr0035-moa/recipe.yaml -o moa.json
            """)

    @Option(name: .customLong("from"), help: ArgumentHelp("The recipe whose label values to draft from.", valueName: "recipe"),
            completion: .file(extensions: ["yaml", "yml"]))
    var recipe: String

    @Option(name: .shortAndLong, help: "Write the schema to this file instead of standard output.",
            completion: .file(extensions: ["json"]))
    var output: String?

    @Flag(help: "Replace an existing file at the output path.")
    var overwrite = false

    @Option(help: "The schema's name (default: the recipe's dataset.name).")
    var name: String?

    func run() throws {
        let draft: Schema
        let source: RecipeLabelValues
        do {
            source = try RecipeLabelValues.read(recipeAt: recipe)
            draft = SchemaDraft.build(name: name ?? source.datasetName, kinds: source.kinds, observations: source.observations)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.failure
        }
        let text = draft.jsonText
        do {
            // The draft builder promises a valid schema; checking the text as `validate` would
            // catch a value the builder cannot turn into a class before a file is written.
            _ = try Schema.parse(Data(text.utf8), file: output ?? "(draft)")
        } catch {
            Console.error("error: \(recipe): the drafted schema is not valid (\(error)); please report this with the recipe")
            throw ExitCode.failure
        }
        guard let output else {
            print(text, terminator: "")
            return
        }
        if FileManager.default.fileExists(atPath: output) && !overwrite {
            Console.error("error: \(output): already exists; pass --overwrite to replace it")
            throw ExitCode.failure
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            Console.error("error: \(output): cannot write the schema (\(error.localizedDescription))")
            throw ExitCode.failure
        }
        Console.error("wrote \(output): \(draft.classes.count) classes from \(source.observations.count) distinct values "
                      + "of '\(source.column)' in \(source.table) (\(source.rows) rows, \(source.empty) empty)")
    }
}

/// The label values a recipe's annotation table holds, counted for `SchemaDraft`.
struct RecipeLabelValues {
    var datasetName: String
    var kinds: [LabelKind]
    var column: String
    /// The table as error messages show it.
    var table: String
    var rows: Int
    var empty: Int
    /// Distinct values (with their accession's term), in value order.
    var observations: [SchemaDraft.Observation]

    /// A problem reading the recipe or its table, printed as `<file>[:line]: message`.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(recipeAt path: String) throws(Failure) -> RecipeLabelValues {
        let recipeURL = URL(fileURLWithPath: path)
        let recipe: Recipe
        do {
            recipe = try Recipe.load(recipeURL).recipe
        } catch {
            throw Failure(description: error.description)
        }
        guard let labels = recipe.labels.imageClass, let annotations = recipe.inputs.annotations else {
            throw Failure(description: "\(path): labels.image_class: the recipe names no label column; schema init drafts classes from the values of labels.image_class.column")
        }
        let root = RecipeRoot.url(of: recipe, recipeAt: recipeURL)
        let tableURL = root.appendingPathComponent(annotations.file)
        var kinds: [LabelKind] = [.imageClass]
        if recipe.labels.semanticMasks != nil { kinds.append(.semanticMask) }
        if recipe.labels.instanceMasks != nil { kinds.append(.instanceMask) }
        let tableShown = RecipeRoot.display(tableURL)
        var counts: [SourceLabel: Int] = [:]
        var empty = 0
        let rows: Int
        do throws(AVDBError) {
            let table = try AnnotationTable(contentsOf: tableURL)
            let column = try table.columnIndex(named: labels.column)
            let accessionColumn = table.phenotypeColumns.first { $0.valueIndex == column }?.accessionIndex
                ?? table.characteristicColumns.first { $0.valueIndex == column }?.accessionIndex
            let sources = try recipe.inputs.studyFile.map { (file) throws(AVDBError) in
                try IDRStudy(contentsOf: root.appendingPathComponent(file)).termSources
            }
            for row in 0..<table.rowCount {
                let value = table.value(row: row, column: column)
                let accession = accessionColumn.map { table.value(row: row, column: $0) } ?? ""
                var term: TermID?
                if let sources, !accession.isEmpty {
                    do {
                        let resolved = try sources.term(forAccession: accession)
                        term = TermID.parse(resolved.iri) ?? TermID.parse(resolved.prefix + ":" + resolved.localID)
                    } catch {
                        throw AVDBError(error.code, error.message, file: tableURL.path, line: table.line(ofRow: row))
                    }
                }
                if value.allSatisfy(\.isWhitespace) && term == nil {
                    empty += 1
                } else {
                    counts[SourceLabel(value: value, term: term), default: 0] += 1
                }
            }
            rows = table.rowCount
        } catch {
            let location = error.file.map { RecipeRoot.display(URL(fileURLWithPath: $0)) + (error.line.map { ":\($0)" } ?? "") }
            throw Failure(description: (location ?? tableShown) + ": " + error.message)
        }
        guard !counts.isEmpty else {
            throw Failure(description: "\(tableShown): column '\(labels.column)' is empty in every row; there are no values to draft classes from")
        }
        let observations = counts
            .sorted { ($0.key.value, $0.key.term?.curie ?? "") < ($1.key.value, $1.key.term?.curie ?? "") }
            .map { SchemaDraft.Observation($0.key, count: $0.value) }
        return RecipeLabelValues(datasetName: recipe.dataset.name, kinds: kinds, column: labels.column,
                                 table: tableShown, rows: rows, empty: empty, observations: observations)
    }
}

/// Where a recipe's input paths start, and how paths are shown to the user.
enum RecipeRoot {
    /// `inputs.root` resolved against the recipe's directory, as `Planner.plan(recipeAt:)` does.
    static func url(of recipe: Recipe, recipeAt recipeURL: URL) -> URL {
        URL(fileURLWithPath: recipe.inputs.root, relativeTo: recipeURL.deletingLastPathComponent()).standardizedFileURL
    }

    /// Relative to the working directory when inside it, like the planner's messages.
    static func display(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let cwd = FileManager.default.currentDirectoryPath
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}

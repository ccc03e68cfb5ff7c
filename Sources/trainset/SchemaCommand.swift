import ArgumentParser
import Foundation
import LabelSchema

/// `trainset schema …`: label schema files (specs/label-schema/v1.md).
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Check, draft and compare label schema files (specs/label-schema/v1.md).",
        discussion: """
            A label schema names the classes of a training set with stable ids, colours, parents and \
            ontology terms, says which source values map to which class, and what happens to values no \
            rule maps. These commands never touch a bundle.

            Examples:
              trainset schema validate Tests/Fixtures/label-schema/kept-v1.json
              trainset schema init --from samples/idr0035-moa/recipe.yaml -o moa.json
              trainset schema diff Tests/Fixtures/label-schema/kept-v1.json \\
                  Tests/Fixtures/label-schema/kept-v1-renamed.json
            """,
        subcommands: [SchemaValidateCommand.self, SchemaInitCommand.self, SchemaDiffCommand.self])
}

/// Loading schema files for the schema commands, with errors that name the file as typed.
enum SchemaFile {
    /// Loads and validates `path`, printing `error: <path>: <json path>: message` and exiting
    /// with `status` when it cannot be used.
    static func load(_ path: String, exitStatus status: Int32) throws(ExitCode) -> Schema {
        do {
            return try Schema.load(contentsOf: URL(fileURLWithPath: path))
        } catch {
            Console.error("error: \(asTyped(error, path))")
            throw ExitCode(status)
        }
    }

    /// The error with `path` as the user typed it instead of the absolute path the loader saw.
    static func asTyped(_ error: LabelSchemaError, _ path: String) -> LabelSchemaError {
        LabelSchemaError(code: error.code, message: error.message, file: path, path: error.path)
    }

    /// The unknown-value rule as the schema file spells it.
    static func describe(_ rule: UnknownValueRule) -> String {
        switch rule {
        case .error: "error"
        case .ignore: "ignore"
        case .mapTo(let name): "map to '\(name)'"
        }
    }
}

struct SchemaValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Load a label schema file, check everything the spec requires and summarize it.",
        discussion: """
            Checks structure and types, unknown keys (extensions must start with x-), versions, colours, \
            ontology terms (CURIE or IRI with a known prefix), the class hierarchy (parents exist, no \
            cycle), and that no value, synonym, term or mapping can reach two classes. Prints the name, \
            version, label kinds, every class with its id, parent, colour, terms and synonyms, and the \
            number of mappings. On a problem prints one line, `error: <file>: <json path>: message`, \
            and exits with status 1.

            Example:
              trainset schema validate Tests/Fixtures/label-schema/kept-v1.json
            """)

    @Argument(help: "The schema file (JSON).", completion: .file(extensions: ["json"]))
    var file: String

    @Flag(help: "Print the summary (or the error) as JSON on standard output.")
    var json = false

    func run() throws {
        let schema: Schema
        do {
            schema = try Schema.load(contentsOf: URL(fileURLWithPath: file))
        } catch {
            let error = SchemaFile.asTyped(error, file)
            Console.error("error: \(error)")
            if json {
                print(try JSONText.encode(Invalid(file: file, error: .init(code: error.code.rawValue, path: error.path,
                                                                           message: error.message))))
            }
            throw ExitCode.failure
        }
        print(json ? try JSONText.encode(Summary(file: file, schema: schema)) : Self.text(schema, file: file))
    }

    private struct Invalid: Encodable {
        struct Problem: Encodable {
            var code: String
            var path: String?
            var message: String
        }
        var file: String
        var valid = false
        var error: Problem
    }

    /// The summary in JSON; class terms are CURIEs, whichever spelling the file used.
    private struct Summary: Encodable {
        struct Class: Encodable {
            var id: Int
            var name: String
            var parent: String?
            var colour: String
            var terms: [String]
            var synonyms: [String]
            var description: String?
        }
        var file: String
        var valid = true
        var name: String
        var version: String
        var description: String?
        var kinds: [String]
        var nameMatching: String
        var unknown: String
        var classes: [Class]
        var mappings: Int

        init(file: String, schema s: Schema) {
            self.file = file
            name = s.name
            version = s.version.description
            description = s.description
            kinds = s.kinds.map(\.rawValue)
            nameMatching = s.nameMatching == .exact ? "exact" : "normalized"
            unknown = SchemaFile.describe(s.unknown)
            classes = s.classes.map {
                Class(id: $0.id, name: $0.name, parent: $0.parent, colour: $0.colour, terms: $0.terms.map(\.curie),
                      synonyms: $0.synonyms, description: $0.description)
            }
            mappings = s.mappings.count
        }
    }

    static func text(_ s: Schema, file: String) -> String {
        var lines = ["\(file): valid",
                     "  schema     \(s.name) \(s.version)",
                     "  kinds      \(s.kinds.map(\.rawValue).joined(separator: ", "))",
                     "  matching   \(s.nameMatching == .exact ? "exact" : "normalized"); unknown values: \(SchemaFile.describe(s.unknown))",
                     "  classes    \(s.classes.count)"]
        let width = s.classes.map(\.name.count).max() ?? 0
        for c in s.classes {
            var line = "    \(String(c.id).leftPad(4))  \(c.name.rightPad(width))  \(c.colour)"
            if let parent = c.parent { line += "  parent '\(parent)'" }
            if !c.terms.isEmpty { line += "  terms " + c.terms.map(\.curie).joined(separator: ", ") }
            if !c.synonyms.isEmpty { line += "  synonyms " + c.synonyms.map { "\"\($0)\"" }.joined(separator: ", ") }
            lines.append(line)
        }
        lines.append("  mappings   \(s.mappings.count)")
        return lines.joined(separator: "\n")
    }
}

struct SchemaDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "List what changed between two versions of a schema and the version bump that requires.",
        discussion: """
            A class of NEW is the same class as one of OLD when it has the same id, or else shares an \
            ontology term. Renamed, removed or re-numbered classes, changed parents, removed synonyms, \
            terms or mappings and a changed unknown policy need a major bump; added classes, synonyms, \
            terms, mappings or kinds a minor one; descriptions and colours a patch. Exit status 0 when \
            NEW's version is at least the version the changes require, 1 when it is not, 2 when a file \
            cannot be used.

            Example:
              trainset schema diff Tests/Fixtures/label-schema/kept-v1.json \\
                  Tests/Fixtures/label-schema/kept-v1-renamed.json
            """)

    @Argument(help: "The older schema file.", completion: .file(extensions: ["json"]))
    var old: String

    @Argument(help: "The newer schema file.", completion: .file(extensions: ["json"]))
    var new: String

    @Flag(help: "Print the changes as JSON.")
    var json = false

    func run() throws {
        let a = try SchemaFile.load(old, exitStatus: 2)
        let b = try SchemaFile.load(new, exitStatus: 2)
        let diff = SchemaDiff(old: a, new: b)
        print(json ? try JSONText.encode(Report(old: old, new: new, diff: diff)) : text(diff))
        if !diff.versionIsSufficient { throw ExitCode.failure }
    }

    private struct Report: Encodable {
        struct Change: Encodable {
            var kind: String
            var detail: String
            var bump: String
        }
        var old: String
        var new: String
        var oldVersion: String
        var newVersion: String
        var changes: [Change]
        var requiredBump: String
        var minimumVersion: String
        var versionIsSufficient: Bool

        init(old: String, new: String, diff: SchemaDiff) {
            self.old = old
            self.new = new
            oldVersion = diff.oldVersion.description
            newVersion = diff.newVersion.description
            changes = diff.changes.map { Change(kind: $0.kind.rawValue, detail: $0.detail, bump: $0.bump.description) }
            requiredBump = diff.requiredBump.description
            minimumVersion = diff.minimumVersion.description
            versionIsSufficient = diff.versionIsSufficient
        }
    }

    func text(_ d: SchemaDiff) -> String {
        var lines = ["--- \(old)  (version \(d.oldVersion))", "+++ \(new)  (version \(d.newVersion))"]
        if d.changes.isEmpty { lines.append("no changes") }
        for c in d.changes { lines.append("  \(c.bump.description.rightPad(5))  \(c.kind.rawValue): \(c.detail)") }
        lines.append("required bump: \(d.requiredBump) (\(d.oldVersion) → at least \(d.minimumVersion))")
        lines.append(d.versionIsSufficient
                     ? "version \(d.newVersion) is sufficient"
                     : "version \(d.newVersion) is NOT sufficient: set \"version\" in \(new) to \(d.minimumVersion) or later")
        return lines.joined(separator: "\n")
    }
}

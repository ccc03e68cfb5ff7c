import Foundation

extension Schema {
    /// Largest schema file accepted; real schemas are a few kilobytes.
    public static let maxFileSize = 16 << 20

    /// Loads and validates the schema file at `url`; errors name `url.path` and the JSON path.
    public static func load(contentsOf url: URL) throws(LabelSchemaError) -> Schema {
        let data: Data
        do {
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
            guard size <= maxFileSize else {
                throw LabelSchemaError(code: .unreadableSchema,
                                       message: "file is \(size) bytes, more than the \(maxFileSize) a schema may have",
                                       file: url.path)
            }
            data = try Data(contentsOf: url)
        } catch let error as LabelSchemaError {
            throw error
        } catch {
            throw LabelSchemaError(code: .unreadableSchema, message: "cannot read the schema file (\(error.localizedDescription))",
                                   file: url.path)
        }
        return try parse(data, file: url.path)
    }

    /// Validates schema JSON held in memory; `file` names it in errors.
    public static func parse(_ data: Data, file: String) throws(LabelSchemaError) -> Schema {
        let root: JSONValue
        do {
            root = try JSONValue.parse(data)
        } catch {
            throw LabelSchemaError(code: .unreadableSchema, message: "not valid JSON (\(error))", file: file)
        }
        var reader = SchemaReader(file: file)
        return try reader.schema(root)
    }

    /// The schema as JSON text in the spec's key order, two-space indented and newline
    /// terminated, so that `parse(jsonText)` gives the schema back.
    public var jsonText: String { SchemaWriter.value(of: self).text(indent: 2) + "\n" }
}

/// Walks the parsed JSON, keeping the path for error messages.
private struct SchemaReader {
    let file: String

    func fail(_ code: LabelSchemaError.Code, _ path: String, _ message: String) -> LabelSchemaError {
        LabelSchemaError(code: code, message: message, file: file, path: path.isEmpty ? nil : path)
    }

    /// The object's pairs, rejecting keys outside `allowed` (extension keys `x-…` are skipped).
    func object(_ v: JSONValue, _ path: String, allowed: [String]) throws(LabelSchemaError) -> [String: JSONValue] {
        guard case .object(let pairs) = v else { throw fail(.invalidSchema, path, "expected an object") }
        var out: [String: JSONValue] = [:]
        for (key, value) in pairs where !key.hasPrefix("x-") {
            guard allowed.contains(key) else {
                throw fail(.invalidSchema, join(path, key),
                           "unknown key; allowed keys are \(allowed.joined(separator: ", ")) (prefix extensions with x-)")
            }
            out[key] = value
        }
        return out
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func string(_ o: [String: JSONValue], _ key: String, _ path: String) throws(LabelSchemaError) -> String? {
        guard let v = o[key], v != .null else { return nil }
        guard case .string(let s) = v else { throw fail(.invalidSchema, join(path, key), "expected a string") }
        return s
    }

    func required(_ o: [String: JSONValue], _ key: String, _ path: String) throws(LabelSchemaError) -> String {
        guard let s = try string(o, key, path) else { throw fail(.invalidSchema, join(path, key), "required key is missing") }
        guard !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw fail(.invalidSchema, join(path, key), "must not be empty")
        }
        return s
    }

    func array(_ o: [String: JSONValue], _ key: String, _ path: String) throws(LabelSchemaError) -> [JSONValue] {
        guard let v = o[key], v != .null else { return [] }
        guard case .array(let items) = v else { throw fail(.invalidSchema, join(path, key), "expected an array") }
        return items
    }

    func strings(_ o: [String: JSONValue], _ key: String, _ path: String) throws(LabelSchemaError) -> [String] {
        var out: [String] = []
        for (i, item) in try array(o, key, path).enumerated() {
            guard case .string(let s) = item else { throw fail(.invalidSchema, "\(join(path, key))[\(i)]", "expected a string") }
            out.append(s)
        }
        return out
    }

    mutating func schema(_ root: JSONValue) throws(LabelSchemaError) -> Schema {
        let o = try object(root, "", allowed: ["format", "name", "version", "description", "kinds", "classes",
                                               "mappings", "name_matching", "unknown", "prefixes"])
        let format = try required(o, "format", "")
        guard format == Schema.format else {
            throw fail(.invalidSchema, "format", "is \"\(format)\"; this trainset reads \"\(Schema.format)\" (a newer schema format needs a newer trainset)")
        }
        let name = try required(o, "name", "")
        let versionText = try required(o, "version", "")
        guard let version = SemanticVersion(versionText) else {
            throw fail(.invalidSchema, "version", "\"\(versionText)\" is not a semantic version MAJOR.MINOR.PATCH such as 1.0.0")
        }
        var prefixes: [String: String] = [:]
        if let p = o["prefixes"] {
            guard case .object(let pairs) = p else { throw fail(.invalidSchema, "prefixes", "expected an object") }
            for (key, value) in pairs {
                guard case .string(let base) = value, base.hasPrefix("http://") || base.hasPrefix("https://") else {
                    throw fail(.invalidSchema, "prefixes.\(key)", "expected an IRI base such as \"http://purl.obolibrary.org/obo/FBbi_\"")
                }
                guard TermID.standardPrefixes[key] == nil else {
                    throw fail(.invalidSchema, "prefixes.\(key)", "is a standard prefix and cannot be redefined")
                }
                prefixes[key] = base
            }
        }
        let bases = TermID.standardPrefixes.merging(prefixes) { a, _ in a }

        var kinds: [LabelKind] = []
        for (i, k) in try strings(o, "kinds", "").enumerated() {
            guard let kind = LabelKind(rawValue: k) else {
                throw fail(.invalidSchema, "kinds[\(i)]", "unknown label kind \"\(k)\"; use one of \(LabelKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !kinds.contains(kind) else { throw fail(.invalidSchema, "kinds[\(i)]", "\"\(k)\" is listed twice") }
            kinds.append(kind)
        }
        guard !kinds.isEmpty else { throw fail(.invalidSchema, "kinds", "list at least one label kind") }

        let classValues = try array(o, "classes", "")
        guard !classValues.isEmpty else { throw fail(.invalidSchema, "classes", "list at least one class") }
        var classes: [SchemaClass] = []
        for (i, value) in classValues.enumerated() {
            classes.append(try schemaClass(value, "classes[\(i)]", bases: bases))
        }
        try checkClasses(classes, nameMatching: .exact)

        let nameMatching: MatchMode
        switch try string(o, "name_matching", "") ?? "normalized" {
        case "exact": nameMatching = .exact
        case "normalized": nameMatching = .caseInsensitive
        case let other: throw fail(.invalidSchema, "name_matching", "is \"\(other)\"; use exact or normalized")
        }
        try checkClasses(classes, nameMatching: nameMatching)

        var mappings: [SourceMapping] = []
        for (i, value) in try array(o, "mappings", "").enumerated() {
            mappings.append(try mapping(value, "mappings[\(i)]", classes: classes, bases: bases))
        }

        var unknown = UnknownValueRule.error
        if let u = o["unknown"] {
            let uo = try object(u, "unknown", allowed: ["policy", "class"])
            switch try required(uo, "policy", "unknown") {
            case "error": unknown = .error
            case "ignore": unknown = .ignore
            case "map":
                let target = try required(uo, "class", "unknown")
                guard classes.contains(where: { $0.name == target }) else {
                    throw fail(.invalidMapping, "unknown.class", "unknown class '\(target)'")
                }
                unknown = .mapTo(target)
            case let other:
                throw fail(.invalidSchema, "unknown.policy", "is \"\(other)\"; use error, map or ignore")
            }
            if case .mapTo = unknown {} else if uo["class"] != nil {
                throw fail(.invalidSchema, "unknown.class", "only the map policy takes a class")
            }
        }
        let schema = Schema(name: name, version: version, description: try string(o, "description", ""), kinds: kinds,
                            classes: classes, mappings: mappings, nameMatching: nameMatching, unknown: unknown,
                            prefixes: prefixes)
        // The normalizer's tables reject values that would reach two classes; do it now so the
        // loader names the offending entry.
        _ = try MatchTable(schema: schema, file: file)
        return schema
    }

    func schemaClass(_ v: JSONValue, _ path: String, bases: [String: String]) throws(LabelSchemaError) -> SchemaClass {
        let o = try object(v, path, allowed: ["id", "name", "description", "colour", "parent", "terms", "synonyms"])
        guard case .number(let n)? = o["id"] else {
            throw fail(.invalidSchema, join(path, "id"), o["id"] == nil ? "required key is missing" : "expected an integer")
        }
        guard n >= 0, n == n.rounded(), n <= Double(Int32.max) else {
            throw fail(.invalidSchema, join(path, "id"), "must be an integer from 0 to \(Int32.max)")
        }
        let name = try required(o, "name", path)
        guard name == name.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw fail(.invalidSchema, join(path, "name"), "has leading or trailing whitespace")
        }
        let colour = try required(o, "colour", path)
        guard colour.count == 7, colour.hasPrefix("#"), colour.dropFirst().allSatisfy(\.isHexDigit) else {
            throw fail(.invalidSchema, join(path, "colour"), "\"\(colour)\" is not a colour #RRGGBB")
        }
        var terms: [TermID] = []
        for (i, t) in try strings(o, "terms", path).enumerated() {
            guard let term = TermID.parse(t, bases: bases) else {
                throw fail(.invalidTerm, "\(join(path, "terms"))[\(i)]",
                           "\"\(t)\" is not a CURIE or IRI of a known ontology (\(bases.keys.sorted().joined(separator: ", "))); write e.g. CMPO:0000077 or declare the prefix under prefixes")
            }
            terms.append(term)
        }
        return SchemaClass(id: Int(n), name: name, description: try string(o, "description", path),
                           colour: colour.uppercased(), parent: try string(o, "parent", path), terms: terms,
                           synonyms: try strings(o, "synonyms", path))
    }

    /// Unique ids and names, known parents, no cycles.
    func checkClasses(_ classes: [SchemaClass], nameMatching: MatchMode) throws(LabelSchemaError) {
        var ids: [Int: Int] = [:]
        var names: [String: Int] = [:]
        for (i, c) in classes.enumerated() {
            if let j = ids[c.id] { throw fail(.invalidSchema, "classes[\(i)].id", "id \(c.id) is already used by classes[\(j)]") }
            ids[c.id] = i
            let key = nameMatching.key(c.name)
            if let j = names[key] {
                throw fail(.invalidSchema, "classes[\(i)].name",
                           "'\(c.name)' is the same name as classes[\(j)] '\(classes[j].name)'\(nameMatching == .exact ? "" : " under normalized matching")")
            }
            names[key] = i
        }
        for (i, c) in classes.enumerated() {
            guard let parent = c.parent else { continue }
            guard classes.contains(where: { $0.name == parent }) else {
                throw fail(.invalidHierarchy, "classes[\(i)].parent", "unknown class '\(parent)'")
            }
            var seen = [c.name]
            var current: String? = parent
            while let p = current {
                if seen.contains(p) {
                    throw fail(.invalidHierarchy, "classes[\(i)].parent",
                               "cycle \((seen + [p]).map { "'\($0)'" }.joined(separator: " → ")); a class cannot be its own ancestor")
                }
                seen.append(p)
                current = classes.first { $0.name == p }?.parent
            }
        }
    }

    func mapping(_ v: JSONValue, _ path: String, classes: [SchemaClass], bases: [String: String]) throws(LabelSchemaError) -> SourceMapping {
        let o = try object(v, path, allowed: ["match", "value", "term", "pattern", "class"])
        let target = try required(o, "class", path)
        guard classes.contains(where: { $0.name == target }) else {
            throw fail(.invalidMapping, join(path, "class"), "unknown class '\(target)'")
        }
        let kind = try required(o, "match", path)
        let expected: String
        switch kind {
        case "exact", "normalized": expected = "value"
        case "term": expected = "term"
        case "regex": expected = "pattern"
        default: throw fail(.invalidSchema, join(path, "match"), "is \"\(kind)\"; use exact, normalized, term or regex")
        }
        for key in ["value", "term", "pattern"] where key != expected && o[key] != nil {
            throw fail(.invalidSchema, join(path, key), "a \(kind) mapping takes \"\(expected)\", not \"\(key)\"")
        }
        let text = try required(o, expected, path)
        switch kind {
        case "exact": return SourceMapping(.exact(text), className: target)
        case "normalized": return SourceMapping(.normalized(text), className: target)
        case "term":
            guard let term = TermID.parse(text, bases: bases) else {
                throw fail(.invalidTerm, join(path, "term"),
                           "\"\(text)\" is not a CURIE or IRI of a known ontology; write e.g. CMPO:0000077")
            }
            return SourceMapping(.term(term), className: target)
        default:
            // Compiled (and rejected with its path) when the match table is built.
            return SourceMapping(.regex(text), className: target)
        }
    }
}

/// Builds the file form of a schema, keys in the spec's order.
enum SchemaWriter {
    static func value(of s: Schema) -> JSONValue {
        var top: [(key: String, value: JSONValue)] = [
            ("format", .string(Schema.format)), ("name", .string(s.name)), ("version", .string(s.version.description)),
        ]
        if let d = s.description { top.append(("description", .string(d))) }
        top.append(("kinds", .array(s.kinds.map { .string($0.rawValue) })))
        if !s.prefixes.isEmpty {
            top.append(("prefixes", .object(s.prefixes.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        top.append(("name_matching", .string(s.nameMatching == .exact ? "exact" : "normalized")))
        top.append(("classes", .array(s.classes.map { c in
            var o: [(key: String, value: JSONValue)] = [("id", .number(Double(c.id))), ("name", .string(c.name))]
            if let d = c.description { o.append(("description", .string(d))) }
            o.append(("colour", .string(c.colour)))
            if let p = c.parent { o.append(("parent", .string(p))) }
            if !c.terms.isEmpty { o.append(("terms", .array(c.terms.map { .string($0.curie) }))) }
            if !c.synonyms.isEmpty { o.append(("synonyms", .array(c.synonyms.map { .string($0) }))) }
            return .object(o)
        })))
        if !s.mappings.isEmpty {
            top.append(("mappings", .array(s.mappings.map { m in
                let (kind, key, text): (String, String, String) = switch m.matcher {
                case .exact(let v): ("exact", "value", v)
                case .normalized(let v): ("normalized", "value", v)
                case .term(let t): ("term", "term", t.curie)
                case .regex(let p): ("regex", "pattern", p)
                }
                return .object([("match", .string(kind)), (key, .string(text)), ("class", .string(m.className))])
            })))
        }
        let unknown: JSONValue = switch s.unknown {
        case .error: .object([("policy", .string("error"))])
        case .ignore: .object([("policy", .string("ignore"))])
        case .mapTo(let c): .object([("policy", .string("map")), ("class", .string(c))])
        }
        top.append(("unknown", unknown))
        return .object(top)
    }
}

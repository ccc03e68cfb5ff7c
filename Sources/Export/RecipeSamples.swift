import Foundation
import SampleLinking
import Tiling
import Yams

/// The recipe's `samples` (specs/samples/v1.md §2) and `augmentation` (specs/augmentation/v1.md
/// §2) sections are decoded through their modules' Codable models rather than walked by hand:
/// their YAML keys are the snake_case forms of those fields. Two checks keep the hand-walked
/// sections' guarantees: an unknown (misspelled) key is an error, and every error names the
/// recipe line.
extension RecipeReader {
    func samples(_ node: Node) throws(ExportError) -> SamplesConfig {
        try codableSection(node, "samples", spec: "specs/samples/v1.md §2", as: SamplesConfig.self)
    }

    func augmentation(_ node: Node) throws(ExportError) -> AugmentationPipeline {
        try codableSection(node, "augmentation", spec: "specs/augmentation/v1.md §2", as: AugmentationPipeline.self)
    }

    /// Decodes a section whose model is a Codable type of another module. Keys may be written
    /// in snake_case (the recipe's convention) or in the type's camelCase.
    func codableSection<T: Codable>(_ node: Node, _ section: String, spec: String, as type: T.Type)
        throws(ExportError) -> T {
        let value: T
        do {
            value = try YAMLDecoder().decode(T.self, from: Self.camelCased(node))
        } catch let error as DecodingError {
            throw decodingFailure(error, in: node, section: section)
        } catch {
            throw fail(node, section, "\(error)")
        }
        let encoded: Any
        do {
            encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
        } catch {
            throw fail(node, section, "cannot re-encode the section: \(error)")
        }
        try rejectUnknownKeys(node, known: encoded, path: section, spec: spec)
        return value
    }

    /// A copy of `node` whose mapping keys are camelCase (`group_column` → `groupColumn`).
    static func camelCased(_ node: Node) -> Node {
        switch node {
        case .mapping(let map):
            return Node(map.map { (key, value) in (Node(camel(key.string ?? "")), camelCased(value)) })
        case .sequence(let seq):
            return Node(seq.map(camelCased))
        case .scalar, .alias:
            return node
        }
    }

    static func camel(_ key: String) -> String {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        return ([String(parts.first ?? "")] + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }).joined()
    }

    static func snake(_ key: String) -> String {
        key.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
    }

    /// A key the decoder did not consume is absent from the re-encoded value: the decoder would
    /// otherwise ignore a misspelled optional key and silently apply a default.
    private func rejectUnknownKeys(_ node: Node, known: Any, path: String, spec: String) throws(ExportError) {
        switch node {
        case .mapping(let map):
            let dictionary = known as? [String: Any] ?? [:]
            for (keyNode, value) in map {
                let key = keyNode.string ?? ""
                let keyPath = "\(path).\(key)"
                guard let inner = dictionary[Self.camel(key)] else {
                    if case .scalar = value, value.null != nil { continue }
                    var message = "unknown key '\(keyPath)'"
                    let siblings = dictionary.keys.map(Self.snake).sorted()
                    if let near = Spelling.nearest(key, in: siblings) { message += "; did you mean '\(near)'?" }
                    throw fail(keyNode, "", message + " (see \(spec))")
                }
                try rejectUnknownKeys(value, known: inner, path: keyPath, spec: spec)
            }
        case .sequence(let seq):
            let array = known as? [Any] ?? []
            for (i, element) in seq.enumerated() where i < array.count {
                try rejectUnknownKeys(element, known: array[i], path: "\(path)[\(i)]", spec: spec)
            }
        case .scalar, .alias:
            return
        }
    }

    /// Turns a Codable error into `recipe.yaml:LINE: samples.key.path: message`.
    private func decodingFailure(_ error: DecodingError, in root: Node, section: String) -> ExportError {
        let (context, message): (DecodingError.Context, String) = switch error {
        case .keyNotFound(let key, let c): (c, "missing required key '\(Self.snake(key.stringValue))'")
        case .typeMismatch(let type, let c): (c, "expected \(Self.describe(type)); \(c.debugDescription)")
        case .valueNotFound(let type, let c): (c, "expected \(Self.describe(type)), found nothing")
        case .dataCorrupted(let c): (c, c.debugDescription)
        @unknown default: (DecodingError.Context(codingPath: [], debugDescription: ""), "\(error)")
        }
        let keys = context.codingPath.map { (index: $0.intValue, name: $0.stringValue) }
        if let invalid = context.underlyingError as? TilingError {
            // A value out of range, found by the model's validation: named by its dotted path
            // and located at the step it is in, like the decoding errors.
            let field = invalid.field == section ? [] : Self.pathKeys(invalid.field)
            return failure(at: keys + field, invalid.message, in: root, section: section)
        }
        return failure(at: keys, message, in: root, section: section)
    }

    /// An error at the field that `keys` (sequence indexes or camelCase mapping keys, from the
    /// section down) name, located at the deepest node of `root` they reach.
    private func failure(at keys: [(index: Int?, name: String)], _ message: String, in root: Node, section: String) -> ExportError {
        var node: Node? = root
        var path = section
        for key in keys {
            if let index = key.index {
                path += "[\(index)]"
                if case .sequence(let seq)? = node, index < seq.count { node = seq[index] } else { node = nil }
            } else {
                path += ".\(Self.snake(key.name))"
                if case .mapping(let map)? = node {
                    node = map.first { $0.key.string.map(Self.camel) == key.name }?.value ?? node
                }
            }
        }
        return fail(node ?? root, path, message)
    }

    /// The keys of a field path such as `steps[2].affine`.
    private static func pathKeys(_ field: String) -> [(index: Int?, name: String)] {
        field.split(separator: ".").flatMap { part -> [(index: Int?, name: String)] in
            let pieces = part.split(separator: "[")
            return [(nil, String(pieces[0]))] + pieces.dropFirst().compactMap { Int($0.dropLast()).map { ($0, "") } }
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "a \(type)"
        }
    }
}

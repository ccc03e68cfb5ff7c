import Foundation

/// A relative path with `{Variable}` placeholders, e.g. `images/{Plate}/{Well}.tif`.
///
/// Variables are filled from a table row (column names) or from an image path (`{stem}`,
/// `{name}`, `{dir}`). Every rendered path stays inside the dataset root: the template may not
/// be absolute or use `..`, and a row value may not contain `/` or be `.` or `..`.
public struct PathTemplate: Sendable, Equatable, CustomStringConvertible {
    /// The template as written.
    public let template: String
    /// Variable names in order of first appearance.
    public let variables: [String]
    /// Literal directory segments before the first segment that has a variable; `""` when the
    /// first segment already has one. Images a table could point to all live below it.
    public let fixedDirectory: String

    private enum Piece: Sendable, Equatable { case literal(String), variable(String) }
    private let pieces: [Piece]

    /// Parses `template`; fails on unbalanced braces, empty variable names, absolute paths,
    /// and `.`/`..`/empty segments.
    public init(_ template: String) throws(AVDBError) {
        func invalid(_ why: String) -> AVDBError {
            AVDBError(.invalidTemplate, "path template \"\(template)\" \(why)")
        }
        guard !template.isEmpty else { throw invalid("is empty") }
        guard !template.hasPrefix("/") else { throw invalid("is absolute; write it relative to the dataset root") }
        var pieces: [Piece] = []
        var variables: [String] = []
        var literal = ""
        var rest = template[...]
        while let c = rest.first {
            rest = rest.dropFirst()
            if c == "}" { throw invalid("has a \"}\" without a matching \"{\"") }
            guard c == "{" else {
                literal.append(c)
                continue
            }
            guard let close = rest.firstIndex(of: "}") else { throw invalid("has a \"{\" that is never closed") }
            let name = String(rest[..<close])
            guard !name.isEmpty, !name.contains("{") else { throw invalid("has an empty or nested {}") }
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
            pieces.append(.variable(name))
            if !variables.contains(name) { variables.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        let segments = template.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw invalid("has an empty, \".\" or \"..\" path segment; images must lie below the dataset root")
        }
        self.template = template
        self.variables = variables
        self.pieces = pieces
        self.fixedDirectory = segments.dropLast().prefix { !$0.contains("{") }.joined(separator: "/")
    }

    public var description: String { template }

    /// The path for data row `row` of `table`.
    ///
    /// Every variable must be a column (the error names the variable and near matches), and
    /// every value used must be non-empty, contain no `/` or `\`, and not be `.` or `..`.
    public func path(forRow row: Int, of table: AnnotationTable) throws(AVDBError) -> String {
        var columnIndex: [String: Int] = [:]
        for name in variables {
            columnIndex[name] = try table.columnIndex(forTemplateVariable: name, in: self)
        }
        return try path(forRow: row, of: table, columnIndex: columnIndex)
    }

    func path(forRow row: Int, of table: AnnotationTable, columnIndex: [String: Int]) throws(AVDBError) -> String {
        let line = table.line(ofRow: row)
        var result = ""
        for piece in pieces {
            switch piece {
            case .literal(let text):
                result += text
            case .variable(let name):
                let value = table.value(row: row, column: columnIndex[name]!)
                if value.isEmpty {
                    throw AVDBError(.emptyKeyValue,
                                    "column \"\(name)\" is empty but the path template \"\(template)\" needs it",
                                    file: table.file, line: line, column: name)
                }
                if value.contains("/") || value.contains("\\") || value == "." || value == ".." {
                    throw AVDBError(.pathEscapesRoot,
                                    "value \"\(value)\" of column \"\(name)\" would make a path that escapes the dataset root; values used in paths may not contain \"/\" or \"\\\" or be \".\" or \"..\"",
                                    file: table.file, line: line, column: name)
                }
                result += value
            }
        }
        try Self.checkInsideRoot(result, file: table.file, line: line)
        return result
    }

    /// The path derived from an image's path relative to the dataset root, e.g. the mask
    /// folder `stage1_train/{stem}/masks` of `stage1_train/abc/images/abc.png`.
    ///
    /// Variables: `{name}` file name (`abc.png`), `{stem}` file name without its last
    /// extension (`abc`), `{dir}` parent directory relative to the root
    /// (`stage1_train/abc/images`, `""` at top level).
    public func path(forImage relativePath: String) throws(AVDBError) -> String {
        let name = (relativePath as NSString).lastPathComponent
        let bindings = [
            "name": name,
            "stem": (name as NSString).deletingPathExtension,
            "dir": (relativePath as NSString).deletingLastPathComponent,
        ]
        var result = ""
        for piece in pieces {
            switch piece {
            case .literal(let text):
                result += text
            case .variable(let variable):
                guard let value = bindings[variable] else {
                    throw AVDBError(.invalidTemplate,
                                    "path template \"\(template)\" uses {\(variable)}; image paths provide only {name}, {stem} and {dir}",
                                    file: relativePath)
                }
                result += value
            }
        }
        // `{dir}` of a top-level image is empty; drop the separator it leaves behind.
        while result.hasPrefix("/") { result.removeFirst() }
        try Self.checkInsideRoot(result, file: relativePath, line: nil)
        return result
    }

    private static func checkInsideRoot(_ path: String, file: String, line: Int?) throws(AVDBError) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.hasPrefix("/") || segments.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) {
            throw AVDBError(.pathEscapesRoot,
                            "path \"\(path)\" escapes the dataset root or has an empty segment",
                            file: file, line: line)
        }
    }
}

extension AnnotationTable {
    /// Column index for a template variable, with an error that names the variable.
    func columnIndex(forTemplateVariable name: String, in template: PathTemplate) throws(AVDBError) -> Int {
        if let index = table.header.firstIndex(of: name) { return index }
        throw AVDBError(.invalidTemplate,
                        "path template \"\(template.template)\" uses {\(name)}, which is not a column; " + suggestion(for: name),
                        file: file, column: name)
    }
}

/// The outcome of pairing table rows with image files.
public struct ImageMatchResult: Sendable, Equatable {
    /// A row and the image it names.
    public struct Match: Sendable, Equatable {
        /// 0-based data row.
        public let row: Int
        /// Line of the row in the table.
        public let line: Int
        /// Image path relative to the dataset root.
        public let path: String
    }

    /// A row whose image is not on disk.
    public struct MissingImage: Sendable, Equatable, CustomStringConvertible {
        /// 0-based data row.
        public let row: Int
        /// Line of the row in the table.
        public let line: Int
        /// The row's key, e.g. `Plate=Week1_22123, Well=B2`.
        public let key: String
        /// Where the image was looked for, relative to the dataset root.
        public let expectedPath: String

        /// `line N: Plate=…, Well=… → images/….tif`.
        public var description: String { "line \(line): \(key) → \(expectedPath) (not found)" }
    }

    /// Rows with an image, in row order.
    public let matched: [Match]
    /// Rows without an image, in row order.
    public let missing: [MissingImage]
    /// Image files no row points to, relative to the root, sorted by UTF-8 bytes.
    public let unreferenced: [String]
}

/// Pairs annotation rows with image files below a dataset root.
public enum ImageMatcher {
    /// Matches every row of `table` to `template` rendered with its values.
    ///
    /// - Parameters:
    ///   - keyColumns: columns that identify a row, e.g. `["Plate", "Well"]`; two rows with
    ///     the same key are an error naming both lines. Empty means the template's variables.
    ///   - template: where a row's image lives; its variables must be columns.
    ///   - root: the dataset root the template is relative to.
    ///   - imagePattern: glob (relative to `root`) of the image files on disk, used to find
    ///     unreferenced images; default: every file with an image extension below the
    ///     template's `fixedDirectory`.
    public static func match(
        table: AnnotationTable,
        keyColumns: [String] = [],
        template: PathTemplate,
        root: URL,
        imagePattern: String? = nil,
        links: LinkPolicy = .refuse
    ) throws(AVDBError) -> ImageMatchResult {
        let keyColumns = keyColumns.isEmpty ? template.variables : keyColumns
        var keyIndex: [Int] = []
        for name in keyColumns { keyIndex.append(try table.columnIndex(named: name)) }
        var variableIndex: [String: Int] = [:]
        for name in template.variables {
            variableIndex[name] = try table.columnIndex(forTemplateVariable: name, in: template)
        }

        var firstLineOfKey: [[String]: Int] = [:]
        var matched: [ImageMatchResult.Match] = []
        var missing: [ImageMatchResult.MissingImage] = []
        var referenced = Set<String>()
        for row in 0..<table.rowCount {
            let line = table.line(ofRow: row)
            let key = keyIndex.map { table.value(row: row, column: $0) }
            let keyText = zip(keyColumns, key).map { "\($0)=\($1)" }.joined(separator: ", ")
            if let earlier = firstLineOfKey[key] {
                throw AVDBError(.duplicateKey,
                                "rows at lines \(earlier) and \(line) have the same key \(keyText); key columns must identify one row",
                                file: table.file, line: line)
            }
            firstLineOfKey[key] = line
            let path = try template.path(forRow: row, of: table, columnIndex: variableIndex)
            try refuseEscape(root: root, relative: path, links: links)
            if isRegularFile(root.appendingPathComponent(path)) {
                matched.append(.init(row: row, line: line, path: path))
                referenced.insert(path)
            } else {
                missing.append(.init(row: row, line: line, key: keyText, expectedPath: path))
            }
        }

        let onDisk: [String]
        if let imagePattern {
            onDisk = try ImageLister.list(root: root, pattern: imagePattern, links: links)
        } else {
            onDisk = try ImageLister.images(root: root, under: template.fixedDirectory, links: links)
        }
        return ImageMatchResult(matched: matched, missing: missing,
                                unreferenced: onDisk.filter { !referenced.contains($0) })
    }

    /// Throws `.pathEscapesRoot` when `relative` names an existing file that symbolic links
    /// place outside `root`, unless `links` is `.follow`. Templates and patterns refuse `..` and
    /// absolute paths whatever the policy; a link is the remaining way for a dataset to make an
    /// export read files it does not contain.
    public static func refuseEscape(root: URL, relative: String, links: LinkPolicy = .refuse) throws(AVDBError) {
        guard links == .refuse else { return }
        let url = root.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let rootPath = root.resolvingSymlinksInPath().path
        let resolved = url.resolvingSymlinksInPath().path
        guard resolved == rootPath || resolved.hasPrefix(rootPath.hasSuffix("/") ? rootPath : rootPath + "/") else {
            throw AVDBError(.pathEscapesRoot, "is a symbolic link to \(resolved), outside the dataset root \(root.path); "
                            + "copy the file into the dataset, or set inputs.links_outside_root: follow in the recipe",
                            file: url.path)
        }
    }

    /// True for an existing file that is not a directory (symbolic links followed).
    public static func isRegularFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// True for an existing directory (symbolic links followed).
    public static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// Lists image files below a dataset root, for datasets that have no table and to find
/// images a table does not mention. Paths are relative to the root, `/`-separated and sorted
/// by UTF-8 bytes so the order never depends on the file system or locale.
public enum ImageLister {
    /// Lower-case extensions treated as images (`.ome.tif` ends in `tif`).
    public static let imageExtensions: Set<String> = ["tif", "tiff", "png", "jpg", "jpeg"]

    /// Files matching `pattern`, e.g. `stage1_train/*/images/*.png`.
    ///
    /// `*` matches any run of characters and `?` one character, both within one path segment.
    /// Wildcards skip hidden entries (leading `.`); a literal segment may name one.
    /// Intermediate segments match directories, the last one regular files.
    public static func list(root: URL, pattern: String, links: LinkPolicy = .refuse) throws(AVDBError) -> [String] {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !pattern.isEmpty, !pattern.hasPrefix("/"),
              !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.contains("**") })
        else {
            throw AVDBError(.invalidPattern,
                            "image pattern \"\(pattern)\" must be relative to the dataset root, without \"..\", \"**\" or empty segments",
                            file: root.path)
        }
        var current = [""]
        for (position, segment) in segments.enumerated() {
            let wantDirectory = position < segments.count - 1
            var next: [String] = []
            for base in current {
                let names: [String]
                if segment.contains("*") || segment.contains("?") {
                    names = try entries(of: root.appendingPathComponent(base)).filter { wildcardMatch(segment, $0) }
                } else {
                    names = [segment]
                }
                for name in names {
                    let relative = base.isEmpty ? name : base + "/" + name
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path,
                                                         isDirectory: &isDirectory),
                          isDirectory.boolValue == wantDirectory
                    else { continue }
                    try ImageMatcher.refuseEscape(root: root, relative: relative, links: links)
                    next.append(relative)
                }
            }
            current = next
        }
        return sortedPaths(current)
    }

    /// Every non-hidden file below `root/directory` whose extension is an image extension;
    /// `[]` when the directory does not exist. Symbolic links to directories are not entered,
    /// so a link cycle cannot make the walk endless.
    public static func images(root: URL, under directory: String, links: LinkPolicy = .refuse) throws(AVDBError) -> [String] {
        guard ImageMatcher.isDirectory(root.appendingPathComponent(directory)) else { return [] }
        var found: [String] = []
        try walk(root: root, relative: directory, links: links, into: &found)
        return sortedPaths(found)
    }

    private static func walk(root: URL, relative: String, links: LinkPolicy, into found: inout [String]) throws(AVDBError) {
        for name in try entries(of: root.appendingPathComponent(relative)) {
            let path = relative.isEmpty ? name : relative + "/" + name
            let url = root.appendingPathComponent(path)
            let type: FileAttributeType?
            do {
                type = try FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType
            } catch {
                throw AVDBError(.fileUnreadable, "cannot inspect file: \(error.localizedDescription)", file: url.path)
            }
            if type == .typeDirectory {
                try walk(root: root, relative: path, links: links, into: &found)
            } else if imageExtensions.contains((name as NSString).pathExtension.lowercased()),
                      ImageMatcher.isRegularFile(url) {
                try ImageMatcher.refuseEscape(root: root, relative: path, links: links)
                found.append(path)
            }
        }
    }

    /// Sorts by UTF-8 bytes, independent of locale and Unicode normalisation.
    static func sortedPaths(_ paths: [String]) -> [String] {
        paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Names in `directory`, hidden ones excluded.
    private static func entries(of directory: URL) throws(AVDBError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }
        } catch {
            throw AVDBError(.fileUnreadable, "cannot list directory: \(error.localizedDescription)", file: directory.path)
        }
    }

    /// Shell-style match of one segment: `*` any run, `?` one character.
    static func wildcardMatch(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern), s = Array(name)
        var pi = 0, si = 0
        var star = -1, resume = 0
        while si < s.count {
            if pi < p.count, p[pi] == "*" {
                star = pi
                resume = si
                pi += 1
            } else if pi < p.count, p[pi] == "?" || p[pi] == s[si] {
                pi += 1
                si += 1
            } else if star >= 0 {
                pi = star + 1
                resume += 1
                si = resume
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// Whether a dataset may reach files outside its root through symbolic links (recipe
/// `inputs.links_outside_root`). `..` and absolute paths are refused under either policy.
public enum LinkPolicy: String, Sendable, Equatable, CaseIterable {
    /// Refuse a file whose resolved location lies outside the root (the default).
    case refuse
    /// Read it: for datasets assembled from links into shared storage.
    case follow
}

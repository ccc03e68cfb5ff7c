import Foundation

/// An IDR-style annotation table: one row per image, well or dataset, with columns looked up by
/// name and the IDR column families (`Characteristics [X]` with their term source pairs,
/// `Phenotype N` with term names and accessions) already recognised.
public struct AnnotationTable: Sendable, Equatable {
    /// The parsed file.
    public let table: CSVTable
    /// `Characteristics [X]` columns in header order.
    public let characteristicColumns: [CharacteristicColumn]
    /// Phenotype column groups in header order.
    public let phenotypeColumns: [PhenotypeColumns]
    /// Things about the header worth telling the user that do not stop reading, such as a
    /// misspelt `Characterisics [...]` column.
    public let warnings: [AnnotationWarning]

    /// Reads the table at `url` (comma-separated unless the extension says tab).
    public init(contentsOf url: URL, options: CSVOptions = .init()) throws(AVDBError) {
        self.init(try CSVTable(contentsOf: url, options: options))
    }

    /// Wraps an already parsed table.
    public init(_ table: CSVTable) {
        self.table = table
        let header = table.header
        var characteristics: [CharacteristicColumn] = []
        var warnings: [AnnotationWarning] = []
        for (index, name) in header.enumerated() {
            guard let parsed = Self.characteristicName(name) else { continue }
            if parsed.misspelt {
                warnings.append(AnnotationWarning(
                    file: table.file, column: name,
                    message: "column \(index + 1) \"\(name)\" is read as \"Characteristics [\(parsed.name)]\" (misspelt header)"))
            }
            var refIndex: Int?
            var accessionIndex: Int?
            // IDR puts the term source pair right after the value column; the number N is
            // not reliable (idr0038 numbers them 1, 2, 5, 3, 4), so position decides.
            if index + 2 < header.count,
               let n = Self.termSourceNumber(header[index + 1], suffix: "REF"),
               Self.termSourceNumber(header[index + 2], suffix: "Accession") == n {
                refIndex = index + 1
                accessionIndex = index + 2
            }
            characteristics.append(CharacteristicColumn(
                name: parsed.name, header: name, valueIndex: index,
                termSourceIndex: refIndex, accessionIndex: accessionIndex))
        }
        var phenotypes: [PhenotypeColumns] = []
        for (index, name) in header.enumerated() where Self.isPhenotypeValueColumn(name) {
            phenotypes.append(PhenotypeColumns(
                name: name, valueIndex: index,
                termNameIndex: header.firstIndex(of: name + " Term Name"),
                accessionIndex: header.firstIndex(of: name + " Term Accession")))
        }
        self.characteristicColumns = characteristics
        self.phenotypeColumns = phenotypes
        self.warnings = warnings
    }

    /// Path of the source, as given.
    public var file: String { table.file }
    /// Column names in header order.
    public var columns: [String] { table.header }
    /// Number of data rows.
    public var rowCount: Int { table.rows.count }

    /// 1-based line in the file where data row `row` (0-based) starts.
    public func line(ofRow row: Int) -> Int { table.rows[row].line }

    /// Index of the column named exactly `name`.
    ///
    /// The error lists near matches (same name in another case, one name containing the
    /// other, or a few typing mistakes away) so a recipe author sees the real header.
    public func columnIndex(named name: String) throws(AVDBError) -> Int {
        if let index = table.header.firstIndex(of: name) { return index }
        throw AVDBError(.unknownColumn, "unknown column \"\(name)\"; " + suggestion(for: name),
                        file: file, column: name)
    }

    /// Value of `row` (0-based) in column `column` (0-based); `""` past the end of a ragged row.
    public func value(row: Int, column: Int) -> String { table.rows[row][column] }

    /// Value of `row` (0-based) in the column named `name`.
    public func value(row: Int, column name: String) throws(AVDBError) -> String {
        value(row: row, column: try columnIndex(named: name))
    }

    /// Every row's value in the column named `name`, in row order.
    public func values(column name: String) throws(AVDBError) -> [String] {
        let index = try columnIndex(named: name)
        return table.rows.map { $0[index] }
    }

    /// The characteristics of `row` that have a value, in header order.
    public func characteristics(row: Int) -> [Characteristic] {
        characteristicColumns.compactMap { column in
            let value = self.value(row: row, column: column.valueIndex)
            guard !value.isEmpty else { return nil }
            return Characteristic(
                name: column.name, value: value,
                termSource: column.termSourceIndex.map { self.value(row: row, column: $0) }.flatMap(Self.nonEmpty),
                accession: column.accessionIndex.map { self.value(row: row, column: $0) }.flatMap(Self.nonEmpty))
        }
    }

    /// The phenotypes of `row`, in header order; a group counts when any of its three cells
    /// is filled.
    public func phenotypes(row: Int) -> [Phenotype] {
        phenotypeColumns.compactMap { group in
            let value = self.value(row: row, column: group.valueIndex)
            let termName = group.termNameIndex.map { self.value(row: row, column: $0) } ?? ""
            let accession = group.accessionIndex.map { self.value(row: row, column: $0) } ?? ""
            guard !(value.isEmpty && termName.isEmpty && accession.isEmpty) else { return nil }
            return Phenotype(column: group.name, value: value,
                             termName: Self.nonEmpty(termName), accession: Self.nonEmpty(accession))
        }
    }

    /// "did you mean …?" text for an unknown column or template variable.
    func suggestion(for name: String) -> String {
        let near = ColumnNameMatcher.nearMatches(for: name, in: table.header)
        if !near.isEmpty {
            return "did you mean " + near.map { "\"\($0)\"" }.joined(separator: " or ") + "?"
        }
        let shown = table.header.prefix(12).map { "\"\($0)\"" }.joined(separator: ", ")
        return "the table has columns " + shown + (table.header.count > 12 ? ", …" : "")
    }

    private static func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }

    /// `Characteristics [X]` → X. The misspelling `Characterisics` occurs in idr0038's real
    /// header, so any spelling within two edits of `Characteristics` is accepted and flagged.
    private static func characteristicName(_ header: String) -> (name: String, misspelt: Bool)? {
        guard let open = header.firstIndex(of: "["), header.hasSuffix("]") else { return nil }
        let word = header[..<open].trimmingCharacters(in: .whitespaces)
        let name = header[header.index(after: open)..<header.index(before: header.endIndex)]
            .trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        if word == "Characteristics" { return (name, false) }
        if ColumnNameMatcher.editDistance(word.lowercased(), "characteristics") <= 2 { return (name, true) }
        return nil
    }

    /// N of `Term Source N <suffix>`.
    private static func termSourceNumber(_ header: String, suffix: String) -> Int? {
        let parts = header.split(separator: " ")
        guard parts.count == 4, parts[0] == "Term", parts[1] == "Source", parts[3] == suffix else { return nil }
        return Int(parts[2])
    }

    /// `Phenotype` or `Phenotype N`.
    private static func isPhenotypeValueColumn(_ header: String) -> Bool {
        if header == "Phenotype" { return true }
        guard header.hasPrefix("Phenotype ") else { return false }
        let number = header.dropFirst("Phenotype ".count)
        return !number.isEmpty && number.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

/// A `Characteristics [X]` column and the term source columns that follow it.
public struct CharacteristicColumn: Sendable, Equatable {
    /// X, e.g. `Sex`.
    public let name: String
    /// The header as written, e.g. `Characteristics [Sex]`.
    public let header: String
    /// Column index of the value.
    public let valueIndex: Int
    /// Column index of `Term Source N REF`, when the pair follows the value.
    public let termSourceIndex: Int?
    /// Column index of `Term Source N Accession`, when the pair follows the value.
    public let accessionIndex: Int?
}

/// One characteristic of a row, e.g. Sex = male (PATO, PATO_0000384).
public struct Characteristic: Sendable, Equatable {
    /// X of `Characteristics [X]`.
    public let name: String
    /// The cell's text.
    public let value: String
    /// The `Term Source N REF` cell, e.g. `PATO`.
    public let termSource: String?
    /// The `Term Source N Accession` cell, e.g. `PATO_0000384`.
    public let accession: String?

    /// A characteristic as read from a row.
    public init(name: String, value: String, termSource: String?, accession: String?) {
        self.name = name
        self.value = value
        self.termSource = termSource
        self.accession = accession
    }
}

/// The columns describing one phenotype slot: `Phenotype N` (or `Phenotype`) and, when the
/// table has them, `… Term Name` and `… Term Accession`. idr0026 leaves the term columns out
/// for some slots, so both are optional.
public struct PhenotypeColumns: Sendable, Equatable {
    /// The value column's header, e.g. `Phenotype 3`.
    public let name: String
    /// Column index of the free-text value.
    public let valueIndex: Int
    /// Column index of `… Term Name`.
    public let termNameIndex: Int?
    /// Column index of `… Term Accession`.
    public let accessionIndex: Int?
}

/// One phenotype of a row, e.g. "reduced CTL speed" → decreased cell movement speed (CMPO_0000240).
public struct Phenotype: Sendable, Equatable {
    /// Header of the value column it came from, e.g. `Phenotype 2`.
    public let column: String
    /// The free-text value as the submitters wrote it.
    public let value: String
    /// Ontology term name.
    public let termName: String?
    /// Ontology accession, e.g. `CMPO_0000240`.
    public let accession: String?

    /// A phenotype as read from a row.
    public init(column: String, value: String, termName: String?, accession: String?) {
        self.column = column
        self.value = value
        self.termName = termName
        self.accession = accession
    }
}

/// A remark about an annotation table that does not stop reading it.
public struct AnnotationWarning: Sendable, Equatable, CustomStringConvertible {
    /// File the remark is about.
    public let file: String
    /// Column the remark is about.
    public let column: String
    /// What was noticed and how it was handled.
    public let message: String

    /// `file: message` on one line.
    public var description: String { "\(file): warning: \(message)" }
}

/// Ranks column names by how likely the user meant them.
enum ColumnNameMatcher {
    /// Up to three names close to `name`: equal ignoring case, then containing or contained
    /// in it ignoring case, then within a few edits; ties keep header order.
    static func nearMatches(for name: String, in names: [String]) -> [String] {
        let needle = name.lowercased()
        let budget = max(2, needle.count / 4)
        var ranked: [(rank: Int, distance: Int, index: Int, name: String)] = []
        for (index, candidate) in names.enumerated() {
            let hay = candidate.lowercased()
            let distance = editDistance(needle, hay)
            if hay == needle {
                ranked.append((0, 0, index, candidate))
            } else if !needle.isEmpty, hay.contains(needle) || needle.contains(hay), !hay.isEmpty {
                ranked.append((1, distance, index, candidate))
            } else if distance <= budget {
                ranked.append((2, distance, index, candidate))
            }
        }
        ranked.sort { ($0.rank, $0.distance, $0.index) < ($1.rank, $1.distance, $1.index) }
        return ranked.prefix(3).map(\.name)
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

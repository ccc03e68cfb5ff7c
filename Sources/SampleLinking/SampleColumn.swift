import Foundation

/// One column of the `/samples` table, stored the way an HDF5 writer wants it: one typed array
/// per column plus a validity mask.
///
/// Exactly the arrays the type needs are set: `integer` → `ints`; `float` → `doubles`;
/// `categorical` → `ints` (codes into `categories`, -1 for null); `quantity` → `doubles` (lower
/// bound), `upperDoubles` (upper bound) and `unit`; `date` and `text` → `strings`. Null cells
/// hold 0, 0.0 or "" and `valid` is false; `valid` is authoritative.
public struct SampleColumn: Sendable, Codable, Equatable {
    /// Output column name (the source header).
    public var name: String
    /// Value type.
    public var type: SampleValueType
    /// Unit of a quantity column, canonical (`year`, `week`, …).
    public var unit: String?
    /// Dictionary of a categorical column, sorted by Unicode code points so codes do not depend on row order.
    public var categories: [String]?
    /// Integers or categorical codes.
    public var ints: [Int64]?
    /// Floats or quantity lower bounds.
    public var doubles: [Double]?
    /// Quantity upper bounds (equal to the lower bound for single values).
    public var upperDoubles: [Double]?
    /// Dates (ISO 8601) or text.
    public var strings: [String]?
    /// False where the cell is missing.
    public var valid: [Bool]

    /// Number of rows.
    public var count: Int { valid.count }

    /// The cell at `row` as display text (nil when missing); tests and reports read values this way.
    public func text(at row: Int) -> String? {
        guard valid[row] else { return nil }
        switch type {
        case .integer: return String(ints![row])
        case .float: return String(doubles![row])
        case .categorical: return categories![Int(ints![row])]
        case .quantity:
            let lo = doubles![row], hi = upperDoubles![row]
            let number = lo == hi ? Self.format(lo) : "\(Self.format(lo))-\(Self.format(hi))"
            return unit.map { "\(number) \($0)" } ?? number
        case .date, .text: return strings![row]
        }
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    /// Keeps the rows at `indices`, in that order.
    func selecting(rows indices: [Int]) -> SampleColumn {
        var c = self
        c.ints = ints.map { a in indices.map { a[$0] } }
        c.doubles = doubles.map { a in indices.map { a[$0] } }
        c.upperDoubles = upperDoubles.map { a in indices.map { a[$0] } }
        c.strings = strings.map { a in indices.map { a[$0] } }
        c.valid = indices.map { valid[$0] }
        return c
    }

    /// A categorical column from optional labels.
    static func categorical(name: String, labels: [String?]) -> SampleColumn {
        let categories = Array(Set(labels.compactMap { $0 })).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        var code: [String: Int64] = [:]
        for (i, c) in categories.enumerated() { code[c] = Int64(i) }
        return SampleColumn(name: name, type: .categorical, categories: categories,
                            ints: labels.map { $0.map { code[$0]! } ?? -1 }, valid: labels.map { $0 != nil })
    }

    /// A text column from optional strings.
    static func text(name: String, values: [String?], type: SampleValueType = .text) -> SampleColumn {
        SampleColumn(name: name, type: type, strings: values.map { $0 ?? "" }, valid: values.map { $0 != nil })
    }
}

/// How a column should be typed; from the recipe, or inferred when absent.
public struct ColumnTypeDeclaration: Sendable, Codable, Equatable {
    /// The declared type.
    public var type: SampleValueType
    /// For `quantity`: convert every value to this unit (time units only); a bare number means this unit.
    public var unit: String?
    /// For `categorical`: the allowed labels; a value outside them is an error. Nil accepts any label.
    public var categories: [String]?

    /// A declaration.
    public init(type: SampleValueType, unit: String? = nil, categories: [String]? = nil) {
        self.type = type
        self.unit = unit
        self.categories = categories
    }
}

/// Turns a column of cells into a typed `SampleColumn`.
enum ColumnTyper {
    /// Largest number of distinct labels an inferred categorical column may have.
    static let maxInferredCategories = 64

    /// The type inference picks: the first of integer, float, date, quantity (with a unit in
    /// every cell) under which every non-missing cell parses; else categorical when there are at
    /// most 64 distinct values and each repeats on average (distinct × 2 ≤ filled cells); else text.
    static func inferType(_ cells: [String?]) -> SampleValueType {
        let filled = cells.compactMap { $0 }
        guard !filled.isEmpty else { return .text }
        if filled.allSatisfy({ ValueParser.integer($0) != nil }) { return .integer }
        if filled.allSatisfy({ ValueParser.float($0) != nil }) { return .float }
        if filled.allSatisfy({ ValueParser.date($0) != nil }) { return .date }
        if filled.allSatisfy({ ValueParser.quantity($0)?.unit != nil }) {
            let units = Set(filled.compactMap { ValueParser.quantity($0)?.unit })
            if units.count == 1 || units.allSatisfy({ ValueParser.conversion(from: $0, to: "day") != nil }) { return .quantity }
        }
        let distinct = Set(filled).count
        if distinct <= maxInferredCategories, distinct * 2 <= filled.count { return .categorical }
        return .text
    }

    /// Types `cells` (nil = missing) of column `name` under `declaration` or, when nil, the
    /// inferred type. `lines[i]` is the file line of cell i, for errors.
    static func type(name: String, cells: [String?], declaration: ColumnTypeDeclaration?,
                     file: String, lines: [Int]) throws(SampleLinkingError) -> SampleColumn {
        let type = declaration?.type ?? inferType(cells)
        func fail(_ i: Int, _ why: String) -> SampleLinkingError {
            SampleLinkingError(.valueDoesNotParse, "\"\(cells[i]!)\" is not \(why); fix the cell, list it as a null value, or change the declared type",
                               file: file, line: lines[i], column: name)
        }
        switch type {
        case .integer:
            var ints = [Int64](repeating: 0, count: cells.count)
            for (i, c) in cells.enumerated() {
                guard let c else { continue }
                guard let v = ValueParser.integer(c) else { throw fail(i, "an integer") }
                ints[i] = v
            }
            return SampleColumn(name: name, type: .integer, ints: ints, valid: cells.map { $0 != nil })
        case .float:
            var doubles = [Double](repeating: 0, count: cells.count)
            for (i, c) in cells.enumerated() {
                guard let c else { continue }
                guard let v = ValueParser.float(c) else { throw fail(i, "a finite number") }
                doubles[i] = v
            }
            return SampleColumn(name: name, type: .float, doubles: doubles, valid: cells.map { $0 != nil })
        case .date:
            var strings = [String?](repeating: nil, count: cells.count)
            for (i, c) in cells.enumerated() {
                guard let c else { continue }
                guard let d = ValueParser.date(c) else {
                    throw fail(i, "a date (write YYYY-MM-DD; day/month/year with slashes is ambiguous)")
                }
                strings[i] = d.description
            }
            return .text(name: name, values: strings, type: .date)
        case .quantity:
            let target = declaration?.unit.map(ValueParser.canonicalUnit)
            var parsed: [SampleQuantity?] = []
            for (i, c) in cells.enumerated() {
                guard let c else { parsed.append(nil); continue }
                guard let q = ValueParser.quantity(c, defaultUnit: target) else { throw fail(i, "a number with a unit, such as \"65 years\"") }
                parsed.append(q)
            }
            // Without a declared unit the first filled cell's unit is the column's unit.
            let unit = target ?? parsed.first(where: { $0 != nil })??.unit
            var lo = [Double](repeating: 0, count: cells.count), hi = lo
            for (i, q) in parsed.enumerated() {
                guard let q else { continue }
                guard let unit, let qUnit = q.unit, let factor = ValueParser.conversion(from: qUnit, to: unit) else {
                    throw fail(i, "in unit \"\(unit ?? "?")\" and cannot be converted to it")
                }
                lo[i] = q.low * factor
                hi[i] = q.high * factor
            }
            return SampleColumn(name: name, type: .quantity, unit: unit, doubles: lo, upperDoubles: hi, valid: cells.map { $0 != nil })
        case .categorical:
            if let allowed = declaration?.categories {
                for (i, c) in cells.enumerated() where c != nil && !allowed.contains(c!) {
                    throw fail(i, "one of the declared categories " + allowed.map { "\"\($0)\"" }.joined(separator: ", "))
                }
            }
            var column = SampleColumn.categorical(name: name, labels: cells)
            if let allowed = declaration?.categories {
                // The declared dictionary is kept whole, so codes are stable across releases.
                let sorted = Array(Set(allowed)).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
                column.categories = sorted
                column.ints = cells.map { c in c.map { Int64(sorted.firstIndex(of: $0)!) } ?? -1 }
            }
            return column
        case .text:
            return .text(name: name, values: cells)
        }
    }
}

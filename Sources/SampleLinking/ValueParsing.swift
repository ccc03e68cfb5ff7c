import Foundation

/// The type of a sample column; the same names are used in configuration and in the manifest.
public enum SampleValueType: String, Sendable, Codable, Equatable, CaseIterable {
    /// Whole numbers (64-bit signed).
    case integer
    /// Real numbers (finite doubles).
    case float
    /// A small set of labels stored as codes into a sorted dictionary.
    case categorical
    /// A calendar date stored as ISO 8601 text (`YYYY`, `YYYY-MM` or `YYYY-MM-DD` by precision).
    case date
    /// A number with a unit, such as "65 years" or "8 to 14 week old" (a range).
    case quantity
    /// Free text.
    case text
}

/// A calendar date with the precision it was written with, so "2017" is not padded to a day.
public struct SampleDate: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    /// Year (1–9999).
    public let year: Int
    /// Month (1–12) when written.
    public let month: Int?
    /// Day of month when written (requires `month`).
    public let day: Int?

    /// A validated date; nil when the day does not exist in that month.
    public init?(year: Int, month: Int? = nil, day: Int? = nil) {
        guard (1...9999).contains(year) else { return nil }
        if let month { guard (1...12).contains(month) else { return nil } }
        if let day {
            guard let month, day >= 1, day <= SampleDate.daysIn(month: month, year: year) else { return nil }
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// ISO 8601 at the written precision.
    public var description: String {
        var s = String(format: "%04d", year)
        if let month { s += String(format: "-%02d", month) }
        if let day { s += String(format: "-%02d", day) }
        return s
    }

    /// Orders by the earliest day the date can mean (a year-only date counts as 1 January).
    public static func < (a: SampleDate, b: SampleDate) -> Bool {
        (a.year, a.month ?? 1, a.day ?? 1) < (b.year, b.month ?? 1, b.day ?? 1)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// A number or range with a unit, e.g. 8…14 weeks.
public struct SampleQuantity: Sendable, Equatable {
    /// Lower bound (equal to `high` for a single value).
    public let low: Double
    /// Upper bound.
    public let high: Double
    /// Canonical unit (`year`, `month`, `week`, `day`, `hour` for times; other units as written).
    public let unit: String?
}

/// Parsers for the cell forms found in IDR and clinical sample tables. Each returns nil when the
/// text is not of its form, so type inference can try the next type.
public enum ValueParser {
    /// Cells read as missing unless configured otherwise.
    public static let defaultNullValues = ["", "NA", "N/A", "n/a"]

    /// A signed 64-bit integer written in decimal, optional leading sign.
    public static func integer(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.utf8.dropFirst(t.first == "-" || t.first == "+" ? 1 : 0).allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(t.hasPrefix("+") ? String(t.dropFirst()) : t)
    }

    /// A finite decimal number (`1.5`, `-2`, `3e-4`); `nan` and `inf` are not numbers here.
    public static func float(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.unicodeScalars.allSatisfy({ "0123456789+-.eE".unicodeScalars.contains($0) }),
              let d = Double(t), d.isFinite else { return nil }
        return d
    }

    private static let monthNames = ["january", "february", "march", "april", "may", "june", "july",
                                     "august", "september", "october", "november", "december"]

    private static func month(named word: Substring) -> Int? {
        let w = word.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        guard w.count >= 3 else { return nil }
        return monthNames.firstIndex { $0 == w || ($0.hasPrefix(w) && w.count == 3) || (w == "sept" && $0 == "september") }.map { $0 + 1 }
    }

    /// A date in ISO form (`2017-04-17`, `2017-04`, `2017`, with an optional time part after `T`
    /// or a space, which is dropped), `2017/04/17`, European `17.04.2017`, or with a month name
    /// (`17 April 2017`, `17-Apr-2017`, `April 17, 2017`, `April 2017`).
    ///
    /// `04/17/2017`-style slashes with the year last are refused: day-first and month-first
    /// readings cannot be told apart, and a silently swapped date is worse than an error.
    public static func date(_ text: String) -> SampleDate? {
        var t = text.trimmingCharacters(in: .whitespaces)
        // ISO date-time: keep the date part.
        if t.count > 10, let sep = t.index(t.startIndex, offsetBy: 10, limitedBy: t.endIndex),
           t[sep] == "T" || t[sep] == " ", t[t.startIndex..<sep].filter({ $0 == "-" }).count == 2 {
            t = String(t[t.startIndex..<sep])
        }
        func ints(_ parts: [Substring]) -> [Int]? {
            let values = parts.compactMap { p -> Int? in p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) ? Int(p) : nil }
            return values.count == parts.count ? values : nil
        }
        for sep in ["-", "/"] where t.contains(sep) {
            let parts = t.split(separator: Character(sep), omittingEmptySubsequences: false)
            if parts.first?.count == 4, let n = ints(parts) {
                if n.count == 3, parts[1].count <= 2, parts[2].count <= 2 { return SampleDate(year: n[0], month: n[1], day: n[2]) }
                if n.count == 2, parts[1].count <= 2, sep == "-" { return SampleDate(year: n[0], month: n[1]) }
            }
            // 17-Apr-2017
            if sep == "-", parts.count == 3, parts[2].count == 4, let d = Int(parts[0]), let m = month(named: parts[1]), let y = Int(parts[2]) {
                return SampleDate(year: y, month: m, day: d)
            }
        }
        if t.count == 4, let n = ints([Substring(t)]) { return SampleDate(year: n[0]) }
        let dotted = t.split(separator: ".", omittingEmptySubsequences: false)
        if dotted.count == 3, dotted[2].count == 4, dotted[0].count <= 2, dotted[1].count <= 2, let n = ints(dotted) {
            return SampleDate(year: n[2], month: n[1], day: n[0])
        }
        let words = t.replacingOccurrences(of: ",", with: " ").split(separator: " ")
        if words.count == 3, let y = ints([words[2]]), words[2].count == 4 {
            if let d = ints([words[0]]), let m = month(named: words[1]) { return SampleDate(year: y[0], month: m, day: d[0]) }
            if let m = month(named: words[0]), let d = ints([words[1]]) { return SampleDate(year: y[0], month: m, day: d[0]) }
        }
        if words.count == 2, let m = month(named: words[0]), words[1].count == 4, let y = ints([words[1]]) {
            return SampleDate(year: y[0], month: m)
        }
        return nil
    }

    /// Time units and their length in days, used to convert between them.
    static let timeUnits: [(canonical: String, spellings: [String], days: Double)] = [
        ("year", ["year", "years", "yr", "yrs", "y"], 365.25),
        ("month", ["month", "months", "mo", "mos"], 365.25 / 12),
        ("week", ["week", "weeks", "wk", "wks", "w"], 7),
        ("day", ["day", "days", "d"], 1),
        ("hour", ["hour", "hours", "hr", "hrs", "h"], 1.0 / 24),
    ]

    /// The canonical name of a time unit spelling, or the spelling itself for other units.
    public static func canonicalUnit(_ unit: String) -> String {
        let u = unit.lowercased()
        return timeUnits.first { $0.spellings.contains(u) }?.canonical ?? unit
    }

    /// Factor converting `from` to `to`, when both are time units.
    static func conversion(from: String, to: String) -> Double? {
        if from == to { return 1 }
        guard let a = timeUnits.first(where: { $0.canonical == from }),
              let b = timeUnits.first(where: { $0.canonical == to }) else { return nil }
        return a.days / b.days
    }

    /// A number or range with a unit: `65 years`, `3 months`, `8 to 14 week old`, `8-14 weeks`,
    /// `10 mg`. A trailing `old` or `of age` is ignored. Without a unit the quantity is accepted
    /// only when `defaultUnit` is given (a declared unit).
    public static func quantity(_ text: String, defaultUnit: String? = nil) -> SampleQuantity? {
        var words = text.trimmingCharacters(in: .whitespaces).split(separator: " ").map(String.init)
        if words.last?.lowercased() == "old" { words.removeLast() }
        if words.count >= 2, words.suffix(2).map({ $0.lowercased() }) == ["of", "age"] { words.removeLast(2) }
        // "8-14 weeks" → "8 to 14 weeks"; "65years" → "65 years".
        var tokens: [String] = []
        for w in words {
            if let dash = w.firstIndex(where: { $0 == "-" || $0 == "–" }), dash != w.startIndex,
               float(String(w[..<dash])) != nil {
                tokens += [String(w[..<dash]), "to", String(w[w.index(after: dash)...])].filter { !$0.isEmpty }
            } else if let firstLetter = w.firstIndex(where: { $0.isLetter || $0 == "µ" || $0 == "%" }), firstLetter != w.startIndex,
                      float(String(w[..<firstLetter])) != nil {
                tokens += [String(w[..<firstLetter]), String(w[firstLetter...])]
            } else {
                tokens.append(w)
            }
        }
        guard let first = tokens.first, let low = float(first) else { return nil }
        var rest = tokens.dropFirst()
        var high = low
        if rest.first?.lowercased() == "to", rest.count >= 2, let h = float(rest[rest.startIndex + 1]) {
            high = h
            rest = rest.dropFirst(2)
        }
        guard high >= low else { return nil }
        switch rest.count {
        case 0:
            guard let defaultUnit else { return nil }
            return SampleQuantity(low: low, high: high, unit: canonicalUnit(defaultUnit))
        case 1:
            let unit = rest[rest.startIndex]
            guard unit.allSatisfy({ $0.isLetter || $0 == "µ" || $0 == "%" || $0 == "/" }) else { return nil }
            return SampleQuantity(low: low, high: high, unit: canonicalUnit(unit))
        default:
            return nil
        }
    }
}

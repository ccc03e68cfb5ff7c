import Foundation

/// Finds columns that look like direct identifiers, by name or by values, so that the export can
/// refuse them until the policy says what to do (deny by default).
///
/// The rules are deliberately simple and documented in specs/samples/v1.md §5; they err on the
/// side of flagging, because a false alarm costs one line of recipe while a miss leaks a person.
public enum IdentifierDetector {
    /// Name fragments (compared after lower-casing and turning `_`, `-`, `.` and spaces into one
    /// space) and what they indicate.
    static let nameRules: [(fragments: [String], kind: String)] = [
        (["patient name", "person name", "first name", "given name", "last name", "family name", "surname",
          "full name", "forename", "maiden name", "donor name", "subject name", "participant name"], "a person's name"),
        (["date of birth", "birth date", "birthdate", "dob", "birthday", "geburtsdatum"], "a date of birth"),
        (["address", "street", "house number", "postcode", "post code", "postal code", "zip", "zipcode"], "an address or postcode"),
        (["email", "e mail", "mail address"], "an e-mail address"),
        (["phone", "telephone", "mobile", "fax", "cell number"], "a phone number"),
        (["patient id", "patient identifier", "patientid", "subject id", "participant id", "mrn", "medical record", "record number", "hospital number", "nhs number", "patient number",
          "chart number", "case number"], "a medical record number"),
        (["ssn", "social security", "national id", "national insurance", "passport", "insurance number",
          "health insurance", "driver license", "drivers license"], "a national or insurance identifier"),
        (["ip address"], "a network address"),
    ]

    /// Why the column name looks like a direct identifier, or nil.
    public static func reason(forName name: String) -> String? {
        let normalized = " " + name.lowercased().map { "_-./[]():".contains($0) ? " " : String($0) }.joined()
            .split(separator: " ").joined(separator: " ") + " "
        for rule in nameRules {
            // Whole-word match so "zip" does not fire on "unzipped", nor "dob" on "adobe".
            if let hit = rule.fragments.first(where: { normalized.contains(" \($0) ") }) {
                return "its name contains \"\(hit)\", which suggests \(rule.kind)"
            }
        }
        // "name" on its own or as the last word (e.g. "patient_name", "Name") but not the IDR
        // headers that name things, not people.
        let words = normalized.split(separator: " ")
        let thingNames: Set<String> = ["image", "dataset", "plate", "well", "compound", "gene", "protein", "file", "source",
                                       "term", "strain", "organism", "cell", "line", "screen", "study", "antibody",
                                       "reagent", "channel", "phenotype", "sample", "experiment", "control", "drug", "treatment"]
        if words.last == "name", words.count == 1 || !words.dropLast().contains(where: { thingNames.contains(String($0)) }) {
            return "its name ends in \"name\" and does not say what is named, so it may hold a person's name"
        }
        return nil
    }

    /// Why the values look like direct identifiers, or nil: at least half of the filled cells (and
    /// at least one) match one pattern.
    public static func reason(forValues values: [String]) -> String? {
        let filled = values.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !filled.isEmpty else { return nil }
        let patterns: [(kind: String, test: (String) -> Bool)] = [
            ("e-mail addresses", isEmail),
            ("phone numbers", isPhone),
            ("national identifiers (###-##-####)", isSSN),
            ("medical record numbers (MRN…)", isMRN),
            ("street addresses", isStreetAddress),
            ("person names (\"Given Family\")", isPersonName),
        ]
        for p in patterns {
            let hits = filled.filter(p.test)
            if !hits.isEmpty, hits.count * 2 >= filled.count {
                return "\(hits.count) of \(filled.count) values look like \(p.kind)"
            }
        }
        return nil
    }

    static func isEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !s.contains(" ") else { return false }
        let domain = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domain.count >= 2 && domain.allSatisfy { !$0.isEmpty } && (domain.last?.allSatisfy(\.isLetter) ?? false)
    }

    static func isPhone(_ s: String) -> Bool {
        guard s.allSatisfy({ $0.isNumber || " +-()".contains($0) }) else { return false }
        // A separator or a leading + is required: a bare 10-digit number is more likely a code.
        let digits = s.filter(\.isNumber).count
        return (9...15).contains(digits) && (s.hasPrefix("+") || s.contains(where: { " -()".contains($0) }))
    }

    static func isSSN(_ s: String) -> Bool {
        let p = s.split(separator: "-", omittingEmptySubsequences: false)
        return p.count == 3 && p.map(\.count) == [3, 2, 4] && p.allSatisfy { $0.allSatisfy(\.isNumber) }
    }

    static func isMRN(_ s: String) -> Bool {
        let u = s.uppercased()
        guard u.hasPrefix("MRN") else { return false }
        return u.dropFirst(3).contains(where: \.isNumber)
    }

    static func isStreetAddress(_ s: String) -> Bool {
        let words = s.lowercased().replacingOccurrences(of: ",", with: " ").split(separator: " ")
        let streetWords: Set<String> = ["street", "st", "st.", "road", "rd", "rd.", "avenue", "ave", "ave.", "lane", "ln",
                                        "drive", "dr", "boulevard", "blvd", "strasse", "straße", "weg", "platz", "way", "close", "court"]
        guard words.count >= 3, words.contains(where: { streetWords.contains(String($0)) }) else { return false }
        return words.contains { $0.allSatisfy(\.isNumber) }
    }

    static func isPersonName(_ s: String) -> Bool {
        let words = s.split(separator: " ")
        guard (2...4).contains(words.count) else { return false }
        // Every word capitalised, the rest lower-case letters (or an initial "J."), and the last
        // word a real surname-length word: "Jane Doe", "John A. Smith", not "OVA tumor".
        func capitalized(_ w: Substring) -> Bool {
            guard let f = w.first, f.isUppercase, f.isLetter else { return false }
            let rest = w.dropFirst()
            return rest.allSatisfy { $0.isLowercase || $0 == "'" || $0 == "-" } || (rest == "." )
        }
        return words.allSatisfy(capitalized) && (words.last?.count ?? 0) >= 2 && words.last!.last! != "."
    }
}

import AVDB

/// An error linking sample data to records, applying the privacy policy, checking consent or
/// assigning splits.
///
/// `description` is one line starting with `file:line:` when known, then the column or key
/// path, then what to do, so it can be printed as is.
public struct SampleLinkingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong; stable so callers and tests can branch on it.
    public enum Code: String, Sendable, Equatable, Codable {
        /// The sample table could not be read or parsed (the AVDB error is in `message`).
        case tableUnreadable
        /// A column named in the configuration does not exist in the table.
        case unknownColumn
        /// A value does not parse under the column's declared type.
        case valueDoesNotParse
        /// Two sample rows have the same join key.
        case duplicateKey
        /// A join key is configured with the wrong number of columns or values.
        case invalidJoinKey
        /// A column looks like a direct identifier and the policy declares no treatment for it.
        case undeclaredIdentifier
        /// A privacy treatment cannot be applied to the column (wrong type, bad parameter).
        case invalidTreatment
        /// The pseudonymization key is missing, unreadable or too short.
        case pseudonymKeyUnavailable
        /// The release fails the configured minimum k of k-anonymity.
        case kAnonymityViolated
        /// A data-use code the consent checker does not know and the configuration does not accept.
        case unknownDataUseCode
        /// A date in the consent or embargo configuration does not parse.
        case invalidDate
        /// Split fractions or names are unusable.
        case invalidSplitConfiguration
        /// One group would end up in two splits (splits from a column that disagree within a group).
        case groupStraddlesSplits
        /// A configuration value is out of range or contradicts another.
        case invalidConfiguration
    }

    /// What went wrong.
    public let code: Code
    /// What happened and what to do; does not repeat file, line or column.
    public let message: String
    /// Source file the error is about.
    public let file: String?
    /// 1-based line in `file`.
    public let line: Int?
    /// Column the error is about.
    public let column: String?
    /// Configuration key path the error is about, e.g. `samples.privacy.columns[2]`.
    public let keyPath: String?

    /// Creates an error; `message` should read well after a `file:line: column:` prefix.
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil,
                column: String? = nil, keyPath: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
    }

    /// Wraps an AVDB read error, keeping its location.
    init(_ error: AVDBError) {
        self.init(.tableUnreadable, error.message, file: error.file, line: error.line, column: error.column)
    }

    /// `file:line: keyPath: column "X": message` on one line.
    public var description: String {
        var parts: [String] = []
        if let file { parts.append(line.map { "\(file):\($0)" } ?? file) } else if let line { parts.append("line \(line)") }
        if let keyPath { parts.append(keyPath) }
        if let column { parts.append("column \"\(column)\"") }
        parts.append(message)
        return parts.joined(separator: ": ").replacingOccurrences(of: "\n", with: "\\n")
    }
}

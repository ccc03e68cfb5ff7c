import Foundation

/// An error reading a source dataset: a table, a study file, an image listing or a mask.
///
/// `description` is one line that starts with the file path (and line number when known),
/// so it can be printed as is and jumps to the spot in editors that understand `path:line:`.
public struct AVDBError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, stable across releases so callers and tests can branch on it.
    public enum Code: String, Sendable, Equatable {
        /// The file could not be opened or read.
        case fileUnreadable
        /// The file is larger than the configured limit.
        case fileTooLarge
        /// The file has no header line.
        case emptyFile
        /// A byte sequence is not valid UTF-8.
        case invalidUTF8
        /// A quoted field is never closed.
        case unterminatedQuote
        /// A row has a different number of fields than the header.
        case fieldCountMismatch
        /// A field is longer than the configured limit.
        case fieldTooLong
        /// A row has more fields than the configured limit.
        case tooManyFields
        /// Two header cells have the same name.
        case duplicateColumn
        /// A column name that the table does not have.
        case unknownColumn
        /// An ontology accession whose prefix is not a declared term source.
        case unknownTermSource
        /// An ontology accession that is not of the form `PREFIX_ID` or `PREFIX:ID`.
        case invalidAccession
        /// A path template that cannot be parsed or names an unknown variable.
        case invalidTemplate
        /// A value would place a file outside the dataset root.
        case pathEscapesRoot
        /// A key value used to name an image is empty.
        case emptyKeyValue
        /// Two rows have the same key.
        case duplicateKey
        /// A glob pattern that cannot be used.
        case invalidPattern
        /// A mask does not have the size of its image.
        case maskSizeMismatch
        /// Two instance masks claim the same pixel.
        case overlappingMasks
        /// A mask whose pixel type or channel count cannot be used as labels.
        case unsupportedMask
        /// The image reader failed on a mask or image file.
        case imageUnreadable
        /// An annotation file (COCO, VOC, GeoJSON, box CSV) is not of the expected structure.
        case malformedAnnotation
        /// A box, point or polygon is degenerate or outside its image under the `error` policy.
        case invalidGeometry
    }

    /// What went wrong.
    public let code: Code
    /// What happened and, where it helps, what to do about it. Does not repeat `file` or `line`.
    public let message: String
    /// Path of the file the error is about, as given by the caller.
    public let file: String?
    /// 1-based physical line in `file` where the offending record starts.
    public let line: Int?
    /// Name of the column the error is about.
    public let column: String?

    /// Creates an error; `message` should read well after a `file:line:` prefix.
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, column: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line: message` on one line; line breaks inside quoted values are shown as `\n`.
    public var description: String {
        var prefix = ""
        if let file {
            prefix = file
            if let line { prefix += ":\(line)" }
            prefix += ": "
        } else if let line {
            prefix = "line \(line): "
        }
        return (prefix + message)
            .replacingOccurrences(of: "\r\n", with: "\\n")
            .replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\n")
    }
}

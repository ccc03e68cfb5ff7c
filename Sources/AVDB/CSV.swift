import Foundation

/// The character that separates fields of a delimited text file.
public enum CSVDelimiter: Sendable, Equatable {
    /// `,` (RFC 4180).
    case comma
    /// A horizontal tab (TSV; IDR study files and plate lists).
    case tab
    /// Tab for files named `*.tsv`, `*.tab` or `*.txt` (IDR's study files are tab-separated
    /// `.txt`), comma for everything else.
    case byExtension

    /// The byte to split on for a file at `path`.
    func byte(forPath path: String) -> UInt8 {
        switch self {
        case .comma: return UInt8(ascii: ",")
        case .tab: return UInt8(ascii: "\t")
        case .byExtension:
            let ext = (path as NSString).pathExtension.lowercased()
            return ["tsv", "tab", "txt"].contains(ext) ? UInt8(ascii: "\t") : UInt8(ascii: ",")
        }
    }
}

/// How to read a delimited text file. The defaults suit annotation tables of any real study
/// while stopping a wrong or hostile file before it exhausts memory.
public struct CSVOptions: Sendable, Equatable {
    /// Field separator.
    public var delimiter: CSVDelimiter
    /// Accept rows whose field count differs from the header's instead of failing.
    /// Missing trailing fields then read as empty strings.
    public var allowRaggedRows: Bool
    /// Largest file accepted, in bytes (default 512 MiB).
    public var maxFileSize: Int
    /// Longest field accepted, in UTF-8 bytes (default 1 MiB).
    public var maxFieldLength: Int
    /// Most fields accepted in one record (default 10 000).
    public var maxFieldsPerRecord: Int

    /// Options with the given delimiter, raggedness and limits.
    public init(
        delimiter: CSVDelimiter = .byExtension,
        allowRaggedRows: Bool = false,
        maxFileSize: Int = 512 << 20,
        maxFieldLength: Int = 1 << 20,
        maxFieldsPerRecord: Int = 10_000
    ) {
        self.delimiter = delimiter
        self.allowRaggedRows = allowRaggedRows
        self.maxFileSize = maxFileSize
        self.maxFieldLength = maxFieldLength
        self.maxFieldsPerRecord = maxFieldsPerRecord
    }
}

/// One record of a delimited file and the physical line it starts on.
public struct CSVRecord: Sendable, Equatable {
    /// 1-based line where the record starts; a quoted field with line breaks makes the next
    /// record start several lines later.
    public let line: Int
    /// The fields, unquoted.
    public let fields: [String]

    /// A record starting on `line`.
    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }

    /// Field `index`, or `""` when a ragged record is shorter.
    public subscript(index: Int) -> String {
        index < fields.count ? fields[index] : ""
    }
}

/// An RFC 4180 reader that gives, field for field, what Python's `csv` module gives with its
/// default dialect, plus line numbers and limits.
///
/// - Quoted fields may hold delimiters, doubled quotes (`""` → `"`) and CR/LF line breaks.
/// - Records end at LF, CRLF or CR. A UTF-8 byte-order mark is dropped.
/// - Blank lines are skipped (Python's `DictReader` skips them too).
/// - As in Python, a quote inside an unquoted field is kept literally, and text right after a
///   closing quote is appended to the field.
/// - Invalid UTF-8 and a quote still open at the end of the file are errors.
public enum CSVReader {
    /// Reads every record of the file at `url`, header included.
    public static func records(contentsOf url: URL, options: CSVOptions = .init()) throws(AVDBError) -> [CSVRecord] {
        let bytes = try readFile(url, maxSize: options.maxFileSize)
        return try records(in: bytes, file: url.path, options: options)
    }

    /// Reads every record of `bytes`; `file` names the source in errors and picks the
    /// delimiter when it is `.byExtension`.
    public static func records(in bytes: [UInt8], file: String, options: CSVOptions = .init()) throws(AVDBError) -> [CSVRecord] {
        guard bytes.count <= options.maxFileSize else {
            throw AVDBError(.fileTooLarge,
                            "file has \(bytes.count) bytes, more than the limit of \(options.maxFileSize); raise maxFileSize if it is genuine",
                            file: file)
        }
        var parser = Parser(bytes: bytes, file: file, delimiter: options.delimiter.byte(forPath: file), options: options)
        return try parser.run()
    }

    static func readFile(_ url: URL, maxSize: Int) throws(AVDBError) -> [UInt8] {
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw AVDBError(.fileUnreadable, "cannot open file: \(error.localizedDescription)", file: url.path)
        }
        // Checked before reading so an oversized file never lands in memory.
        guard size <= maxSize else {
            throw AVDBError(.fileTooLarge,
                            "file has \(size) bytes, more than the limit of \(maxSize); raise maxFileSize if it is genuine",
                            file: url.path)
        }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw AVDBError(.fileUnreadable, "cannot read file: \(error.localizedDescription)", file: url.path)
        }
    }

    /// The state machine of Python's `_csv.c` reader (default dialect, `strict=False`),
    /// restricted to what RFC 4180 files need.
    private struct Parser {
        let bytes: [UInt8]
        let file: String
        let delimiter: UInt8
        let options: CSVOptions

        private enum State { case startRecord, startField, inField, inQuotedField, quoteInQuotedField }

        private var records: [CSVRecord] = []
        private var fields: [String] = []
        private var field: [UInt8] = []
        private var line = 1
        private var recordLine = 1
        private var quoteLine = 1

        private static let quote = UInt8(ascii: "\"")
        private static let lf = UInt8(ascii: "\n")
        private static let cr = UInt8(ascii: "\r")

        init(bytes: [UInt8], file: String, delimiter: UInt8, options: CSVOptions) {
            self.bytes = bytes
            self.file = file
            self.delimiter = delimiter
            self.options = options
        }

        mutating func run() throws(AVDBError) -> [CSVRecord] {
            var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var state = State.startRecord
            let n = bytes.count
            while i < n {
                let c = bytes[i]
                i += 1
                let isNewline = c == Self.lf || c == Self.cr
                if isNewline, state != .inQuotedField {
                    // CRLF is one line break; a lone CR is one too, as in Python.
                    if c == Self.cr, i < n, bytes[i] == Self.lf { i += 1 }
                    // In .startRecord the line is blank and yields no record.
                    if state != .startRecord {
                        try saveField()
                        endRecord()
                    }
                    line += 1
                    state = .startRecord
                    continue
                }
                switch state {
                case .startRecord, .startField:
                    if state == .startRecord { recordLine = line }
                    if c == Self.quote {
                        quoteLine = line
                        state = .inQuotedField
                    } else if c == delimiter {
                        try saveField()
                        state = .startField
                    } else {
                        try append(c)
                        state = .inField
                    }
                case .inField:
                    if c == delimiter {
                        try saveField()
                        state = .startField
                    } else {
                        try append(c)
                    }
                case .inQuotedField:
                    if c == Self.quote {
                        state = .quoteInQuotedField
                    } else {
                        if c == Self.lf || (c == Self.cr && (i >= n || bytes[i] != Self.lf)) { line += 1 }
                        try append(c)
                    }
                case .quoteInQuotedField:
                    if c == Self.quote {
                        try append(c)
                        state = .inQuotedField
                    } else if c == delimiter {
                        try saveField()
                        state = .startField
                    } else {
                        try append(c)
                        state = .inField
                    }
                }
            }
            switch state {
            case .startRecord:
                break
            case .inQuotedField:
                throw AVDBError(.unterminatedQuote,
                                "quoted field opened here is never closed; add the closing \" (a quote inside a quoted field is written \"\")",
                                file: file, line: quoteLine)
            case .startField, .inField, .quoteInQuotedField:
                try saveField()
                endRecord()
            }
            return records
        }

        private mutating func append(_ c: UInt8) throws(AVDBError) {
            guard field.count < options.maxFieldLength else {
                throw AVDBError(.fieldTooLong,
                                "field \(fields.count + 1) is longer than \(options.maxFieldLength) bytes; raise maxFieldLength if it is genuine, else look for a quote that is never closed",
                                file: file, line: recordLine)
            }
            field.append(c)
        }

        private mutating func saveField() throws(AVDBError) {
            guard fields.count < options.maxFieldsPerRecord else {
                throw AVDBError(.tooManyFields,
                                "record has more than \(options.maxFieldsPerRecord) fields; check the delimiter or raise maxFieldsPerRecord",
                                file: file, line: recordLine)
            }
            guard let text = String(validating: field, as: UTF8.self) else {
                throw AVDBError(.invalidUTF8,
                                "field \(fields.count + 1) is not valid UTF-8; re-save the file as UTF-8",
                                file: file, line: recordLine)
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
        }

        private mutating func endRecord() {
            records.append(CSVRecord(line: recordLine, fields: fields))
            fields.removeAll(keepingCapacity: true)
        }
    }
}

/// A delimited file read as a header plus data rows.
public struct CSVTable: Sendable, Equatable {
    /// Path of the source, as given; errors and reports name it.
    public let file: String
    /// Column names from the first record, unique.
    public let header: [String]
    /// Data rows in file order; each knows its starting line.
    public let rows: [CSVRecord]

    /// Reads and checks the file at `url`.
    public init(contentsOf url: URL, options: CSVOptions = .init()) throws(AVDBError) {
        let bytes = try CSVReader.readFile(url, maxSize: options.maxFileSize)
        try self.init(bytes: bytes, file: url.path, options: options)
    }

    /// Reads and checks in-memory text; `file` names it in errors and picks the delimiter
    /// when it is `.byExtension`.
    public init(text: String, file: String, options: CSVOptions = .init()) throws(AVDBError) {
        try self.init(bytes: Array(text.utf8), file: file, options: options)
    }

    /// Reads and checks in-memory bytes.
    ///
    /// Fails on a file without a header, on two columns with the same name (a lookup by name
    /// would silently pick one), and, unless `allowRaggedRows`, on a row whose field count
    /// differs from the header's.
    public init(bytes: [UInt8], file: String, options: CSVOptions = .init()) throws(AVDBError) {
        var records = try CSVReader.records(in: bytes, file: file, options: options)
        guard !records.isEmpty else {
            throw AVDBError(.emptyFile, "file is empty; expected a header line with column names", file: file)
        }
        let headerRecord = records.removeFirst()
        var firstIndex: [String: Int] = [:]
        for (index, name) in headerRecord.fields.enumerated() {
            if let earlier = firstIndex[name] {
                throw AVDBError(.duplicateColumn,
                                "columns \(earlier + 1) and \(index + 1) are both named \"\(name)\"; rename one of them",
                                file: file, line: headerRecord.line, column: name)
            }
            firstIndex[name] = index
        }
        if !options.allowRaggedRows {
            let expected = headerRecord.fields.count
            if let bad = records.first(where: { $0.fields.count != expected }) {
                throw AVDBError(.fieldCountMismatch,
                                "row has \(bad.fields.count) fields, header has \(expected)",
                                file: file, line: bad.line)
            }
        }
        self.file = file
        self.header = headerRecord.fields
        self.rows = records
    }
}

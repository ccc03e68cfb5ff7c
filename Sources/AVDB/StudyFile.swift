import Foundation

/// An IDR study description (`idrNNNN-study.txt`): tab-separated lines, each a key in the first
/// column followed by its values.
///
/// Lines whose first field starts with `#` (quoted or not) are section comments and are
/// dropped, as are blank lines. Keys repeat across sections (one `Screen …` block per screen),
/// so `entries` keeps every line in file order and the accessors read the first occurrence,
/// which for the `Study …` keys is the only one.
public struct IDRStudy: Sendable, Equatable {
    /// One key line of the study file.
    public struct Entry: Sendable, Equatable {
        /// The first field, with surrounding spaces removed.
        public let key: String
        /// The remaining fields, trailing empty ones dropped. Inner empty fields are kept
        /// because values are positional (the third PubMed ID belongs to the third title).
        public let values: [String]
        /// 1-based line where the entry starts.
        public let line: Int
    }

    /// Path of the source, as given.
    public let file: String
    /// Every key line in file order.
    public let entries: [Entry]
    /// The ontologies the study's accessions refer to, from `Term Source Name` / `Term Source URI`.
    public let termSources: TermSources

    /// Reads the study file at `url`.
    public init(contentsOf url: URL, options: CSVOptions = .init(delimiter: .tab)) throws(AVDBError) {
        let bytes = try CSVReader.readFile(url, maxSize: options.maxFileSize)
        try self.init(bytes: bytes, file: url.path, options: options)
    }

    /// Reads a study file held in memory; `file` names it in errors.
    public init(text: String, file: String, options: CSVOptions = .init(delimiter: .tab)) throws(AVDBError) {
        try self.init(bytes: Array(text.utf8), file: file, options: options)
    }

    private init(bytes: [UInt8], file: String, options: CSVOptions) throws(AVDBError) {
        var readOptions = options
        // Lines of a study file have as many fields as their key needs.
        readOptions.allowRaggedRows = true
        let records = try CSVReader.records(in: bytes, file: file, options: readOptions)
        var entries: [Entry] = []
        for record in records {
            let key = record[0].trimmingCharacters(in: .whitespaces)
            var values = Array(record.fields.dropFirst())
            while values.last?.isEmpty == true { values.removeLast() }
            if key.hasPrefix("#") || (key.isEmpty && values.isEmpty) { continue }
            entries.append(Entry(key: key, values: values, line: record.line))
        }
        self.file = file
        self.entries = entries
        self.termSources = TermSources(
            file: file,
            names: entries.first { $0.key == "Term Source Name" }?.values ?? [],
            uris: entries.first { $0.key == "Term Source URI" }?.values ?? [])
    }

    /// Every entry with `key`, in file order.
    public func entries(for key: String) -> [Entry] {
        entries.filter { $0.key == key }
    }

    /// Values of the first entry with `key`, or `[]` when there is none.
    public func values(for key: String) -> [String] {
        entries.first { $0.key == key }?.values ?? []
    }

    /// First non-empty value of the first entry with `key`.
    public func value(for key: String) -> String? {
        values(for: key).first { !$0.isEmpty }
    }

    /// `Comment[IDR Study Accession]`, e.g. `idr0035`.
    public var accession: String? { value(for: "Comment[IDR Study Accession]") }
    /// `Study Title`.
    public var title: String? { value(for: "Study Title") }
    /// `Study Description`.
    public var studyDescription: String? { value(for: "Study Description") }
    /// `Study License`, e.g. `CC BY 4.0`.
    public var license: String? { value(for: "Study License") }
    /// `Study License URL`.
    public var licenseURL: String? { value(for: "Study License URL") }
    /// `Study Copyright`.
    public var copyright: String? { value(for: "Study Copyright") }
    /// `Study Public Release Date` as written (ISO `YYYY-MM-DD` in IDR).
    public var publicReleaseDate: String? { value(for: "Study Public Release Date") }
    /// Non-empty `Study PubMed ID` values in order.
    public var pubMedIDs: [String] { values(for: "Study PubMed ID").filter { !$0.isEmpty } }
    /// Non-empty `Study DOI` values (publication DOIs) in order.
    public var publicationDOIs: [String] { values(for: "Study DOI").filter { !$0.isEmpty } }
    /// `Study Data DOI`, the DOI of the image data itself.
    public var dataDOI: String? { value(for: "Study Data DOI") }
}

/// The ontologies a study declares, prefix → base URI, in declaration order.
public struct TermSources: Sendable, Equatable {
    /// One declared ontology.
    public struct Source: Sendable, Equatable {
        /// The prefix used in accessions, e.g. `CMPO`.
        public let name: String
        /// Base URI that an accession is appended to, e.g. `http://www.ebi.ac.uk/cmpo/`.
        public let uri: String
    }

    /// File the sources were declared in, for error messages.
    public let file: String
    /// Sources with both a name and a URI, in declaration order, first declaration of a name kept.
    public let sources: [Source]

    /// Pairs `names[i]` with `uris[i]`; entries missing either half are dropped.
    public init(file: String, names: [String], uris: [String]) {
        var sources: [Source] = []
        for (name, uri) in zip(names, uris) {
            let name = name.trimmingCharacters(in: .whitespaces)
            let uri = uri.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !uri.isEmpty, !sources.contains(where: { $0.name == name }) else { continue }
            sources.append(Source(name: name, uri: uri))
        }
        self.file = file
        self.sources = sources
    }

    /// Prefix → base URI.
    public var uriByPrefix: [String: String] {
        Dictionary(sources.map { ($0.name, $0.uri) }, uniquingKeysWith: { first, _ in first })
    }

    /// Base URI for `prefix`; an exact match wins, else a case-insensitive one, because study
    /// files write the same ontology as `FBbi` in one place and `Fbbi` in another.
    public func uri(forPrefix prefix: String) -> String? {
        if let exact = sources.first(where: { $0.name == prefix }) { return exact.uri }
        return sources.first { $0.name.lowercased() == prefix.lowercased() }?.uri
    }

    /// Resolves an IDR accession such as `CMPO_0000077` (or the CURIE `CMPO:0000077`) against
    /// the declared sources.
    ///
    /// The IRI is the source's base URI followed by `PREFIX_ID`, the OBO convention all IDR
    /// term sources follow (`http://www.ebi.ac.uk/cmpo/CMPO_0000077`).
    public func term(forAccession accession: String) throws(AVDBError) -> OntologyTerm {
        let parsed = try OntologyTerm.split(accession, file: file)
        guard let base = uri(forPrefix: parsed.prefix) else {
            let known = sources.map(\.name).joined(separator: ", ")
            throw AVDBError(.unknownTermSource,
                            "accession \"\(accession)\" uses prefix \"\(parsed.prefix)\", which is not a declared Term Source Name (declared: \(known)); add it to Term Source Name/URI",
                            file: file)
        }
        return OntologyTerm(prefix: parsed.prefix, localID: parsed.localID, iri: base + parsed.prefix + "_" + parsed.localID)
    }
}

/// An ontology term identified three ways: prefix + local id, CURIE and IRI.
public struct OntologyTerm: Sendable, Hashable, Codable {
    /// e.g. `CMPO`.
    public let prefix: String
    /// e.g. `0000077`.
    public let localID: String
    /// e.g. `http://www.ebi.ac.uk/cmpo/CMPO_0000077`.
    public let iri: String

    /// A term from its parts; `TermSources.term(forAccession:)` builds them from an accession.
    public init(prefix: String, localID: String, iri: String) {
        self.prefix = prefix
        self.localID = localID
        self.iri = iri
    }

    /// `PREFIX:ID`, e.g. `CMPO:0000077`.
    public var curie: String { "\(prefix):\(localID)" }

    /// Splits `PREFIX_ID` or `PREFIX:ID` at the first separator; both halves must be non-empty
    /// and free of spaces.
    static func split(_ accession: String, file: String?) throws(AVDBError) -> (prefix: String, localID: String) {
        let trimmed = accession.trimmingCharacters(in: .whitespaces)
        guard let separator = trimmed.firstIndex(where: { $0 == "_" || $0 == ":" }),
              separator != trimmed.startIndex,
              trimmed.index(after: separator) != trimmed.endIndex,
              !trimmed.contains(" ")
        else {
            throw AVDBError(.invalidAccession,
                            "\"\(accession)\" is not an ontology accession; expected PREFIX_ID such as CMPO_0000077",
                            file: file)
        }
        return (String(trimmed[..<separator]), String(trimmed[trimmed.index(after: separator)...]))
    }
}

import LabelSchema

/// IDR annotation columns as schema source labels: `Phenotype N` with its `Term Accession`
/// (CMPO) and `Characteristics [X]` with its `Term Source N Accession`.
///
/// IDR writes accessions as `CMPO_0000077`; they are resolved through the study file's `Term
/// Source Name/URI` rows to an IRI (`http://www.ebi.ac.uk/cmpo/CMPO_0000077`), which the schema
/// reads back as the CURIE `CMPO:0000077` under its own prefix table, so a study that spells a
/// prefix differently (`Fbbi` for `FBbi`) still meets the schema's term.
public enum IDRLabels {
    /// The `TermID` of an IDR accession in `schema`'s vocabulary.
    ///
    /// Fails when the accession's prefix is not declared in the study, or when neither its
    /// resolved IRI nor its CURIE is one the schema's prefixes know.
    public static func term(forAccession accession: String, sources: TermSources,
                            schema: Schema) throws(AVDBError) -> TermID {
        let resolved = try sources.term(forAccession: accession)
        if let term = TermID.parse(resolved.iri, bases: schema.termBases)
            ?? TermID.parse(resolved.curie, bases: schema.termBases) {
            return term
        }
        throw AVDBError(.unknownTermSource,
                        "accession \"\(accession)\" resolves to \(resolved.iri), which is not an IRI of a prefix the schema knows; declare \"\(resolved.prefix)\" under the schema's prefixes",
                        file: sources.file)
    }

    /// The phenotypes of `row` as labels: the free-text value (or, when empty, the term name)
    /// with its accession's term.
    public static func phenotypeLabels(_ table: AnnotationTable, row: Int, sources: TermSources,
                                       schema: Schema) throws(AVDBError) -> [SourceLabel] {
        var labels: [SourceLabel] = []
        for p in table.phenotypes(row: row) {
            let term = try p.accession.map { (a) throws(AVDBError) in try located(table, row: row) { () throws(AVDBError) in
                try Self.term(forAccession: a, sources: sources, schema: schema)
            } }
            labels.append(SourceLabel(value: p.value.isEmpty ? p.termName ?? "" : p.value, term: term))
        }
        return labels
    }

    /// The `Characteristics [name]` value of `row` as a label, nil when the cell is empty.
    public static func characteristicLabel(_ table: AnnotationTable, row: Int, name: String, sources: TermSources,
                                           schema: Schema) throws(AVDBError) -> SourceLabel? {
        guard let c = table.characteristics(row: row).first(where: { $0.name == name }) else { return nil }
        let term = try c.accession.map { (a) throws(AVDBError) in try located(table, row: row) { () throws(AVDBError) in
            try Self.term(forAccession: a, sources: sources, schema: schema)
        } }
        return SourceLabel(value: c.value, term: term)
    }

    /// Multi-label normalization of every row's phenotypes (idr0025: up to 14 per well):
    /// `ids[row]` holds the row's class ids ascending, and the report counts every value with
    /// the `file:line` of each unmapped one.
    public static func normalizePhenotypes(_ table: AnnotationTable, study: IDRStudy,
                                           schema: Schema) throws(AVDBError) -> (ids: [[Int]], report: MappingReport) {
        var normalizer = LabelNormalizer(schema: schema)
        var ids: [[Int]] = []
        for row in 0..<table.rowCount {
            let labels = try phenotypeLabels(table, row: row, sources: study.termSources, schema: schema)
            ids.append(normalizer.normalize(labels, at: "\(table.file):\(table.line(ofRow: row))"))
        }
        return (ids, normalizer.report)
    }

    /// Re-throws a term error at the table row it came from.
    private static func located<T>(_ table: AnnotationTable, row: Int,
                                   _ body: () throws(AVDBError) -> T) throws(AVDBError) -> T {
        do {
            return try body()
        } catch {
            throw AVDBError(error.code, error.message + " (term sources from \(error.file ?? "the study file"))",
                            file: table.file, line: table.line(ofRow: row))
        }
    }
}

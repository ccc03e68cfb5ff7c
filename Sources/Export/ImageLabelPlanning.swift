import AVDB
import BundleFormat
import LabelSchema

extension PlanState {
    /// Maps each matched row's values of `labels.image_labels` to classes (several per image,
    /// ascending), applying the recipe's policies for rows without values and unknown values.
    mutating func imageLabels(_ candidates: [Candidate], table: AnnotationTable, spec: Recipe.ImageLabels, file: String,
                              skipped: inout [String]) throws(ExportError) -> [Candidate] {
        var normalizer = normalizer(match: spec.match)
        let columns: [(value: Int, term: Int?)]
        switch spec.columns {
        case .idrPhenotypes:
            columns = table.phenotypeColumns.map { ($0.valueIndex, $0.accessionIndex) }
            guard !columns.isEmpty else {
                throw ExportError(.mismatch, shown(file), "labels.image_labels.phenotypes: the table has no Phenotype column")
            }
        case .named(let values, let terms):
            var resolved: [(Int, Int?)] = []
            for (i, name) in values.enumerated() {
                do {
                    resolved.append((try table.columnIndex(named: name),
                                     try terms.isEmpty ? nil : table.columnIndex(named: terms[i])))
                } catch {
                    throw ExportError(.mismatch, error.location(default: shown(file)), "labels.image_labels: \(error.message)")
                }
            }
            columns = resolved
        }
        imageLabelColumns = (columns.map { table.columns[$0.value] }, columns.compactMap { $0.term.map { table.columns[$0] } })
        var out: [Candidate] = []
        for var candidate in candidates {
            let row = candidate.row!
            let location = "\(shown(file)):\(table.line(ofRow: row))"
            let labels: [SourceLabel]
            switch spec.columns {
            case .idrPhenotypes:
                do {
                    labels = try IDRLabels.phenotypeLabels(table, row: row, sources: termSources!, schema: labelSchema!.schema)
                } catch {
                    throw ExportError(.input, error.location(default: location), error.message)
                }
            case .named:
                labels = columns.map { c in
                    SourceLabel(value: table.value(row: row, column: c.value),
                                term: c.term.flatMap { Self.term(table.value(row: row, column: $0), bases: labelSchema?.schema.termBases ?? [:]) })
                }
            }
            let present = labels.filter { $0.term != nil || !$0.value.allSatisfy(\.isWhitespace) }
            if present.isEmpty {
                // The report counts a row without any value as one empty value.
                _ = normalizer.normalize("", at: location)
                try Self.unlabeled(candidate, spec.unlabeled, into: &out, skipped: &skipped, error: ExportError(
                    .input, location, "no value in the labels.image_labels columns for \(candidate.key) (\(candidate.path)); "
                    + "set labels.image_labels.unlabeled to skip or keep"))
                continue
            }
            var ids: Set<Int32> = []
            var unknown = false
            for label in present {
                if let id = normalizer.normalize(label.value, term: label.term, at: location) { ids.insert(Int32(id)) } else { unknown = true }
            }
            if unknown && spec.unknown == .skip {
                skipped.append(candidate.path)
                continue
            }
            candidate.imageLabels = ids.sorted()
            out.append(candidate)
        }
        mapping = try checkedReport(normalizer, failOnUnknown: spec.unknown == .error, at: shown(file), what: "labels.image_labels")
        return out
    }

    /// An image without a label under `policy`: kept (appended to `out`), left out (listed in
    /// `skipped`), or `error` thrown.
    static func unlabeled(_ candidate: Candidate, _ policy: Recipe.UnlabeledPolicy, into out: inout [Candidate],
                          skipped: inout [String], error: @autoclosure () -> ExportError) throws(ExportError) {
        switch policy {
        case .error: throw error()
        case .skip: skipped.append(candidate.path)
        case .keep: out.append(candidate)
        }
    }
}

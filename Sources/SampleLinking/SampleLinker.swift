import AVDB
import Crypto
import Foundation
import Raster

/// The one entry point the export calls: reads the sample table, joins it to the records,
/// applies consent, privacy and splits, and returns what the bundle stores.
///
/// Order matters and is fixed (specs/samples/v1.md §1): join → deny-by-default identifier check
/// → consent → typing → privacy treatments → k-anonymity → splits. Every step either succeeds
/// or throws before anything is written, so a refused export leaves nothing behind.
public struct SampleLinker: Sendable {
    /// The configuration.
    public let config: SamplesConfig
    /// The table, parsed.
    public let table: CSVTable
    private let sourceSHA256: String

    /// Reads the table named by `config.table` (delimiter by extension: `.tsv`/`.tab`/`.txt` tab, else comma).
    public init(config: SamplesConfig) throws(SampleLinkingError) {
        let bytes: [UInt8]
        guard let data = FileManager.default.contents(atPath: config.table) else {
            throw SampleLinkingError(.tableUnreadable, "cannot read the sample table; check samples.table", file: config.table)
        }
        bytes = [UInt8](data)
        try self.init(config: config, bytes: bytes)
    }

    /// Uses in-memory table bytes; `config.table` names it in errors and the manifest.
    public init(config: SamplesConfig, bytes: [UInt8]) throws(SampleLinkingError) {
        do {
            self.table = try CSVTable(bytes: bytes, file: config.table)
        } catch {
            throw SampleLinkingError(error)
        }
        self.config = config
        self.sourceSHA256 = lowercaseHex(SHA256.hash(data: bytes))
    }

    /// Links `records` (key values in `config.keys` order).
    ///
    /// - Parameters:
    ///   - now: the date embargoes are checked against (injected so exports are reproducible and testable).
    ///   - environment: process environment, for `pseudonym_key.environment`.
    public func link(records: [SampleLinkRecord], now: SampleDate,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws(SampleLinkingError) -> SampleLinkResult {
        let file = table.file
        let header = table.header
        let rows = table.rows
        let lines = rows.map(\.line)
        let nulls = Set(config.nullValues ?? ValueParser.defaultNullValues)

        func columnIndex(_ name: String, _ keyPath: String) throws(SampleLinkingError) -> Int {
            if let i = header.firstIndex(of: name) { return i }
            let near = header.filter { $0.lowercased() == name.lowercased() || $0.lowercased().contains(name.lowercased()) }.prefix(3)
            let hint = near.isEmpty ? "the table has " + header.prefix(10).map { "\"\($0)\"" }.joined(separator: ", ")
                : "did you mean " + near.map { "\"\($0)\"" }.joined(separator: " or ") + "?"
            throw SampleLinkingError(.unknownColumn, "no such column in the sample table; \(hint)", file: file, column: name, keyPath: keyPath)
        }
        func cells(_ index: Int) -> [String?] {
            rows.map { row in
                let v = row[index].trimmingCharacters(in: .whitespaces)
                return nulls.contains(v) ? nil : v
            }
        }

        // 1. Join.
        guard !config.keys.isEmpty else {
            throw SampleLinkingError(.invalidJoinKey, "name at least one key column", keyPath: "samples.keys")
        }
        var keyIndices: [Int] = []
        for (i, k) in config.keys.enumerated() { keyIndices.append(try columnIndex(k, "samples.keys[\(i)]")) }
        var rowOfKey: [[String]: Int] = [:]
        for (r, row) in rows.enumerated() {
            let key = keyIndices.map { row[$0].trimmingCharacters(in: .whitespaces) }
            if key.allSatisfy(\.isEmpty) {
                throw SampleLinkingError(.invalidJoinKey, "the join key is empty in this row; fill it or remove the row", file: file, line: row.line, column: config.keys.joined(separator: " + "))
            }
            if let earlier = rowOfKey[key] {
                throw SampleLinkingError(.duplicateKey, "key \(key.map { "\"\($0)\"" }.joined(separator: " + ")) also occurs on line \(rows[earlier].line); keys must be unique — add a column to the key or remove the duplicate",
                                         file: file, line: row.line, column: config.keys.joined(separator: " + "))
            }
            rowOfKey[key] = r
        }
        var matchedRow: [Int?] = []
        for (i, rec) in records.enumerated() {
            guard rec.keyValues.count == keyIndices.count else {
                throw SampleLinkingError(.invalidJoinKey, "record \"\(rec.id)\" has \(rec.keyValues.count) key values for \(keyIndices.count) key columns", keyPath: "records[\(i)]")
            }
            matchedRow.append(rowOfKey[rec.keyValues.map { $0.trimmingCharacters(in: .whitespaces) }])
        }
        var linkedRows = Set(matchedRow.compactMap { $0 })
        let joinReport = JoinReport(
            matchedRecords: matchedRow.filter { $0 != nil }.count,
            unmatchedRecords: zip(records, matchedRow).filter { $0.1 == nil }.map(\.0.id),
            unmatchedRows: rows.indices.filter { !linkedRows.contains($0) }.map { r in
                JoinReport.UnmatchedRow(line: rows[r].line, key: keyIndices.map { rows[r][$0] })
            })

        // 2. Candidate columns and the deny-by-default check.
        let candidates: [String]
        if let listed = config.columns {
            for (i, c) in listed.enumerated() { _ = try columnIndex(c, "samples.columns[\(i)]") }
            candidates = header.filter { listed.contains($0) }
        } else if config.tableKind == .annotationTable {
            candidates = header.filter(Self.isIDRSampleColumn)
        } else {
            candidates = header
        }
        var policies: [String: ColumnPolicy] = [:]
        for (i, p) in (config.privacy?.columns ?? []).enumerated() {
            _ = try columnIndex(p.column, "samples.privacy.columns[\(i)].column")
            guard policies[p.column] == nil else {
                throw SampleLinkingError(.invalidConfiguration, "the column has two privacy entries; keep one", column: p.column, keyPath: "samples.privacy.columns[\(i)]")
            }
            if p.treatment == .generalize, p.generalize == nil {
                throw SampleLinkingError(.invalidTreatment, "generalize needs a rule (age_band, year_only or postcode_prefix)", column: p.column, keyPath: "samples.privacy.columns[\(i)].generalize")
            }
            policies[p.column] = p
        }
        var identifierWarning: [String: String] = [:]
        for name in candidates {
            let index = header.firstIndex(of: name)!
            guard let why = IdentifierDetector.reason(forName: name) ?? IdentifierDetector.reason(forValues: cells(index).compactMap { $0 }) else { continue }
            identifierWarning[name] = why
            guard let policy = policies[name] else {
                throw SampleLinkingError(.undeclaredIdentifier, "looks like a direct identifier (\(why)); declare a treatment for it in samples.privacy.columns (drop, pseudonymize, generalize, or keep with a reason)",
                                         file: file, column: name, keyPath: "samples.privacy.columns")
            }
            if policy.treatment == .keep, (policy.reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw SampleLinkingError(.undeclaredIdentifier, "looks like a direct identifier (\(why)); keeping it needs a reason, which the manifest records",
                                         file: file, column: name, keyPath: "samples.privacy.columns")
            }
        }

        // 3. Consent and embargo; the extra last row stands for records without a sample row,
        // which study-level rules still apply to.
        let consentConfig = config.consent ?? ConsentConfig()
        let releaseCells = try consentConfig.releaseDateColumn.map { (c: String) throws(SampleLinkingError) in cells(try columnIndex(c, "samples.consent.release_date_column")) + [nil] }
        let codeCells = try consentConfig.dataUseColumn.map { (c: String) throws(SampleLinkingError) in cells(try columnIndex(c, "samples.consent.data_use_column")) + [nil] }
        let consent = try ConsentChecker(config: consentConfig, now: now)
            .evaluate(rowCount: rows.count + 1, releaseDates: releaseCells, codes: codeCells, file: file, lines: lines + [0])
        var excluded: [ExcludedRecord] = []
        var overrideCounts: [String: Int] = [:]
        var conditions: Set<String> = []
        var included = [Bool](repeating: false, count: records.count)
        for (i, rec) in records.enumerated() {
            let r = matchedRow[i] ?? rows.count
            if consent.reasons[r].isEmpty {
                included[i] = true
                for rule in consent.overridden[r] { overrideCounts[rule, default: 0] += 1 }
                conditions.formUnion(consent.conditions[r])
            } else {
                excluded.append(ExcludedRecord(record: rec.id, reasons: consent.reasons[r]))
            }
        }
        linkedRows = Set(records.indices.filter { included[$0] }.compactMap { matchedRow[$0] })
        let releasedRows = rows.indices.filter { linkedRows.contains($0) }
        var outputRow: [Int: Int] = [:]
        for (o, r) in releasedRows.enumerated() { outputRow[r] = o }

        // 4–5. Typing over the whole table (so a type does not change with the linked subset), then treatments.
        var declared: [String: ColumnTypeDeclaration] = [:]
        for (i, t) in (config.types ?? []).enumerated() {
            _ = try columnIndex(t.column, "samples.types[\(i)].column")
            declared[t.column] = t.declaration
        }
        var pseudonymizer: Pseudonymizer?
        if policies.values.contains(where: { $0.treatment == .pseudonymize }) {
            guard let source = config.privacy?.pseudonymKey else {
                throw SampleLinkingError(.pseudonymKeyUnavailable, "a column is pseudonymized but no key is configured; set samples.privacy.pseudonym_key.file or .environment", keyPath: "samples.privacy.pseudonym_key")
            }
            pseudonymizer = Pseudonymizer(key: try source.loadKey(environment: environment))
        }
        var released: [SampleColumn] = []
        var manifestColumns: [ManifestColumn] = []
        var releasedByName: [String: (column: SampleColumn, treatment: PrivacyTreatment)] = [:]
        for name in candidates {
            let raw = cells(header.firstIndex(of: name)!)
            let policy = policies[name] ?? ColumnPolicy(column: name, treatment: .keep)
            var column: SampleColumn
            switch policy.treatment {
            case .pseudonymize:
                column = .text(name: name, values: raw.map { $0.map(pseudonymizer!.pseudonym) })
            case .keep, .drop, .generalize:
                column = try ColumnTyper.type(name: name, cells: raw, declaration: declared[name], file: file, lines: lines)
                if policy.treatment == .generalize {
                    column = try Generalizer.apply(policy.generalize!, to: column, cells: raw)
                }
            }
            manifestColumns.append(ManifestColumn(
                name: name, source: file, type: column.type, unit: column.unit, treatment: policy.treatment,
                rule: policy.generalize?.summary, reason: policy.reason, identifierWarning: identifierWarning[name],
                released: policy.treatment != .drop))
            guard policy.treatment != .drop else { continue }
            let out = column.selecting(rows: releasedRows)
            released.append(out)
            releasedByName[name] = (out, policy.treatment)
        }

        // 6. k-anonymity over the released rows.
        var kReport: KAnonymityReport?
        if let qis = config.privacy?.quasiIdentifiers, !qis.isEmpty {
            var qiColumns: [SampleColumn] = []
            for (i, q) in qis.enumerated() {
                guard let c = releasedByName[q]?.column else {
                    throw SampleLinkingError(.invalidConfiguration, "a quasi-identifier must be a released column (listed in samples.columns and not dropped)", column: q, keyPath: "samples.privacy.quasi_identifiers[\(i)]")
                }
                qiColumns.append(c)
            }
            let report = KAnonymityReport.compute(columns: qiColumns, minimumK: config.privacy?.minimumK)
            if let minimum = config.privacy?.minimumK, report.k < minimum, releasedRows.count > 0 {
                let small = report.smallestClasses.filter { $0.size < minimum }.prefix(5)
                    .map { "(\($0.values.joined(separator: ", "))) × \($0.size)" }.joined(separator: "; ")
                throw SampleLinkingError(.kAnonymityViolated, "k = \(report.k) is below the minimum \(minimum); smallest classes: \(small). Generalize further (wider bands) or drop a quasi-identifier",
                                         file: file, keyPath: "samples.privacy.minimum_k")
            }
            kReport = report
        }

        // 7. Splits.
        var groupOf = [String?](repeating: nil, count: records.count)
        var splitOf = [String?](repeating: nil, count: records.count)
        var splitSummary: SplitSummary?
        if let s = config.splits {
            let groupCells = cells(try columnIndex(s.groupColumn, "samples.splits.group_column"))
            let releasedGroup = releasedGroupNames(column: s.groupColumn, cells: groupCells, releasedRows: releasedRows,
                                                   released: releasedByName[s.groupColumn])
            let members = records.indices.filter { included[$0] && matchedRow[$0] != nil }
            var groups: [String] = []
            for i in members {
                let r = matchedRow[i]!
                guard let g = groupCells[r] else {
                    throw SampleLinkingError(.invalidConfiguration, "the group column is empty in this row; every linked sample needs a group", file: file, line: lines[r], column: s.groupColumn)
                }
                groups.append(g)
                groupOf[i] = releasedGroup[g]
            }
            var order: [String]
            if let from = s.fromColumn {
                let values = cells(try columnIndex(from, "samples.splits.from_column"))
                let map = Dictionary((s.valueMap ?? []).map { ($0.value, $0.split) }, uniquingKeysWith: { a, _ in a })
                var splitOfGroup: [String: (split: String, line: Int)] = [:]
                for (n, i) in members.enumerated() {
                    let r = matchedRow[i]!
                    guard let v = values[r] else {
                        throw SampleLinkingError(.invalidConfiguration, "no split value in this row", file: file, line: lines[r], column: from)
                    }
                    let split = map[v] ?? v
                    if let earlier = splitOfGroup[groups[n]], earlier.split != split {
                        throw SampleLinkingError(.groupStraddlesSplits, "this row puts group \"\(releasedGroup[groups[n]]!)\" in split \"\(split)\" but line \(earlier.line) puts it in \"\(earlier.split)\"; one group must stay in one split",
                                                 file: file, line: lines[r], column: from)
                    }
                    splitOfGroup[groups[n]] = (split, lines[r])
                    splitOf[i] = split
                }
                order = Set(splitOf.compactMap { $0 }).sorted()
                splitSummary = SplitSummary(method: "column", groupColumn: s.groupColumn, seed: nil, fractions: nil,
                                            stratifyColumn: nil, fromColumn: from, counts: [])
            } else {
                guard let fractions = s.fractions else {
                    throw SampleLinkingError(.invalidSplitConfiguration, "give fractions (or from_column)", keyPath: "samples.splits.fractions")
                }
                let assigner = try SplitAssigner(seed: s.seed ?? 0, fractions: fractions)
                var classes: [String]?
                if let strat = s.stratifyColumn {
                    let classCells = cells(try columnIndex(strat, "samples.splits.stratify_column"))
                    classes = members.map { classCells[matchedRow[$0]!] ?? "" }
                }
                let method = s.stratifyColumn == nil ? .none : (s.stratification ?? .rank)
                let assignment = assigner.assign(groups: groups, classes: classes, method: method)
                for (n, i) in members.enumerated() { splitOf[i] = assignment[groups[n]] }
                order = fractions.map(\.name)
                splitSummary = SplitSummary(method: method == .rank ? "hash+rank_stratified" : "hash", groupColumn: s.groupColumn,
                                            seed: s.seed ?? 0, fractions: fractions, stratifyColumn: s.stratifyColumn,
                                            fromColumn: nil, counts: [])
            }
            splitSummary?.counts = order.map { name in
                let inSplit = members.enumerated().filter { splitOf[$0.element] == name }
                return SplitSummary.Count(split: name, groups: Set(inSplit.map { groups[$0.offset] }).count, records: inSplit.count)
            }
        }

        let links = records.indices.map { i in
            RecordLink(record: records[i].id, sampleRow: included[i] ? matchedRow[i].flatMap { outputRow[$0] } : nil,
                       group: groupOf[i], split: splitOf[i], excluded: !included[i])
        }
        let overrideReasons = Dictionary((consentConfig.overrides ?? []).map {
            ($0.rule.lowercased() == "embargo" ? "embargo" : DataUseCode.canonical($0.rule) ?? $0.rule, $0.reason)
        }, uniquingKeysWith: { a, _ in a })
        let manifest = SamplesManifestSection(
            source: file, sourceSHA256: sourceSHA256, keys: config.keys, columns: manifestColumns,
            pseudonymKeyFingerprint: pseudonymizer?.keyFingerprint,
            join: JoinSummary(matchedRecords: joinReport.matchedRecords, unmatchedRecords: joinReport.unmatchedRecords,
                              unmatchedSampleLines: joinReport.unmatchedRows.map(\.line)),
            kAnonymity: kReport,
            consent: ConsentSummary(excluded: excluded,
                                    overrides: overrideCounts.keys.sorted().map { AppliedOverride(rule: $0, reason: overrideReasons[$0] ?? "", records: overrideCounts[$0]!) },
                                    conditions: conditions.sorted(), checkedOn: now.description),
            splits: splitSummary)
        return SampleLinkResult(
            samples: SampleTableData(rowCount: releasedRows.count, sourceLines: releasedRows.map { lines[$0] }, columns: released),
            records: links, manifest: manifest, joinReport: joinReport)
    }

    /// Group ids safe to publish: the released cell when the group column is released unchanged
    /// or pseudonymized, else `group-N` numbered by first appearance among released rows (a
    /// dropped or generalized group column must not reappear through the split index).
    private func releasedGroupNames(column: String, cells: [String?], releasedRows: [Int],
                                    released: (column: SampleColumn, treatment: PrivacyTreatment)?) -> [String: String] {
        var names: [String: String] = [:]
        for (o, r) in releasedRows.enumerated() {
            guard let g = cells[r], names[g] == nil else { continue }
            if let released, released.treatment == .keep || released.treatment == .pseudonymize, let text = released.column.text(at: o) {
                names[g] = text
            } else {
                names[g] = "group-\(names.count + 1)"
            }
        }
        return names
    }

    /// IDR annotation-table headers that describe the sample rather than the image or the phenotype.
    static func isIDRSampleColumn(_ header: String) -> Bool {
        if ["Gene Identifier", "Gene Symbol", "Source Name"].contains(header) { return true }
        guard header.hasSuffix("]"), let open = header.firstIndex(of: "[") else { return false }
        let word = header[..<open].trimmingCharacters(in: .whitespaces)
        // idr0038 writes "Characterisics"; accept the family by its stem.
        return word == "Comment" || word.hasPrefix("Characteri")
    }
}

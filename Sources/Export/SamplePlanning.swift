import Foundation
import SampleLinking

/// The planner's view of a sample link: which images stay (consent and embargo can exclude
/// them) and each image's sample row, group and split.
struct LinkedSamples {
    var result: SampleLinkResult
    private var byRecord: [String: RecordLink]

    init(_ result: SampleLinkResult) {
        self.result = result
        byRecord = Dictionary(result.records.map { ($0.record, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func link(of candidate: Candidate) -> RecordLink? { byRecord[candidate.path] }

    func included(_ candidates: [Candidate]) -> [Candidate] {
        candidates.filter { byRecord[$0.path]?.excluded != true }
    }
}

extension PlanState {
    /// Links the annotation rows of the planned images to the sample table, applying the
    /// privacy policy, consent rules and split assignment (specs/samples/v1.md).
    mutating func linkSamples(_ config: SamplesConfig, candidates: [Candidate], recipeDirectory: URL)
        throws(ExportError) -> LinkedSamples {
        guard let table else {
            throw ExportError(.recipe, recipeFile,
                              "samples: needs inputs.annotations, whose key columns link each image to its sample")
        }
        let tableURL = try inside(config.table, field: "samples.table")
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: tableURL))
        } catch {
            throw ExportError(.input, shown(config.table), "cannot read the sample table: \(error.localizedDescription)")
        }
        try record(config.table, url: tableURL, role: "sample_table")

        var keyColumns: [Int] = []
        for (i, key) in config.keys.enumerated() {
            do {
                keyColumns.append(try table.columnIndex(named: key))
            } catch {
                throw ExportError(.mismatch, recipeFile,
                                  "samples.keys[\(i)]: '\(key)' is not a column of the annotation table (\(error.message))")
            }
        }
        let records = candidates.map { c in
            SampleLinkRecord(id: c.path, keyValues: keyColumns.map { table.value(row: c.row!, column: $0) })
        }
        var resolved = config
        // The key file is a secret kept beside the recipe, not an input: it is never hashed or listed.
        if let file = config.privacy?.pseudonymKey?.file {
            resolved.privacy?.pseudonymKey?.file = URL(fileURLWithPath: file, relativeTo: recipeDirectory).standardizedFileURL.path
        }
        if resolved.splits != nil && resolved.splits?.seed == nil { resolved.splits?.seed = recipe.seed }
        let result: SampleLinkResult
        do {
            result = try SampleLinker(config: resolved, bytes: bytes).link(records: records, now: Self.today())
        } catch {
            throw ExportError(.input, shown(config.table), error.description)
        }
        let join = result.joinReport
        if !join.unmatchedRecords.isEmpty {
            warnings.append("\(config.table): \(join.unmatchedRecords.count) of \(records.count) images have no sample row (listed in the manifest)")
        }
        let excluded = result.records.filter(\.excluded).count
        if excluded > 0 {
            warnings.append("\(excluded) images excluded by the consent and embargo rules (listed with reasons in the manifest)")
        }
        return LinkedSamples(result)
    }

    static func today() -> SampleDate {
        let parts = Exporter.today().split(separator: "-").compactMap { Int($0) }
        return SampleDate(year: parts[0], month: parts[1], day: parts[2])!
    }
}

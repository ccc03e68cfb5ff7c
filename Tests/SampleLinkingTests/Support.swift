import Foundation
import Testing
@testable import SampleLinking

/// The real example datasets in `<parent of the repository>/shared/data`, found by walking up from
/// this file, so the tests work from any clone whose parent holds `shared/`.
enum SharedData {
    static let root: URL? = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared/data")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }()

    static let available = root != nil

    static func idr(_ relative: String) -> URL {
        root!.appendingPathComponent("idr-annotation-csv").appendingPathComponent(relative)
    }
}

/// A fresh directory removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("samplelinking-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ contents: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        return file
    }
}

/// Links an in-memory CSV with records named after the first key column's values.
func linkCSV(_ csv: String, config: SamplesConfig, records: [SampleLinkRecord]? = nil,
             now: SampleDate = SampleDate(year: 2025, month: 6, day: 1)!,
             environment: [String: String] = [:]) throws(SampleLinkingError) -> SampleLinkResult {
    let linker = try SampleLinker(config: config, bytes: Array(csv.utf8))
    let keyIndices = config.keys.map { linker.table.header.firstIndex(of: $0)! }
    let recs = records ?? linker.table.rows.map { row in
        SampleLinkRecord(id: "img-" + keyIndices.map { row[$0] }.joined(separator: "-"), keyValues: keyIndices.map { row[$0] })
    }
    return try linker.link(records: recs, now: now, environment: environment)
}

/// Sorted-keys JSON of a value, as the export will store it.
func canonicalJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The SampleLinkingError a closure throws; nil when it throws nothing. Any other error type
/// is a test failure, because the module promises to throw only its own error.
func linkingError(_ body: () throws -> Void) -> SampleLinkingError? {
    do {
        try body()
        return nil
    } catch let error as SampleLinkingError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

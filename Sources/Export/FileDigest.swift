import BundleFormat
import Crypto
import Foundation
import Raster

/// SHA-256 and size of an input file (`FileSHA256`), with errors that name it as the export shows it.
struct FileDigest: Sendable, Equatable {
    var sha256: String
    var bytes: Int64

    static func of(_ url: URL, displayPath: String) throws(ExportError) -> FileDigest {
        do {
            let digest = try FileSHA256.of(path: url.path)
            return FileDigest(sha256: digest.sha256, bytes: digest.bytes)
        } catch {
            throw ExportError(.input, displayPath, (error.opening ? "cannot open: " : "read failed: ") + error.reason)
        }
    }

    static func of(data: Data) -> String { lowercaseHex(SHA256.hash(data: data)) }

    /// The file's size in bytes, without reading it.
    static func size(_ url: URL, displayPath: String) throws(ExportError) -> Int64 {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return (attributes[.size] as? NSNumber)?.int64Value ?? 0
        } catch {
            throw ExportError(.input, displayPath, "cannot read its size: \(error.localizedDescription)")
        }
    }
}

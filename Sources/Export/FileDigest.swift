import Crypto
import Foundation
import Raster

/// SHA-256 and size of a file, read in fixed-size blocks so memory does not grow with the file.
struct FileDigest: Sendable, Equatable {
    var sha256: String
    var bytes: Int64

    static let blockSize = 1 << 20

    static func of(_ url: URL, displayPath: String) throws(ExportError) -> FileDigest {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw ExportError(.input, displayPath, "cannot open: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total: Int64 = 0
        while true {
            let block: Data?
            do {
                block = try handle.read(upToCount: blockSize)
            } catch {
                throw ExportError(.input, displayPath, "read failed: \(error.localizedDescription)")
            }
            guard let block, !block.isEmpty else { break }
            hasher.update(data: block)
            total += Int64(block.count)
        }
        return FileDigest(sha256: lowercaseHex(hasher.finalize()), bytes: total)
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

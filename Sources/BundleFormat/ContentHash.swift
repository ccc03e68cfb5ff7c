import Crypto
import Foundation
import HDF5
import Raster

/// The bundle's identity: one SHA-256 over the digests of all its datasets (spec §Content hash).
///
/// It is a hash of decoded content in a canonical byte order, so two bundles with equal
/// content have equal hashes even when their files differ (another zlib build, another
/// chunk layout, another HDF5 version).
public enum ContentHash {
    /// `"sha256:" + lowercaseHex(SHA-256(lines))`, where the digests are sorted by the UTF-8 bytes of
    /// their path and each contributes the line `path \t dtype \t dims joined by "x" \t sha256 \n`.
    public static func combine(_ digests: [DatasetDigest]) -> String {
        "sha256:" + lowercaseHex(SHA256.hash(data: Data(digestLines(digests).utf8)))
    }

    /// The exact text that `combine` hashes; useful to debug a mismatch with another implementation.
    public static func digestLines(_ digests: [DatasetDigest]) -> String {
        sortedByPath(digests).map { d in
            "\(d.path)\t\(d.dtype)\t\(d.shape.map(String.init).joined(separator: "x"))\t\(d.sha256)\n"
        }.joined()
    }

    /// Digests in canonical (UTF-8 byte) path order.
    static func sortedByPath(_ digests: [DatasetDigest]) -> [DatasetDigest] {
        digests.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }
}


/// SHA-256 over a dataset's canonical bytes, fed in C order one block at a time.
///
/// Canonical bytes: numeric elements little-endian; each string as its UTF-8 byte length
/// (UInt32 little-endian) followed by its UTF-8 bytes.
struct CanonicalHasher {
    private var sha = SHA256()

    mutating func append<T: HDF5Scalar>(_ values: [T]) {
        #if _endian(little)
        values.withUnsafeBytes { sha.update(bufferPointer: $0) }
        #else
        // Reverse each element's bytes; valid for integers and IEEE floats alike.
        let width = MemoryLayout<T>.size
        values.withUnsafeBytes { raw in
            var swapped = [UInt8](repeating: 0, count: raw.count)
            for i in stride(from: 0, to: raw.count, by: width) {
                for j in 0..<width { swapped[i + j] = raw[i + width - 1 - j] }
            }
            swapped.withUnsafeBytes { sha.update(bufferPointer: $0) }
        }
        #endif
    }

    mutating func append(_ strings: [String]) {
        var buffer = [UInt8]()
        for s in strings {
            let utf8 = Array(s.utf8)
            let n = UInt32(utf8.count)
            buffer.append(contentsOf: [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)])
            buffer.append(contentsOf: utf8)
        }
        buffer.withUnsafeBytes { sha.update(bufferPointer: $0) }
    }

    func finalize() -> String { lowercaseHex(sha.finalize()) }
}

import Crypto
import Dispatch
import Foundation
import Raster

/// The SHA-256 of a whole file, computed on a thread of its own while the caller goes on: the
/// post-write check hashes the bundle for its Croissant metadata while it verifies every chunk,
/// and on a 1.1 GB bundle each takes about a second.
final class FileHashing: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written once on the hashing thread, read after `done`.
    private var result: Result<String, BundleError> = .failure(BundleError(code: .io, message: "not hashed"))

    init(_ url: URL) {
        Thread.detachNewThread { [self] in
            result = Result { () throws(BundleError) -> String in try Self.sha256(of: url) }
            done.signal()
        }
    }

    /// The file's SHA-256 (lower-case hex), once the thread has read all of it.
    func digest() throws(BundleError) -> String {
        done.wait()
        return try result.get()
    }

    /// The file's SHA-256, read on the calling thread.
    static func sha256(of url: URL) throws(BundleError) -> String {
        do {
            return try FileSHA256.of(path: url.path).sha256
        } catch {
            throw BundleError(code: .io, message: "cannot read the bundle to hash it: \(error.reason)", file: url.path)
        }
    }
}

/// SHA-256 and size of a file, read front to back through one reused buffer: a fresh block per
/// read made the kernel map and zero each block, which cost as much as the hashing. Shared by
/// the export (every input file) and the bundle checks (the finished bundle).
public enum FileSHA256 {
    /// Why a file could not be hashed.
    public struct Failure: Error {
        /// True when the file could not even be opened.
        public var opening: Bool
        /// The system's reason (`strerror`).
        public var reason: String
    }

    public static func of(path: String) throws(Failure) -> (sha256: String, bytes: Int64) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(opening: true, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        var total: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(opening: false, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += Int64(n)
        }
        return (lowercaseHex(hasher.finalize()), total)
    }
}

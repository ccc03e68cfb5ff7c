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

    /// The file's SHA-256, read on the calling thread through one reused buffer: a fresh block
    /// per read made the kernel map and zero 8 MiB each time, which cost as much as the hashing.
    static func sha256(of url: URL) throws(BundleError) -> String {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw failure(url) }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(url)
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return lowercaseHex(hasher.finalize())
    }

    private static func failure(_ url: URL) -> BundleError {
        BundleError(code: .io, message: "cannot read the bundle to hash it: \(String(cString: strerror(errno)))", file: url.path)
    }
}

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

    /// The file's SHA-256, read in blocks of 8 MiB on the calling thread.
    static func sha256(of url: URL) throws(BundleError) -> String {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let block = try handle.read(upToCount: 8 << 20), !block.isEmpty { hasher.update(data: block) }
            return lowercaseHex(hasher.finalize())
        } catch {
            throw BundleError(code: .io, message: "cannot read the bundle to hash it: \(error.localizedDescription)", file: url.path)
        }
    }
}

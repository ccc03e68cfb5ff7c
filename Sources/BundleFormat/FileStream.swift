import Crypto
import Foundation

/// Reads a file forward once, hashing every byte with SHA-256, and lends out byte ranges on
/// the way, so one read of a freshly written bundle serves both its chunk checks and the
/// file digest the Croissant metadata publishes. A range behind the read position (a chunk
/// stored out of order) is read again on its own; memory stays at about two read blocks.
struct FileStream {
    private let handle: FileHandle
    private let path: String
    private var sha = SHA256()
    /// File bytes [bufferStart, position), all already hashed.
    private var buffer: [UInt8] = []
    private var bufferStart: UInt64 = 0
    private var position: UInt64 = 0

    static let blockSize = 8 << 20

    init(_ path: String) throws(BundleError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BundleError(code: .io, message: "cannot open the file to read it back: \(String(cString: strerror(errno)))",
                              file: path)
        }
        self.handle = handle
        self.path = path
    }

    /// `body` applied to the file's bytes [address, address + count).
    mutating func withBytes<R>(at address: UInt64, count: Int, _ body: (UnsafeRawBufferPointer) -> R) throws(BundleError) -> R {
        let end = address + UInt64(count)
        if address < bufferStart {
            var bytes = [UInt8](repeating: 0, count: count)
            let (fd, path) = (handle.fileDescriptor, path)
            try bytes.withUnsafeMutableBytes { raw in Self.readFully(fd, path, raw, at: address) }.get()
            return bytes.withUnsafeBytes(body)
        }
        if end > position {
            // Bytes before `address` were hashed and are not lent again: drop them before reading on.
            let keep = min(address, position)
            buffer.removeFirst(Int(keep - bufferStart))
            bufferStart = keep
            while position < end {
                let old = buffer.count
                let want = max(Self.blockSize, Int(end - position))
                buffer.append(contentsOf: repeatElement(0, count: want))
                let (fd, path, from) = (handle.fileDescriptor, path, position)
                let n = try buffer.withUnsafeMutableBytes { raw in
                    Self.read(fd, path, UnsafeMutableRawBufferPointer(rebasing: raw[old..<(old + want)]), at: from)
                }.get()
                buffer.removeLast(want - n)
                buffer[old...].withUnsafeBytes { sha.update(bufferPointer: $0) }
                position += UInt64(n)
                if n == 0 {
                    throw BundleError(code: .io, message: "the file ends at byte \(position), before byte \(end) of a chunk",
                                      file: path)
                }
            }
        }
        let from = Int(address - bufferStart)
        return buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[from..<(from + count)])) }
    }

    /// Hashes the rest of the file and returns the SHA-256 of all of it (lower-case hex).
    mutating func finish() throws(BundleError) -> String {
        buffer = []
        var block = [UInt8](repeating: 0, count: Self.blockSize)
        while true {
            let (fd, path, from) = (handle.fileDescriptor, path, position)
            let n = try block.withUnsafeMutableBytes { raw in Self.read(fd, path, raw, at: from) }.get()
            if n == 0 { break }
            block[0..<n].withUnsafeBytes { sha.update(bufferPointer: $0) }
            position += UInt64(n)
        }
        try? handle.close()
        return hex(sha.finalize())
    }

    /// Up to `into.count` bytes from `offset` (fewer only at the end of the file), as a
    /// `Result` because the standard library's buffer closures do not carry typed throws.
    private static func read(_ fd: Int32, _ path: String, _ into: UnsafeMutableRawBufferPointer,
                             at offset: UInt64) -> Result<Int, BundleError> {
        var total = 0
        while total < into.count {
            let n = pread(fd, into.baseAddress! + total, into.count - total, off_t(offset) + off_t(total))
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(BundleError(code: .io, message: "cannot read the file back: \(String(cString: strerror(errno)))",
                                            file: path))
            }
            if n == 0 { break }
            total += n
        }
        return .success(total)
    }

    private static func readFully(_ fd: Int32, _ path: String, _ into: UnsafeMutableRawBufferPointer,
                                  at offset: UInt64) -> Result<Void, BundleError> {
        read(fd, path, into, at: offset).flatMap { n in
            n == into.count ? .success(())
                : .failure(BundleError(code: .io, message: "the file ends before byte \(offset + UInt64(into.count)) of a chunk",
                                       file: path))
        }
    }
}

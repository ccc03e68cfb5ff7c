import Crypto
import Dispatch
import Foundation
import Raster

/// Reads a file forward once, hashing every byte with SHA-256, and lends out byte ranges on
/// the way, so one read of a freshly written bundle serves both its chunk checks and the
/// file digest the Croissant metadata publishes. A range behind the read position (a chunk
/// stored out of order) is read again on its own.
///
/// The hashing runs on its own queue, a block behind the reads: on a bundle of 1.1 GB it takes
/// about as long as the chunk checks the caller runs meanwhile (0.8 s each), and the export
/// waits for this pass before it publishes. Blocks are read into fresh buffers, handed to the
/// hasher as they are and dropped once no range needs them, so nothing is zero-filled or
/// moved; memory stays at about four read blocks (two lent from, two waiting to be hashed).
final class FileStream {
    private let handle: FileHandle
    private let path: String
    private let hasher = BackgroundHasher(inFlight: 2)
    /// Consecutive blocks covering file bytes [blocks[0].start, position), each already handed
    /// to the hasher.
    private var blocks: [(start: UInt64, bytes: [UInt8])] = []
    private var position: UInt64 = 0
    /// Bytes read at a time (more when one range is longer).
    let blockSize: Int

    init(_ path: String, blockSize: Int = 8 << 20) throws(BundleError) {
        precondition(blockSize > 0)
        self.blockSize = blockSize
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BundleError(code: .io, message: "cannot open the file to read it back: \(String(cString: strerror(errno)))",
                              file: path)
        }
        self.handle = handle
        self.path = path
    }

    deinit { try? handle.close() }

    /// `body` applied to the file's bytes [address, address + count).
    func withBytes<R>(at address: UInt64, count: Int, _ body: (UnsafeRawBufferPointer) -> R) throws(BundleError) -> R {
        let end = address + UInt64(count)
        if address < (blocks.first?.start ?? position) {
            var bytes = [UInt8](repeating: 0, count: count)
            let (fd, path) = (handle.fileDescriptor, path)
            try bytes.withUnsafeMutableBytes { raw in Self.readFully(fd, path, raw, at: address) }.get()
            return bytes.withUnsafeBytes(body)
        }
        while position < end {
            let block = try readBlock(count: max(blockSize, Int(end - position)))
            if block.isEmpty {
                throw BundleError(code: .io, message: "the file ends at byte \(position), before byte \(end) of a chunk",
                                  file: path)
            }
            blocks.append((position, block))
            position += UInt64(block.count)
        }
        // Ranges are asked for in file order, so a block that ends before this one is done with.
        blocks.removeAll { $0.start + UInt64($0.bytes.count) <= address }
        guard count > 0 else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let first = blocks[0]
        let from = Int(address - first.start)
        if from + count <= first.bytes.count {
            return first.bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[from..<(from + count)])) }
        }
        // The range spans a block boundary: the only case that copies.
        var joined: [UInt8] = []
        joined.reserveCapacity(count)
        for block in blocks {
            let lo = max(address, block.start), hi = min(end, block.start + UInt64(block.bytes.count))
            if lo < hi { joined += block.bytes[Int(lo - block.start)..<Int(hi - block.start)] }
        }
        return joined.withUnsafeBytes(body)
    }

    /// Hashes the rest of the file and returns the SHA-256 of all of it (lower-case hex).
    func finish() throws(BundleError) -> String {
        blocks = []
        while true {
            let block = try readBlock(count: blockSize)
            if block.isEmpty { break }
            position += UInt64(block.count)
        }
        return lowercaseHex(hasher.finalize())
    }

    /// The next `count` bytes from `position` (fewer at the end of the file), already queued
    /// for hashing.
    private func readBlock(count: Int) throws(BundleError) -> [UInt8] {
        let (fd, path, from) = (handle.fileDescriptor, path, position)
        var result: Result<Int, BundleError> = .success(0)
        let block = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
            result = Self.read(fd, path, UnsafeMutableRawBufferPointer(raw), at: from)
            initialized = (try? result.get()) ?? 0
        }
        _ = try result.get()
        if !block.isEmpty { hasher.update(block) }
        return block
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

/// SHA-256 of blocks handed over in order, computed on a serial queue of its own while the
/// caller goes on; at most `inFlight` blocks wait, so a fast reader cannot queue the whole file.
final class BackgroundHasher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "trainset.file-sha256")
    private let slots: DispatchSemaphore
    /// Touched only on `queue`.
    private var sha = SHA256()

    init(inFlight: Int) { slots = DispatchSemaphore(value: inFlight) }

    func update(_ block: [UInt8]) {
        slots.wait()
        queue.async { [self] in
            block.withUnsafeBytes { sha.update(bufferPointer: $0) }
            slots.signal()
        }
    }

    /// The digest of every block handed over, once the queue has hashed them all.
    func finalize() -> SHA256.Digest {
        queue.sync { sha.finalize() }
    }
}

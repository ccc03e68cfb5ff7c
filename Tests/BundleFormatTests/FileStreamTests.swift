@testable import BundleFormat
import Crypto
import Foundation
import Testing

/// `FileStream`, the one forward read behind the post-write check: the ranges it lends must be
/// the file's bytes wherever they fall against its read blocks, and its digest must be the
/// whole file's, whatever was lent on the way.
@Suite struct FileStreamTests {
    /// A file of `count` bytes that differ from their neighbours, so a shifted range shows.
    static func file(_ dir: TempDir, count: Int) throws -> (URL, [UInt8]) {
        var state: UInt32 = 12345
        let bytes = (0..<count).map { _ -> UInt8 in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        let url = dir.file("stream.bin")
        try Data(bytes).write(to: url)
        return (url, bytes)
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test(arguments: [1, 7, 64, 1000, 5000])
    func rangesAreTheFilesBytesAcrossBlockBoundaries(blockSize: Int) throws {
        let dir = TempDir()
        let (url, bytes) = try Self.file(dir, count: 3000)
        let stream = try FileStream(url.path, blockSize: blockSize)
        // In file order, with gaps, ranges inside one block, ranges over several, an empty one,
        // one behind the read position (read again on its own), and one longer than a block.
        let ranges: [(Int, Int)] = [(0, 5), (5, 60), (100, 0), (130, 200), (129, 3), (400, 1100), (1500, 1), (1501, 1499)]
        for (address, count) in ranges {
            let lent = try stream.withBytes(at: UInt64(address), count: count) { Array($0) }
            #expect(lent == Array(bytes[address..<(address + count)]), "range \(address)+\(count), blocks of \(blockSize)")
        }
        #expect(try stream.finish() == Self.sha256(bytes))
    }

    @Test func theDigestCoversBytesNeverLent() throws {
        let dir = TempDir()
        let (url, bytes) = try Self.file(dir, count: 100_000)
        let stream = try FileStream(url.path, blockSize: 4096)
        _ = try stream.withBytes(at: 50_000, count: 10) { $0.count }
        #expect(try stream.finish() == Self.sha256(bytes))
    }

    @Test func aRangePastTheEndIsAnErrorNamingTheFile() throws {
        let dir = TempDir()
        let (url, _) = try Self.file(dir, count: 100)
        let stream = try FileStream(url.path, blockSize: 16)
        #expect {
            try stream.withBytes(at: 90, count: 20) { $0.count }
        } throws: { error in
            let e = error as? BundleError
            return e?.file == url.path && e?.message == "the file ends at byte 100, before byte 110 of a chunk"
        }
    }
}

@testable import BundleFormat
import Crypto
import Foundation
import Testing

/// `FileHashing`, the bundle's SHA-256 for its Croissant metadata, taken on a thread of its own
/// while the post-write check reads the chunks: it must be the whole file's digest however many
/// of its reads the file spans.
@Suite struct FileHashingTests {
    @Test(arguments: [0, 1, 4 << 20, (9 << 20) + 3])
    func theDigestIsTheWholeFiles(bytes count: Int) throws {
        let dir = TempDir()
        let url = dir.file("h.bin")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<count).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        try Data(bytes).write(to: url)
        let expected = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        #expect(try FileHashing(url).digest() == expected)
        #expect(try FileHashing.sha256(of: url) == expected)
    }

    @Test func aMissingFileIsAnErrorNamingIt() {
        let dir = TempDir()
        let url = dir.file("absent.h5")
        #expect {
            _ = try FileHashing(url).digest()
        } throws: { error in
            let e = error as? BundleError
            return e?.file == url.path && e?.message == "cannot read the bundle to hash it: No such file or directory"
        }
    }
}

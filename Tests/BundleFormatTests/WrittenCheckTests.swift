import BundleFormat
import Crypto
import Foundation
import HDF5
import Testing

/// `BundleValidator.validateWritten`, the check an export runs on the file it has just
/// written: cheaper than `validate`, but it still finds a damaged chunk, a chunk that decodes
/// to other data than was compressed, and the file's SHA-256 in the same read.
@Suite struct WrittenCheckTests {
    /// The small bundle written tile by tile, and the writer's spot checks.
    static func written(_ url: URL) throws -> [SpotCheck] {
        var writer = try BundleWriter(creating: url, spec: SmallBundle.spec)
        for i in 0..<SmallBundle.n {
            try writer.appendTile(image: SmallBundle.image(i), instanceMask: SmallBundle.mask(i), semanticMask: nil)
        }
        for t in [SmallBundle.tiles, SmallBundle.classes, SmallBundle.sources] { try writer.writeTable(t) }
        let checks = writer.spotChecks
        _ = try writer.finish(manifest: SmallBundle.manifest)
        return checks
    }

    @Test func aFreshBundlePassesWithItsFileDigest() throws {
        let dir = TempDir()
        let url = dir.file("w.h5")
        let checks = try Self.written(url)
        // Tiles 0 and the last (N = 3), in both tile datasets.
        #expect(checks.map(\.tile) == [0, 0, 2, 2])
        #expect(Set(checks.map(\.path)) == ["/images", "/masks/instance"])
        let report = BundleValidator.validateWritten(url, spotChecks: checks)
        #expect(report.isValid, "\(report.problems)")
        let full = BundleValidator.validate(url)
        #expect(report.contentHash == full.contentHash)
        let bytes = try Data(contentsOf: url)
        #expect(report.fileSHA256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
    }

    @Test func aDamagedChunkIsFoundWithoutInflatingIt() throws {
        let dir = TempDir()
        let url = dir.file("w.h5")
        let checks = try Self.written(url)
        // Tile 1 is not spot-checked: only its checksum can tell.
        let location = try File(opening: url.path).openDataset("/images").chunkLocation(index: 1)
        #expect(location.offset.first == 1)
        try flipByte(in: url, at: location.fileAddress + 3)
        let report = BundleValidator.validateWritten(url, spotChecks: checks)
        #expect(report.problems.contains {
            $0.hasPrefix("/images: tile 1: cannot be read (Fletcher-32 checksum mismatch")
        }, "\(report.problems)")
    }

    @Test func aSpotCheckThatDecodesToOtherDataFails() throws {
        let dir = TempDir()
        let url = dir.file("w.h5")
        var checks = try Self.written(url)
        checks[1].sha256 = String(repeating: "0", count: 64)
        let report = BundleValidator.validateWritten(url, spotChecks: checks)
        #expect(report.problems == ["/masks/instance: tile 0: decodes to other data than the writer compressed"])
    }

    @Test func aBundleMissingTilesFails() throws {
        let dir = TempDir()
        let url = dir.file("w.h5")
        var writer = try BundleWriter(creating: url, spec: SmallBundle.spec)
        try writer.appendTile(image: SmallBundle.image(0), instanceMask: SmallBundle.mask(0), semanticMask: nil)
        let checks = writer.spotChecks
        _ = consume writer
        let report = BundleValidator.validateWritten(url, spotChecks: checks)
        #expect(report.problems.contains("/images: tile 1: its chunk was never written"), "\(report.problems)")
        #expect(!report.isValid)
    }
}

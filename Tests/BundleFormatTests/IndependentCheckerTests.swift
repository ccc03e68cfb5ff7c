import BundleFormat
import Foundation
import HDF5
import Testing

/// Runs scripts/check_bundle.py (h5py + numpy: another HDF5 build, another zlib, another
/// implementation of the content hash) on bundles written here.
enum IndependentChecker {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/check_bundle.py")

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether python3 with h5py and numpy is installed (the checker is optional tooling).
    static let available: Bool = {
        guard FileManager.default.fileExists(atPath: script.path) else { return false }
        return (try? run(["-c", "import h5py, numpy"]).status) == 0
    }()
}

@Suite("Independent checker (h5py)", .enabled(if: IndependentChecker.available, "python3 with h5py and numpy is not installed"))
struct IndependentCheckerTests {
    @Test func agreesWithTheSwiftContentHash() throws {
        let dir = TempDir()
        let url = dir.file("small.h5")
        let manifest = try SmallBundle.write(to: url)
        let (status, output) = try IndependentChecker.run([IndependentChecker.script.path, url.path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("OK \(manifest.contentHash)"))
        #expect(output.contains("built-in deflate available"))
    }

    /// The writer's chunks (filtered by `TileEncoder`, ISA-L at level 1) against HDF5's own
    /// filter pipeline on the same tiles, both decoded by h5py's libhdf5 and zlib.
    @Test func h5pyDecodesTheWritersChunksAsTheLibrarysOwn() throws {
        let dir = TempDir()
        let written = dir.file("written.h5"), library = dir.file("library.h5")
        var spec = SmallBundle.spec
        spec.deflateLevel = 1
        do {
            var writer = try BundleWriter(creating: written, spec: spec)
            for i in 0..<SmallBundle.n {
                try writer.appendTile(image: SmallBundle.image(i), instanceMask: SmallBundle.mask(i), semanticMask: nil)
            }
        }
        let (n, c, h, w) = (SmallBundle.n, SmallBundle.c, SmallBundle.h, SmallBundle.w)
        let file = try File(creating: library.path)
        let images = try file.createDataset("/images", of: UInt16.self, shape: [n, c, h, w],
                                            layout: .chunked([1, c, h, w], shuffle: true, deflateLevel: 1, fletcher32: true))
        for i in 0..<n {
            guard case .uint16(let v) = SmallBundle.image(i).pixels else { Issue.record("not uint16"); return }
            try images.write(v, slab: i)
        }
        try images.close()
        try file.close()
        let script = """
            import sys, h5py, numpy
            a, b = h5py.File(sys.argv[1])["images"], h5py.File(sys.argv[2])["images"]
            assert a.compression == b.compression == "gzip" and a.shuffle and a.fletcher32
            assert numpy.array_equal(a[()], b[()])
            print("equal")
            """
        let (status, output) = try IndependentChecker.run(["-c", script, written.path, library.path])
        #expect(status == 0 && output.contains("equal"), "\(output)")
    }

    @Test func reportsACorruptedChunkAndAnUnknownLabel() throws {
        let dir = TempDir()
        let url = dir.file("bad.h5")
        try SmallBundle.write(to: url)
        let location: ChunkLocation = try {
            let file = try File(opening: url.path, mode: .readWrite)
            let label = try file.openDataset("/tiles/label")
            try label.write([1, 9, -1] as [Int32])
            return try file.openDataset("/images").chunkLocation(index: 2)
        }()
        try flipByte(in: url, at: location.fileAddress + 10)
        let (status, output) = try IndependentChecker.run([IndependentChecker.script.path, url.path])
        #expect(status == 1)
        #expect(output.contains("/tiles/label: 1 row(s) have a label that is neither -1 nor an id in /classes/id (rows 1)"),
                "\(output)")
        #expect(output.contains("/images: tile \(location.offset[0]): cannot be read"), "\(output)")
    }
}

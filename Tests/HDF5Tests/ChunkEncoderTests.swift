import Foundation
import HDF5
import Testing

/// Chunks filtered by `ChunkEncoder` and written with `writeRawChunk` must be what HDF5's own
/// filter pipeline would store, as far as any reader can tell: the library decodes them to the
/// same samples, and Fletcher-32 guards them the same way. h5py (another libhdf5, another zlib)
/// reads such chunks in every bundle: IndependentCheckerTests and the cross-checks of
/// scripts/test.sh decode them all, compare them with the source images and hash them.
@Suite struct ChunkEncoderTests {
    /// A smooth ramp plus pseudo-random noise in the low bits (like camera data), so that every
    /// encoder has something to compress and something it cannot.
    static func rows<T>(_ count: Int, _ length: Int, _ make: (Int) -> T) -> [[T]] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { r in
            (0..<length).map { i in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return make((r * 37 + i / 7) * 40 + Int(state >> 58))
            }
        }
    }

    static let shape = [4, 3, 20, 33]
    static var rowLength: Int { shape.dropFirst().reduce(1, *) }

    /// Writes `rows` into `/library` through HDF5's filters and into `/encoded` as chunks filtered
    /// here, closes the file and returns its path.
    static func write<T: HDF5Scalar>(_ rows: [[T]], layout: DatasetLayout, in dir: TempDir) throws -> String {
        let path = dir.path("\(T.hdf5Type.name)-\(layout.deflateLevel ?? -1)-\(layout.shuffle).h5")
        let file = try File(creating: path)
        let library = try file.createDataset("/library", of: T.self, shape: shape, layout: layout)
        let encoded = try file.createDataset("/encoded", of: T.self, shape: shape, layout: layout)
        let encoder = ChunkEncoder(layout: layout, elementSize: MemoryLayout<T>.size)
        for (i, row) in rows.enumerated() {
            try library.write(row, slab: i)
            let chunk = try row.withUnsafeBytes { try encoder.encode($0) }
            try encoded.writeRawChunk(chunk, offset: [i, 0, 0, 0])
        }
        try library.close()
        try encoded.close()
        try file.close()
        return path
    }

    static func check<T: HDF5Scalar & Equatable>(_ rows: [[T]], level: Int, shuffle: Bool) throws {
        let dir = TempDir()
        let layout = DatasetLayout.chunked([1] + shape.dropFirst(), shuffle: shuffle, deflateLevel: level, fletcher32: true)
        let path = try write(rows, layout: layout, in: dir)
        let file = try File(opening: path)
        let library = try file.openDataset("/library"), encoded = try file.openDataset("/encoded")
        let (a, b) = (try encoded.info(), try library.info())
        #expect(a.dtype == b.dtype && a.shape == b.shape && a.chunks == b.chunks && a.filters == b.filters)
        // Decoded by the library's inflate, unshuffle and Fletcher-32 check.
        #expect(try encoded.read(T.self) == rows.flatMap { $0 }, "\(T.self) level \(level) shuffle \(shuffle)")
        #expect(try library.read(T.self) == rows.flatMap { $0 })
        for i in rows.indices {
            let mine = try encoded.readRawChunk(offset: [i, 0, 0, 0]), theirs = try library.readRawChunk(offset: [i, 0, 0, 0])
            #expect(mine.filterMask == 0)
            // The same checksum algorithm as the library's, on the library's own chunks too.
            #expect(theirs.bytes.withUnsafeBytes { Fletcher32.verifies($0) })
            #expect(mine.bytes.withUnsafeBytes { Fletcher32.verifies($0) })
            if level == 0 || level >= 4 {
                // Stored blocks, and zlib itself at 4–9: the library's bytes exactly.
                if level != 0 { #expect(mine.bytes == theirs.bytes, "\(T.self) level \(level) row \(i)") }
            }
        }
    }

    @Test(arguments: [0, 1, 2, 3, 4, 6, 9], [true, false])
    func preFilteredChunksDecodeAsTheLibrarysOwn(level: Int, shuffle: Bool) throws {
        let n = Self.shape[0], m = Self.rowLength
        try Self.check(Self.rows(n, m) { UInt8(truncatingIfNeeded: $0 >> 4) }, level: level, shuffle: shuffle)
        try Self.check(Self.rows(n, m) { UInt16(truncatingIfNeeded: $0) }, level: level, shuffle: shuffle)
        try Self.check(Self.rows(n, m) { UInt32($0 / 500) }, level: level, shuffle: shuffle)
        try Self.check(Self.rows(n, m) { Float($0) / 3 }, level: level, shuffle: shuffle)
    }

    @Test func incompressibleChunksStillDecode() throws {
        var state: UInt64 = 1
        let noise = (0..<2).map { _ in
            (0..<Self.rowLength).map { _ -> UInt16 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt16(truncatingIfNeeded: state >> 40)
            }
        } + Self.rows(2, Self.rowLength) { UInt16(truncatingIfNeeded: $0) }
        try Self.check(noise, level: 1, shuffle: false)
    }

    @Test func aCorruptedPreFilteredChunkFailsItsChecksum() throws {
        let dir = TempDir()
        let rows = Self.rows(Self.shape[0], Self.rowLength) { UInt16(truncatingIfNeeded: $0) }
        let layout = DatasetLayout.chunked([1] + Self.shape.dropFirst(), shuffle: true, deflateLevel: 1, fletcher32: true)
        let path = try Self.write(rows, layout: layout, in: dir)
        let location: ChunkLocation = try {
            let file = try File(opening: path)
            return try file.openDataset("/encoded").chunkLocation(index: 2)
        }()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: location.fileAddress + UInt64(location.storedSize / 2))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: location.fileAddress + UInt64(location.storedSize / 2))
        try handle.write(contentsOf: [byte ^ 0x20])
        try handle.close()

        let ds = try File(opening: path).openDataset("/encoded")
        #expect(try ds.read(UInt16.self, slab: 1) == rows[1])
        let error = #expect(throws: HDF5Error.self) { _ = try ds.read(UInt16.self, slab: 2) }
        #expect(error?.code == .readFailed)
        #expect(error?.stackText.localizedCaseInsensitiveContains("fletcher32") == true)
        #expect(try !ds.readRawChunk(offset: [2, 0, 0, 0]).bytes.withUnsafeBytes { Fletcher32.verifies($0) })
    }

    @Test func storedChunksSayWhichChunksWereWritten() throws {
        let dir = TempDir()
        let file = try File(creating: dir.path("l.h5"))
        let layout = DatasetLayout.chunked([1, 8], deflateLevel: 1, fletcher32: true)
        let ds = try file.createDataset("/d", of: UInt16.self, shape: [3, 8], layout: layout)
        try ds.write((0..<8).map { UInt16($0) }, slab: 2)
        #expect(try ds.storedChunk(offset: [0, 0]) == nil && ds.storedChunk(offset: [1, 0]) == nil)
        let stored = try #require(try ds.storedChunk(offset: [2, 0]))
        #expect(stored.filterMask == 0)
        #expect(stored.bytes.withUnsafeBytes { Fletcher32.verifies($0) })
        // The bytes are the ones in the file where the index says the chunk is.
        let location = try ds.chunkLocation(index: 0)
        #expect(location.offset == [2, 0] && location.storedSize == stored.bytes.count)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: dir.path("l.h5")))
        try handle.seek(toOffset: location.fileAddress)
        #expect(try handle.read(upToCount: stored.bytes.count).map(Array.init) == stored.bytes)
        let error = #expect(throws: HDF5Error.self) { _ = try ds.readRawChunk(offset: [1, 0]) }
        #expect(error?.message == "no chunk is stored at [1, 0]")
    }

    @Test func theEncoderOfEachLevelIsNamed() {
        #expect(ChunkEncoder.deflateEncoder(level: 0) == "stored blocks (no compression)")
        for level in 1...3 { #expect(ChunkEncoder.deflateEncoder(level: level).hasPrefix("isa-l 2."), "\(level)") }
        #expect(ChunkEncoder.deflateEncoder(level: 1).hasSuffix("igzip level 2"))
        #expect(ChunkEncoder.deflateEncoder(level: 6).hasPrefix("zlib 1."))
        #expect(ChunkEncoder.deflateEncoder(level: 6).hasSuffix("level 6"))
    }

    /// HDF5's Fletcher-32 word by word (H5_checksum_fletcher32): big-endian 16-bit words in
    /// blocks of 360, an odd last byte as a block of its own (the high byte of a word), both sums
    /// folded after every block and once more at the end.
    static func fletcherWordByWord(_ bytes: [UInt8]) -> UInt32 {
        let words = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt32(bytes[$0]) << 8 | UInt32(bytes[$0 + 1]) }
        var blocks = stride(from: 0, to: words.count, by: 360).map { Array(words[$0..<min($0 + 360, words.count)]) }
        if bytes.count % 2 == 1 { blocks.append([UInt32(bytes[bytes.count - 1]) << 8]) }
        let fold = { (x: UInt32) in (x & 0xFFFF) + (x >> 16) }
        var (a, b): (UInt32, UInt32) = (0, 0)
        for block in blocks {
            for w in block {
                a &+= w
                b &+= a
            }
            (a, b) = (fold(a), fold(b))
        }
        return fold(b) << 16 | fold(a)
    }

    /// The checksum sums eight words at a time; it must give the word-by-word result for every
    /// length around the eight-word groups and the 360-word blocks, for random bytes, and for
    /// all-0xFF runs, whose sums are ≡ 0 (mod 65 535) and come out as 0 or 0xFFFF depending on
    /// where they were folded.
    @Test func fletcher32IsTheWordByWordSum() {
        var state: UInt64 = 7
        var lengths = Array(0...40) + [255, 256, 257, 262_144, 262_147]
        for block in 1...4 { lengths += (-17...17).map { block * 720 + $0 } }
        var wrong: [String] = []
        for length in lengths {
            let random = (0..<length).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            for bytes in [random, [UInt8](repeating: 0xFF, count: length)] {
                let fast = bytes.withUnsafeBytes { Fletcher32.checksum($0) }
                if fast != Self.fletcherWordByWord(bytes) { wrong.append("\(length) bytes, first \(bytes.first ?? 0)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) lengths differ: \(wrong.prefix(5))")
        // The all-0xFF runs do reach both representations of zero, so the test can tell them apart.
        let sums = Set(lengths.map { Self.fletcherWordByWord([UInt8](repeating: 0xFF, count: $0)) & 0xFFFF })
        #expect(sums.contains(0xFFFF) && sums.contains(0))
    }
}

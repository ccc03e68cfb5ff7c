import Foundation
import HDF5
import Testing

/// Virtual datasets as merged bundles use them: row blocks of a [N, …] dataset read from
/// chunked, checksummed datasets in other files named relative to the virtual file.
@Suite("HDF5 virtual datasets")
struct VirtualTests {
    static let layout = DatasetLayout.chunked([1, 3], deflateLevel: 6, fletcher32: true)

    /// Writes `rows` rows of 3 uint16 values starting at `first` to `/images` of a new file.
    static func writeSource(_ path: String, rows: Int, first: Int) throws -> [UInt16] {
        let values = (0..<(rows * 3)).map { UInt16(first * 3 + $0) }
        let file = try File(creating: path)
        let ds = try file.createDataset("/images", of: UInt16.self, shape: [rows, 3], layout: layout)
        try ds.write(values)
        try ds.close()
        try file.close()
        return values
    }

    /// A master `m.h5` in `dir` over `shards/a%1.h5` (2 rows) and `shards/b.h5` (3 rows).
    static func makeMaster(in dir: TempDir) throws -> (values: [UInt16], mappings: [VirtualMapping]) {
        try FileManager.default.createDirectory(atPath: dir.path("shards"), withIntermediateDirectories: true)
        let a = try writeSource(dir.path("shards/a%1.h5"), rows: 2, first: 0)
        let b = try writeSource(dir.path("shards/b.h5"), rows: 3, first: 2)
        let mappings = [
            VirtualMapping(sourceFile: "shards/a%1.h5", sourceDataset: "/images",
                           destination: .rows(0..<2, of: [5, 3]), source: .whole([2, 3])),
            VirtualMapping(sourceFile: "shards/b.h5", sourceDataset: "/images",
                           destination: .rows(2..<5, of: [5, 3]), source: .whole([3, 3])),
        ]
        let file = try File(creating: dir.path("m.h5"))
        let ds = try file.createVirtualDataset("/images", of: UInt16.self, shape: [5, 3], mappings: mappings)
        try ds.close()
        try file.close()
        return (a + b, mappings)
    }

    @Test func readsThroughItsMappingsAndReportsThem() throws {
        let dir = TempDir()
        let (values, mappings) = try Self.makeMaster(in: dir)
        let file = try File(opening: dir.path("m.h5"))
        let ds = try file.openDataset("/images")
        let info = try ds.info()
        #expect(info.isVirtual)
        #expect(info.chunks == nil)
        #expect(info.filters.isEmpty)
        #expect(info.virtualMappings == mappings)  // % in a name survives HDF5's printf escaping
        #expect(try ds.read(UInt16.self) == values)
        #expect(try ds.read(UInt16.self, rows: 1..<3) == Array(values[3..<9]))  // across the two sources
        let source = try File(opening: dir.path("shards/b.h5")).openDataset("/images").info()
        #expect(!source.isVirtual)
        #expect(source.chunks == [1, 3])
    }

    @Test func relativeSourcesFollowTheDirectoryWhenItMoves() throws {
        let dir = TempDir()
        let (values, _) = try Self.makeMaster(in: dir)
        let moved = TempDir()
        let target = moved.url.appendingPathComponent("elsewhere")
        try FileManager.default.moveItem(at: dir.url, to: target)
        let file = try File(opening: target.appendingPathComponent("m.h5").path)
        #expect(try file.openDataset("/images").read(UInt16.self) == values)
    }

    /// The reason merged bundles check their shard files: HDF5 reads a missing source as fill.
    @Test func aMissingSourceReadsAsZerosWithoutAnError() throws {
        let dir = TempDir()
        let (values, _) = try Self.makeMaster(in: dir)
        try FileManager.default.removeItem(atPath: dir.path("shards/b.h5"))
        let file = try File(opening: dir.path("m.h5"))
        let read = try file.openDataset("/images").read(UInt16.self)
        #expect(Array(read[0..<6]) == Array(values[0..<6]))
        #expect(read[6...].allSatisfy { $0 == 0 })
    }

    @Test func aCorruptedSourceChunkFailsTheReadThroughTheVirtualDataset() throws {
        let dir = TempDir()
        _ = try Self.makeMaster(in: dir)
        let location: ChunkLocation
        do {
            let source = try File(opening: dir.path("shards/b.h5"))
            location = try source.openDataset("/images").chunkLocation(index: 1)
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dir.path("shards/b.h5")))
        try handle.seek(toOffset: location.fileAddress)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: location.fileAddress)
        try handle.write(contentsOf: [byte ^ 0xFF])
        try handle.close()

        let file = try File(opening: dir.path("m.h5"))
        let ds = try file.openDataset("/images")
        #expect(try ds.read(UInt16.self, rows: 0..<3).count == 9)  // rows before the bad chunk
        let error = #expect(throws: HDF5Error.self) { _ = try ds.read(UInt16.self, rows: 3..<4) }
        #expect(error?.code == .readFailed)
    }
}

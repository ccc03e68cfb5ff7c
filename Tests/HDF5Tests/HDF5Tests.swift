import Foundation
import HDF5
import Testing

/// A fresh directory per test, removed afterwards.
final class TempDir {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Writes `values` as a 2×3 dataset of `T`, closes, reopens and reads back.
func roundTrip<T: HDF5Scalar>(_ values: [T], in dir: TempDir) throws -> (DatasetInfo, [T]) {
    let path = dir.path("\(T.hdf5Type.name).h5")
    do {
        let file = try File(creating: path)
        let ds = try file.createDataset("/data", of: T.self, shape: [2, 3])
        try ds.write(values)
        try ds.close()
        try file.close()
    }
    let file = try File(opening: path)
    let ds = try file.openDataset("/data")
    return (try ds.info(), try ds.read(T.self))
}

@Suite("HDF5 wrapper")
struct HDF5Tests {
    @Test func libraryVersionIsDebians() {
        #expect(HDF5.libraryVersion == "1.10.8")
    }

    @Test(arguments: ["uint8", "uint16", "uint32", "int32", "int64", "float32", "float64"])
    func scalarRoundTrip(dtype: String) throws {
        let dir = TempDir()
        switch dtype {
        case "uint8":
            let v: [UInt8] = [0, 1, 2, 127, 128, 255]
            let (info, back) = try roundTrip(v, in: dir)
            #expect(back == v); #expect(info.dtype == dtype); #expect(info.shape == [2, 3])
        case "uint16":
            let v: [UInt16] = [0, 1, 255, 256, 4095, 65535]
            let (info, back) = try roundTrip(v, in: dir)
            #expect(back == v); #expect(info.dtype == dtype)
        case "uint32":
            let v: [UInt32] = [0, 1, 65536, 1 << 31, 4_000_000_000, .max]
            let (info, back) = try roundTrip(v, in: dir)
            #expect(back == v); #expect(info.dtype == dtype)
        case "int32":
            let v: [Int32] = [.min, -1, 0, 1, 42, .max]
            let (info, back) = try roundTrip(v, in: dir)
            #expect(back == v); #expect(info.dtype == dtype)
        case "int64":
            let v: [Int64] = [.min, -1, 0, 1, 1 << 40, .max]
            let (info, back) = try roundTrip(v, in: dir)
            #expect(back == v); #expect(info.dtype == dtype)
        case "float32":
            let v: [Float] = [-1.5, 0, 0.1, 3.25, .greatestFiniteMagnitude, -.infinity]
            let (info, back) = try roundTrip(v, in: dir)
            #expect(back == v); #expect(info.dtype == dtype)
        case "float64":
            let v: [Double] = [-1.5, 0, 0.1, 3.25, .pi, .leastNonzeroMagnitude]
            let (info, back) = try roundTrip(v, in: dir)
            #expect(back == v); #expect(info.dtype == dtype)
        default:
            Issue.record("unknown dtype \(dtype)")
        }
    }

    @Test func readingWithTheWrongTypeIsATypeMismatch() throws {
        let dir = TempDir()
        let file = try File(creating: dir.path("t.h5"))
        let ds = try file.createDataset("/d", of: UInt16.self, shape: [4])
        try ds.write([UInt16](repeating: 7, count: 4))
        let error = #expect(throws: HDF5Error.self) { _ = try ds.read(Float.self) }
        #expect(error?.code == .typeMismatch)
        #expect(error?.objectPath == "/d")
        let shapeError = #expect(throws: HDF5Error.self) { try ds.write([UInt16](repeating: 1, count: 3)) }
        #expect(shapeError?.code == .shapeMismatch)
    }

    @Test func stringsRoundTripIncludingNonASCII() throws {
        let dir = TempDir()
        let path = dir.path("s.h5")
        let values = ["nucleus", "", "µm", "日本語", "tab\there"]
        do {
            let file = try File(creating: path)
            let ds = try file.createStringDataset("/names", shape: [values.count])
            try ds.writeStrings(values)
            let scalar = try file.createStringDataset("/note", shape: [])
            try scalar.writeString("pixel size 0.5 µm\n{\"json\": true}")
            try ds.close()
            try scalar.close()
            try file.close()
        }
        let file = try File(opening: path)
        let ds = try file.openDataset("/names")
        #expect(try ds.readStrings() == values)
        #expect(try ds.readStrings(rows: 2..<4) == ["µm", "日本語"])
        #expect(try ds.info().dtype == "string")
        #expect(try ds.info().shape == [5])
        let scalar = try file.openDataset("/note")
        #expect(try scalar.readString() == "pixel size 0.5 µm\n{\"json\": true}")
        #expect(try scalar.info().shape == [])
    }

    @Test func attributesOfEveryKind() throws {
        let dir = TempDir()
        let path = dir.path("a.h5")
        do {
            let file = try File(creating: path)
            try file.setAttribute("format", "trainset-bundle")
            try file.setAttribute("unit", "µm")
            try file.setAttribute("channels", ["DAPI", "GFP", "µ-tubulin"])
            try file.setAttribute("count", Int64(42))
            try file.setAttribute("spacing", [0.5, 0.25] as [Double])
            let group = try file.createGroup("/g")
            try group.setAttribute("columns", ["a", "b"])
            let ds = try file.createDataset("/g/d", of: UInt8.self, shape: [1])
            try ds.setAttribute("axes", "X")
            try ds.setAttribute("axes", "NCHW")  // replaces
            try file.setAttribute("note", "on dataset by path", on: "/g/d")
            try ds.close()
            try group.close()
            try file.close()
        }
        let file = try File(opening: path)
        #expect(try file.stringAttribute("format") == "trainset-bundle")
        #expect(try file.stringAttribute("unit") == "µm")
        #expect(try file.stringArrayAttribute("channels") == ["DAPI", "GFP", "µ-tubulin"])
        #expect(try file.attribute("count", as: Int64.self) == 42)
        #expect(try file.arrayAttribute("spacing", as: Double.self) == [0.5, 0.25])
        #expect(try file.attributeNames() == ["channels", "count", "format", "spacing", "unit"])
        #expect(try file.attributeInfo("channels").dtype == "string")
        #expect(try file.attributeInfo("channels").shape == [3])
        #expect(try file.attributeInfo("format").shape == [])
        #expect(try file.hasAttribute("missing") == false)
        let missing = #expect(throws: HDF5Error.self) { _ = try file.stringAttribute("missing") }
        #expect(missing?.code == .notFound)
        let wrongType = #expect(throws: HDF5Error.self) { _ = try file.stringAttribute("count") }
        #expect(wrongType?.code == .typeMismatch)
        #expect(try file.openGroup("/g").stringArrayAttribute("columns") == ["a", "b"])
        let ds = try file.openDataset("/g/d")
        #expect(try ds.stringAttribute("axes") == "NCHW")
        #expect(try ds.stringAttribute("note") == "on dataset by path")
        #expect(try file.stringAttribute("axes", on: "/g/d") == "NCHW")
    }

    @Test func chunkedFilteredDatasetReportsItsPipeline() throws {
        let dir = TempDir()
        let path = dir.path("c.h5")
        let n = 3, c = 2, h = 4, w = 5
        let slabs = (0..<n).map { i in (0..<(c * h * w)).map { UInt16($0 * 3 + i * 1000) } }
        do {
            let file = try File(creating: path)
            let ds = try file.createDataset("/images", of: UInt16.self, shape: [n, c, h, w],
                                            layout: .chunked([1, c, h, w], shuffle: true, deflateLevel: 4, fletcher32: true))
            for i in [2, 0, 1] { try ds.write(slabs[i], slab: i) }  // order of writes does not matter
            try ds.close()
            try file.close()
        }
        let file = try File(opening: path)
        let ds = try file.openDataset("/images")
        let info = try ds.info()
        #expect(info == DatasetInfo(path: "/images", dtype: "uint16", shape: [n, c, h, w], chunks: [1, c, h, w],
                                    filters: [.shuffle, .deflate(level: 4), .fletcher32]))
        #expect(try ds.read(UInt16.self) == slabs.flatMap { $0 })
        #expect(try ds.read(UInt16.self, slab: 1) == slabs[1])
        #expect(try ds.read(UInt16.self, rows: 1..<3) == slabs[1] + slabs[2])
        #expect(try ds.storedChunkCount() == 3)
        let outside = #expect(throws: HDF5Error.self) { _ = try ds.read(UInt16.self, slab: 3) }
        #expect(outside?.code == .shapeMismatch)
    }

    @Test func rawChunksCopyBetweenDatasetsWithTheSamePipeline() throws {
        let dir = TempDir()
        let file = try File(creating: dir.path("r.h5"))
        let layout = DatasetLayout.chunked([1, 16], shuffle: true, deflateLevel: 6, fletcher32: true)
        let source = try file.createDataset("/a", of: UInt32.self, shape: [2, 16], layout: layout)
        let values = (0..<32).map { UInt32($0 * $0) }
        try source.write(values)
        let target = try file.createDataset("/b", of: UInt32.self, shape: [2, 16], layout: layout)
        for row in 0..<2 {
            let chunk = try source.readRawChunk(offset: [row, 0])
            #expect(chunk.filterMask == 0)
            #expect(chunk.bytes.count < 16 * 4 + 4)  // compressed + 4-byte checksum
            try target.writeRawChunk(chunk.bytes, offset: [row, 0], filterMask: chunk.filterMask)
        }
        #expect(try target.read(UInt32.self) == values)
        let location = try source.chunkLocation(index: 1)
        #expect(location.offset == [1, 0])
        #expect(location.storedSize == (try source.readRawChunk(offset: [1, 0])).bytes.count)
        #expect(location.fileAddress > 0)
    }

    @Test func corruptedChunkFailsItsFletcher32Check() throws {
        let dir = TempDir()
        let path = dir.path("f.h5")
        let location: ChunkLocation
        do {
            let file = try File(creating: path)
            let ds = try file.createDataset("/d", of: UInt16.self, shape: [2, 64],
                                            layout: .chunked([1, 64], deflateLevel: 1, fletcher32: true))
            try ds.write((0..<128).map { UInt16($0) })
            location = try ds.chunkLocation(index: 1)
            try ds.close()
            try file.close()
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: location.fileAddress + 2)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: location.fileAddress + 2)
        try handle.write(contentsOf: [byte ^ 0xFF])
        try handle.close()

        let file = try File(opening: path)
        let ds = try file.openDataset("/d")
        #expect(try ds.read(UInt16.self, slab: 0) == (0..<64).map { UInt16($0) })  // other chunk intact
        let error = #expect(throws: HDF5Error.self) { _ = try ds.read(UInt16.self, slab: 1) }
        #expect(error?.code == .readFailed)
        #expect(error?.objectPath == "/d")
        #expect(error?.stackText.localizedCaseInsensitiveContains("fletcher32") == true)
    }

    /// Another process's flock on a file (as a child forked while the file was open holds until it
    /// execs) delays an open instead of failing it, unless it lasts longer than a second.
    @Test func openWaitsBrieflyForAnotherProcesssLock() throws {
        let dir = TempDir()
        let path = dir.path("locked.h5")
        try File(creating: path).close()
        func holdLock(seconds: String) throws -> Process {
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            holder.arguments = ["-x", "-o", path, "sleep", seconds]  // -o: the lock stays with flock(1), not sleep
            try holder.run()
            usleep(150_000)  // until flock(1) holds it
            return holder
        }
        let brief = try holdLock(seconds: "0.4")
        do {
            let reopened = try File(opening: path)
            #expect(reopened.path == path)
            try reopened.close()
        }
        brief.waitUntilExit()

        let long = try holdLock(seconds: "2")
        defer {
            long.terminate()
            long.waitUntilExit()
        }
        let error = #expect(throws: HDF5Error.self) { _ = try File(opening: path) }
        #expect(error?.code == .openFailed)
        #expect(error?.stackText.contains("unable to lock file") == true)
    }

    @Test func exclusiveCreateRefusesAnExistingFile() throws {
        let dir = TempDir()
        let path = dir.path("x.h5")
        try File(creating: path).close()
        let error = #expect(throws: HDF5Error.self) { _ = try File(creating: path) }
        #expect(error?.code == .alreadyExists)
        #expect(error?.file == path)
        #expect(error?.description.hasPrefix(path) == true)
        #expect(error?.description.contains("already exists") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test func openingANonHDF5FileNamesTheFileAndKeepsTheStack() throws {
        let dir = TempDir()
        let path = dir.path("not.h5")
        try Data("this is a text file, not HDF5\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: HDF5Error.self) { _ = try File(opening: path) }
        #expect(error?.code == .notHDF5)
        #expect(error?.file == path)
        #expect(error?.description.hasPrefix(path) == true)
        #expect(error?.stack.isEmpty == false)
        #expect(error?.stack.first?.contains("H5Fopen") == true)

        let missing = #expect(throws: HDF5Error.self) { _ = try File(opening: dir.path("none.h5")) }
        #expect(missing?.code == .notFound)
    }

    /// Each error carries only its own stack: capture clears the library's stack afterwards.
    @Test func errorStacksDoNotLeakIntoLaterErrors() throws {
        let dir = TempDir()
        let path = dir.path("x.h5")
        try File(creating: path).close()
        let first = #expect(throws: HDF5Error.self) { _ = try File(creating: path) }
        #expect(first?.stack.first?.contains("H5Fcreate") == true)
        let file = try File(opening: path)
        let second = #expect(throws: HDF5Error.self) { _ = try file.createGroup("/missing/child") }
        #expect(second?.stack.isEmpty == false)
        #expect(second?.stack.contains { $0.contains("H5Fcreate") } == false)
        #expect(second?.stack.first?.contains("H5Gcreate2") == true)
    }

    @Test func missingObjectsAreNotFound() throws {
        let dir = TempDir()
        let file = try File(creating: dir.path("m.h5"))
        try file.createGroup("/tables").close()
        #expect(try file.objectKind(at: "/tables") == .group)
        #expect(try file.objectKind(at: "/nope/deeper") == nil)
        let error = #expect(throws: HDF5Error.self) { _ = try file.openDataset("/tables/x") }
        #expect(error?.code == .notFound)
        #expect(error?.objectPath == "/tables/x")
        let notGroup = #expect(throws: HDF5Error.self) { _ = try file.createGroup("/a/b") }
        #expect(notGroup?.code == .createFailed)
        #expect(notGroup?.stack.isEmpty == false)
    }

    @Test func groupMembersAreSortedAndZeroLengthDatasetsWork() throws {
        let dir = TempDir()
        let file = try File(creating: dir.path("g.h5"))
        let group = try file.createGroup("/t")
        for name in ["label", "x", "Source", "b"] {
            try file.createDataset("/t/\(name)", of: Int32.self, shape: [0],
                                   layout: .chunked([1], deflateLevel: 6, fletcher32: true, unlimitedFirstDimension: true))
                .close()
        }
        try file.createStringDataset("/t/empty", shape: [0], layout: .chunked([1], unlimitedFirstDimension: true)).close()
        #expect(try group.members() == ["Source", "b", "empty", "label", "x"])
        #expect(try file.members(of: "/") == ["t"])
        let ds = try file.openDataset("/t/x")
        #expect(try ds.read(Int32.self) == [])
        #expect(try ds.info().shape == [0])
        try ds.write([Int32]())
        #expect(try file.openDataset("/t/empty").readStrings() == [])
    }

    /// With object timestamps off, the same content written at different times is the same bytes.
    @Test func identicalContentGivesIdenticalBytes() async throws {
        let dir = TempDir()
        func write(_ path: String) throws {
            let file = try File(creating: path)
            try file.setAttribute("format", "x")
            let group = try file.createGroup("/g")
            let ds = try file.createDataset("/g/d", of: Float.self, shape: [4, 8],
                                            layout: .chunked([1, 8], shuffle: true, deflateLevel: 6, fletcher32: true))
            try ds.write((0..<32).map { Float($0) / 3 })
            let s = try file.createStringDataset("/s", shape: [])
            try s.writeString("manifest")
            try s.close()
            try ds.close()
            try group.close()
            try file.close()
        }
        try write(dir.path("one.h5"))
        try await Task.sleep(for: .milliseconds(1100))
        try write(dir.path("two.h5"))
        let one = try Data(contentsOf: URL(fileURLWithPath: dir.path("one.h5")))
        let two = try Data(contentsOf: URL(fileURLWithPath: dir.path("two.h5")))
        #expect(one.count > 0)
        #expect(one == two)
    }

    /// The global lock serialises accidental concurrent use instead of corrupting the library.
    @Test func concurrentUseOfSeparateFilesIsSafe() async throws {
        let dir = TempDir()
        let paths = (0..<4).map { dir.path("c\($0).h5") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (k, path) in paths.enumerated() {
                group.addTask {
                    let file = try File(creating: path)
                    let ds = try file.createDataset("/d", of: Int64.self, shape: [50, 10],
                                                    layout: .chunked([1, 10], deflateLevel: 1))
                    for i in 0..<50 { try ds.write((0..<10).map { Int64(k * 10_000 + i * 10 + $0) }, slab: i) }
                    try ds.close()
                    try file.close()
                }
            }
            try await group.waitForAll()
        }
        for (k, path) in paths.enumerated() {
            let values = try File(opening: path).openDataset("/d").read(Int64.self)
            #expect(values == (0..<500).map { Int64(k * 10_000 + $0) })
        }
    }
}

import BundleFormat
import Foundation
import HDF5
import Raster
import Testing

@Suite("Bundle writer and reader")
struct WriterReaderTests {
    @Test func referenceSHA256MatchesTheStandardVectors() {
        #expect(ReferenceSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ReferenceSHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Two-block message (56 bytes pads past one block).
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(ReferenceSHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func writtenTilesMasksAndTablesReadBackEqual() throws {
        let dir = TempDir()
        let url = dir.file("small.h5")
        let manifest = try SmallBundle.write(to: url)

        let reader = try BundleReader(opening: url)
        #expect(reader.formatVersion == "1.2.0")
        #expect(reader.tileCount == 3)
        #expect(reader.channels == 2)
        #expect(reader.tileWidth == 8)
        #expect(reader.tileHeight == 8)
        #expect(reader.pixelType == .uint16)
        #expect(reader.channelNames == ["DAPI", "µ-GFP"])
        #expect(reader.hasInstanceMasks == true)
        #expect(reader.hasSemanticMasks == false)
        for i in 0..<3 {
            #expect(try reader.tileImage(i) == SmallBundle.image(i))
            #expect(try reader.instanceMask(i) == SmallBundle.mask(i))
            #expect(try reader.semanticMask(i) == nil)
        }
        #expect(try reader.table(at: "/tiles") == SmallBundle.tiles)
        #expect(try reader.table(at: "/classes") == SmallBundle.classes)
        #expect(try reader.table(at: "/sources") == SmallBundle.sources)
        #expect(try reader.manifest() == manifest)
        #expect(try reader.manifestText == String(decoding: try manifest.jsonData(), as: UTF8.self))
        #expect(try reader.storedContentHash() == manifest.contentHash)
        #expect(try reader.datasetDigests() == manifest.datasets)
        #expect(ContentHash.combine(try reader.datasetDigests()) == manifest.contentHash)

        let infos = try reader.datasetInfos()
        #expect(infos.map(\.path) == ["/classes/id", "/classes/name", "/images", "/manifest", "/masks/instance",
                                      "/sources/channels", "/sources/height", "/sources/key", "/sources/label",
                                      "/sources/path", "/sources/sha256", "/sources/width",
                                      "/tiles/height", "/tiles/label", "/tiles/source", "/tiles/valid_height",
                                      "/tiles/valid_width", "/tiles/width", "/tiles/x", "/tiles/y"])
        let images = try #require(infos.first { $0.path == "/images" })
        #expect(images.dtype == "uint16")
        #expect(images.shape == [3, 2, 8, 8])
        #expect(images.chunks == [1, 2, 8, 8])
        #expect(images.filters == ["shuffle", "deflate(6)", "fletcher32"])
        let label = try #require(infos.first { $0.path == "/tiles/label" })
        #expect(label.chunks == [3])
        #expect(label.filters == ["deflate(6)", "fletcher32"])
        let manifestInfo = try #require(infos.first { $0.path == "/manifest" })
        #expect(manifestInfo.shape == [] && manifestInfo.chunks == [] && manifestInfo.dtype == "string")

        // The layout a non-Swift reader relies on, read through the plain HDF5 wrapper.
        let file = try File(opening: url.path)
        #expect(try file.stringAttribute("trainset_format") == "trainset-bundle")
        #expect(try file.stringAttribute("format_version") == "1.2.0")
        // HDF5 1.10 file-format bounds (§1): superblock version 3, the byte after the signature.
        let head = try #require(try FileHandle(forReadingFrom: url).read(upToCount: 9))
        #expect(Array(head) == [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 3])
        #expect(try file.stringAttribute("content_hash") == manifest.contentHash)
        #expect(try file.stringAttribute("axes", on: "/images") == "NCHW")
        #expect(try file.stringArrayAttribute("columns", on: "/tiles") == BundleLayout.tileColumns)
    }

    /// The content hash, computed here from the spec's definition with an independent SHA-256
    /// over canonical bytes spelled out by hand.
    @Test func contentHashMatchesTheSpecDefinition() throws {
        let dir = TempDir()
        let manifest = try SmallBundle.write(to: dir.file("h.h5"))

        var datasets: [(path: String, dtype: String, shape: [Int], bytes: [UInt8])] = []
        let imageValues = (0..<3).flatMap { i -> [UInt16] in
            guard case .uint16(let v) = SmallBundle.image(i).pixels else { return [] }
            return v
        }
        datasets.append(("/images", "uint16", [3, 2, 8, 8], Canonical.le(imageValues)))
        datasets.append(("/masks/instance", "uint32", [3, 8, 8], Canonical.le((0..<3).flatMap { SmallBundle.mask($0).values })))
        for table in [SmallBundle.tiles, SmallBundle.classes, SmallBundle.sources] {
            for column in table.columns {
                let path = table.path + "/" + column.name
                switch column.data {
                case .int32(let v): datasets.append((path, "int32", [v.count], Canonical.le(v)))
                case .int64(let v): datasets.append((path, "int64", [v.count], Canonical.le(v)))
                case .string(let v): datasets.append((path, "string", [v.count], Canonical.strings(v)))
                case .float64(let v): datasets.append((path, "float64", [v.count], Canonical.le(v.map(\.bitPattern))))
                }
            }
        }
        datasets.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        let lines = datasets.map { d in
            "\(d.path)\t\(d.dtype)\t\(d.shape.map(String.init).joined(separator: "x"))\t\(ReferenceSHA256.hex(d.bytes))\n"
        }.joined()
        let expected = "sha256:" + ReferenceSHA256.hex(Array(lines.utf8))

        #expect(manifest.contentHash == expected)
        #expect(ContentHash.digestLines(manifest.datasets) == lines)
        #expect(manifest.datasets.count == 19)
        #expect(manifest.datasets.first?.path == "/classes/id")
        #expect(manifest.datasets.contains { $0.path == "/manifest" } == false)
    }

    @Test func sameContentGivesTheSameHashAndTheSameBytes() async throws {
        let dir = TempDir()
        let one = try SmallBundle.write(to: dir.file("one.h5"))
        try await Task.sleep(for: .milliseconds(1100))  // object timestamps, if on, would differ
        let two = try SmallBundle.write(to: dir.file("two.h5"))
        #expect(one.contentHash == two.contentHash)
        #expect(one == two)
        let a = try Data(contentsOf: dir.file("one.h5"))
        let b = try Data(contentsOf: dir.file("two.h5"))
        #expect(a == b)
    }

    @Test func differentContentGivesADifferentHash() throws {
        let dir = TempDir()
        let one = try SmallBundle.write(to: dir.file("one.h5"))
        var classes = SmallBundle.classes
        classes.columns[1] = Column("name", .string(["background", "nuclei"]))
        let two = try SmallBundle.write(to: dir.file("two.h5"), tables: [SmallBundle.tiles, classes, SmallBundle.sources])
        #expect(one.contentHash != two.contentHash)
        let changed = zip(one.datasets, two.datasets).filter { $0 != $1 }.map(\.0.path)
        #expect(changed == ["/classes/name"])
    }

    @Test func writerRejectsDataThatDoesNotMatchTheSpec() throws {
        let dir = TempDir()
        var writer = try BundleWriter(creating: dir.file("w.h5"), spec: SmallBundle.spec)
        let wrongType = ImageBuffer(width: 8, height: 8, channels: 2, pixels: .uint8(Array(repeating: 0, count: 128)))
        let e1: BundleError?
        do { try writer.appendTile(image: wrongType, instanceMask: SmallBundle.mask(0), semanticMask: nil); e1 = nil } catch { e1 = error }
        #expect(e1 != nil)
        #expect(e1?.code == .shape)
        #expect(e1?.path == "/images")
        let wrongShape = ImageBuffer(width: 4, height: 8, channels: 2, pixels: .uint16(Array(repeating: 0, count: 64)))
        let e2: BundleError?
        do { try writer.appendTile(image: wrongShape, instanceMask: SmallBundle.mask(0), semanticMask: nil); e2 = nil } catch { e2 = error }
        #expect(e2 != nil)
        #expect(e2?.code == .shape)
        #expect(e2?.description.contains("2x8x4") == true)
        let e3: BundleError?
        do { try writer.appendTile(image: SmallBundle.image(0), instanceMask: nil, semanticMask: nil); e3 = nil } catch { e3 = error }
        #expect(e3 != nil)
        #expect(e3?.path == "/masks/instance")
        let e4: BundleError?
        do { try writer.appendTile(image: SmallBundle.image(0), instanceMask: SmallBundle.mask(0),
                                  semanticMask: SmallBundle.mask(0)); e4 = nil } catch { e4 = error }
        #expect(e4 != nil)
        #expect(e4?.path == "/masks/semantic")
        #expect(writer.tilesAppended == 0)

        try writer.appendTile(image: SmallBundle.image(0), instanceMask: SmallBundle.mask(0), semanticMask: nil)
        #expect(writer.tilesAppended == 1)
        var ragged = SmallBundle.classes
        ragged.columns[1] = Column("name", .string(["only one"]))
        let e5: BundleError?
        do { try writer.writeTable(ragged); e5 = nil } catch { e5 = error }
        #expect(e5 != nil)
        #expect(e5?.code == .shape)
        #expect(e5?.path == "/classes")
        var reordered = SmallBundle.classes
        reordered.columns.reverse()
        let e6: BundleError?
        do { try writer.writeTable(reordered); e6 = nil } catch { e6 = error }
        #expect(e6 != nil)
        #expect(e6?.message.contains("column 0 must be id") == true)
        try writer.writeTable(SmallBundle.classes)
        let e7: BundleError?
        do { try writer.writeTable(SmallBundle.classes); e7 = nil } catch { e7 = error }
        #expect(e7 != nil)
        #expect(e7?.code == .state)

        let e8: BundleError?
        do { _ = try writer.finish(manifest: SmallBundle.manifest); e8 = nil } catch { e8 = error }
        #expect(e8 != nil)
        #expect(e8?.code == .state)
        #expect(e8?.message.contains("only 1 of 3 tiles") == true)
    }

    @Test func writerNeverOverwritesAFile() throws {
        let dir = TempDir()
        let url = dir.file("exists.h5")
        try Data("keep me".utf8).write(to: url)
        let error = #expect(throws: BundleError.self) { _ = try BundleWriter(creating: url, spec: SmallBundle.spec) }
        #expect(error?.code == .io)
        #expect(error?.file == url.path)
        #expect(error?.description.hasPrefix(url.path) == true)
        #expect(try Data(contentsOf: url) == Data("keep me".utf8))
    }

    @Test func readerRejectsFilesThatAreNotBundles() throws {
        let dir = TempDir()
        let url = dir.file("plain.h5")
        try File(creating: url.path).close()
        let error = #expect(throws: BundleError.self) { _ = try BundleReader(opening: url) }
        #expect(error?.code == .format)
        let text = dir.file("text.h5")
        try Data("hello".utf8).write(to: text)
        let error2 = #expect(throws: BundleError.self) { _ = try BundleReader(opening: text) }
        #expect(error2?.code == .format)
        #expect(error2?.description.hasPrefix(text.path) == true)
    }

    /// An export whose filters leave no tile still produces a valid, empty bundle.
    @Test func aBundleWithNoTilesIsValid() throws {
        let dir = TempDir()
        let url = dir.file("empty.h5")
        var spec = SmallBundle.spec
        spec.tileCount = 0
        var writer = try BundleWriter(creating: url, spec: spec)
        try writer.writeTable(Table(path: "/tiles", columns: SmallBundle.tiles.columns.map { c in
            switch c.data {
            case .int64: Column(c.name, .int64([]))
            default: Column(c.name, .int32([]))
            }
        }))
        try writer.writeTable(SmallBundle.classes)
        try writer.writeTable(Table(path: "/sources", columns: SmallBundle.sources.columns.map { c in
            switch c.data {
            case .string: Column(c.name, .string([]))
            case .int64: Column(c.name, .int64([]))
            default: Column(c.name, .int32([]))
            }
        }))
        var manifest = SmallBundle.manifest
        manifest.counts = .init(tiles: 0, sources: 0, unlabeledTiles: 0,
                                perClass: [.init(id: 0, name: "background", tiles: 0, sources: 0),
                                           .init(id: 1, name: "nucleus", tiles: 0, sources: 0)])
        let done = try writer.finish(manifest: manifest)
        #expect(done.datasets.first { $0.path == "/images" }?.shape == [0, 2, 8, 8])
        // SHA-256 of no bytes.
        #expect(done.datasets.first { $0.path == "/images" }?.sha256
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let report = BundleValidator.validate(url)
        #expect(report.problems == [])
        #expect(report.contentHash == done.contentHash)
        let reader = try BundleReader(opening: url)
        #expect(reader.tileCount == 0)
        #expect(try reader.table(at: "/tiles").rowCount == 0)
    }

    @Test(arguments: [PixelType.uint8, .uint16, .float32])
    func everyPixelTypeAndSemanticMasksRoundTrip(pixelType: PixelType) throws {
        let dir = TempDir()
        let url = dir.file("\(pixelType).h5")
        let spec = BundleSpec(tileCount: 2, channels: 1, tileWidth: 3, tileHeight: 2, pixelType: pixelType,
                              channelNames: ["grey"], instanceMasks: false, semanticMasks: true, deflateLevel: 1,
                              shuffle: false)
        func image(_ i: Int) -> ImageBuffer {
            let pixels: PixelData = switch pixelType {
            case .uint8: .uint8((0..<6).map { UInt8($0 + i * 10) })
            case .uint16: .uint16((0..<6).map { UInt16($0 * 1000 + i) })
            case .float32: .float32((0..<6).map { Float($0) * 0.5 - Float(i) })
            }
            return ImageBuffer(width: 3, height: 2, channels: 1, pixels: pixels)
        }
        let semantic = { (i: Int) in LabelImage(width: 3, height: 2, values: [0, 1, 2, 65535, UInt32(i), 0]) }
        var writer = try BundleWriter(creating: url, spec: spec)
        for i in 0..<2 { try writer.appendTile(image: image(i), instanceMask: nil, semanticMask: semantic(i)) }
        try writer.writeTable(Table(path: "/tiles", columns: [
            Column("source", .int32([0, 0])), Column("x", .int64([0, 3])), Column("y", .int64([0, 0])),
            Column("width", .int32([3, 3])), Column("height", .int32([2, 2])),
            Column("valid_width", .int32([3, 3])), Column("valid_height", .int32([2, 2])), Column("label", .int32([-1, -1])),
            Column("score", .float64([0.25, -1])),
        ]))
        try writer.writeTable(Table(path: "/classes", columns: [Column("id", .int32([])), Column("name", .string([]))]))
        try writer.writeTable(Table(path: "/sources", columns: [
            Column("path", .string(["a.png"])), Column("sha256", .string([String(repeating: "0", count: 64)])),
            Column("key", .string(["a"])), Column("width", .int64([6])), Column("height", .int64([2])),
            Column("channels", .int32([1])), Column("label", .int32([-1])),
        ]))
        var manifest = SmallBundle.manifest
        manifest.counts = .init(tiles: 2, sources: 1, unlabeledTiles: 2, perClass: [])
        manifest.tiling = .init(tileWidth: 3, tileHeight: 2, strideX: 3, strideY: 2, edge: "drop", padValue: 0)
        manifest.channels = .init(names: ["grey"], sourceIndices: [0], pixelType: pixelType, palette: nil)
        _ = try writer.finish(manifest: manifest)

        let reader = try BundleReader(opening: url)
        #expect(reader.pixelType == pixelType)
        #expect(reader.hasInstanceMasks == false)
        for i in 0..<2 {
            #expect(try reader.tileImage(i) == image(i))
            #expect(try reader.semanticMask(i) == semantic(i))
            #expect(try reader.instanceMask(i) == nil)
        }
        #expect(try reader.table(at: "/classes").rowCount == 0)
        #expect(try reader.table(at: "/tiles")["score"] == .float64([0.25, -1]))
        let report = BundleValidator.validate(url)
        #expect(report.problems == [])
    }
}

@Suite("Spec examples")
struct SpecExampleTests {
    /// specs/bundle-format/v1.md §10.1: a one-tile bundle whose content hash the spec prints.
    @Test func specWorkedExampleHash() throws {
        let dir = TempDir()
        let url = dir.file("example.h5")
        let spec = BundleSpec(tileCount: 1, channels: 1, tileWidth: 2, tileHeight: 2, pixelType: .uint8,
                              channelNames: ["grey"], instanceMasks: false, semanticMasks: false)
        var writer = try BundleWriter(creating: url, spec: spec)
        try writer.appendTile(image: ImageBuffer(width: 2, height: 2, channels: 1, pixels: .uint8([0, 1, 2, 3])),
                              instanceMask: nil, semanticMask: nil)
        try writer.writeTable(Table(path: "/tiles", columns: [
            Column("source", .int32([0])), Column("x", .int64([0])), Column("y", .int64([0])),
            Column("width", .int32([2])), Column("height", .int32([2])),
            Column("valid_width", .int32([2])), Column("valid_height", .int32([2])), Column("label", .int32([0])),
        ]))
        try writer.writeTable(Table(path: "/classes", columns: [Column("id", .int32([0])), Column("name", .string(["nucleus"]))]))
        try writer.writeTable(Table(path: "/sources", columns: [
            Column("path", .string(["a.png"])),
            Column("sha256", .string(["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])),
            Column("key", .string(["a"])), Column("width", .int64([2])), Column("height", .int64([2])),
            Column("channels", .int32([1])), Column("label", .int32([0])),
        ]))
        var manifest = SmallBundle.manifest
        manifest.counts = .init(tiles: 1, sources: 1, unlabeledTiles: 0,
                                perClass: [.init(id: 0, name: "nucleus", tiles: 1, sources: 1)])
        manifest.tiling = .init(tileWidth: 2, tileHeight: 2, strideX: 2, strideY: 2, edge: "drop", padValue: 0)
        manifest.channels = .init(names: ["grey"], sourceIndices: [0], pixelType: .uint8, palette: nil)
        let done = try writer.finish(manifest: manifest)
        #expect(done.contentHash == "sha256:4ec2221f19c80645c335e6538b1350e78acb2fc1222bae950fc6f72b5cad54a4")
        #expect(done.datasets.first { $0.path == "/classes/name" }?.sha256
                == "184ba21b8d18b9e680f7c32d05756fb2ef735eb0911f3f1c17c1614fc160509a")
        #expect(BundleValidator.validate(url).problems == [])
        if let keep = ProcessInfo.processInfo.environment["TRAINSET_KEEP_EXAMPLE"] {
            try? FileManager.default.copyItem(at: url, to: URL(fileURLWithPath: keep))
        }
    }
}

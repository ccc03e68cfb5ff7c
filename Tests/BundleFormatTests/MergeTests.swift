@testable import BundleFormat
import Foundation
import HDF5
import Raster
import Testing

/// A synthetic export of `sourceCount` images, written whole or as shards of contiguous source
/// runs, with the tables other features add: a per-tile table whose column references tile rows,
/// and a ragged group (offsets + per-object rows) — merged by the generic rules of §13.3.
struct SyntheticExport {
    static let h = 4, w = 4
    let sourceCount = 7
    /// Changes every pixel, for a shard with the same shape but other content.
    var salt = 0

    func tileCount(ofSource s: Int) -> Int { s % 3 + 1 }
    /// Global tile rows of source `s`.
    func tiles(ofSource s: Int) -> Range<Int> {
        let first = (0..<s).reduce(0) { $0 + tileCount(ofSource: $1) }
        return first..<(first + tileCount(ofSource: s))
    }
    func objects(ofTile t: Int) -> Int { t % 3 }

    func pixels(_ t: Int) -> [UInt8] { (0..<(Self.h * Self.w)).map { UInt8(truncatingIfNeeded: t * 31 + $0 * 7 + salt) } }

    /// Writes the bundle of sources `run` (the whole export when it is all of them).
    func write(_ run: Range<Int>, to url: URL, shard: Manifest.Shard?) throws -> Manifest {
        let tileRows = run.flatMap { tiles(ofSource: $0) }
        let first = tileRows.first ?? 0
        var writer = try BundleWriter(creating: url, spec: BundleSpec(
            tileCount: tileRows.count, channels: 1, tileWidth: Self.w, tileHeight: Self.h, pixelType: .uint8,
            channelNames: ["grey"], instanceMasks: true, semanticMasks: false))
        for t in tileRows {
            try writer.appendTile(image: ImageBuffer(width: Self.w, height: Self.h, channels: 1, pixels: .uint8(pixels(t))),
                                  instanceMask: LabelImage(width: Self.w, height: Self.h, values: pixels(t).map { UInt32($0 % 4) }),
                                  semanticMask: nil)
        }
        let tileSource = run.flatMap { s in Array(repeating: Int32(s - run.lowerBound), count: tileCount(ofSource: s)) }
        let n = tileRows.count
        try writer.writeTable(Table(path: BundleLayout.tiles, columns: [
            Column("source", .int32(tileSource), references: BundleLayout.sources),
            Column("x", .int64(tileRows.map { t in Int64((t - tiles(ofSource: run.first { tiles(ofSource: $0).contains(t) }!).lowerBound) * Self.w) })),
            Column("y", .int64(Array(repeating: 0, count: n))),
            Column("width", .int32(Array(repeating: Int32(Self.w), count: n))),
            Column("height", .int32(Array(repeating: Int32(Self.h), count: n))),
            Column("valid_width", .int32(Array(repeating: Int32(Self.w), count: n))),
            Column("valid_height", .int32(Array(repeating: Int32(Self.h), count: n))),
            Column("label", .int32(tileRows.map { Int32($0 % 2) })),
        ]))
        try writer.writeTable(Table(path: BundleLayout.classes, columns: [
            Column("id", .int32([0, 1])), Column("name", .string(["a", "b"])),
        ], scope: .bundle))
        try writer.writeTable(Table(path: BundleLayout.sources, columns: [
            Column("path", .string(run.map { "img/\($0).tif" })),
            Column("sha256", .string(run.map { String(repeating: String($0), count: 64) })),
            Column("key", .string(run.map { "k\($0)" })),
            Column("width", .int64(run.map { Int64(tileCount(ofSource: $0) * Self.w) })),
            Column("height", .int64(run.map { _ in Int64(Self.h) })),
            Column("channels", .int32(run.map { _ in 1 })),
            Column("label", .int32(run.map { _ in -1 })),
        ]))
        // Stitch metadata: the next tile of the same source, as a tile row, or -1.
        try writer.writeTable(Table(path: "/stitch", columns: [
            Column("next", .int64(tileRows.map { t in
                let s = run.first { tiles(ofSource: $0).contains(t) }!
                return tiles(ofSource: s).contains(t + 1) ? Int64(t + 1 - first) : -1
            }), references: BundleLayout.tiles),
            Column("weight", .float64(tileRows.map { Double($0) / 8 })),
        ]))
        var manifest = Manifest(
            tool: .init(name: "trainset", version: "0.0.0-test", gitCommit: "test"), libraries: [],
            recipe: .init(path: "recipe.yaml", sha256: String(repeating: "c", count: 64), text: "seed: 1\n"),
            dataset: .init(name: "synthetic", version: "1.0.0"), seed: 1,
            inputs: [.init(path: "table.csv", role: "annotation_table", bytes: 10, sha256: String(repeating: "d", count: 64))]
                + run.map { .init(path: "img/\($0).tif", role: "image", bytes: 100, sha256: String(repeating: String($0), count: 64)) },
            counts: .init(tiles: n, sources: run.count, unlabeledTiles: 0, perClass: [
                .init(id: 0, name: "a", tiles: tileRows.filter { $0 % 2 == 0 }.count, sources: 0),
                .init(id: 1, name: "b", tiles: tileRows.filter { $0 % 2 == 1 }.count, sources: 0),
            ]),
            matching: nil, labelMapping: nil,
            tiling: .init(tileWidth: Self.w, tileHeight: Self.h, strideX: Self.w, strideY: Self.h, edge: "drop", padValue: 0),
            channels: .init(names: ["grey"], sourceIndices: [0], pixelType: .uint8, palette: nil), warnings: ["a warning"])
        manifest.shard = shard
        _ = try writer.finish(manifest: manifest)
        try addObjects(tileRows, to: url)
        return try BundleReader(opening: url).manifest()
    }

    /// Adds the ragged `/objects` group (offsets per tile, boxes per object) and re-seals the
    /// bundle's digests and content hash, as a writer of such tables would have written them.
    private func addObjects(_ tileRows: [Int], to url: URL) throws {
        var offsets: [Int64] = [0]
        var boxes: [Double] = []
        var tile: [Int32] = []
        for t in tileRows {
            for k in 0..<objects(ofTile: t) {
                boxes += [Double(t), Double(k), Double(t + 1), Double(k + 2)]
                tile.append(Int32(t - (tileRows.first ?? 0)))
            }
            offsets.append(Int64(tile.count))
        }
        do {
            let file = try File(opening: url.path, mode: .readWrite)
            try file.createGroup("/objects").close()
            let layout = DatasetLayout.chunked([max(1, offsets.count)], deflateLevel: 4, fletcher32: true)
            let o = try file.createDataset("/objects/offsets", of: Int64.self, shape: [offsets.count], layout: layout)
            try o.write(offsets)
            let b = try file.createDataset("/objects/boxes", of: Double.self, shape: [tile.count, 4],
                                           layout: .chunked([max(1, tile.count), 4], deflateLevel: 4, fletcher32: true,
                                                            unlimitedFirstDimension: tile.isEmpty))
            try b.write(boxes)
            let k = try file.createDataset("/objects/tile", of: Int32.self, shape: [tile.count],
                                           layout: .chunked([max(1, tile.count)], deflateLevel: 4, fletcher32: true,
                                                            unlimitedFirstDimension: tile.isEmpty))
            try k.write(tile)
            try file.setAttribute(BundleLayout.referencesAttribute, BundleLayout.tiles, on: "/objects/tile")
            try o.close(); try b.close(); try k.close()
            try file.close()
        }
        let digests = try BundleReader(opening: url).datasetDigests()
        var manifest = try BundleReader(opening: url).manifest()
        manifest.datasets = digests
        manifest.contentHash = ContentHash.combine(digests)
        let file = try File(opening: url.path, mode: .readWrite)
        try file.openDataset(BundleLayout.manifest).writeString(String(decoding: try manifest.jsonData(), as: UTF8.self))
        try file.setAttribute(BundleLayout.contentHashAttribute, manifest.contentHash)
        try file.close()
    }

    /// Shards of contiguous runs `runs` written to `dir/shards/`, and the whole export `dir/single.h5`.
    func writeAll(_ runs: [Range<Int>], in dir: TempDir, plan: String = "e") throws -> (single: Manifest, shards: [URL]) {
        let single = try write(0..<sourceCount, to: dir.file("single.h5"), shard: nil)
        try FileManager.default.createDirectory(at: dir.file("shards"), withIntermediateDirectories: true)
        var urls: [URL] = []
        for i in runs.indices {
            let url = dir.file("shards/part-\(i).h5")
            try writeShard(i, of: runs, to: url, plan: plan)
            urls.append(url)
        }
        return (single, urls)
    }

    func writeShard(_ i: Int, of runs: [Range<Int>], to url: URL, plan: String = "e") throws {
        _ = try write(runs[i], to: url, shard: Manifest.Shard(
            index: i, count: runs.count, planID: "sha256:" + String(repeating: plan, count: 64), firstSource: runs[i].lowerBound,
            firstTile: tiles(ofSource: runs[i].lowerBound).lowerBound))
    }
}

@Suite("Merging shard bundles")
struct MergeTests {
    static let runs = [0..<2, 2..<3, 3..<7]

    /// Merges `shards` (given out of order) into `dir/merged.h5`.
    static func merge(_ shards: [URL], in dir: TempDir, layout: MergeLayout) throws -> Manifest {
        try BundleMerger.merge(shards.reversed(), into: dir.file("merged.h5"), namesRelativeTo: dir.url, layout: layout)
    }

    @Test(arguments: [MergeLayout.virtual, .copy])
    func mergedShardsEqualTheWholeExportIncludingExtraAndRaggedTables(layout: MergeLayout) throws {
        let dir = TempDir()
        let export = SyntheticExport()
        let (single, shards) = try export.writeAll(Self.runs, in: dir)
        let merged = try Self.merge(shards, in: dir, layout: layout)

        #expect(merged.contentHash == single.contentHash)
        #expect(merged.datasets == single.datasets)
        var withoutMerge = merged
        withoutMerge.merge = nil
        #expect(withoutMerge == single)  // counts summed, inputs and warnings each once, in order
        #expect(merged.merge?.layout == layout.rawValue)
        #expect(merged.merge?.shards.map(\.file) == ["shards/part-0.h5", "shards/part-1.h5", "shards/part-2.h5"])
        #expect(merged.merge?.shards.map(\.firstTile) == [0, 3, 6])

        let report = BundleValidator.validate(dir.file("merged.h5"))
        #expect(report.problems == [])
        #expect(report.contentHash == single.contentHash)
        let reader = try BundleReader(opening: dir.file("merged.h5"))
        // The rebased columns, read back: references shifted by earlier shards' rows, -1 kept.
        #expect(try reader.table(at: "/tiles")["source"] == .int32([0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 5, 5, 6]))
        #expect(try reader.table(at: "/stitch")["next"] == .int64([-1, 2, -1, 4, 5, -1, -1, 8, -1, 10, 11, -1, -1]))
        let file = try File(opening: dir.file("merged.h5").path)
        let offsets = try file.openDataset("/objects/offsets").read(Int64.self)
        let perTile = (0..<13).map { Int64(export.objects(ofTile: $0)) }
        #expect(offsets == [0] + perTile.indices.map { perTile[...$0].reduce(0, +) })
        #expect(try file.openDataset("/objects/tile").read(Int32.self) == (0..<13).flatMap { t in
            Array(repeating: Int32(t), count: export.objects(ofTile: t))
        })
        #expect(try file.openDataset("/images").info().isVirtual == (layout == .virtual))
        #expect(try reader.tileImage(6).pixels == .uint8(export.pixels(6)))  // first tile of the last shard
    }

    @Test func aVirtualMergeMovesWithItsShardsAndNamesAMissingOne() throws {
        let dir = TempDir()
        let (single, shards) = try SyntheticExport().writeAll(Self.runs, in: dir)
        _ = try Self.merge(shards, in: dir, layout: .virtual)
        let elsewhere = TempDir()
        let moved = elsewhere.url.appendingPathComponent("moved")
        try FileManager.default.moveItem(at: dir.url, to: moved)
        #expect(BundleValidator.validate(moved.appendingPathComponent("merged.h5")).contentHash == single.contentHash)

        try FileManager.default.removeItem(at: moved.appendingPathComponent("shards/part-1.h5"))
        let report = BundleValidator.validate(moved.appendingPathComponent("merged.h5"))
        #expect(report.problems.contains { $0.hasPrefix("/images: rows 3..<6 come from shard file shards/part-1.h5, which is missing") })
        #expect(report.problems.contains { $0.hasPrefix("/masks/instance: rows 3..<6 come from shard file shards/part-1.h5") })
        #expect(report.contentHash == nil)  // not hashed: HDF5 would have read zeros
        let error = #expect(throws: BundleError.self) { _ = try BundleReader(opening: moved.appendingPathComponent("merged.h5")) }
        #expect(error?.message.contains("shard file shards/part-1.h5, which is missing") == true)
    }

    @Test func aShardReplacedAfterMergingIsNamed() throws {
        let dir = TempDir()
        let (_, shards) = try SyntheticExport().writeAll(Self.runs, in: dir)
        _ = try Self.merge(shards, in: dir, layout: .virtual)
        // A valid shard 1 of the same plan and shape, but other pixels.
        try FileManager.default.removeItem(at: shards[1])
        try SyntheticExport(salt: 1).writeShard(1, of: Self.runs, to: shards[1])
        let report = BundleValidator.validate(dir.file("merged.h5"))
        #expect(report.problems.contains {
            $0.hasPrefix("shards/part-1.h5: content hash") && $0.hasSuffix("the shard file was replaced after merging")
        })
        #expect(report.problems.contains { $0.hasPrefix("/@content_hash:") })
        let error = #expect(throws: BundleError.self) { _ = try BundleReader(opening: dir.file("merged.h5")) }
        #expect(error?.message.hasPrefix("shard file shards/part-1.h5 is not a shard this bundle was merged from") == true)
    }

    @Test func mergeRefusesAnIncompleteMixedOrRepeatedSetNamingTheShard() throws {
        let dir = TempDir()
        let (_, shards) = try SyntheticExport().writeAll(Self.runs, in: dir)
        func refusal(_ given: [URL]) -> String {
            try? FileManager.default.removeItem(at: dir.file("merged.h5"))
            do {
                _ = try Self.merge(given, in: dir, layout: .virtual)
                return "merged"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal([shards[0], shards[2]]).hasPrefix("shard 1 of 3 (plan sha256:eeee"))
        #expect(refusal([shards[0], shards[2]]).contains("is missing; export it with trainset export RECIPE --shard 1/3"))
        #expect(refusal(shards + [shards[1]]).contains("part-1.h5: is shard 1/3, and so is"))
        #expect(refusal([dir.file("single.h5")]).contains("single.h5: is not a shard bundle"))

        let other = TempDir()
        let (_, foreign) = try SyntheticExport().writeAll(Self.runs, in: other, plan: "f")
        let mixed = refusal([shards[0], foreign[1], shards[2]])
        #expect(mixed.contains("part-1.h5: is shard 1/3 of plan sha256:ffff"))
        #expect(mixed.contains("merge the shards of one plan"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("merged.h5").path))
    }

    @Test func aShardChangedAfterItsExportIsReportedByIndex() throws {
        let dir = TempDir()
        let (_, shards) = try SyntheticExport().writeAll(Self.runs, in: dir)
        // Rewrite one value of shard 2's /tiles/label in place: the file stays readable, but no
        // longer matches the digest its own manifest recorded.
        let file = try File(opening: shards[2].path, mode: .readWrite)
        let labels = try file.openDataset("/tiles/label")
        var values = try labels.read(Int32.self)
        values[0] = 1 - values[0]
        try labels.write(values)
        try labels.close()
        try file.close()
        let error = #expect(throws: BundleError.self) { _ = try Self.merge(shards, in: dir, layout: .copy) }
        #expect(error?.path == "/tiles/label")
        #expect(error?.message.hasPrefix("shard 2/3 (") == true)
        #expect(error?.message.contains("differs from the digest in its own manifest") == true)
    }

    @Test func aCorruptedShardChunkIsReportedWithTheShardAndTile() throws {
        let dir = TempDir()
        let (_, shards) = try SyntheticExport().writeAll(Self.runs, in: dir)
        let location = try File(opening: shards[1].path).openDataset("/images").chunkLocation(index: 2)
        let handle = try FileHandle(forUpdating: shards[1])
        try handle.seek(toOffset: location.fileAddress)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: location.fileAddress)
        try handle.write(contentsOf: [byte ^ 0xFF])
        try handle.close()
        let error = #expect(throws: BundleError.self) { _ = try Self.merge(shards, in: dir, layout: .virtual) }
        #expect(error?.path == "/images")
        #expect(error?.message.hasPrefix("shard 1/3 (") == true)
        #expect(error?.message.contains("): tile 2 cannot be read") == true)
        #expect(error?.message.hasSuffix("re-export shard 1") == true)
    }

    @Test func offsetsAndReferencesRebaseByTheRowsOfEarlierShards() throws {
        let (offsets, last) = try #require(MergeWriter.rebaseOffsets(.int64([0, 2, 2, 5]), base: 7, dropFirst: true))
        #expect(offsets.int64s == [9, 9, 12])
        #expect(last == 12)
        #expect(MergeWriter.rebaseOffsets(.int64([0, 2]), base: 7, dropFirst: false)?.0.int64s == [7, 9])
        #expect(MergeWriter.rebaseOffsets(.int64([1, 2]), base: 0, dropFirst: false) == nil)  // must start at 0
        #expect(MergeWriter.rebaseOffsets(.int64([0, 3, 2]), base: 0, dropFirst: false) == nil)  // must not decrease
        #expect(MergeWriter.rebaseOffsets(.float64([0, 1]), base: 0, dropFirst: false) == nil)  // must be integers
        #expect(MergeWriter.shift(.int32([-1, 0, 4]), by: 10)?.int32s == [-1, 10, 14])
        #expect(MergeWriter.shift(.int32([Int32.max - 1]), by: 2) == nil)  // would overflow the column type
    }
}

extension Values {
    var int64s: [Int64]? { if case .int64(let v) = self { v } else { nil } }
    var int32s: [Int32]? { if case .int32(let v) = self { v } else { nil } }
}

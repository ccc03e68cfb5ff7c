import BundleFormat
import Foundation
import HDF5
import Testing

@Suite("Bundle validator")
struct ValidatorTests {
    @Test func aFreshBundleIsValid() throws {
        let dir = TempDir()
        let url = dir.file("ok.h5")
        let manifest = try SmallBundle.write(to: url)
        let report = BundleValidator.validate(url)
        #expect(report.problems == [])
        #expect(report.isValid)
        #expect(report.contentHash == manifest.contentHash)
        #expect(report.checks.count >= 8)
        #expect(report.checks.contains { $0.contains("Fletcher-32") })
    }

    @Test func aFlippedByteInAnImageChunkNamesTheDatasetAndTile() throws {
        let dir = TempDir()
        let url = dir.file("flip.h5")
        try SmallBundle.write(to: url)
        // Find where tile 1's chunk is stored, then corrupt one byte in the middle of it.
        let location: ChunkLocation = try {
            let file = try File(opening: url.path)
            let images = try file.openDataset("/images")
            for k in 0..<(try images.storedChunkCount()) {
                let l = try images.chunkLocation(index: k)
                if l.offset == [1, 0, 0, 0] { return l }
            }
            throw HDF5Error(code: .notFound, message: "chunk of tile 1 not found")
        }()
        try flipByte(in: url, at: location.fileAddress + UInt64(location.storedSize / 2))

        let report = BundleValidator.validate(url)
        #expect(!report.isValid)
        #expect(report.contentHash == nil)
        let problem = report.problems.first { $0.hasPrefix("/images: tile 1:") }
        #expect(problem?.contains("Fletcher-32") == true, "problems: \(report.problems)")
        #expect(report.problems.filter { $0.hasPrefix("/images") }.count == 1)  // tiles 0 and 2 still read
    }

    @Test func aLabelOutsideTheClassesIsReportedOnTilesLabel() throws {
        let dir = TempDir()
        let url = dir.file("label.h5")
        try SmallBundle.write(to: url)
        do {
            let file = try File(opening: url.path, mode: .readWrite)
            let label = try file.openDataset("/tiles/label")
            try label.write([1, 7, -1] as [Int32])
            try label.close()
            try file.close()
        }
        let report = BundleValidator.validate(url)
        #expect(!report.isValid)
        #expect(report.problems.contains {
            $0.hasPrefix("/tiles/label: 1 row(s) have a label that is neither -1 nor an id in /classes/id (rows 1)")
        }, "problems: \(report.problems)")
        // The edit also breaks the recorded digest of exactly that dataset, and the counts.
        #expect(report.problems.contains { $0.hasPrefix("/tiles/label: manifest digest") })
        #expect(!report.problems.contains { $0.hasPrefix("/tiles/x") || $0.hasPrefix("/images") })
        #expect(report.problems.contains { $0.contains("counts.per_class gives class 1 (nucleus) 2 tiles, /tiles/label has 1") })
    }

    @Test func aTamperedManifestContentHashIsReported() throws {
        let dir = TempDir()
        let url = dir.file("manifest.h5")
        var manifest = try SmallBundle.write(to: url)
        let genuine = manifest.contentHash
        manifest.contentHash = "sha256:" + String(repeating: "0", count: 64)
        do {
            let file = try File(opening: url.path, mode: .readWrite)
            let ds = try file.openDataset("/manifest")
            try ds.writeString(String(decoding: try manifest.jsonData(), as: UTF8.self))
            try ds.close()
            try file.close()
        }
        let report = BundleValidator.validate(url)
        #expect(report.contentHash == genuine)  // the data itself is intact
        let problems = report.problems.sorted()
        #expect(problems.count == 3)
        #expect(problems.prefix(2) == [
            "/manifest: content_hash \(manifest.contentHash) differs from the hash recomputed from the data \(genuine)",
            "/manifest: content_hash \(manifest.contentHash) differs from the root attribute content_hash \(genuine)",
        ])
        #expect(problems.last?.hasPrefix("/manifest: its text has SHA-256 ") == true)
    }

    /// Provenance that no other check covers (here the recipe's checksum) is protected by the
    /// manifest's own checksum, `/@manifest_sha256` (format 1.1.0).
    @Test func anEditedProvenanceRecordIsReported() throws {
        let dir = TempDir()
        let url = dir.file("provenance.h5")
        try SmallBundle.write(to: url)
        let stored: String
        do {
            let file = try File(opening: url.path, mode: .readWrite)
            stored = try file.stringAttribute("manifest_sha256")
            let ds = try file.openDataset("/manifest")
            let text = try ds.readString()
            let edited = text.replacingOccurrences(of: String(repeating: "c", count: 64), with: String(repeating: "d", count: 64))
            try #require(edited != text, "the manifest has no recipe checksum to edit")
            try ds.writeString(edited)
            try ds.close()
            try file.close()
        }
        #expect(stored.count == 64 && stored.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        let report = BundleValidator.validate(url)
        #expect(report.problems.count == 1, "\(report.problems)")
        #expect(report.problems.first?.hasSuffix("the root attribute manifest_sha256 says \(stored): the provenance record is damaged") == true)
    }

    @Test func aTamperedRootContentHashIsReported() throws {
        let dir = TempDir()
        let url = dir.file("root.h5")
        try SmallBundle.write(to: url)
        do {
            let file = try File(opening: url.path, mode: .readWrite)
            try file.setAttribute("content_hash", "sha256:" + String(repeating: "f", count: 64))
            try file.close()
        }
        let report = BundleValidator.validate(url)
        #expect(report.problems.contains { $0.hasPrefix("/@content_hash: sha256:ffff") })
        #expect(report.problems.contains { $0.hasPrefix("/manifest: content_hash") && $0.contains("root attribute") })
    }

    @Test func structuralProblemsNameTheirObject() throws {
        let dir = TempDir()
        let url = dir.file("structure.h5")
        try SmallBundle.write(to: url)
        do {
            let file = try File(opening: url.path, mode: .readWrite)
            try file.setAttribute("format_version", "2.0.0")
            try file.setAttribute("columns", ["name", "id"], on: "/classes")
            try file.setAttribute("axes", "NHWC", on: "/images")
            try file.close()
        }
        let report = BundleValidator.validate(url)
        #expect(report.problems.contains("/@format_version: version \"2.0.0\" is not supported (expected 1.x.y)"))
        #expect(report.problems.contains { $0.hasPrefix("/classes@columns: column 0 must be id, found name") })
        #expect(report.problems.contains("/images@axes: is \"NHWC\", expected \"NCHW\""))
    }

    @Test func inconsistentTileGeometryIsReported() throws {
        let dir = TempDir()
        let url = dir.file("geometry.h5")
        var tiles = SmallBundle.tiles
        tiles.columns[5] = Column("valid_width", .int32([8, 8, 8]))  // tile 1 overlaps its source by 4 columns only
        tiles.columns[0] = Column("source", .int32([0, 0, 5]))
        try SmallBundle.write(to: url, tables: [tiles, SmallBundle.classes, SmallBundle.sources])
        let report = BundleValidator.validate(url)
        #expect(report.problems.contains {
            $0.hasPrefix("/tiles/valid_width: 1 row(s) have valid_width/valid_height different") && $0.hasSuffix("(rows 1)")
        }, "problems: \(report.problems)")
        #expect(report.problems.contains("/tiles/source: 1 row(s) refer to no row of /sources (0..<2) (rows 2)"))
    }

    @Test func notABundleIsAProblemNotACrash() throws {
        let dir = TempDir()
        let text = dir.file("text.h5")
        try Data("not hdf5".utf8).write(to: text)
        let r1 = BundleValidator.validate(text)
        #expect(r1.problems.count == 1)
        #expect(r1.problems.first?.hasPrefix("cannot open the file: not an HDF5 file") == true)
        let r2 = BundleValidator.validate(dir.file("missing.h5"))
        #expect(!r2.isValid)
        let empty = dir.file("empty.h5")
        try File(creating: empty.path).close()
        let r3 = BundleValidator.validate(empty)
        #expect(r3.problems.contains("/@trainset_format: required attribute is missing"))
        #expect(r3.problems.contains("/images: required dataset is missing"))
        #expect(r3.problems.contains("/tiles: required table (group) is missing"))
        #expect(r3.problems.contains("/manifest: required dataset is missing"))
    }
}

/// XORs one byte of a file in place.
func flipByte(in url: URL, at offset: UInt64) throws {
    let handle = try FileHandle(forUpdating: url)
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    let byte = try #require(try handle.read(upToCount: 1)).first!
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: [byte ^ 0x5A])
}

import AVDB
import Foundation
import ImageFormats
import Raster
import Testing

@Suite("Mask assembly")
struct MaskAssemblyTests {
    private func mask(_ rows: [[UInt8]]) -> ImageBuffer {
        ImageBuffer(width: rows[0].count, height: rows.count, channels: 1, pixels: .uint8(rows.flatMap { $0 }))
    }

    @Test func idsFollowOrderOfAddition() throws {
        var builder = InstanceMaskBuilder(width: 3, height: 2)
        try builder.add(mask([[255, 255, 0], [0, 0, 0]]), name: "a.png")
        try builder.add(mask([[0, 0, 0], [0, 1, 1]]), name: "b.png")
        try builder.add(mask([[0, 0, 0], [0, 0, 0]]), name: "empty.png")
        let result = builder.result
        #expect(result.labels == LabelImage(width: 3, height: 2, values: [1, 1, 0, 0, 2, 2]))
        #expect(result.objectNames == ["a.png", "b.png", "empty.png"])
        #expect(result.pixelCounts == [2, 2, 0])
        #expect(result.objectCount == 3)
    }

    @Test func anyNonZeroChannelIsForeground() throws {
        var builder = InstanceMaskBuilder(width: 2, height: 1)
        // Planar RGB: pixel 0 is non-zero only in blue, pixel 1 is black.
        try builder.add(ImageBuffer(width: 2, height: 1, channels: 3, pixels: .uint16([0, 0, 0, 0, 7, 0])), name: "rgb.png")
        #expect(builder.result.labels.values == [1, 0])
    }

    @Test func overlapNamesBothMasks() throws {
        var builder = InstanceMaskBuilder(width: 3, height: 2)
        try builder.add(mask([[0, 255, 0], [0, 255, 0]]), name: "a.png", file: "masks/a.png")
        let error = #expect(throws: AVDBError.self) {
            try builder.add(mask([[0, 0, 0], [0, 255, 255]]), name: "b.png", file: "masks/b.png")
        }
        #expect(error?.code == .overlappingMasks)
        #expect(error?.description
            == "masks/b.png: mask overlaps \"a.png\" at pixel (x=1, y=1); instance masks must not share pixels")
    }

    @Test func sizeMismatchNamesTheMask() {
        var builder = InstanceMaskBuilder(width: 3, height: 2)
        let error = #expect(throws: AVDBError.self) { try builder.add(mask([[1, 1], [1, 1]]), name: "small.png", file: "masks/small.png") }
        #expect(error?.code == .maskSizeMismatch)
        #expect(error?.description
            == "masks/small.png: mask is 2x2 (width x height) but the image is 3x2; each mask must have its image's size")
    }

    @Test func labelImageFromBuffers() throws {
        let labels = try MaskAssembly.labelImage(
            from: ImageBuffer(width: 2, height: 2, channels: 1, pixels: .uint16([0, 3, 65535, 1])), file: "l.tif")
        #expect(labels == LabelImage(width: 2, height: 2, values: [0, 3, 65535, 1]))

        let rgb = #expect(throws: AVDBError.self) {
            try MaskAssembly.labelImage(from: ImageBuffer(width: 1, height: 1, channels: 3, pixels: .uint8([1, 2, 3])), file: "rgb.png")
        }
        #expect(rgb?.code == .unsupportedMask)
        #expect(rgb?.description == "rgb.png: label image has 3 channels; save it as a single-channel uint8 or uint16 image")

        let float = #expect(throws: AVDBError.self) {
            try MaskAssembly.labelImage(from: ImageBuffer(width: 1, height: 1, channels: 1, pixels: .float32([1])), file: "f.tif")
        }
        #expect(float?.code == .unsupportedMask)

        let size = #expect(throws: AVDBError.self) {
            try MaskAssembly.labelImage(from: ImageBuffer(width: 1, height: 1, channels: 1, pixels: .uint8([1])),
                                      file: "s.png", width: 2, height: 1)
        }
        #expect(size?.code == .maskSizeMismatch)
    }
}

@Suite("Real data: DSB 2018 instance masks", .enabled(if: SharedData.available, "needs ../shared/data"))
struct RealMaskTests {
    static let imageID = "00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552"
    static var folder: URL { SharedData.dsb.appendingPathComponent("stage1_train/\(imageID)") }

    @Test func assembledIdsMatchTheMaskFiles() throws {
        let info = try ImageReader.info(Self.folder.appendingPathComponent("images/\(Self.imageID).png"))
        let masksDir = Self.folder.appendingPathComponent("masks")
        let result = try MaskAssembly.instanceMask(directory: masksDir, width: info.width, height: info.height)

        let files = try FileManager.default.contentsOfDirectory(atPath: masksDir.path).sorted()
        #expect(files.count == 27)
        #expect(result.objectNames == files)
        #expect(result.labels.width == 256 && result.labels.height == 256)

        var perID = Array(repeating: 0, count: files.count + 1)
        for value in result.labels.values { perID[Int(value)] += 1 }
        for (index, file) in files.enumerated() {
            let buffer = try ImageReader.read(masksDir.appendingPathComponent(file))
            guard case .uint8(let samples) = buffer.pixels else {
                Issue.record("\(file) is not 8-bit")
                continue
            }
            let nonZero = samples.filter { $0 != 0 }.count
            #expect(nonZero > 0)
            #expect(perID[index + 1] == nonZero, "object \(index + 1) (\(file))")
            #expect(result.pixelCounts[index] == nonZero)
        }
        #expect(perID[0] == 256 * 256 - result.pixelCounts.reduce(0, +))
    }

    @Test func explicitFileListSetsTheIdOrder() throws {
        let masksDir = Self.folder.appendingPathComponent("masks")
        let files = try FileManager.default.contentsOfDirectory(atPath: masksDir.path).sorted()
        let sorted = try MaskAssembly.instanceMask(directory: masksDir, width: 256, height: 256)
        let reversed = try MaskAssembly.instanceMask(
            objectFiles: files.reversed().map { masksDir.appendingPathComponent($0) }, width: 256, height: 256)
        #expect(reversed.objectNames == files.reversed())
        #expect(reversed.pixelCounts == sorted.pixelCounts.reversed())
        let n = UInt32(files.count)
        #expect(reversed.labels.values == sorted.labels.values.map { $0 == 0 ? 0 : n + 1 - $0 })
    }

    @Test func duplicatedMaskFileIsAnOverlap() throws {
        let dir = try TemporaryDirectory()
        let masksDir = Self.folder.appendingPathComponent("masks")
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: masksDir.path).sorted().first)
        try FileManager.default.copyItem(at: masksDir.appendingPathComponent(first), to: dir.url.appendingPathComponent("a.png"))
        try FileManager.default.copyItem(at: masksDir.appendingPathComponent(first), to: dir.url.appendingPathComponent("b.png"))
        let error = #expect(throws: AVDBError.self) { try MaskAssembly.instanceMask(directory: dir.url, width: 256, height: 256) }
        #expect(error?.code == .overlappingMasks)
        #expect(error?.file == dir.url.path + "/b.png")
        #expect(error?.message.hasPrefix("mask overlaps \"a.png\" at pixel") == true)
    }

    @Test func maskOfAnotherSizeIsAnError() throws {
        let masksDir = Self.folder.appendingPathComponent("masks")
        let error = #expect(throws: AVDBError.self) { try MaskAssembly.instanceMask(directory: masksDir, width: 320, height: 256) }
        #expect(error?.code == .maskSizeMismatch)
        #expect(error?.description.contains("mask is 256x256 (width x height) but the image is 320x256") == true)
    }

    @Test func singleMaskFileAsLabelImage() throws {
        let masksDir = Self.folder.appendingPathComponent("masks")
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: masksDir.path).sorted().first)
        let labels = try MaskAssembly.labelImage(contentsOf: masksDir.appendingPathComponent(first), width: 256, height: 256)
        #expect(Set(labels.values) == [0, 255])
    }

    @Test func unreadableMaskFile() throws {
        let dir = try TemporaryDirectory()
        try dir.write("broken.png", "not a png")
        let error = #expect(throws: AVDBError.self) { try MaskAssembly.instanceMask(directory: dir.url, width: 4, height: 4) }
        #expect(error?.code == .imageUnreadable)
        #expect(error?.file == dir.url.appendingPathComponent("broken.png").path)
    }
}

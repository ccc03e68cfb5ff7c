import Foundation
import ImageFormats
import Raster
import Testing

/// Every image in reference.json decodes to the same shape, type and bytes as tifffile/Pillow give.
@Suite struct ReferenceTests {
    @Test func referenceIsPresent() {
        #expect(ReferenceEntry.fixtures.count > 50, "Tests/Fixtures/images/reference.json is missing or empty; run scripts/make_image_fixtures.py --reference")
    }

    @Test(arguments: ReferenceEntry.fixtures)
    func fixture(_ entry: ReferenceEntry) throws {
        try check(entry)
    }

    @Test(.enabled(if: Paths.sharedAvailable, "../shared/data is absent: skipping the real-data cross-check"),
          arguments: ReferenceEntry.shared)
    func sharedData(_ entry: ReferenceEntry) throws {
        try check(entry)
    }

    private func check(_ entry: ReferenceEntry) throws {
        let options = ReadOptions(palette: PaletteMode(rawValue: entry.palette) ?? .indices)
        let image = try ImageReader.read(entry.url, options: options)
        #expect([image.channels, image.height, image.width] == entry.shape)
        #expect(image.pixelType.rawValue == entry.dtype)
        #expect(image.sha256 == entry.sha256, "pixels differ from \(entry.source)")

        let info = try ImageReader.info(entry.url, options: options)
        #expect([info.channels, info.height, info.width] == entry.shape)
        #expect(info.pixelType.rawValue == entry.dtype)

        // A mask read straight into labels holds exactly the samples `read` gives.
        let labels = try ImageReader.readLabels(entry.url, options: options)
        let widened: [UInt32]? = switch image.pixels {
        case .uint8(let v) where image.channels == 1 && info.format == .tiff: v.map(UInt32.init)
        case .uint16(let v) where image.channels == 1 && info.format == .tiff: v.map(UInt32.init)
        default: nil
        }
        #expect(labels?.values == widened, "readLabels differs from read")
        #expect(labels.map { [$0.height, $0.width] } == widened.map { _ in [image.height, image.width] })
    }
}

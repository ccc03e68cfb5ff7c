import Testing
@testable import Raster

@Suite struct RasterTests {
    @Test func planarIndexing() {
        let img = ImageBuffer(width: 3, height: 2, channels: 2, pixels: .uint16(Array(0..<12)))
        #expect(img.index(channel: 1, y: 1, x: 2) == 11)
        #expect(img.index(channel: 0, y: 1, x: 0) == 3)
        if case .uint16(let v) = img.pixels { #expect(v[img.index(channel: 1, y: 0, x: 1)] == 7) }
    }

    @Test(arguments: PixelType.allCases) func zerosHaveRequestedTypeAndCount(type: PixelType) {
        let z = PixelData.zeros(type, count: 5)
        #expect(z.pixelType == type)
        #expect(z.count == 5)
    }
}

import Foundation
import ImageFormats
import Raster
import Testing

/// `readRegion` returns exactly the matching part of `read`, whatever strips or tiles it spans.
@Suite struct RegionTests {
    static let files = [
        "u16_tiled.tif", "u8_rgb_tiled_contig.tif", "u16_rgb_tiled_planar.tif", "f32_tiled_float_predictor.tif",
        "u16_strips7.tif", "u8_rgb_strips5_lzw.tif", "f32_3ch_planar.tif", "u16_imagej_channels.tif",
        "u16_ome_channels.ome.tif", "u8_rgb_jpeg_ycbcr.tif", "u8_palette.tif", "rgb8.png", "gray1.png", "rgb444.jpg",
    ]

    @Test(arguments: files, [PaletteMode.indices, .rgb])
    func regionMatchesCrop(_ name: String, palette: PaletteMode) throws {
        let url = Paths.fixture(name)
        let options = ReadOptions(palette: palette)
        let whole = try ImageReader.read(url, options: options)
        let (w, h) = (whole.width, whole.height)
        let rects = [
            PixelRect(x: 0, y: 0, width: w, height: h),
            PixelRect(x: 0, y: 0, width: 1, height: 1),
            PixelRect(x: w - 1, y: h - 1, width: 1, height: 1),
            PixelRect(x: 5, y: 3, width: 20, height: 17),
            PixelRect(x: 15, y: 15, width: 2, height: 2),
            PixelRect(x: w - 13, y: h - 9, width: 13, height: 9),
            PixelRect(x: 16, y: 0, width: w - 16, height: 16),
        ]
        for rect in rects {
            let region = try ImageReader.readRegion(url, rect: rect, options: options)
            #expect(region == whole.cropped(rect), "region \(rect) of \(name)")
        }
    }

    /// A region read must not need the memory of the whole image.
    @Test func regionLimitAppliesToTheRegion() throws {
        let url = Paths.fixture("u16_tiled.tif")
        let small = ReadOptions(maxPixels: 16 * 16 * 2)
        let region = try ImageReader.readRegion(url, rect: PixelRect(x: 16, y: 16, width: 16, height: 16), options: small)
        #expect(region.width == 16)
        #expect(throws: ImageError.self) { try ImageReader.read(url, options: small) }
    }
}

import Foundation
import ImageFormats
import Raster
import Testing

/// `readRegion` returns exactly the matching part of `read`, whatever strips or tiles it spans.
@Suite struct RegionTests {
    static let files = [
        "u16_tiled.tif", "u8_rgb_tiled_contig.tif", "u16_rgb_tiled_planar.tif", "f32_tiled_float_predictor.tif",
        "u16_strips7.tif", "u8_rgb_strips5_lzw.tif", "f32_3ch_planar.tif", "u16_imagej_channels.tif",
        "u16_ome_channels.ome.tif", "u8_rgb_jpeg_ycbcr.tif", "u8_rgb_jpeg_tiled.tif", "u8_palette.tif", "rgb8.png", "gray1.png", "rgb444.jpg",
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
            // Full width: strips wholly inside are decoded in place, the cut ones through a buffer.
            PixelRect(x: 0, y: 3, width: w, height: h - 5),
            PixelRect(x: 0, y: 7, width: w, height: 14),
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

    /// A region of a 64-megapixel image decodes only the tiles it touches, within a limit the
    /// whole image would break.
    @Test func regionOfALargeTiledImage() throws {
        let url = Paths.fixture("region_large_tiled.tif")
        let options = ReadOptions(maxPixels: 1 << 20)
        let info = try ImageReader.info(url)
        #expect(info.width == 8192 && info.height == 8192 && info.tileWidth == 512)
        #expect(throws: ImageError.self) { try ImageReader.read(url, options: options) }

        // Tiles (row 7, column 8), (7, 9), (8, 8), (8, 9) around the point x=5120, y=4096.
        let rect = PixelRect(x: 5120 - 300, y: 4096 - 200, width: 600, height: 400)
        let region = try ImageReader.readRegion(url, rect: rect, options: options)
        guard case .uint8(let v) = region.pixels else { Issue.record("expected uint8"); return }
        for (y, x) in [(0, 0), (0, 599), (399, 0), (399, 599), (150, 310), (199, 299)] {
            let (iy, ix) = (rect.y + y, rect.x + x)
            let expected = (iy / 512 == 7 && ix / 512 == 9)
                ? UInt8(((iy % 512) * 512 + ix % 512) % 251) : UInt8(iy / 512 * 16 + ix / 512)
            #expect(v[region.index(channel: 0, y: y, x: x)] == expected, "pixel x=\(ix), y=\(iy)")
        }
    }
}

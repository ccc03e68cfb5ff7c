import Foundation
import ImageFormats
import Raster
import Testing

/// Header information, OME-XML and ImageJ metadata.
@Suite struct MetadataTests {
    @Test func layoutIsReported() throws {
        let tiled = try ImageReader.info(Paths.fixture("u16_rgb_tiled_planar.tif"))
        #expect(tiled.format == .tiff && tiled.isTiled && tiled.tileWidth == 32 && tiled.tileHeight == 16)
        #expect(tiled.channels == 3 && tiled.samplesPerPixel == 3 && tiled.compression == "lzw")
        let strips = try ImageReader.info(Paths.fixture("u16_strips7.tif"))
        #expect(!strips.isTiled && strips.rowsPerStrip == 7 && strips.compression == "none")
        #expect(try ImageReader.info(Paths.fixture("u16_bigtiff.tif")).isBigTIFF)
        #expect(try !ImageReader.info(Paths.fixture("u16_gray.tif")).isBigTIFF)
        #expect(try ImageReader.info(Paths.fixture("u16_zstd.tif")).compression == "zstd")
        #expect(try ImageReader.info(Paths.fixture("u16_adobe_deflate.tif")).compression == "adobe_deflate")
        let pages = try ImageReader.info(Paths.fixture("u8_multipage.tif"))
        #expect(pages.pageCount == 3 && pages.channels == 1 && !pages.channelsFromPages)
    }

    /// A whole-slide file's label and macro images (which can show a patient's name) are listed
    /// but never read: the pixels are page 0's alone, and no label "ink" value appears in them.
    @Test func slideLabelAndMacroAreListedButNeverRead() throws {
        let url = Paths.fixture("wsi_associated.tif")
        let info = try ImageReader.info(url)
        #expect(info.pageCount == 5 && info.associatedImages == ["label", "macro"])
        #expect(info.width == 64 && info.height == 48 && info.channels == 3 && !info.channelsFromPages)
        let image = try ImageReader.read(url)
        #expect(image.width == 64 && image.height == 48 && image.channels == 3)
        guard case .uint8(let samples) = image.pixels else { Issue.record("not uint8"); return }
        // make_image_fixtures.py: the main image is clipped to >= 8, the label ink is 3.
        #expect(samples.min() == 8 && !samples.contains(3))
        #expect(try ImageReader.info(Paths.fixture("u8_multipage.tif")).associatedImages == [])
    }

    @Test func paletteChannelsDependOnTheMode() throws {
        for name in ["u8_palette.tif", "palette8.png", "palette4_trns.png"] {
            let url = Paths.fixture(name)
            let indices = try ImageReader.info(url)
            let rgb = try ImageReader.info(url, options: ReadOptions(palette: .rgb))
            #expect(indices.isPalette && indices.channels == 1, "\(name)")
            #expect(rgb.channels == 3 && rgb.pixelType == .uint8, "\(name)")
        }
    }

    @Test func pngAndJPEGHeaders() throws {
        let png = try ImageReader.info(Paths.fixture("gray_alpha16.png"))
        #expect(png.format == .png && png.channels == 2 && png.pixelType == .uint16 && png.bitsPerSample == 16)
        let jpeg = try ImageReader.info(Paths.fixture("rgb_progressive.jpg"))
        #expect(jpeg.format == .jpeg && jpeg.channels == 3 && jpeg.width == 37 && jpeg.height == 29)
    }

    /// Detection uses the bytes, not the name.
    @Test func formatComesFromContent() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("imageformats-\(getpid())-png-named.jpg")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: Paths.fixture("rgb8.png"), to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        #expect(try ImageReader.info(copy).format == .png)
        #expect(try ImageReader.read(copy) == ImageReader.read(Paths.fixture("rgb8.png")))
    }

    @Test func imageJChannelStack() throws {
        let info = try ImageReader.info(Paths.fixture("u16_imagej_channels.tif"))
        #expect(info.channelsFromPages && info.channels == 3 && info.pageCount == 3)
        #expect(info.imageJ?.channels == 3)
        let zc = try ImageReader.info(Paths.fixture("u16_imagej_zc.tif"))
        #expect(!zc.channelsFromPages && zc.channels == 1)
        #expect(zc.imageJ?.slices == 2 && zc.imageJ?.channels == 2)
    }

    @Test func omeFixture() throws {
        let info = try ImageReader.info(Paths.fixture("u16_ome_channels.ome.tif"))
        let ome = try #require(info.ome)
        #expect(ome.sizeC == 2 && ome.sizeX == 64 && ome.sizeY == 48 && ome.sizeZ == 1 && ome.sizeT == 1)
        #expect(ome.channelNames == ["DAPI", "GFP"])
        #expect(ome.physicalSizeX == 0.325 && ome.physicalSizeXUnit == "µm")
        #expect(ome.pixelType == "uint16")
        #expect(info.channelsFromPages && info.channels == 2)
    }

    @Test(.enabled(if: Paths.sharedAvailable, "../shared/data is absent: skipping the real OME-TIFF"))
    func realOMETIFF() throws {
        let url = Paths.sharedFile("data/ome-tiff-aics-zeiss/s_1_t_1_c_1_z_1.ome.tiff")
        let info = try ImageReader.info(url)
        let ome = try #require(info.ome)
        #expect(ome.dimensionOrder == "XYCZT")
        #expect(ome.sizeX == 475 && ome.sizeY == 325 && ome.sizeC == 1 && ome.sizeZ == 1 && ome.sizeT == 1)
        #expect(abs((ome.physicalSizeX ?? 0) - 1.0833) < 1e-3 && abs((ome.physicalSizeY ?? 0) - 1.0833) < 1e-3)
        #expect(ome.physicalSizeXUnit == "µm" && ome.physicalSizeYUnit == "µm")
        #expect(ome.channelNames == ["Bright"])
        #expect(info.width == 475 && info.height == 325 && info.pixelType == .uint16 && info.compression == "lzw")

        let imageJ = Paths.sharedFile("data/ome-tiff-aics-zeiss/s_1_t_1_c_1_z_1.tiff")
        #expect(try ImageReader.info(imageJ).imageJ != nil)
        #expect(try ImageReader.read(url) == ImageReader.read(imageJ))
    }

    @Test(.enabled(if: Paths.sharedAvailable, "../shared/data is absent: skipping the real ImageJ hyperstack"))
    func realImageJHyperstack() throws {
        let info = try ImageReader.info(Paths.sharedFile("data/unlabeled-real-tiffs/bbbc022-crop/IXMtest_A02_s9.tif"))
        #expect(info.channelsFromPages && info.channels == 3 && info.width == 695 && info.height == 395)
    }

    @Test func libraryVersions() {
        let versions = ImageReader.libraryVersions
        #expect(versions.map(\.name) == ["libtiff", "libpng", "libjpeg"])
        #expect(versions[2].version.hasPrefix("libjpeg-turbo 2."))
        let tiff = versions[0].version.split(separator: ".")
        #expect(tiff.count == 3 && tiff[0] == "4" && tiff.allSatisfy { Int($0) != nil }, "\(versions[0].version)")
        #expect(versions.allSatisfy { !$0.version.isEmpty })
    }

    /// Concurrent reads do not interfere (libtiff handlers are per file).
    @Test func concurrentReadsAgree() async throws {
        let names = ["bad_truncated.tif", "u16_lzw.tif", "bad_corrupt_lzw.tif", "u8_rgb_jpeg_ycbcr.tif", "rgb8.png", "rgb420.jpg"]
        let expected = names.map { try? ImageReader.read(Paths.fixture($0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<8 {
                for (k, name) in names.enumerated() {
                    group.addTask {
                        let got = try? ImageReader.read(Paths.fixture(name))
                        #expect(got == expected[k], "\(name), round \(round)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

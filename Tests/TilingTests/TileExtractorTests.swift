import Raster
import Testing
@testable import Tiling

/// A tile at (x, y) of size w × h over an image of `imageWidth` × `imageHeight`, as the grid makes it.
private func tile(_ x: Int, _ y: Int, _ w: Int, _ h: Int, imageWidth: Int, imageHeight: Int) -> Tile {
    Tile(rect: PixelRect(x: x, y: y, width: w, height: h),
         valid: PixelRect(x: x, y: y, width: min(w, imageWidth - x), height: min(h, imageHeight - y)),
         row: 0, column: 0)
}

/// A single-channel uint8 image from rows.
private func gray(_ rows: [[UInt8]]) -> ImageBuffer {
    ImageBuffer(width: rows[0].count, height: rows.count, channels: 1, pixels: .uint8(rows.flatMap { $0 }))
}

/// Mirror by walking back and forth one step at a time: an independent statement of numpy's
/// reflect to check the closed form against.
private func bounce(_ i: Int, _ n: Int) -> Int {
    guard n > 1 else { return 0 }
    var position = 0, step = 1
    for _ in 0 ..< i {
        if position + step < 0 || position + step >= n { step = -step }
        position += step
    }
    return position
}

@Suite struct TileExtractorTests {
    // Expected arrays below were produced with numpy 2.4.6, e.g.
    // np.pad(np.arange(12).reshape(3,4), ((0,3),(0,3)), mode='reflect')[1:5, 2:7]
    @Test func reflectMatchesNumpy() {
        let image = gray([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
        let out = TileExtractor.extract(image, tile: tile(2, 1, 5, 4, imageWidth: 4, imageHeight: 3),
                                        edge: .reflect, padValue: 99)
        #expect(out == gray([[6, 7, 6, 5, 4], [10, 11, 10, 9, 8], [6, 7, 6, 5, 4], [2, 3, 2, 1, 0]]))
    }

    // np.pad([[1,2,3],[4,5,6]], ((0,3),(0,5)), mode='reflect'): padding wider than the image.
    @Test func reflectPastTheImageRepeatsLikeNumpy() {
        let image = gray([[1, 2, 3], [4, 5, 6]])
        let out = TileExtractor.extract(image, tile: tile(0, 0, 8, 5, imageWidth: 3, imageHeight: 2),
                                        edge: .reflect, padValue: 0)
        #expect(out == gray([[1, 2, 3, 2, 1, 2, 3, 2], [4, 5, 6, 5, 4, 5, 6, 5], [1, 2, 3, 2, 1, 2, 3, 2],
                             [4, 5, 6, 5, 4, 5, 6, 5], [1, 2, 3, 2, 1, 2, 3, 2]]))
    }

    // np.pad([[5],[6],[7]], ((0,1),(0,3)), mode='reflect'): a width-1 image repeats its pixel.
    @Test func reflectOfOnePixelWideImageRepeatsLikeNumpy() {
        let out = TileExtractor.extract(gray([[5], [6], [7]]), tile: tile(0, 0, 4, 4, imageWidth: 1, imageHeight: 3),
                                        edge: .reflect, padValue: 0)
        #expect(out == gray([[5, 5, 5, 5], [6, 6, 6, 6], [7, 7, 7, 7], [6, 6, 6, 6]]))
    }

    // np.pad(np.arange(12).reshape(3,4), ((0,3),(0,3)), constant_values=9)[1:5, 2:7]
    @Test func constantMatchesNumpy() {
        let image = gray([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
        let out = TileExtractor.extract(image, tile: tile(2, 1, 5, 4, imageWidth: 4, imageHeight: 3),
                                        edge: .constant, padValue: 9)
        #expect(out == gray([[6, 7, 9, 9, 9], [10, 11, 9, 9, 9], [9, 9, 9, 9, 9], [9, 9, 9, 9, 9]]))
    }

    @Test func reflectIndexAgreesWithStepwiseMirror() {
        for n in 1 ... 9 {
            for i in 0 ..< 60 { #expect(reflectIndex(i, count: n) == bounce(i, n), "i=\(i) n=\(n)") }
        }
    }

    @Test func constantPadValueIsConvertedToThePixelType() {
        let t = tile(0, 0, 2, 1, imageWidth: 1, imageHeight: 1)
        func pad(_ pixels: PixelData, _ value: Double) -> PixelData {
            TileExtractor.extract(ImageBuffer(width: 1, height: 1, channels: 1, pixels: pixels),
                                  tile: t, edge: .constant, padValue: value).pixels
        }
        #expect(pad(.uint8([7]), 300) == .uint8([7, 255]))
        #expect(pad(.uint8([7]), -4) == .uint8([7, 0]))
        #expect(pad(.uint8([7]), 2.5) == .uint8([7, 3]))
        #expect(pad(.uint8([7]), 2.49) == .uint8([7, 2]))
        #expect(pad(.uint16([7]), 70000) == .uint16([7, 65535]))
        #expect(pad(.uint16([7]), 1234.4) == .uint16([7, 1234]))
        #expect(pad(.float32([7]), -0.1) == .float32([7, -0.1]))
    }

    /// Every tile of a multi-channel image, interior and padded, equals a per-pixel reference.
    @Test(arguments: EdgePolicy.allCases)
    func extractionEqualsDirectIndexing(edge: EdgePolicy) throws {
        let (w, h, channels) = (23, 17, 3)
        let values = (0 ..< w * h * channels).map { UInt16(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 7) }
        let image = ImageBuffer(width: w, height: h, channels: channels, pixels: .uint16(values))
        let spec = try TileGridSpec(tileWidth: 8, tileHeight: 6, strideX: 5, strideY: 7, edge: edge, padValue: 4242)
        let tiles = TileGrid.tiles(imageWidth: w, imageHeight: h, spec: spec)
        #expect(tiles.count == (edge == .drop ? 4 * 2 : 4 * 3))
        for t in tiles {
            let out = TileExtractor.extract(image, tile: t, edge: edge, padValue: spec.padValue)
            #expect(out.width == 8 && out.height == 6 && out.channels == channels)
            guard case .uint16(let got) = out.pixels else { Issue.record("pixel type changed"); return }
            for c in 0 ..< channels {
                for ty in 0 ..< 6 {
                    for tx in 0 ..< 8 {
                        let (x, y) = (t.rect.x + tx, t.rect.y + ty)
                        let expected: UInt16 = if x < w && y < h {
                            values[image.index(channel: c, y: y, x: x)]
                        } else if edge == .reflect {
                            values[image.index(channel: c, y: bounce(y, h), x: bounce(x, w))]
                        } else {
                            4242
                        }
                        #expect(got[out.index(channel: c, y: ty, x: tx)] == expected, "\(t.rect) c\(c) \(tx),\(ty)")
                    }
                }
            }
        }
    }

    @Test func float32TilesKeepTheirType() {
        let image = ImageBuffer(width: 2, height: 2, channels: 1, pixels: .float32([0.5, 1.5, 2.5, 3.5]))
        let out = TileExtractor.extract(image, tile: tile(1, 0, 2, 3, imageWidth: 2, imageHeight: 2),
                                        edge: .reflect, padValue: 0)
        #expect(out.pixels == .float32([1.5, 0.5, 3.5, 2.5, 1.5, 0.5]))
    }

    @Test func labelsPadWithBackgroundOrMirror() {
        let labels = LabelImage(width: 3, height: 2, values: [0, 1, 1, 2, 2, 0])
        let t = tile(1, 0, 4, 3, imageWidth: 3, imageHeight: 2)
        #expect(TileExtractor.extract(labels, tile: t, edge: .constant)
            == LabelImage(width: 4, height: 3, values: [1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]))
        // Same mirror as the image: columns 1 2 | 1 0, rows 0 1 | 0.
        #expect(TileExtractor.extract(labels, tile: t, edge: .reflect)
            == LabelImage(width: 4, height: 3, values: [1, 1, 1, 0, 2, 0, 2, 2, 1, 1, 1, 0]))
        let inside = tile(0, 0, 2, 2, imageWidth: 3, imageHeight: 2)
        #expect(TileExtractor.extract(labels, tile: inside, edge: .drop)
            == LabelImage(width: 2, height: 2, values: [0, 1, 2, 2]))
    }

    @Test func selectChannelsReordersAndRepeats() {
        // Three 2×1 planes: c0 = [1, 2], c1 = [3, 4], c2 = [5, 6].
        let image = ImageBuffer(width: 2, height: 1, channels: 3, pixels: .uint8([1, 2, 3, 4, 5, 6]))
        #expect(TileExtractor.selectChannels(image, [2, 0])
            == ImageBuffer(width: 2, height: 1, channels: 2, pixels: .uint8([5, 6, 1, 2])))
        let grey = ImageBuffer(width: 2, height: 1, channels: 1, pixels: .float32([0.25, 0.75]))
        #expect(TileExtractor.selectChannels(grey, [0, 0, 0]).pixels == .float32([0.25, 0.75, 0.25, 0.75, 0.25, 0.75]))
    }
}

@Suite struct BLASTests {
    @Test func reportsTheOpenBLASBuild() {
        #expect(BLAS.version.contains("OpenBLAS"))
        BLAS.setThreads(1)
    }
}

import Raster
import Testing
@testable import Tiling

/// The warp's fast path (a prepared `WarpSource`: interleaved samples, interior taps read
/// without checks, two channels as one vector) must give the bits of the plain path, which
/// reads the image's own planar samples through the general per-tap code.
@Suite("Warp fast path")
struct WarpFastPathTests {
    static let steps: [[DrawnStep]] = [
        [.affine(rotation: 23, scale: 1.2, shear: 7, translateX: 5, translateY: -3, interpolation: .bilinear)],
        [.flip(horizontal: true, vertical: false), .rot90(quarterTurns: 1),
         .affine(rotation: -29.5, scale: 0.83, shear: 0, translateX: 0.25, translateY: 0, interpolation: .bilinear),
         .blur(sigma: 1), .intensity(brightness: 0.01, contrast: 1.05, gamma: 0.8)],
        [.affine(rotation: 0, scale: 1, shear: 0, translateX: 0.5, translateY: 0, interpolation: .bilinear)],
    ]

    /// A 2-channel uint16 field with structure and noise, like the benchmark's images.
    static func uint16Sample(channels: Int) -> SampleTargets {
        let (w, h) = (97, 83)
        var state: UInt64 = 5
        var pixels = [UInt16](repeating: 0, count: w * h * channels)
        for i in pixels.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let x = i % w, y = (i / w) % h
            pixels[i] = UInt16(truncatingIfNeeded: (x * 600 + y * 131) % 50_000 + Int(state >> 52))
        }
        return SampleTargets(image: ImageBuffer(width: w, height: h, channels: channels, pixels: .uint16(pixels)))
    }

    func expectSameWithAndWithoutWarpSource(_ sample: SampleTargets, _ steps: [DrawnStep], _ border: EdgePolicy) throws {
        // Widths that are and are not multiples of the four pixels the two-channel path takes at once.
        for r in [PixelRect(x: 10, y: 7, width: 64, height: 56), PixelRect(x: 3, y: 11, width: 61, height: 47)] {
            let tile = Tile(rect: r, valid: r, row: 0, column: 0)
            let filter = BoxFilter(minArea: 0, minVisibility: 0)
            let drawn = DrawnAugmentation(steps: steps)
            let plain = try Augmenter.apply(drawn, to: sample, tile: tile, border: border, padValue: 3, boxFilter: filter)
            let fast = try Augmenter.apply(drawn, to: sample, warpSource: WarpSource(sample.image), tile: tile, border: border,
                                           padValue: 3, boxFilter: filter)
            #expect(fast.image == plain.image, "\(sample.image.channels) channels, \(border), \(r)")
        }
    }

    @Test(arguments: [1, 2, 3, 4], [EdgePolicy.reflect, .constant])
    func generatedUInt16(channels: Int, border: EdgePolicy) throws {
        for steps in Self.steps { try expectSameWithAndWithoutWarpSource(Self.uint16Sample(channels: channels), steps, border) }
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared/data"), arguments: [1, 2, 3], [EdgePolicy.reflect, .constant])
    func realDSBImage(channels: Int, border: EdgePolicy) throws {
        let sample = try dsbSample(dsbStained, crop: PixelRect(x: 40, y: 30, width: 96, height: 80), channels: channels)
        for steps in Self.steps { try expectSameWithAndWithoutWarpSource(sample, steps, border) }
    }
}

import Raster
import Testing
@testable import Tiling

/// The warp's fast path (a sample `preparedForWarp`: interleaved samples, interior taps read
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

    func expectSamePreparedAndPlanar(_ sample: SampleTargets, _ steps: [DrawnStep], _ border: EdgePolicy) throws {
        // Widths that are and are not multiples of the four pixels the two-channel path takes at once.
        for r in [PixelRect(x: 10, y: 7, width: 64, height: 56), PixelRect(x: 3, y: 11, width: 61, height: 47)] {
            let tile = Tile(rect: r, valid: r, row: 0, column: 0)
            let filter = BoxFilter(minArea: 0, minVisibility: 0)
            let drawn = DrawnAugmentation(steps: steps)
            let plain = try Augmenter.apply(drawn, to: sample, tile: tile, border: border, padValue: 3, boxFilter: filter)
            let fast = try Augmenter.apply(drawn, to: sample.preparedForWarp(), tile: tile, border: border,
                                           padValue: 3, boxFilter: filter)
            #expect(fast.image == plain.image, "\(sample.channels) channels, \(border), \(r)")
        }
    }

    @Test(arguments: [1, 2, 3, 4], [EdgePolicy.reflect, .constant])
    func generatedUInt16(channels: Int, border: EdgePolicy) throws {
        for steps in Self.steps { try expectSamePreparedAndPlanar(Self.uint16Sample(channels: channels), steps, border) }
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared/data"), arguments: [1, 2, 3], [EdgePolicy.reflect, .constant])
    func realDSBImage(channels: Int, border: EdgePolicy) throws {
        let sample = try dsbSample(dsbStained, crop: PixelRect(x: 40, y: 30, width: 96, height: 80), channels: channels)
        for steps in Self.steps { try expectSamePreparedAndPlanar(sample, steps, border) }
    }

    /// A sample prepared for the warp holds its image only interleaved; reading `image` must
    /// give back the planar samples exactly, for every sample type and channel count, and the
    /// rest of the sample must be untouched.
    @Test(arguments: [1, 2, 3, 5])
    func preparedSampleGivesItsImageBack(channels: Int) {
        let (w, h) = (7, 5), n = 7 * 5 * channels
        let images = [
            ImageBuffer(width: w, height: h, channels: channels, pixels: .uint8((0 ..< n).map { UInt8(($0 * 37) % 251) })),
            ImageBuffer(width: w, height: h, channels: channels, pixels: .uint16((0 ..< n).map { UInt16(($0 * 7919) % 65_521) })),
            ImageBuffer(width: w, height: h, channels: channels,
                        pixels: .float32((0 ..< n).map { $0 == 4 ? .nan : Float($0) * -0.37 })),
        ]
        let window = ImageWindow(rect: PixelRect(x: 3, y: 2, width: w, height: h), imageWidth: 20, imageHeight: 11)
        let mask = LabelImage(width: w, height: h, values: (0 ..< w * h).map { UInt32($0 % 4) })
        for image in images {
            let planar = SampleTargets(image: image, instances: mask, points: [LabeledPoint(Point2D(x: 4, y: 3), label: 1)],
                                       window: window)
            let prepared = planar.preparedForWarp()
            #expect(planar.warpSource == nil)
            #expect(prepared.warpSource != nil)
            #expect((prepared.channels, prepared.pixelType) == (channels, image.pixelType))
            // Bitwise: the float image holds a NaN, which `==` on values would call unequal.
            #expect(bits(prepared.image.pixels) == bits(image.pixels), "\(image.pixelType), \(channels) channels")
            #expect((prepared.image.width, prepared.image.height, prepared.image.channels) == (w, h, channels))
            #expect(prepared.window == window && prepared.instances == mask && prepared.points == planar.points)
            #expect(prepared.preparedForWarp().warpSource === prepared.warpSource, "preparing twice must not copy again")
        }
    }

    func bits(_ pixels: PixelData) -> [UInt32] {
        switch pixels {
        case .uint8(let v): v.map(UInt32.init)
        case .uint16(let v): v.map(UInt32.init)
        case .float32(let v): v.map(\.bitPattern)
        }
    }

    /// The mask's nearest-neighbour warp takes four pixels at a time where all four points lie
    /// inside the image; each label must still be the one its own point falls in (⌊x⌋, ⌊y⌋,
    /// mirrored or 0 outside), here computed pixel by pixel with `floor`. Points straddle the
    /// image's edges, lie on whole numbers and just below them, and the labels are a window of
    /// the image, as region reads give them.
    @Test(arguments: [EdgePolicy.reflect, .constant])
    func nearestLabelIsThePixelContainingThePoint(border: EdgePolicy) {
        let (imageWidth, imageHeight) = (40, 30)
        let window = ImageWindow(rect: PixelRect(x: 3, y: 2, width: 34, height: 26), imageWidth: imageWidth, imageHeight: imageHeight)
        let labels = LabelImage(width: window.rect.width, height: window.rect.height,
                                values: (0 ..< window.rect.width * window.rect.height).map { UInt32($0 + 1) })
        // Output 37 × 23: rows are not a whole number of four-pixel groups.
        let (width, height) = (37, 23)
        var state: UInt64 = 11
        var xs: [Double] = [], ys: [Double] = []
        for i in 0 ..< width * height {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let r = Double(state >> 11) / Double(1 << 53)
            // Mostly inside the window (the interior groups), some on and past the image's edges.
            let x = i % 9 == 0 ? [0, 39.999999, 40, -0.0000001, 3, 36.5, -2.5, 41.5, 3.0.nextDown][i / 9 % 9]
                : 3 + r * 33.99
            let y = 2 + (Double(i / width) + r) * 25.99 / Double(height)
            xs.append(x)
            ys.append(i % 7 == 3 ? [-1.5, 30, 29.999, 2][i / 7 % 4] : y)
        }
        let reflect = border == .reflect
        // The image pixel point i falls in (mirrored, or nil outside), by `floor`.
        func pixel(_ i: Int) -> (x: Int, y: Int)? {
            var (x, y) = (Int(xs[i].rounded(.down)), Int(ys[i].rounded(.down)))
            if reflect { (x, y) = (reflectIndex(x, count: imageWidth), reflectIndex(y, count: imageHeight)) }
            return x >= 0 && x < imageWidth && y >= 0 && y < imageHeight ? (x, y) : nil
        }
        // A point whose pixel lies in the image but not in the window would read outside the buffer.
        for i in 0 ..< xs.count {
            if let p = pixel(i), !window.contains(PixelRect(x: p.x, y: p.y, width: 1, height: 1)) { (xs[i], ys[i]) = (10, 10) }
        }
        let warp = Warp(width: width, height: height, forward: .identity, originX: 0, originY: 0, field: nil)
        let out = nearest(labels, window: window, coords: (xs, ys), warp: warp, reflect: reflect)
        var mismatches = 0
        for i in 0 ..< xs.count {
            let expected = pixel(i).map { labels.values[($0.y - window.rect.y) * window.rect.width + ($0.x - window.rect.x)] } ?? 0
            if out.values[i] != expected { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(xs.count) labels differ")
        #expect(Set(out.values).count > 400, "the points should read many different labels")
    }
}

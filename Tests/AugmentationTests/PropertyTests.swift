import Foundation
import Raster
import Testing
@testable import Tiling

/// The "done when" properties, on a real DSB image (non-square crop, so quarter turns
/// swap the sides) with its real instance mask and targets derived from it.
@Suite("Augmentation properties on real data", .enabled(if: SharedData.available, "needs ../shared/data"))
struct PropertyTests {
    let sample: SampleTargets

    init() throws {
        sample = try dsbSample(dsbStained, crop: PixelRect(x: 40, y: 30, width: 96, height: 64))
    }

    /// Every target of `a` equals `b`'s (coordinates within 1e-9).
    func expectSame(_ a: AugmentedTile, _ b: SampleTargets) {
        #expect(a.image == b.image)
        #expect(a.semantic == b.semantic)
        #expect(a.instances == b.instances)
        #expect(a.boxes == b.boxes)
        #expect(a.points.count == b.points.count)
        for (p, q) in zip(a.points, b.points) {
            #expect(abs(p.point.x - q.point.x) < 1e-9 && abs(p.point.y - q.point.y) < 1e-9 && p.label == q.label)
        }
        #expect(a.polygons.count == b.polygons.count)
        for (p, q) in zip(a.polygons, b.polygons) {
            let ringsP = [p.polygon.exterior] + p.polygon.holes, ringsQ = [q.polygon.exterior] + q.polygon.holes
            #expect(ringsP.map(\.count) == ringsQ.map(\.count) && ringsP.count == 2)
            for (u, v) in zip(ringsP.joined(), ringsQ.joined()) { #expect(abs(u.x - v.x) < 1e-9 && abs(u.y - v.y) < 1e-9) }
        }
    }

    @Test(arguments: [(true, false), (false, true), (true, true)])
    func flipTwiceIsIdentity(horizontal: Bool, vertical: Bool) throws {
        let once = try run([.flip(horizontal: horizontal, vertical: vertical)], sample)
        #expect(once.image != sample.image)
        expectSame(try run([.flip(horizontal: horizontal, vertical: vertical)], asSample(once)), sample)
    }

    @Test func quarterTurnFourTimesIsIdentity() throws {
        var current = sample
        for turn in 1 ... 4 {
            let out = try run([.rot90(quarterTurns: 1)], current)
            #expect(out.image.width == (turn % 2 == 1 ? sample.image.height : sample.image.width))
            if turn == 4 { expectSame(out, sample) }
            current = asSample(out)
        }
    }

    /// numpy.rot90(a)[i, j] == a[j, W − 1 − i], stated independently of the affine map.
    @Test func quarterTurnMatchesNumpyRot90() throws {
        let out = try run([.rot90(quarterTurns: 1)], sample)
        let w = sample.image.width, h = sample.image.height
        let inst = sample.instances!.values, turned = out.instances!.values
        for i in 0 ..< w {
            for j in 0 ..< h { #expect(turned[i * h + j] == inst[j * w + (w - 1 - i)]) }
        }
    }

    static let geometric: [[DrawnStep]] = [
        [.affine(rotation: 23, scale: 1.2, shear: 7, translateX: 5, translateY: -3, interpolation: .bilinear)],
        [.affine(rotation: -61, scale: 0.8, shear: 0, translateX: 0, translateY: 0, interpolation: .bicubic)],
        [.elastic(alpha: 30, sigma: 5, field: RandomStream(seed: 1, tileKey: 2, augmentation: 0, stream: 9),
                  interpolation: .bilinear)],
        [.flip(horizontal: true, vertical: false), .rot90(quarterTurns: 2),
         .affine(rotation: 10, scale: 1, shear: -5, translateX: 2, translateY: 2, interpolation: .bilinear),
         .elastic(alpha: 20, sigma: 4, field: RandomStream(seed: 3, tileKey: 4, augmentation: 1, stream: 2),
                  interpolation: .bicubic)],
    ]

    @Test(arguments: geometric, [EdgePolicy.reflect, .constant])
    func masksHoldOnlyValuesTheyHeld(steps: [DrawnStep], border: EdgePolicy) throws {
        let out = try run(steps, sample, border: border)
        let before = Set(sample.instances!.values), after = Set(out.instances!.values)
        // 0 (background) is what a constant border adds; nothing else may appear.
        #expect(after.subtracting(before.union([0])).isEmpty)
        #expect(Set(out.semantic!.values).isSubset(of: [0, 1]))
        #expect(after.count >= 6)  // nuclei survived the transform, so the check had ids to check
    }

    @Test(arguments: geometric)
    func everyBoxContainsItsInstancePixels(steps: [DrawnStep]) throws {
        let out = try run(steps, sample)
        // Boxes come from the pixels whose source lies inside the image: what a constant
        // border leaves of the mask. Mirrored copies under reflect add nothing to them.
        let inside = try run(steps, sample, border: .constant)
        #expect(out.boxes == inside.boxes)
        let mask = inside.instances!
        #expect(!out.boxes.isEmpty)
        for box in out.boxes {
            let id = try #require(box.instance)
            for y in 0 ..< mask.height {
                for x in 0 ..< mask.width where mask.values[y * mask.width + x] == id {
                    #expect(Double(x) >= box.box.xMin && Double(x + 1) <= box.box.xMax
                            && Double(y) >= box.box.yMin && Double(y + 1) <= box.box.yMax)
                }
            }
        }
        // Boxes without a mask: the transformed box covers its transformed interior.
        let plain = SampleTargets(image: sample.image, boxes: sample.boxes.map { LabeledBox($0.box, label: $0.label) })
        let moved = try Augmenter.apply(DrawnAugmentation(steps: steps), to: plain, tile: wholeTile(plain), border: .reflect,
                                        padValue: 0, boxFilter: BoxFilter(minArea: 0, minVisibility: 0))
        let warp = Augmenter.makeWarp(DrawnAugmentation(steps: steps), tile: wholeTile(plain))
        #expect(!moved.boxes.isEmpty)
        for labeled in moved.boxes {
            let source = plain.boxes.first { $0.label == labeled.label }!.box, box = labeled.box
            for t in stride(from: 0.1, to: 1, by: 0.2) {
                for u in stride(from: 0.1, to: 1, by: 0.2) {
                    let q = warp.forwardPoint(source.xMin + t * source.width, source.yMin + u * source.height)
                    let inside = q.x >= 0 && q.y >= 0 && q.x <= Double(warp.width) && q.y <= Double(warp.height)
                    if inside {
                        #expect(q.x >= box.xMin - 1e-9 && q.x <= box.xMax + 1e-9 && q.y >= box.yMin - 1e-9 && q.y <= box.yMax + 1e-9)
                    }
                }
            }
        }
    }

    /// The analytic position: scale s, shear, rotation θ about the centre c, then translation t:
    /// p' = c + t + R(θ)·Sh·s·(p − c), written out by hand here.
    @Test(arguments: [(23.0, 1.2, 7.0, 5.0, -3.0), (-140.0, 0.7, -12.0, 0.0, 9.5), (90.0, 1.0, 0.0, 0.0, 0.0)])
    func pointsLandAtTheAnalyticPosition(rotation: Double, scale: Double, shear: Double, tx: Double, ty: Double) throws {
        let out = try run([.affine(rotation: rotation, scale: scale, shear: shear, translateX: tx, translateY: ty,
                                   interpolation: .bilinear)], sample)
        let cx = Double(sample.image.width) / 2, cy = Double(sample.image.height) / 2
        let th = rotation * .pi / 180, k = tan(shear * .pi / 180)
        var expected: [LabeledPoint] = []
        for p in sample.points {
            let x = scale * (p.point.x - cx), y = scale * (p.point.y - cy)
            let sx = x + k * y
            let qx = cx + tx + cos(th) * sx + sin(th) * y, qy = cy + ty - sin(th) * sx + cos(th) * y
            if qx >= 0, qy >= 0, qx < Double(sample.image.width), qy < Double(sample.image.height) {
                expected.append(LabeledPoint(Point2D(x: qx, y: qy), label: p.label))
            }
        }
        #expect(out.points.count == expected.count && !expected.isEmpty)
        for (p, q) in zip(out.points, expected) {
            #expect(p.label == q.label)
            #expect(abs(p.point.x - q.point.x) <= 0.5 && abs(p.point.y - q.point.y) <= 0.5, "point \(p) vs analytic \(q)")
        }
    }

    /// A point follows the pixels: under an elastic warp, the transformed instance mask at a
    /// point's new position holds the instance the point was on.
    @Test func pointsFollowTheirPixelsUnderElasticWarp() throws {
        let steps: [DrawnStep] = [.elastic(alpha: 40, sigma: 6, field: RandomStream(seed: 5, tileKey: 6, augmentation: 0, stream: 3),
                                           interpolation: .bilinear)]
        let out = try run(steps, sample)
        let before = sample.instances!, after = out.instances!
        var checked = 0
        let warp = Augmenter.makeWarp(DrawnAugmentation(steps: steps), tile: wholeTile(sample))
        for p in sample.points {
            let id = before.values[Int(p.point.y) * before.width + Int(p.point.x)]
            guard id != 0 else { continue }
            let moved = warp.forwardPoint(p.point.x, p.point.y)
            guard moved.x >= 1, moved.y >= 1, moved.x < Double(after.width - 1), moved.y < Double(after.height - 1) else { continue }
            #expect(out.points.contains { abs($0.point.x - moved.x) < 1e-12 && abs($0.point.y - moved.y) < 1e-12 && $0.label == p.label })
            // Within 0.5 px: one of the pixels touching that disc holds the id.
            let near = [(-0.5, 0.0), (0.5, 0.0), (0.0, -0.5), (0.0, 0.5), (0.0, 0.0)].map { d in
                after.values[Int(moved.y + d.1) * after.width + Int(moved.x + d.0)]
            }
            #expect(near.contains(id), "point \(p) → \(moved)")
            checked += 1
        }
        #expect(checked > 5)
    }

    /// Affine then its inverse returns the image within interpolation error, on a float copy of
    /// the real image smoothed first (interpolation error grows with high frequencies).
    @Test(arguments: [BandMatrix.Filter.bilinear, .bicubic])
    func affineThenInverseRestoresTheImage(filter: BandMatrix.Filter) throws {
        let grey = TileExtractor.selectChannels(sample.image, [0])
        let smooth = try run([.blur(sigma: 1.5)], SampleTargets(image: ImageBuffer(
            width: grey.width, height: grey.height, channels: 1,
            pixels: .float32(floatPlanes(grey)))))
        let input = SampleTargets(image: smooth.image)
        let there = try run([.affine(rotation: 17, scale: 1.1, shear: 0, translateX: 3, translateY: -2, interpolation: filter)], input)
        let back = try run([.affine(rotation: 0, scale: 1, shear: 0, translateX: -3, translateY: 2, interpolation: filter),
                            .affine(rotation: -17, scale: 1 / 1.1, shear: 0, translateX: 0, translateY: 0, interpolation: filter)],
                           asSample(there))
        let a = floats(input.image), b = floats(back.image), w = input.image.width
        var worst: Float = 0, total: Float = 0, count = 0
        for y in 12 ..< input.image.height - 12 {
            for x in 12 ..< w - 12 {
                let e = abs(a[y * w + x] - b[y * w + x])
                worst = max(worst, e)
                total += e
                count += 1
            }
        }
        let spread = (a.max()! - a.min()!)
        #expect(total / Float(count) < 0.01 * spread, "mean error \(total / Float(count)) of range \(spread)")
        #expect(worst < 0.08 * spread, "worst error \(worst) of range \(spread)")
        // And the round trip is not the identity map by accident: the forward image differs.
        #expect(floats(there.image) != a)
    }
}

import Foundation
import Raster
import Testing
@testable import Tiling

/// `rounding: each_step` (specs/augmentation/v1.md §5): an 8- or 16-bit image's samples are
/// rounded to its type after the warp and after every step until a `normalize`. The reference
/// is the default `end` rounding applied to one step at a time, each step's output becoming
/// the next step's input.
@Suite struct RoundingTests {
    /// A smooth two-channel field with fine detail, so that warps and blurs leave fractions.
    static func image(width: Int, height: Int, channels: Int = 2, type: PixelType = .uint16) -> ImageBuffer {
        let top = Double(type == .uint8 ? 255 : 65535)
        let values = (0 ..< channels * width * height).map { i -> Double in
            let c = i / (width * height), p = i % (width * height), x = Double(p % width), y = Double(p / width)
            let smooth: Double = 0.3 * sin(x / 7 + Double(c)) * cos(y / 5)
            let detail: Double = 0.15 * sin((x + 2 * y) * 1.7)
            return ((0.5 + smooth + detail) * top).rounded()
        }
        let pixels: PixelData = switch type {
        case .uint8: .uint8(values.map { UInt8($0) })
        case .uint16: .uint16(values.map { UInt16($0) })
        case .float32: .float32(values.map { Float($0 / top) })
        }
        return ImageBuffer(width: width, height: height, channels: channels, pixels: pixels)
    }

    static func sample(_ image: ImageBuffer) -> SampleTargets {
        let labels = LabelImage(width: image.width, height: image.height,
                                values: (0 ..< image.width * image.height).map { UInt32($0 % image.width / 9) })
        return SampleTargets(image: image, instances: labels)
    }

    static let geometry: [DrawnStep] = [
        .flip(horizontal: true, vertical: false), .rot90(quarterTurns: 1),
        .affine(rotation: 17.3, scale: 1.08, shear: 2, translateX: 1.5, translateY: -2.25, interpolation: .bilinear),
    ]
    static let intensitySteps: [DrawnStep] = [
        .blur(sigma: 1.3),
        .intensity(brightness: 0.03, contrast: 1.1, gamma: 0.8),
        .gaussianNoise(sigma: 0.01, field: RandomStream(seed: 5, tileKey: 6, augmentation: 1)),
        .channelMix(matrix: [0.9, 0.15, 0.05, 1.02]),
    ]

    func apply(_ steps: [DrawnStep], _ sample: SampleTargets, _ rounding: AugmentationPipeline.Rounding) throws -> AugmentedTile {
        try Augmenter.apply(DrawnAugmentation(steps: steps), to: sample, tile: wholeTile(sample), border: .reflect,
                            padValue: 0, boxFilter: BoxFilter(), rounding: rounding)
    }

    /// The warp, then each intensity step, with the default rounding, one call per step.
    func oneStepAtATime(_ sample: SampleTargets, _ steps: [DrawnStep]) throws -> AugmentedTile {
        var tile = try apply(Self.geometry, sample, .end)
        for step in steps { tile = try apply([step], asSample(tile), .end) }
        return tile
    }

    /// 192² × 2 samples is more than the 65 536 of a 16-bit table, 48² × 1 fewer: both ways of
    /// applying `intensity` under `each_step` are covered, and uint8 (a 256-entry table) too;
    /// 37² samples are not a multiple of the eight the final conversion takes at once.
    @Test(arguments: [(192, 2, PixelType.uint16), (48, 1, .uint16), (40, 2, .uint8), (37, 1, .uint16)])
    func eachStepIsTheStepsRoundedOneByOne(size: Int, channels: Int, type: PixelType) throws {
        let sample = Self.sample(Self.image(width: size, height: size, channels: channels, type: type))
        let steps = Self.intensitySteps.filter { if case .channelMix = $0 { channels == 2 } else { true } }
        let each = try apply(Self.geometry + steps, sample, .eachStep)
        #expect(each.image == (try oneStepAtATime(sample, steps)).image)
        let end = try apply(Self.geometry + steps, sample, .end)
        #expect(each.image != end.image, "rounding between steps changed nothing: the test lost its power")
        #expect(each.instances == end.instances, "masks do not depend on the rounding")
    }

    @Test func normalizeEndsTheRounding() throws {
        let sample = Self.sample(Self.image(width: 64, height: 64))
        let tail: [DrawnStep] = [.normalize(method: .meanStd), .gaussianNoise(sigma: 0.01, field: RandomStream(seed: 1, tileKey: 2, augmentation: 3))]
        let each = try apply(Self.geometry + [.blur(sigma: 1)] + tail, sample, .eachStep)
        let blurred = try apply([.blur(sigma: 1)], asSample(try apply(Self.geometry, sample, .end)), .end)
        let reference = try apply(tail, asSample(blurred), .end)
        #expect(each.image.pixelType == .float32)
        #expect(each.image == reference.image)
        #expect(each.normalization == reference.normalization)
    }

    @Test func floatImagesAreNotRounded() throws {
        let sample = Self.sample(Self.image(width: 64, height: 64, type: .float32))
        let steps = Self.geometry + Self.intensitySteps
        #expect(try apply(steps, sample, .eachStep).image == (try apply(steps, sample, .end)).image)
    }

    /// The vectorisable rounding gives `roundedClamped`'s value for every sample, including the
    /// halves, the Floats just below them and the clamped ends.
    @Test(arguments: [Float(255), 65535])
    func roundInPlaceIsRoundedClamped(top: Float) {
        var values: [Float] = [-1e30, -3, -0.5, -0, 0, 0.49999997, 0.5, 1.5, 2.5, 0.50000006, top - 0.5,
                               top - 0.50000006, top - 0.49999997, top, top + 0.3, 1e30, .infinity, -.infinity]
        for k in 0 ..< 300 {
            let v = Float(k) * top / 299
            values += [v, v.nextUp, v.nextDown, v.rounded(.down) + 0.5, (v.rounded(.down) + 0.5).nextDown]
        }
        // Every half and its neighbours, where rounding in Float could go astray.
        for k in 0 ... Int(top) {
            let h = Float(k) + 0.5
            values += [h, h.nextDown, h.nextUp, Float(k).nextDown, Float(k).nextUp]
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0 ..< 20000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values.append(Float(state >> 40) / Float(1 << 24) * (top + 2) - 1)
        }
        var rounded = values
        roundInPlace(&rounded, top: top)
        let wrong = zip(values, rounded).filter { x, r in r != Float(roundedClamped(x, top: top)) }
        let firstWrong = wrong.prefix(5).map { "\($0.0) → \($0.1)" }
        #expect(firstWrong.isEmpty, "\(wrong.count) of \(values.count) wrong")
        // Every length of a last partial group of lanes, and NaN kept (the final conversion traps on it).
        for count in 1 ... 17 {
            var short = Array(values.suffix(count)) + [.nan]
            roundInPlace(&short, top: top)
            #expect(zip(values.suffix(count), short).allSatisfy { x, r in r == Float(roundedClamped(x, top: top)) })
            #expect(short.last!.isNaN)
        }
    }
}

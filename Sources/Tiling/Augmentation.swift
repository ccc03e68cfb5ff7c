import Raster

/// A closed range [lower, upper] a parameter is drawn from, written `[lower, upper]` (or a
/// single number for a fixed value) in a recipe.
public struct Interval: Codable, Sendable, Equatable {
    public var lower: Double
    public var upper: Double

    public init(_ lower: Double, _ upper: Double) { (self.lower, self.upper) = (lower, upper) }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer().decode(Double.self) {
            self.init(single, single)
            return
        }
        var c = try decoder.unkeyedContainer()
        let lower = try c.decode(Double.self), upper = try c.decode(Double.self)
        guard c.isAtEnd else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a range is [lower, upper]: two numbers"))
        }
        self.init(lower, upper)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(lower)
        try c.encode(upper)
    }
}

/// How `normalize` maps each channel.
public enum NormalizationMethod: Codable, Sendable, Equatable {
    /// (v − P_low) / (P_high − P_low) with numpy's default ("linear") percentiles.
    case percentile(low: Double, high: Double)
    /// (v − mean) / std (population std).
    case meanStd
}

/// One step of a recipe's augmentation pipeline: what may happen and the ranges it is drawn
/// from. Each step with a `probability` happens in a variant with that probability.
///
/// Geometric steps (`flip`, `rot90`, `affine`, `elastic`) are composed into one warp and
/// resampled once, before the intensity steps, which run in the order declared. The coded
/// form is a one-key object naming the step, e.g. `{"flip": {"horizontal": 0.5, "vertical": 0.5}}`.
public enum AugmentationStep: Codable, Sendable, Equatable {
    /// Mirror left–right and top–bottom, each with its own probability.
    case flip(horizontal: Double, vertical: Double)
    /// A quarter turn counted 0–3 uniformly (only 0 or 2 for non-square tiles, so every tile
    /// keeps the bundle's shape).
    case rot90(probability: Double)
    /// Rotation (degrees), isotropic scale, shear (degrees) and translation (fraction of the
    /// tile size) about the tile centre.
    case affine(probability: Double, rotation: Interval, scale: Interval, shear: Interval, translate: Interval,
                interpolation: BandMatrix.Filter)
    /// Smoothed random displacement (Simard et al. 2003): unit normal noise per pixel and axis,
    /// blurred with `sigma` pixels and multiplied by `alpha` pixels.
    case elastic(probability: Double, alpha: Interval, sigma: Double, interpolation: BandMatrix.Filter)
    /// Gaussian blur with sigma in pixels.
    case blur(probability: Double, sigma: Interval)
    /// On intensities scaled to [0, 1] by the pixel type's range: x^gamma, then
    /// (x − ½)·contrast + ½ + brightness.
    case intensity(probability: Double, brightness: Interval, contrast: Interval, gamma: Interval)
    /// Additive normal noise, sigma as a fraction of the pixel type's range.
    case gaussianNoise(probability: Double, sigma: Interval)
    /// Shot noise: each sample becomes Poisson(x·photons)/photons with x scaled to [0, 1].
    case poissonNoise(probability: Double, photons: Interval)
    /// Channel mixing: out = M·in with M = identity + uniform(−strength, strength) per entry.
    case channelMix(probability: Double, strength: Double)
    /// H&E(-DAB) stain jitter in optical density (Ruifrok & Johnston colour deconvolution with
    /// scikit-image's `rgb_from_hed`): each stain scaled by 1 ± alpha and shifted by ± beta.
    /// Needs exactly three channels (RGB).
    case stainJitter(probability: Double, alpha: Double, beta: Double)
    /// Per-channel normalization to float32; always applied. The statistics used are recorded
    /// with the tile.
    case normalize(method: NormalizationMethod)

    /// The step's coded name, used in error messages.
    var name: String {
        switch self {
        case .flip: "flip"
        case .rot90: "rot90"
        case .affine: "affine"
        case .elastic: "elastic"
        case .blur: "blur"
        case .intensity: "intensity"
        case .gaussianNoise: "gaussianNoise"
        case .poissonNoise: "poissonNoise"
        case .channelMix: "channelMix"
        case .stainJitter: "stainJitter"
        case .normalize: "normalize"
        }
    }
}

/// A recipe's augmentation: `variants` augmented copies of every tile, each drawn from `steps`.
public struct AugmentationPipeline: Codable, Sendable, Equatable {
    /// K, the number of augmented variants per tile (≥ 1).
    public let variants: Int
    public let steps: [AugmentationStep]
    /// Which transformed boxes (without an instance mask) are kept.
    public let boxFilter: BoxFilter
    /// When the intensities of an 8- or 16-bit image are rounded to its sample type.
    public let rounding: Rounding

    /// When intensities are rounded to the image's sample type (specs/augmentation/v1.md §5).
    public enum Rounding: String, Codable, Sendable, CaseIterable, NamedChoice {
        /// Float from the warp to the end, and one rounding of the result: the most precise.
        case end
        /// After the warp and after every intensity step, as pipelines of OpenCV or scikit-image
        /// calls on integer images do. Tiles compress better (the low bits are less noisy) and
        /// the `intensity` step becomes a table lookup.
        case eachStep = "each_step"
    }

    /// Validates and stores a pipeline; throws a `TilingError` naming the step at fault.
    public init(variants: Int, steps: [AugmentationStep], boxFilter: BoxFilter = BoxFilter(),
                rounding: Rounding = .end) throws(TilingError) {
        func fail(_ i: Int?, _ message: String) -> TilingError {
            TilingError(code: .invalidAugmentation, message: message,
                        field: i.map { "steps[\($0)].\(steps[$0].name)" } ?? "augmentation")
        }
        guard variants >= 1 else { throw fail(nil, "variants must be at least 1, got \(variants)") }
        guard boxFilter.minArea >= 0, (0 ... 1).contains(boxFilter.minVisibility) else {
            throw fail(nil, "boxFilter needs minArea ≥ 0 and minVisibility in [0, 1]")
        }
        var elastic = 0
        for (i, step) in steps.enumerated() {
            var probabilities: [Double] = []
            var ranges: [(String, Interval, ClosedRange<Double>)] = []
            switch step {
            case .flip(let h, let v): probabilities = [h, v]
            case .rot90(let p): probabilities = [p]
            case .affine(let p, let rotation, let scale, let shear, let translate, _):
                probabilities = [p]
                ranges = [("rotation", rotation, -360 ... 360), ("scale", scale, 0.01 ... 100),
                          ("shear", shear, -80 ... 80), ("translate", translate, -1 ... 1)]
            case .elastic(let p, let alpha, let sigma, _):
                probabilities = [p]
                elastic += 1
                ranges = [("alpha", alpha, 0 ... 1000), ("sigma", Interval(sigma, sigma), 0.5 ... 100)]
            case .blur(let p, let sigma):
                probabilities = [p]
                ranges = [("sigma", sigma, 0 ... 100)]
            case .intensity(let p, let b, let c, let g):
                probabilities = [p]
                ranges = [("brightness", b, -1 ... 1), ("contrast", c, 0 ... 10), ("gamma", g, 0.01 ... 100)]
            case .gaussianNoise(let p, let sigma):
                probabilities = [p]
                ranges = [("sigma", sigma, 0 ... 10)]
            case .poissonNoise(let p, let photons):
                probabilities = [p]
                ranges = [("photons", photons, 1e-3 ... 1e9)]
            case .channelMix(let p, let s):
                probabilities = [p]
                ranges = [("strength", Interval(s, s), 0 ... 1)]
            case .stainJitter(let p, let a, let b):
                probabilities = [p]
                ranges = [("alpha", Interval(a, a), 0 ... 1), ("beta", Interval(b, b), 0 ... 1)]
            case .normalize(let method):
                if case .percentile(let low, let high) = method, !(0 <= low && low < high && high <= 100) {
                    throw fail(i, "percentiles need 0 ≤ low < high ≤ 100, got \(low) and \(high)")
                }
            }
            for p in probabilities where !(0 ... 1).contains(p) {
                throw fail(i, "a probability must be in [0, 1], got \(p)")
            }
            for (name, r, allowed) in ranges {
                guard r.lower <= r.upper, allowed.contains(r.lower), allowed.contains(r.upper) else {
                    throw fail(i, "\(name) must be a range [lower, upper] within \(allowed.lowerBound)…\(allowed.upperBound), got [\(r.lower), \(r.upper)]")
                }
            }
        }
        if elastic > 1 { throw fail(nil, "at most one elastic step; combine them into one") }
        self.variants = variants
        self.steps = steps
        self.boxFilter = boxFilter
        self.rounding = rounding
    }

    private enum CodingKeys: String, CodingKey { case variants, steps, boxFilter, rounding }

    /// Decodes and validates; `boxFilter` and `rounding` may be omitted. Invalid values become
    /// `DecodingError.dataCorrupted` with the `TilingError` as underlying error.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(variants: c.decode(Int.self, forKey: .variants),
                          steps: c.decode([AugmentationStep].self, forKey: .steps),
                          boxFilter: c.decodeIfPresent(BoxFilter.self, forKey: .boxFilter) ?? BoxFilter(),
                          rounding: c.decodeIfPresent(Rounding.self, forKey: .rounding) ?? .end)
        } catch let error as TilingError {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: error.description,
                                                    underlyingError: error))
        }
    }

    /// Draws the parameters of one variant. Step i draws from its own stream (1 + i), so
    /// changing one step's ranges never changes what another step draws.
    ///
    /// - Parameters:
    ///   - random: the variant's stream (its `stream` is ignored).
    ///   - channels: the tile's channel count (channel mixing draws a matrix of that size).
    ///   - tileWidth, tileHeight: the tile size, for translations and quarter turns.
    public func draw(_ random: RandomStream, channels: Int, tileWidth: Int, tileHeight: Int) -> DrawnAugmentation {
        var drawn: [DrawnStep] = []
        for (i, step) in steps.enumerated() {
            let stepStream = UInt32(1 + 2 * i)
            var r = random.substream(stepStream)
            let field = random.substream(stepStream + 1)
            switch step {
            case .flip(let h, let v):
                let fh = r.chance(h), fv = r.chance(v)
                if fh || fv { drawn.append(.flip(horizontal: fh, vertical: fv)) }
            case .rot90(let p):
                let happens = r.chance(p)
                let k = tileWidth == tileHeight ? r.integer(below: 4) : 2 * r.integer(below: 2)
                if happens && k != 0 { drawn.append(.rot90(quarterTurns: k)) }
            case .affine(let p, let rotation, let scale, let shear, let translate, let interpolation):
                let happens = r.chance(p)
                let values = (r.uniform(rotation.lower, rotation.upper), r.uniform(scale.lower, scale.upper),
                              r.uniform(shear.lower, shear.upper), r.uniform(translate.lower, translate.upper),
                              r.uniform(translate.lower, translate.upper))
                if happens {
                    drawn.append(.affine(rotation: values.0, scale: values.1, shear: values.2,
                                         translateX: values.3 * Double(tileWidth),
                                         translateY: values.4 * Double(tileHeight), interpolation: interpolation))
                }
            case .elastic(let p, let alpha, let sigma, let interpolation):
                let happens = r.chance(p)
                let a = r.uniform(alpha.lower, alpha.upper)
                if happens { drawn.append(.elastic(alpha: a, sigma: sigma, field: field, interpolation: interpolation)) }
            case .blur(let p, let sigma):
                let happens = r.chance(p)
                let s = r.uniform(sigma.lower, sigma.upper)
                if happens && s > 0 { drawn.append(.blur(sigma: s)) }
            case .intensity(let p, let b, let c, let g):
                let happens = r.chance(p)
                let values = (r.uniform(b.lower, b.upper), r.uniform(c.lower, c.upper), r.uniform(g.lower, g.upper))
                if happens { drawn.append(.intensity(brightness: values.0, contrast: values.1, gamma: values.2)) }
            case .gaussianNoise(let p, let sigma):
                let happens = r.chance(p)
                let s = r.uniform(sigma.lower, sigma.upper)
                if happens { drawn.append(.gaussianNoise(sigma: s, field: field)) }
            case .poissonNoise(let p, let photons):
                let happens = r.chance(p)
                let n = r.uniform(photons.lower, photons.upper)
                if happens { drawn.append(.poissonNoise(photons: n, field: field)) }
            case .channelMix(let p, let strength):
                let happens = r.chance(p)
                var m: [Double] = []
                for o in 0 ..< channels {
                    for c in 0 ..< channels { m.append((o == c ? 1 : 0) + r.uniform(-strength, strength)) }
                }
                if happens { drawn.append(.channelMix(matrix: m)) }
            case .stainJitter(let p, let alpha, let beta):
                let happens = r.chance(p)
                let a = (0 ..< 3).map { _ in 1 + r.uniform(-alpha, alpha) }
                let b = (0 ..< 3).map { _ in r.uniform(-beta, beta) }
                if happens { drawn.append(.stainJitter(alpha: a, beta: b)) }
            case .normalize(let method):
                drawn.append(.normalize(method: method))
            }
        }
        return DrawnAugmentation(steps: drawn)
    }
}

/// One step as drawn for one variant: concrete values, recorded with the tile so that a
/// reviewer can see and replay exactly what was done. Per-pixel randomness (noise, elastic
/// fields) is recorded as the stream it is regenerated from.
public enum DrawnStep: Codable, Sendable, Equatable {
    case flip(horizontal: Bool, vertical: Bool)
    case rot90(quarterTurns: Int)
    /// Translation in pixels.
    case affine(rotation: Double, scale: Double, shear: Double, translateX: Double, translateY: Double,
                interpolation: BandMatrix.Filter)
    case elastic(alpha: Double, sigma: Double, field: RandomStream, interpolation: BandMatrix.Filter)
    case blur(sigma: Double)
    case intensity(brightness: Double, contrast: Double, gamma: Double)
    case gaussianNoise(sigma: Double, field: RandomStream)
    case poissonNoise(photons: Double, field: RandomStream)
    /// Row-major C × C.
    case channelMix(matrix: [Double])
    case stainJitter(alpha: [Double], beta: [Double])
    case normalize(method: NormalizationMethod)
}

/// The drawn parameters of one tile variant, in pipeline order (steps that did not happen are
/// left out).
public struct DrawnAugmentation: Codable, Sendable, Equatable {
    public var steps: [DrawnStep]
    public init(steps: [DrawnStep]) { self.steps = steps }

    /// The pixel type of the augmented image: float32 once anything normalizes, otherwise the
    /// input's (intensity changes are rounded and clamped back into it).
    public func outputPixelType(input: PixelType) -> PixelType {
        steps.contains { if case .normalize = $0 { true } else { false } } ? .float32 : input
    }
}

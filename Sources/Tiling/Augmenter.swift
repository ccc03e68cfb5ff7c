#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Raster

/// One augmented tile: every target moved by the same drawn parameters, in tile coordinates.
public struct AugmentedTile: Sendable, Equatable {
    public var image: ImageBuffer
    public var semantic: LabelImage?
    public var instances: LabelImage?
    /// Boxes that survived (recomputed from the instance mask for boxes with an `instance`).
    public var boxes: [LabeledBox]
    /// Points that land inside the tile.
    public var points: [LabeledPoint]
    /// Polygons clipped to the tile (each ring on its own); those whose outer ring vanishes are
    /// dropped, as are vanished holes.
    public var polygons: [LabeledPolygon]
    /// Per channel, the statistics `normalize` used ([low, high] percentiles or [mean, std]),
    /// one array per normalize step, so a model can undo them.
    public var normalization: [[[Double]]]
}

/// Applies drawn augmentations to a tile of a sample.
public enum Augmenter {
    /// The tile `tile` of `sample`, augmented by `drawn`.
    ///
    /// The warp maps the output tile back into the *source image*, so rotated or shifted tiles
    /// take their corners from the surrounding image rather than from padding; only where the
    /// source image itself ends does `border` apply (`reflect` mirrors image and masks alike,
    /// `constant`/`drop` fill the image with `padValue` and masks with 0).
    ///
    /// Intensities use the drawn interpolation, masks nearest neighbour, so a mask holds only
    /// ids it held before (plus 0 where the border is constant). Throws `unsupportedImage`
    /// when a step cannot apply to this image (stain jitter needs three channels, channel
    /// mixing the channel count it was drawn for).
    ///
    /// A sample prepared once for many tiles (`SampleTargets.preparedForWarp`) makes the warp
    /// faster and changes nothing in the result. When the sample holds only a window of its image,
    /// the window must contain the tile's `footprint`. `rounding` is the pipeline's: with
    /// `eachStep`, an 8- or 16-bit image's samples are rounded to its type after the warp and
    /// after every step until a `normalize`.
    public static func apply(_ drawn: DrawnAugmentation, to sample: SampleTargets, tile: Tile, border: EdgePolicy,
                             padValue: Double, boxFilter: BoxFilter,
                             rounding: AugmentationPipeline.Rounding = .end) throws(TilingError) -> AugmentedTile {
        let warp = makeWarp(drawn, tile: tile)
        let coords = warp.sourceCoordinates()
        let window = sample.window, channels = sample.channels, pixelType = sample.pixelType
        let reflect = border == .reflect
        if !window.isWhole {
            // The reads below are unchecked: a window missing some of them would read garbage.
            let needed = footprint(coords: coords, filter: filter(drawn, warp), window: window, reflect: reflect)
            precondition(needed.map(window.contains) ?? true, "the warp reads \(needed!), outside the window \(window.rect)")
        }
        var planes = resample(sample, coords: coords, outputWidth: warp.width, filter: filter(drawn, warp), reflect: reflect, pad: Float(padValue))
        let semantic = sample.semantic.map { nearest($0, window: window, coords: coords, warp: warp, reflect: reflect) }
        let instances = sample.instances.map { nearest($0, window: window, coords: coords, warp: warp, reflect: reflect) }

        // The largest sample value while steps round to the image's integer type, else nil.
        var roundingTop: Float? = rounding == .eachStep && pixelType != .float32 ? Float(valueRange(pixelType)) : nil
        if let top = roundingTop { roundInPlace(&planes, top: top) }
        var normalization: [[[Double]]] = []
        let n = warp.width * warp.height
        let range = valueRange(pixelType)
        for (index, step) in drawn.steps.enumerated() {
            func unsupported(_ message: String) -> TilingError {
                TilingError(code: .unsupportedImage, message: message, field: "steps[\(index)]")
            }
            switch step {
            case .flip, .rot90, .affine, .elastic:
                continue
            case .blur(let sigma):
                let rows = BandMatrix.gaussian(count: warp.height, sigma: sigma)
                let cols = BandMatrix.gaussian(count: warp.width, sigma: sigma)
                planes = Kernels.separable(planes, count: channels, width: warp.width, height: warp.height,
                                           rowsOp: rows, colsOp: cols, path: Kernels.separablePath)
            case .intensity(let brightness, let contrast, let gamma):
                let kernel = IntensityKernel(gamma: gamma, brightness: brightness, contrast: contrast, range: range)
                if let top = roundingTop {
                    kernel.applyRounding(&planes, top: top)
                    continue
                }
                kernel.apply(&planes)
            case .gaussianNoise(let sigma, let field):
                // Pixel i takes its pair from block i / 2: independent of loop order.
                for i in stride(from: 0, to: planes.count, by: 2) {
                    let (g0, g1) = normalPair(field, UInt64(i / 2))
                    planes[i] += Float(g0 * sigma * range)
                    if i + 1 < planes.count { planes[i + 1] += Float(g1 * sigma * range) }
                }
            case .poissonNoise(let photons, let field):
                for i in planes.indices {
                    let lambda = max(Double(planes[i]) / range, 0) * photons
                    planes[i] = Float(poisson(lambda, field, UInt64(i)) / photons * range)
                }
            case .channelMix(let matrix):
                guard matrix.count == channels * channels else {
                    throw unsupported("channelMix was drawn for \(Int(Double(matrix.count).squareRoot())) channels; this image has \(channels)")
                }
                planes = Kernels.mix(planes, channels: channels, count: n, matrix: matrix.map(Float.init),
                                     offsets: Array(repeating: 0, count: channels), path: Kernels.mixPath)
            case .stainJitter(let alpha, let beta):
                guard channels == 3 else {
                    throw unsupported("stain jitter needs an RGB image (3 channels); this one has \(channels) — select 3 channels or drop the step")
                }
                planes = stainJitter(planes, count: n, range: range, alpha: alpha, beta: beta)
            case .normalize(let method):
                roundingTop = nil
                var stats: [[Double]] = []
                for c in 0 ..< channels {
                    let slice = c * n ..< (c + 1) * n
                    let (offset, scale) = normalizationParameters(planes[slice], method)
                    stats.append(offset.statistics)
                    for i in slice { planes[i] = Float((Double(planes[i]) - offset.value) / scale) }
                }
                normalization.append(stats)
            }
            if let top = roundingTop { roundInPlace(&planes, top: top) }
        }
        let outType = drawn.outputPixelType(input: pixelType)
        let outImage = ImageBuffer(width: warp.width, height: warp.height, channels: channels,
                                   pixels: pixelData(planes, type: outType, rounded: roundingTop != nil))
        // Mirrored padding repeats an object's pixels under its id; boxes come only from pixels
        // whose source lies inside the image, so a box never spans an object and its mirror image.
        let boxMask = sample.boxes.contains { $0.instance != nil } && reflect
            ? sample.instances.map { nearest($0, window: window, coords: coords, warp: warp, reflect: false) } : instances
        let objects = moveObjects(sample, warp: warp, boxMask: boxMask, filter: boxFilter)
        return AugmentedTile(
            image: outImage, semantic: semantic, instances: instances,
            boxes: objects.boxes, points: objects.points, polygons: objects.polygons,
            normalization: normalization)
    }

    /// The objects of a tile cut without augmentation, by the rules augmented tiles follow
    /// (the identity warp): boxes with an instance come from the tile's instance mask inside the
    /// image (padding adds no pixels to them), others are clipped to the tile and kept by
    /// `filter`; points outside the tile are dropped; polygon rings are clipped to the tile.
    public static func objects(of sample: SampleTargets, tile: Tile, filter: BoxFilter) -> TileObjectTargets {
        let warp = makeWarp(DrawnAugmentation(steps: []), tile: tile)
        let boxMask = sample.boxes.contains { $0.instance != nil }
            ? sample.instances.map { TileExtractor.extract($0, tile: tile, edge: .constant, window: sample.window) } : nil
        return moveObjects(sample, warp: warp, boxMask: boxMask, filter: filter)
    }

    /// The source pixels `apply` reads for `tile` of an `imageWidth × imageHeight` image with
    /// these drawn parameters (image and masks alike; nil when it reads none, as when every
    /// tap falls on a constant border), so a whole-slide image can be read one region at a time.
    /// Exact, not a bound: it comes from the same source coordinates and taps as the warp.
    public static func footprint(_ drawn: DrawnAugmentation, tile: Tile, imageWidth: Int, imageHeight: Int,
                                 border: EdgePolicy) -> PixelRect? {
        let warp = makeWarp(drawn, tile: tile)
        return footprint(coords: warp.sourceCoordinates(), filter: filter(drawn, warp),
                         window: .whole(width: imageWidth, height: imageHeight), reflect: border == .reflect)
    }

    /// The interpolation of the image: none for lattice warps (whole pixels moved around).
    static func filter(_ drawn: DrawnAugmentation, _ warp: Warp) -> BandMatrix.Filter? {
        if warp.isLattice { return nil }
        let bicubic = drawn.steps.contains {
            switch $0 {
            case .affine(_, _, _, _, _, .bicubic), .elastic(_, _, _, .bicubic): true
            default: false
            }
        }
        return bicubic ? .bicubic : .bilinear
    }

    /// The taps `resample` reads at `coords` with `filter` (the pixel containing the point when
    /// nil; `nearest` reads those too, a subset of any filter's taps), after the border.
    static func footprint(coords: (x: [Double], y: [Double]), filter: BandMatrix.Filter?, window: ImageWindow,
                          reflect: Bool) -> PixelRect? {
        guard let minX = coords.x.min(), let maxX = coords.x.max(), let minY = coords.y.min(), let maxY = coords.y.max()
        else { return nil }
        // floorInt is monotone, so the extreme coordinates give the extreme taps.
        func taps(_ lo: Double, _ hi: Double) -> ClosedRange<Int> {
            guard let filter else { return floorInt(lo) ... floorInt(hi) }
            let radius = Int(filter.support)
            return (floorInt(lo - 0.5) - radius + 1) ... (floorInt(hi - 0.5) + radius)
        }
        return footprintRect(x: axisFootprint(taps(minX, maxX), count: window.imageWidth, reflect: reflect),
                             y: axisFootprint(taps(minY, maxY), count: window.imageHeight, reflect: reflect))
    }

    /// Boxes, points and polygons of `sample` mapped through `warp` into the output tile.
    /// `boxMask` is the output tile's instance mask that boxes naming an instance are
    /// recomputed from.
    static func moveObjects(_ sample: SampleTargets, warp: Warp, boxMask: LabelImage?, filter: BoxFilter) -> TileObjectTargets {
        TileObjectTargets(
            boxes: transformBoxes(sample.boxes, warp: warp, instances: boxMask, filter: filter),
            points: sample.points.compactMap { p in
                let q = warp.forwardPoint(p.point.x, p.point.y)
                guard q.x >= 0, q.y >= 0, q.x < Double(warp.width), q.y < Double(warp.height) else { return nil }
                return LabeledPoint(Point2D(x: q.x, y: q.y), label: p.label)
            },
            polygons: sample.polygons.compactMap { labeled in
                func move(_ ring: [Point2D]) -> [Point2D]? {
                    let moved = ring.map { v in
                        let q = warp.forwardPoint(v.x, v.y)
                        return Point2D(x: q.x, y: q.y)
                    }
                    let clipped = clip(moved, width: Double(warp.width), height: Double(warp.height))
                    return clipped.count >= 3 ? clipped : nil
                }
                guard let exterior = move(labeled.polygon.exterior) else { return nil }
                return LabeledPolygon(Polygon(exterior: exterior, holes: labeled.polygon.holes.compactMap(move)),
                                      label: labeled.label)
            })
    }

    /// The composed warp of the geometric steps of `drawn` for `tile`.
    public static func makeWarp(_ drawn: DrawnAugmentation, tile: Tile) -> Warp {
        var width = tile.rect.width, height = tile.rect.height
        var forward = Affine2D.identity
        var elastic: (alpha: Double, sigma: Double, field: RandomStream)?
        for step in drawn.steps {
            switch step {
            case .flip(let h, let v):
                forward = forward.then(Affine2D(a: h ? -1 : 1, b: 0, c: 0, d: v ? -1 : 1,
                                                tx: h ? Double(width) : 0, ty: v ? Double(height) : 0))
            case .rot90(let k):
                for _ in 0 ..< ((k % 4) + 4) % 4 {
                    // numpy.rot90: (x, y) ↦ (y, W − x), output W × H swapped.
                    forward = forward.then(Affine2D(a: 0, b: 1, c: -1, d: 0, tx: 0, ty: Double(width)))
                    swap(&width, &height)
                }
            case .affine(let rotation, let scale, let shear, let tx, let ty, _):
                let cx = Double(width) / 2, cy = Double(height) / 2
                forward = forward.then(.translation(-cx, -cy)).then(.scaling(scale, scale))
                    .then(.shear(degrees: shear)).then(.rotation(degrees: rotation)).then(.translation(cx + tx, cy + ty))
            case .elastic(let alpha, let sigma, let field, _):
                elastic = (alpha, sigma, field)
            default:
                continue
            }
        }
        let field = elastic.map { displacementField(width: width, height: height, alpha: $0.alpha, sigma: $0.sigma, stream: $0.field) }
        return Warp(width: width, height: height, forward: forward, originX: tile.rect.x, originY: tile.rect.y, field: field)
    }
}

/// Unit normal noise per pixel (x from block i's first value, y from its second), blurred with
/// `sigma` and scaled by `alpha`.
func displacementField(width: Int, height: Int, alpha: Double, sigma: Double, stream: RandomStream) -> DisplacementField {
    let n = width * height
    var nx = [Float](repeating: 0, count: n), ny = nx
    for i in 0 ..< n {
        let (a, b) = normalPair(stream, UInt64(i))
        nx[i] = Float(a)
        ny[i] = Float(b)
    }
    let rows = BandMatrix.gaussian(count: height, sigma: sigma), cols = BandMatrix.gaussian(count: width, sigma: sigma)
    let sx = Kernels.separable(nx, width: width, height: height, rowsOp: rows, colsOp: cols, path: Kernels.separablePath)
    let sy = Kernels.separable(ny, width: width, height: height, rowsOp: rows, colsOp: cols, path: Kernels.separablePath)
    return DisplacementField(width: width, height: height, dx: sx.map { $0 * Float(alpha) }, dy: sy.map { $0 * Float(alpha) })
}

/// The full scale of a pixel type, which intensity steps treat as 1.
func valueRange(_ type: PixelType) -> Double {
    switch type {
    case .uint8: 255
    case .uint16: 65535
    case .float32: 1
    }
}

/// The samples as Float, planar like the image.
func floatPlanes(_ image: ImageBuffer) -> [Float] {
    switch image.pixels {
    case .uint8(let v): v.map(Float.init)
    case .uint16(let v): v.map(Float.init)
    case .float32(let v): v
    }
}

/// Float samples converted to `type`: integers rounded half away from zero and clamped.
/// `rounded` says the samples are already whole numbers in the type's range (or NaN), as
/// `each_step` rounding leaves them, so that conversion is all that is left to do.
func pixelData(_ planes: [Float], type: PixelType, rounded: Bool = false) -> PixelData {
    switch type {
    case .uint8: .uint8(rounded ? converted(planes) : clamped(planes))
    case .uint16: .uint16(rounded ? converted(planes) : clamped(planes))
    case .float32: .float32(planes)
    }
}

/// Lanes holding whole numbers in [0, 2²³) as integers: for such an x, x + 2²³ is exact and
/// holds x in its low mantissa bits, a few vector operations where the checked conversion is a
/// scalar instruction per sample. Any other lane (NaN included) gives some value below 2²³.
@inline(__always) func wholeNumbers(_ x: SIMD8<Float>) -> SIMD8<UInt32> {
    unsafeBitCast(x + SIMD8<Float>(repeating: 0x1p23), to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7F_FFFF)
}

/// Whole-number samples in [0, T.max] as T, the value `clamped` gives them (`wholeNumbers`).
/// A NaN traps, as in `clamped`.
private func converted<T: FixedWidthInteger & UnsignedInteger & SIMDScalar>(_ planes: [Float]) -> [T] {
    precondition(T.bitWidth <= 16, "images are 8- or 16-bit")
    return [T](unsafeUninitializedCapacity: planes.count) { out, initialized in
        planes.withUnsafeBufferPointer { src in
            var nan = SIMDMask<SIMD8<Int32>>()
            var i = 0
            while i + 8 <= src.count {
                let x = UnsafeRawPointer(src.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
                nan .|= x .!= x
                let v = SIMD8<T>(truncatingIfNeeded: wholeNumbers(x))
                UnsafeMutableRawPointer(out.baseAddress! + i).storeBytes(of: v, as: SIMD8<T>.self)
                i += 8
            }
            precondition(!any(nan), "an augmented sample is NaN")
            for j in i ..< src.count {
                (out.baseAddress! + j).initialize(to: T(truncatingIfNeeded: roundedClamped(src[j], top: Float(T.max))))
            }
        }
        initialized = planes.count
    }
}

/// `TileExtractor.clampedInteger` of a sample, without its branches: for a Float clamped to
/// [0, top], ⌊x + ½⌋ in Double (where x + ½ is exact, which it is not for every Double, hence
/// two versions) is the rounding half away from zero, and 0 below ½ and `top` from top − ½ on,
/// as `clampedInteger` gives. NaN stays NaN and traps in the conversion, as there.
@inline(__always) func roundedClamped(_ x: Float, top: Float) -> Int32 {
    let c = x < 0 ? 0 : (x > top ? top : x)
    return Int32(Double(c) + 0.5)
}

/// `roundedClamped` of every sample.
private func clamped<T: FixedWidthInteger & UnsignedInteger>(_ planes: [Float]) -> [T] {
    precondition(T.bitWidth <= 16, "images are 8- or 16-bit")
    let top = Float(T.max)
    return [T](unsafeUninitializedCapacity: planes.count) { out, initialized in
        planes.withUnsafeBufferPointer { src in
            for i in src.indices {
                (out.baseAddress! + i).initialize(to: T(truncatingIfNeeded: roundedClamped(src[i], top: top)))
            }
        }
        initialized = planes.count
    }
}

/// Every sample replaced by `roundedClamped` of it, kept as Float: `each_step` rounding.
///
/// In Float lanes, without the Double arithmetic `roundedClamped` needs (twice the
/// instructions per sample): for c clamped to [0, top] with top < 2²², t = (c + 2²³) − 2²³ is
/// c rounded to an integer, ties to even, and c − t is exact (c and t are within a factor of 2
/// of each other, or t = 0), so ⌊c + ½⌋ is t, and t + 1 where c − t = ½. NaN stays NaN rather
/// than trapping; the final conversion to the image type traps on it.
func roundInPlace(_ planes: inout [Float], top: Float) {
    precondition(top < 0x1p22, "rounding is for 8- and 16-bit samples")
    let (magic, half, one) = (SIMD8<Float>(repeating: 0x1p23), SIMD8<Float>(repeating: 0.5), SIMD8<Float>(repeating: 1))
    let (zero, high) = (SIMD8<Float>(), SIMD8<Float>(repeating: top))
    @inline(__always) func rounded(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let c = x.replacing(with: zero, where: x .< zero).replacing(with: high, where: x .> high)
        let t = (c + magic) - magic
        return t.replacing(with: t + one, where: c - t .== half)
    }
    planes.withUnsafeMutableBufferPointer { samples in
        guard let base = samples.baseAddress else { return }
        var i = 0
        while i + 8 <= samples.count {
            let p = UnsafeMutableRawPointer(base + i)
            p.storeBytes(of: rounded(p.loadUnaligned(as: SIMD8<Float>.self)), as: SIMD8<Float>.self)
            i += 8
        }
        // The last few samples through the same lanes, so that there is one formula.
        var rest = SIMD8<Float>()
        for j in i ..< samples.count { rest[j - i] = samples[j] }
        let done = rounded(rest)
        for j in i ..< samples.count { samples[j] = done[j - i] }
    }
}

/// Index along an axis of `count` samples for tap `i`, or nil where a constant border applies.
@inline(__always) func borderIndex(_ i: Int, _ count: Int, reflect: Bool) -> Int? {
    if i >= 0 && i < count { return i }
    return reflect ? reflectIndex(i, count: count) : nil
}

/// A sample type the warp reads without first converting the whole source image to Float
/// (a source is far larger than the few pixels one tile reads).
protocol WarpSample {
    var floatValue: Float { get }
    /// The `floatValue`s of the four samples from `p` on, read as one vector.
    static func four(_ p: UnsafePointer<Self>) -> SIMD4<Float>
}

extension UInt8: WarpSample {
    @inline(__always) var floatValue: Float { Float(self) }
    @inline(__always) static func four(_ p: UnsafePointer<Self>) -> SIMD4<Float> {
        SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD4<UInt8>.self)))
    }
}

extension UInt16: WarpSample {
    @inline(__always) var floatValue: Float { Float(self) }
    @inline(__always) static func four(_ p: UnsafePointer<Self>) -> SIMD4<Float> {
        SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD4<UInt16>.self)))
    }
}

extension Float: WarpSample {
    @inline(__always) var floatValue: Float { self }
    @inline(__always) static func four(_ p: UnsafePointer<Self>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }
}

/// A source image as the warp reads it fastest: the image's own samples with the channels of
/// each pixel side by side, so the taps of one output pixel touch half as many cache lines as
/// in planar order. Made once per source image and shared by all its tiles (and threads); the
/// values are the image's exactly, so results do not change. Kept in the image's own type
/// (not Float): half the memory for a uint16 source, and fewer cache misses for the warp.
public final class WarpSource: Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    /// Sample (c, y, x) at `(y * width + x) * channels + c`.
    let samples: PixelData
    /// No sample is infinite or NaN (always so for integer images), so a zero weight times a
    /// sample is a zero and the warp may add it instead of testing for it.
    let allFinite: Bool

    public init(_ image: ImageBuffer) {
        (width, height, channels) = (image.width, image.height, image.channels)
        let (plane, channels) = (image.width * image.height, image.channels)
        func interleave<T>(_ v: [T]) -> [T] { transposed(v, rows: channels, columns: plane) }
        (samples, allFinite) = switch image.pixels {
        case .uint8(let v): (.uint8(interleave(v)), true)
        case .uint16(let v): (.uint16(interleave(v)), true)
        case .float32(let v): (.float32(interleave(v)), v.allSatisfy(\.isFinite))
        }
    }

    /// The sample type of the image it was made from.
    public var pixelType: PixelType { samples.pixelType }

    /// The image it was made from, planar again (a copy).
    public func planar() -> ImageBuffer {
        let (plane, channels) = (width * height, channels)
        func deinterleave<T>(_ v: [T]) -> [T] { transposed(v, rows: plane, columns: channels) }
        let pixels: PixelData = switch samples {
        case .uint8(let v): .uint8(deinterleave(v))
        case .uint16(let v): .uint16(deinterleave(v))
        case .float32(let v): .float32(deinterleave(v))
        }
        return ImageBuffer(width: width, height: height, channels: channels, pixels: pixels)
    }
}

/// `v` as a `rows` × `columns` row-major matrix, transposed: planar to interleaved samples and back.
private func transposed<T>(_ v: [T], rows: Int, columns: Int) -> [T] {
    [T](unsafeUninitializedCapacity: v.count) { out, initialized in
        v.withUnsafeBufferPointer { src in
            for r in 0 ..< rows {
                for c in 0 ..< columns { (out.baseAddress! + c * rows + r).initialize(to: src[r * columns + c]) }
            }
        }
        initialized = v.count
    }
}

/// Where the warp reads source sample (c, x, y) from, for in-image x and y.
protocol WarpSamples {
    func sample(_ c: Int, _ x: Int, _ y: Int) -> Float
}

/// The image's own planar samples.
struct PlanarSamples<T: WarpSample>: WarpSamples {
    let base: UnsafeBufferPointer<T>
    /// Width of the buffer (its window's), the plane size, and where image pixel (0, 0) would be.
    let width: Int
    let plane: Int
    let offset: Int
    @inline(__always) func sample(_ c: Int, _ x: Int, _ y: Int) -> Float {
        base[c * plane + y * width + x + offset].floatValue
    }
}

/// A `WarpSource`'s interleaved samples.
struct InterleavedSamples<T: WarpSample>: WarpSamples {
    let base: UnsafeBufferPointer<T>
    let width: Int
    let channels: Int
    /// Where image pixel (0, 0) would be, in samples.
    let offset: Int
    @inline(__always) func sample(_ c: Int, _ x: Int, _ y: Int) -> Float {
        base[(y * width + x) * channels + c + offset].floatValue
    }
}

/// Samples every channel of the sample's image at the given source coordinates: `filter` nil
/// copies the pixel containing the point (lattice warps), otherwise interpolates between pixel
/// centres. Reads the sample's `warpSource` when it holds one (same values, faster to reach).
/// Coordinates and borders are the whole image's; the sample holds `window` of it.
func resample(_ sample: SampleTargets, coords: (x: [Double], y: [Double]),
              outputWidth: Int, filter: BandMatrix.Filter?, reflect: Bool, pad: Float) -> [Float] {
    let window = sample.window
    let (w, h, c) = (window.imageWidth, window.imageHeight, sample.channels)
    let (bufferWidth, bufferHeight, offset) = (window.rect.width, window.rect.height, window.planeOffset)
    func planar<T: WarpSample>(_ v: [T]) -> [Float] {
        v.withUnsafeBufferPointer { base in
            resample(PlanarSamples(base: base, width: bufferWidth, plane: bufferWidth * bufferHeight, offset: offset),
                     width: w, height: h, channels: c, coords: coords,
                     outputWidth: outputWidth, filter: filter, reflect: reflect, pad: pad)
        }
    }
    func interleaved<T: WarpSample>(_ v: [T], finite: Bool) -> [Float] {
        v.withUnsafeBufferPointer { base in
            let samples = InterleavedSamples(base: base, width: bufferWidth, channels: c, offset: offset * c)
            return resample(samples, width: w, height: h, channels: c, coords: coords, outputWidth: outputWidth,
                            filter: filter, reflect: reflect, pad: pad,
                            interior: finite ? { r, runs in InteriorBilinear(r, samples).run(runs) } : nil)
        }
    }
    if let prepared = sample.warpSource {
        precondition(prepared.width == bufferWidth && prepared.height == bufferHeight, "warp source does not match its window")
        switch prepared.samples {
        case .uint8(let v): return interleaved(v, finite: true)
        case .uint16(let v): return interleaved(v, finite: true)
        case .float32(let v): return interleaved(v, finite: prepared.allFinite)
        }
    }
    let image = sample.image
    precondition(image.width == bufferWidth && image.height == bufferHeight, "image does not match its window")
    switch image.pixels {
    case .uint8(let v): return planar(v)
    case .uint16(let v): return planar(v)
    case .float32(let v): return planar(v)
    }
}

/// The pixels of a `width`-wide row-major output of `count` pixels in 32 × 32 blocks, as runs
/// of consecutive indices: a rotated tile reads its source along diagonals, and a block's
/// source footprint stays in the first-level cache where a whole output row's would not. Only
/// the visiting order changes.
func blockedRuns(count: Int, width: Int) -> [Range<Int>] {
    let block = 32, height = width == 0 ? 0 : count / width
    var runs: [Range<Int>] = []
    runs.reserveCapacity(height * ((width + block - 1) / block))
    for by in stride(from: 0, to: height, by: block) {
        for bx in stride(from: 0, to: width, by: block) {
            for y in by ..< min(by + block, height) { runs.append((y * width + bx) ..< (y * width + min(bx + block, width))) }
        }
    }
    return runs
}

/// ⌊x⌋ as an integer without a libm call (the baseline x86-64 target has no rounding
/// instruction, and this runs for every output pixel). Traps where `Int(floor(x))` would.
@inline(__always) func floorInt(_ x: Double) -> Int {
    let t = Int(x)
    return x < Double(t) ? t - 1 : t
}

/// ⌊x⌋ of lanes known to lie in [0, 2⁵¹), as Double and as Int: x + 2⁵² holds x rounded to
/// an integer in its low mantissa bits, one less where that rounded up. Exact, and without the
/// range checks of a conversion to Int.
@inline(__always) func floors(_ x: SIMD4<Double>) -> (value: SIMD4<Double>, index: SIMD4<Int>) {
    let magic = SIMD4<Double>(repeating: 0x1p52)
    var t = (x + magic) - magic
    t.replace(with: t - 1, where: t .> x)
    return (t, wholeNumbers(t))
}

/// Lanes holding whole numbers in [0, 2⁵²) as Int: the low mantissa bits of x + 2⁵². Index
/// arithmetic on such numbers is exact in Double, and SSE2 has no 64-bit integer multiply.
@inline(__always) func wholeNumbers(_ x: SIMD4<Double>) -> SIMD4<Int> {
    let magic = SIMD4<Double>(repeating: 0x1p52)
    return unsafeBitCast(x + magic, to: SIMD4<Int>.self) &- Int(bitPattern: UInt(magic[0].bitPattern))
}

/// Lanes i ..< i + 4 of a coordinate array.
@inline(__always) func lanes(_ p: UnsafeBufferPointer<Double>, _ i: Int) -> SIMD4<Double> {
    UnsafeRawPointer(p.baseAddress! + i).loadUnaligned(as: SIMD4<Double>.self)
}

private func resample<S: WarpSamples>(_ src: S, width: Int, height: Int, channels: Int,
                                      coords: (x: [Double], y: [Double]), outputWidth: Int,
                                      filter: BandMatrix.Filter?, reflect: Bool, pad: Float,
                                      interior: ((Resampler<S>, [Range<Int>]) -> Void)? = nil) -> [Float] {
    let n = coords.x.count
    precondition(coords.y.count == n && outputWidth > 0 && n % outputWidth == 0)
    let runs = blockedRuns(count: n, width: outputWidth)
    return [Float](unsafeUninitializedCapacity: n * channels) { out, initialized in
        coords.x.withUnsafeBufferPointer { xs in
            coords.y.withUnsafeBufferPointer { ys in
                let r = Resampler(src: src, width: width, height: height, channels: channels, n: n, xs: xs, ys: ys,
                                  out: out.baseAddress!, filter: filter, reflect: reflect, pad: pad)
                // Loops written out per path: a per-pixel closure is not inlined and costs a call.
                switch filter {
                case .bilinear?:
                    if let interior {
                        interior(r, runs)
                    } else {
                        for run in runs { for i in run { r.bilinear(i) } }
                    }
                case nil: for run in runs { for i in run { r.lattice(i) } }
                default: for run in runs { for i in run { r.general(i) } }
                }
            }
        }
        initialized = n * channels
    }
}

/// One warp's output samples. Every output sample is Σ_ky wy·(Σ_kx wx·v), rows of taps outer,
/// columns inner, zero weights skipped, whichever path computes it: the bilinear and lattice
/// paths give the same bits as the general one.
private struct Resampler<S: WarpSamples> {
    let src: S
    let width: Int
    let height: Int
    let channels: Int
    let n: Int
    let xs: UnsafeBufferPointer<Double>
    let ys: UnsafeBufferPointer<Double>
    let out: UnsafeMutablePointer<Float>
    let filter: BandMatrix.Filter?
    let reflect: Bool
    let pad: Float

    @inline(__always) func sample(_ c: Int, _ x: Int, _ y: Int) -> Float {
        x < 0 || y < 0 ? pad : src.sample(c, x, y)
    }

    @inline(__always) func bilinear(_ i: Int) {
        let u = xs[i] - 0.5, v = ys[i] - 0.5
        let x0 = floorInt(u), y0 = floorInt(v)
        let wx0 = Float(BandMatrix.Filter.bilinear.weight(u - Double(x0)))
        let wx1 = Float(BandMatrix.Filter.bilinear.weight(u - Double(x0 + 1)))
        let wy0 = Float(BandMatrix.Filter.bilinear.weight(v - Double(y0)))
        let wy1 = Float(BandMatrix.Filter.bilinear.weight(v - Double(y0 + 1)))
        var (xa, xb, ya, yb) = (x0, x0 + 1, y0, y0 + 1)
        if x0 < 0 || y0 < 0 || xb >= width || yb >= height {
            xa = borderIndex(xa, width, reflect: reflect) ?? -1
            xb = borderIndex(xb, width, reflect: reflect) ?? -1
            ya = borderIndex(ya, height, reflect: reflect) ?? -1
            yb = borderIndex(yb, height, reflect: reflect) ?? -1
        }
        for c in 0 ..< channels {
            var acc: Float = 0
            if wy0 != 0 {
                var row: Float = 0
                if wx0 != 0 { row += wx0 * sample(c, xa, ya) }
                if wx1 != 0 { row += wx1 * sample(c, xb, ya) }
                acc += wy0 * row
            }
            if wy1 != 0 {
                var row: Float = 0
                if wx0 != 0 { row += wx0 * sample(c, xa, yb) }
                if wx1 != 0 { row += wx1 * sample(c, xb, yb) }
                acc += wy1 * row
            }
            (out + c * n + i).initialize(to: acc)
        }
    }

    /// A lattice warp: the general path's one tap of weight 1, i.e. 0 + 1·(0 + 1·v) = 0 + v.
    @inline(__always) func lattice(_ i: Int) {
        let x = borderIndex(floorInt(xs[i]), width, reflect: reflect) ?? -1
        let y = borderIndex(floorInt(ys[i]), height, reflect: reflect) ?? -1
        for c in 0 ..< channels { (out + c * n + i).initialize(to: 0 + sample(c, x, y)) }
    }

    /// Any filter, or none (lattice warps copy the pixel containing the point).
    func general(_ i: Int) {
        let radius = filter.map { Int($0.support) } ?? 0
        let taps = filter == nil ? 1 : 2 * radius
        precondition(taps <= 4)
        var xi = SIMD4<Int>(repeating: -1), yi = SIMD4<Int>(repeating: -1)
        var wx = SIMD4<Float>(repeating: 0), wy = SIMD4<Float>(repeating: 0)
        if let filter {
            let u = xs[i] - 0.5, v = ys[i] - 0.5
            let x0 = floorInt(u), y0 = floorInt(v)
            for k in 0 ..< taps {
                let tx = x0 - radius + 1 + k, ty = y0 - radius + 1 + k
                xi[k] = borderIndex(tx, width, reflect: reflect) ?? -1
                yi[k] = borderIndex(ty, height, reflect: reflect) ?? -1
                wx[k] = Float(filter.weight(u - Double(tx)))
                wy[k] = Float(filter.weight(v - Double(ty)))
            }
        } else {
            xi[0] = borderIndex(floorInt(xs[i]), width, reflect: reflect) ?? -1
            yi[0] = borderIndex(floorInt(ys[i]), height, reflect: reflect) ?? -1
            wx[0] = 1
            wy[0] = 1
        }
        for c in 0 ..< channels {
            var acc: Float = 0
            for ky in 0 ..< taps {
                let y = yi[ky], w = wy[ky]
                if w == 0 { continue }
                var row: Float = 0
                for kx in 0 ..< taps {
                    let x = xi[kx], v = wx[kx]
                    if v == 0 { continue }
                    row += v * sample(c, x, y)
                }
                acc += w * row
            }
            (out + c * n + i).initialize(to: acc)
        }
    }
}

/// The bilinear path of `Resampler` for interleaved samples that are all finite: where all
/// four taps lie inside the image it reads them through one pointer with unchecked index
/// arithmetic and adds zero-weight taps instead of testing for them (a zero weight times a
/// finite sample is ±0, and a sum that starts at +0 is unchanged by adding ±0), so its sums
/// are the general path's, operation for operation; the other pixels go to `Resampler`.
///
/// Two-channel sources (the common fluorescence case, where a row of taps is four adjacent
/// samples) go four output pixels at a time: the coordinate and weight arithmetic in Double
/// lanes, the sums in Float lanes, each lane the scalar path's operations in its order, so the
/// bits are the same. This took the warp from 23 % to 15 % of the benchmark job's CPU time.
private struct InteriorBilinear<S: WarpSamples, T: WarpSample> {
    let r: Resampler<S>
    let base: UnsafePointer<T>
    let stride: Int

    init(_ r: Resampler<S>, _ samples: InterleavedSamples<T>) {
        self.r = r
        base = samples.base.baseAddress! + samples.offset
        stride = samples.width &* samples.channels
    }

    /// The top-left tap of output pixel `i` and its weights, nil when a tap lies outside the image.
    @inline(__always) private func taps(_ i: Int) -> (top: UnsafePointer<T>, wx: SIMD2<Float>, wy: SIMD2<Float>)? {
        let u = r.xs[i] - 0.5, v = r.ys[i] - 0.5
        let x0 = floorInt(u), y0 = floorInt(v)
        guard x0 >= 0, y0 >= 0, x0 &+ 1 < r.width, y0 &+ 1 < r.height else { return nil }
        let weight = BandMatrix.Filter.bilinear.weight
        return (base + (y0 &* stride &+ x0 &* r.channels),
                SIMD2(Float(weight(u - Double(x0))), Float(weight(u - Double(x0 &+ 1)))),
                SIMD2(Float(weight(v - Double(y0))), Float(weight(v - Double(y0 &+ 1)))))
    }

    /// `BandMatrix.Filter.bilinear.weight` of the left and right taps, as Float, for lanes whose
    /// ⌊u⌋ is `fu`. The left tap's distance u − ⌊u⌋ is exact and in [0, 1), where that weight is
    /// 1 − d without the filter's sign and range tests. The right tap's distance is
    /// −((⌊u⌋ + 1) − u) in the filter's rounding (negation is exact), and may round to 1.
    @inline(__always) private static func weights(_ u: SIMD4<Double>, _ fu: SIMD4<Double>) -> (SIMD4<Float>, SIMD4<Float>) {
        let right = (fu + 1) - u
        return (SIMD4<Float>(1 - (u - fu)), SIMD4<Float>((1 - right).replacing(with: 0, where: .!(right .< 1))))
    }

    /// Output pixels i ..< i + 4 of a two-channel source, or false (nothing written) when one of
    /// their taps lies outside the image.
    @inline(__always) private func quad(_ i: Int, _ maxU: SIMD4<Double>, _ maxV: SIMD4<Double>) -> Bool {
        let u = lanes(r.xs, i) - 0.5, v = lanes(r.ys, i) - 0.5
        // ⌊u⌋ ≥ 0 and ⌊u⌋ + 1 < width is 0 ≤ u < width − 1 (and false for NaN), likewise for v.
        guard all((u .>= 0) .& (u .< maxU) .& (v .>= 0) .& (v .< maxV)) else { return false }
        let fx = floors(u).value, fy = floors(v).value
        let (wx0, wx1) = Self.weights(u, fx), (wy0, wy1) = Self.weights(v, fy)
        // ⌊v⌋·stride + 2⌊u⌋ is a sample offset in memory, so Double computes it exactly.
        let offsets = wholeNumbers(fy * Double(stride) + fx * 2)
        let t0 = base + offsets[0], t1 = base + offsets[1], t2 = base + offsets[2], t3 = base + offsets[3]
        let b0 = t0 + stride, b1 = t1 + stride, b2 = t2 + stride, b3 = t3 + stride
        // Each pixel's row of taps is four adjacent samples (left c0, c1, right c0, c1); one
        // transpose gives each tap and channel across the four pixels.
        let q0 = T.four(t0), q1 = T.four(t1), q2 = T.four(t2), q3 = T.four(t3)
        let p0 = T.four(b0), p1 = T.four(b1), p2 = T.four(b2), p3 = T.four(b3)
        let zero = SIMD4<Float>()
        for c in 0 ..< 2 {
            let topLeft = SIMD4(q0[c], q1[c], q2[c], q3[c]), topRight = SIMD4(q0[2 &+ c], q1[2 &+ c], q2[2 &+ c], q3[2 &+ c])
            let bottomLeft = SIMD4(p0[c], p1[c], p2[c], p3[c]), bottomRight = SIMD4(p0[2 &+ c], p1[2 &+ c], p2[2 &+ c], p3[2 &+ c])
            let top = (zero + wx0 * topLeft) + wx1 * topRight
            let bottom = (zero + wx0 * bottomLeft) + wx1 * bottomRight
            let acc = (zero + wy0 * top) + wy1 * bottom
            UnsafeMutableRawPointer(r.out + (c &* r.n &+ i)).storeBytes(of: acc, as: SIMD4<Float>.self)
        }
        return true
    }

    func run(_ runs: [Range<Int>]) {
        let maxU = SIMD4(repeating: Double(r.width - 1)), maxV = SIMD4(repeating: Double(r.height - 1))
        for run in runs {
            var i = run.lowerBound
            if r.channels == 2 {
                while i &+ 4 <= run.upperBound {
                    if !quad(i, maxU, maxV) {
                        for j in i ..< i &+ 4 { single(j) }
                    }
                    i &+= 4
                }
            }
            while i < run.upperBound {
                single(i)
                i &+= 1
            }
        }
    }

    /// Output pixel `i`.
    @inline(__always) private func single(_ i: Int) {
        let (channels, n, out) = (r.channels, r.n, r.out)
        guard let (top, wx, wy) = taps(i) else {
            r.bilinear(i)
            return
        }
        let bottom = top + stride
        for c in 0 ..< channels {
            var acc: Float = 0
            var row: Float = 0
            row += wx[0] * top[c].floatValue
            row += wx[1] * top[channels &+ c].floatValue
            acc += wy[0] * row
            row = 0
            row += wx[0] * bottom[c].floatValue
            row += wx[1] * bottom[channels &+ c].floatValue
            acc += wy[1] * row
            (out + (c &* n &+ i)).initialize(to: acc)
        }
    }
}

/// Labels at the given source coordinates, nearest (the pixel containing the point);
/// `labels` holds `window` of the image.
///
/// Four output pixels whose points all lie inside the image take their ⌊x⌋, ⌊y⌋ and the
/// sample index in vector lanes, without the checked conversions and branches of the
/// one-pixel path, which the others take; both pick the same label. The index arithmetic was
/// two thirds of this function's time, the gathers the rest.
func nearest(_ labels: LabelImage, window: ImageWindow, coords: (x: [Double], y: [Double]), warp: Warp,
             reflect: Bool) -> LabelImage {
    let n = coords.x.count
    let (imageWidth, imageHeight, offset) = (window.imageWidth, window.imageHeight, window.planeOffset)
    let (maxX, maxY) = (SIMD4(repeating: Double(imageWidth)), SIMD4(repeating: Double(imageHeight)))
    let stride = labels.width
    let values = [UInt32](unsafeUninitializedCapacity: n) { out, initialized in
        labels.values.withUnsafeBufferPointer { src in
            coords.x.withUnsafeBufferPointer { xs in
                coords.y.withUnsafeBufferPointer { ys in
                    guard let out = out.baseAddress else { return }
                    @inline(__always) func single(_ i: Int) {
                        if let x = borderIndex(floorInt(xs[i]), imageWidth, reflect: reflect),
                           let y = borderIndex(floorInt(ys[i]), imageHeight, reflect: reflect) {
                            (out + i).initialize(to: src[y * stride + x + offset])
                        } else {
                            (out + i).initialize(to: 0)
                        }
                    }
                    for run in blockedRuns(count: n, width: warp.width) {
                        var i = run.lowerBound
                        while i &+ 4 <= run.upperBound {
                            let x = lanes(xs, i), y = lanes(ys, i)
                            // 0 ≤ ⌊x⌋ < width is 0 ≤ x < width (false for NaN, which the one-pixel path traps on).
                            if all((x .>= 0) .& (x .< maxX) .& (y .>= 0) .& (y .< maxY)) {
                                let index = wholeNumbers(floors(y).value * Double(stride) + floors(x).value + Double(offset))
                                (out + i).initialize(to: src[index[0]])
                                (out + (i &+ 1)).initialize(to: src[index[1]])
                                (out + (i &+ 2)).initialize(to: src[index[2]])
                                (out + (i &+ 3)).initialize(to: src[index[3]])
                            } else {
                                for j in i ..< i &+ 4 { single(j) }
                            }
                            i &+= 4
                        }
                        while i < run.upperBound {
                            single(i)
                            i &+= 1
                        }
                    }
                }
            }
        }
        initialized = n
    }
    return LabelImage(width: warp.width, height: warp.height, values: values)
}

/// Boxes after the warp: from the transformed instance mask when the box names an instance
/// and there is a mask, else the bounds of its transformed outline (sampled every pixel, so
/// elastic bends are followed), clipped and filtered.
func transformBoxes(_ boxes: [LabeledBox], warp: Warp, instances: LabelImage?, filter: BoxFilter) -> [LabeledBox] {
    // Scanning the transformed mask for its objects' boxes is only worth it when there are boxes.
    guard !boxes.isEmpty else { return [] }
    let maskBoxes = instances.map { mask in
        Dictionary(uniqueKeysWithValues: instanceBoxes(mask).map { ($0.id, $0.box) })
    }
    return boxes.compactMap { labeled in
        if let id = labeled.instance, let maskBoxes {
            guard let r = maskBoxes[id] else { return nil }
            return LabeledBox(Box(xMin: Double(r.x), yMin: Double(r.y), xMax: Double(r.x + r.width), yMax: Double(r.y + r.height)),
                              label: labeled.label, instance: id)
        }
        let box = labeled.box
        var outline: [(x: Double, y: Double)] = []
        let steps = max(Int(box.width.rounded(.up)), Int(box.height.rounded(.up)), 1)
        for k in 0 ... steps {
            let t = Double(k) / Double(steps)
            let x = box.xMin + t * box.width, y = box.yMin + t * box.height
            outline += [warp.forwardPoint(x, box.yMin), warp.forwardPoint(x, box.yMax),
                        warp.forwardPoint(box.xMin, y), warp.forwardPoint(box.xMax, y)]
        }
        let moved = Box(xMin: outline.map(\.x).min()!, yMin: outline.map(\.y).min()!,
                        xMax: outline.map(\.x).max()!, yMax: outline.map(\.y).max()!)
        let clipped = Box(xMin: max(moved.xMin, 0), yMin: max(moved.yMin, 0), xMax: min(moved.xMax, Double(warp.width)),
                          yMax: min(moved.yMax, Double(warp.height)))
        guard clipped.area >= filter.minArea, moved.area > 0, clipped.area / moved.area >= filter.minVisibility else { return nil }
        return LabeledBox(clipped, label: labeled.label, instance: labeled.instance)
    }
}

/// A Poisson deviate with mean `lambda` from the block at `index`: inversion of the CDF for
/// small means (one uniform), the normal approximation rounded to an integer ≥ 0 above 64.
func poisson(_ lambda: Double, _ stream: RandomStream, _ index: UInt64) -> Double {
    if lambda <= 0 { return 0 }
    if lambda > 64 {
        let (g, _) = normalPair(stream, index)
        return max((lambda + g * lambda.squareRoot()).rounded(), 0)
    }
    let u = uniformAt(stream, index)
    var k = 0.0, p = exp(-lambda), cdf = p
    while u > cdf && k < 1000 {
        k += 1
        p *= lambda / k
        cdf += p
    }
    return k
}

/// scikit-image's `rgb_from_hed`: rows are the optical-density colours of haematoxylin,
/// eosin and DAB.
let rgbFromHED: [Double] = [0.65, 0.70, 0.29, 0.07, 0.99, 0.11, 0.27, 0.57, 0.78]

/// The inverse of a row-major 3 × 3 matrix.
func inverse3(_ m: [Double]) -> [Double] {
    let (a, b, c, d, e, f, g, h, i) = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    precondition(det != 0)
    return [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
            (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
            (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]
}

/// Colour deconvolution, per-stain scale and shift, reconvolution: OD = −ln(max(x, 10⁻⁶))
/// with x scaled to [0, 1]; stains = OD · inv(rgbFromHED); OD' = (stains·α + β) · rgbFromHED.
/// Both matrix products run as channel mixes (the transposes, since planes are channels).
func stainJitter(_ planes: [Float], count n: Int, range: Double, alpha: [Double], beta: [Double]) -> [Float] {
    let od = planes.map { Float(-log(max(Double($0) / range, 1e-6))) }
    let hedFromRGB = inverse3(rgbFromHED)
    func transposed(_ m: [Double]) -> [Double] { [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]] }
    // stains_j = Σ_c OD_c · H[c][j], then scaled: α_j · stains_j + β_j.
    let toStains = transposed(hedFromRGB).enumerated().map { Float($0.element * alpha[$0.offset / 3]) }
    let stains = Kernels.mix(od, channels: 3, count: n, matrix: toStains, offsets: beta.map(Float.init), path: Kernels.mixPath)
    let back = Kernels.mix(stains, channels: 3, count: n, matrix: transposed(rgbFromHED).map(Float.init),
                           offsets: [0, 0, 0], path: Kernels.mixPath)
    return back.map { Float(exp(-Double($0)) * range) }
}

/// The offset and divisor `normalize` uses for one channel, with the statistics to record.
func normalizationParameters(_ values: ArraySlice<Float>, _ method: NormalizationMethod)
    -> (offset: (value: Double, statistics: [Double]), scale: Double)
{
    switch method {
    case .percentile(let low, let high):
        let sorted = values.sorted()
        func percentile(_ p: Double) -> Double {
            let position = p / 100 * Double(sorted.count - 1)
            let i = Int(position.rounded(.down)), f = position - Double(i)
            let j = min(i + 1, sorted.count - 1)
            return Double(sorted[i]) + f * (Double(sorted[j]) - Double(sorted[i]))
        }
        let lo = percentile(low), hi = percentile(high)
        return ((lo, [lo, hi]), hi > lo ? hi - lo : 1)
    case .meanStd:
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
        let std = variance.squareRoot()
        return ((mean, [mean, std]), std > 0 ? std : 1)
    }
}

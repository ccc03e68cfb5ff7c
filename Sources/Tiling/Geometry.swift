#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 2-D affine map p ↦ (a·x + b·y + tx, c·x + d·y + ty) in continuous pixel coordinates,
/// where pixel (i, j) covers [i, i + 1) × [j, j + 1) and its centre is (i + ½, j + ½).
///
/// Every geometric step (flip, quarter turn, rotation, scale, shear, translation) is one of
/// these; a variant composes them into a single map so that pixels are resampled once.
public struct Affine2D: Codable, Sendable, Equatable {
    public var a, b, c, d, tx, ty: Double

    public init(a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double) {
        (self.a, self.b, self.c, self.d, self.tx, self.ty) = (a, b, c, d, tx, ty)
    }

    public static let identity = Affine2D(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0)

    public static func translation(_ x: Double, _ y: Double) -> Affine2D {
        Affine2D(a: 1, b: 0, c: 0, d: 1, tx: x, ty: y)
    }

    /// Counter-clockwise as seen on screen (y points down), matching `numpy.rot90` for quarter turns.
    public static func rotation(degrees: Double) -> Affine2D {
        let (s, co) = exactSinCos(degrees)
        return Affine2D(a: co, b: s, c: -s, d: co, tx: 0, ty: 0)
    }

    public static func scaling(_ sx: Double, _ sy: Double) -> Affine2D {
        Affine2D(a: sx, b: 0, c: 0, d: sy, tx: 0, ty: 0)
    }

    /// x shifted by tan(angle)·y.
    public static func shear(degrees: Double) -> Affine2D {
        Affine2D(a: 1, b: tan(degrees * .pi / 180), c: 0, d: 1, tx: 0, ty: 0)
    }

    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }

    /// `next` applied after `self`.
    public func then(_ next: Affine2D) -> Affine2D {
        Affine2D(a: next.a * a + next.b * c, b: next.a * b + next.b * d,
                 c: next.c * a + next.d * c, d: next.c * b + next.d * d,
                 tx: next.a * tx + next.b * ty + next.tx, ty: next.c * tx + next.d * ty + next.ty)
    }

    /// The inverse map; nil when the map collapses the plane (zero determinant).
    public var inverse: Affine2D? {
        let det = a * d - b * c
        guard det != 0, det.isFinite else { return nil }
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return Affine2D(a: ia, b: ib, c: ic, d: id, tx: -(ia * tx + ib * ty), ty: -(ic * tx + id * ty))
    }

    /// The same map with entries within 1e-9 of an integer snapped to it, if every entry is
    /// that close and the linear part is a signed permutation: then the map moves pixels onto
    /// pixels and is applied by copying, so flips and quarter turns are exact on every target.
    var lattice: Affine2D? {
        let entries = [a, b, c, d, tx, ty]
        guard entries.allSatisfy({ abs($0 - $0.rounded()) < 1e-9 }) else { return nil }
        let r = entries.map { $0.rounded() }
        guard abs(r[0] * r[3] - r[1] * r[2]) == 1, r[0...3].allSatisfy({ abs($0) <= 1 }) else { return nil }
        return Affine2D(a: r[0], b: r[1], c: r[2], d: r[3], tx: r[4], ty: r[5])
    }
}

/// sin and cos of `degrees`, exact at multiples of 90° so that a 90° rotation is a lattice map.
func exactSinCos(_ degrees: Double) -> (Double, Double) {
    let quarter = degrees / 90
    if quarter == quarter.rounded() {
        switch ((Int(quarter) % 4) + 4) % 4 {
        case 0: return (0, 1)
        case 1: return (1, 0)
        case 2: return (0, -1)
        default: return (-1, 0)
        }
    }
    let r = degrees * .pi / 180
    return (sin(r), cos(r))
}

/// A displacement (in output pixels) at every output pixel centre, added before the affine
/// inverse: the source of output point p is `inverse(p + field(p))`. Smooth fields make the
/// elastic deformation.
struct DisplacementField: Sendable {
    let width: Int
    let height: Int
    let dx: [Float]
    let dy: [Float]

    /// The field at continuous point (x, y), bilinear between pixel centres, clamped at the border.
    func at(_ x: Double, _ y: Double) -> (Double, Double) {
        let u = min(max(x - 0.5, 0), Double(width - 1)), v = min(max(y - 0.5, 0), Double(height - 1))
        let x0 = min(Int(u), max(width - 2, 0)), y0 = min(Int(v), max(height - 2, 0))
        let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let fx = u - Double(x0), fy = v - Double(y0)
        func lerp(_ f: [Float]) -> Double {
            let top = Double(f[y0 * width + x0]) * (1 - fx) + Double(f[y0 * width + x1]) * fx
            let bottom = Double(f[y1 * width + x0]) * (1 - fx) + Double(f[y1 * width + x1]) * fx
            return top * (1 - fy) + bottom * fy
        }
        return (lerp(dx), lerp(dy))
    }
}

/// Where every output pixel of one tile variant comes from: the tile's origin in the source,
/// the composed forward map (tile-local input → output), and an optional elastic field.
public struct Warp: Sendable {
    /// Output width and height (a quarter turn swaps the tile's).
    public let width: Int
    public let height: Int
    /// Tile-local input coordinates → output coordinates.
    public let forward: Affine2D
    /// The tile's origin in source coordinates.
    let originX: Double
    let originY: Double
    let inverse: Affine2D
    let field: DisplacementField?

    init(width: Int, height: Int, forward: Affine2D, originX: Int, originY: Int, field: DisplacementField?) {
        precondition(field == nil || (field!.width == width && field!.height == height))
        self.width = width
        self.height = height
        let snapped = field == nil ? forward.lattice : nil
        self.forward = snapped ?? forward
        guard let inverse = self.forward.inverse else { preconditionFailure("singular warp \(forward)") }
        self.inverse = snapped.flatMap(\.inverse) ?? inverse
        self.originX = Double(originX)
        self.originY = Double(originY)
        self.field = field
    }

    /// True when output pixels are whole source pixels moved around.
    var isLattice: Bool { field == nil && forward.lattice == forward }

    /// Source coordinates of output point (x, y).
    func source(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        var (px, py) = (x, y)
        if let field {
            let (ddx, ddy) = field.at(x, y)
            px += ddx
            py += ddy
        }
        let s = inverse.apply(px, py)
        return (s.x + originX, s.y + originY)
    }

    /// Source coordinates of every output pixel centre, row-major.
    func sourceCoordinates() -> (x: [Double], y: [Double]) {
        var inv = inverse
        if field == nil {
            inv.tx += originX
            inv.ty += originY
            return Kernels.coordinates(inv, width: width, height: height, path: Kernels.coordinatesPath)
        }
        var xs = [Double](repeating: 0, count: width * height), ys = xs
        for y in 0 ..< height {
            for x in 0 ..< width {
                let s = source(Double(x) + 0.5, Double(y) + 0.5)
                xs[y * width + x] = s.x
                ys[y * width + x] = s.y
            }
        }
        return (xs, ys)
    }

    /// Output coordinates of source point (x, y). With an elastic field the map is inverted by
    /// fixed-point iteration p ← q − field(p), which converges for fields whose gradient stays
    /// below 1 (the smooth fields elastic deformation draws).
    public func forwardPoint(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let q = forward.apply(x - originX, y - originY)
        guard let field else { return q }
        var p = q
        for _ in 0 ..< 50 {
            let (ddx, ddy) = field.at(p.x, p.y)
            let next = (x: q.x - ddx, y: q.y - ddy)
            if abs(next.x - p.x) + abs(next.y - p.y) < 1e-9 { return next }
            p = next
        }
        return p
    }
}

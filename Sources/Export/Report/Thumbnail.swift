import BundleFormat
import Raster

/// Renders a tile for people: channels stretched to 8 bits between display limits shared by
/// every thumbnail of the page (see `limits`), up to three channels as RGB, instance outlines in
/// yellow, shrunk by an integer factor to at most `maxSide` pixels.
struct Thumbnail {
    var width: Int
    var height: Int
    var rgb: [UInt8]

    /// Per channel, the 1st and 99.5th percentiles over all `images`: one stretch for the whole
    /// page, so a nearly empty tile looks dark instead of having its noise stretched to full range.
    static func limits(_ images: [ImageBuffer]) -> [(lo: Double, hi: Double)] {
        guard let first = images.first else { return [] }
        return (0..<first.channels).map { c in
            var values: [Double] = []
            for image in images {
                let plane = image.width * image.height
                for i in stride(from: 0, to: plane, by: max(1, plane / 20000)) { values.append(image.pixels.double(at: c * plane + i)) }
            }
            values.sort()
            return (values[Int(Double(values.count - 1) * 0.01)], values[Int(Double(values.count - 1) * 0.995)])
        }
    }

    /// `objects` are drawn as outlines over the shrunk tile (boxes, point crosses, polygon
    /// rings), each in its class's colour from `colours` (white for a class without one).
    init(_ image: ImageBuffer, instances: LabelImage?, limits: [(lo: Double, hi: Double)], maxSide: Int = 128,
         objects: TileObjects? = nil, colours: [Int32: (UInt8, UInt8, UInt8)] = [:]) {
        let w = image.width, h = image.height, plane = w * h
        var rgb = Array(repeating: UInt8(0), count: plane * 3)
        let shown = min(3, image.channels)
        for c in 0..<shown {
            let (lo, hi) = limits[c]
            let scale = hi > lo ? 255 / (hi - lo) : 0
            for i in 0..<plane {
                let v = UInt8(max(0, min(255, ((image.pixels.double(at: c * plane + i) - lo) * scale).rounded())))
                if shown == 1 {
                    (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (v, v, v)
                } else {
                    rgb[3 * i + c] = v
                }
            }
        }
        if let instances {
            for y in 0..<h {
                for x in 0..<w {
                    let id = instances.values[y * w + x]
                    guard id != 0 else { continue }
                    let edge = x == 0 || y == 0 || x == w - 1 || y == h - 1
                        || instances.values[y * w + x - 1] != id || instances.values[y * w + x + 1] != id
                        || instances.values[(y - 1) * w + x] != id || instances.values[(y + 1) * w + x] != id
                    if edge { (rgb[3 * (y * w + x)], rgb[3 * (y * w + x) + 1], rgb[3 * (y * w + x) + 2]) = (255, 220, 0) }
                }
            }
        }
        let factor = max(1, (max(w, h) + maxSide - 1) / maxSide)
        width = w / factor
        height = h / factor
        if factor == 1 {
            self.rgb = rgb
        } else {
            // Every factor-th pixel: outlines stay crisp, which averaging would blur away.
            var small = Array(repeating: UInt8(0), count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    for k in 0..<3 { small[3 * (y * width + x) + k] = rgb[3 * (y * factor * w + x * factor) + k] }
                }
            }
            self.rgb = small
        }
        if let objects { draw(objects, scale: 1 / Double(factor), colours: colours) }
    }

    private mutating func draw(_ objects: TileObjects, scale: Double, colours: [Int32: (UInt8, UInt8, UInt8)]) {
        func colour(_ id: Int32) -> (UInt8, UInt8, UInt8) { colours[id] ?? (255, 255, 255) }
        for b in objects.boxes {
            let x0 = b.box.xMin * scale, y0 = b.box.yMin * scale
            // The last pixel inside the box, so a box ending at the tile edge stays visible.
            let x1 = b.box.xMax * scale - 1, y1 = b.box.yMax * scale - 1
            let c = colour(b.classID)
            line(x0, y0, x1, y0, c); line(x1, y0, x1, y1, c); line(x1, y1, x0, y1, c); line(x0, y1, x0, y0, c)
        }
        for p in objects.points {
            let x = p.point.x * scale, y = p.point.y * scale, c = colour(p.classID)
            line(x - 2, y, x + 2, y, c)
            line(x, y - 2, x, y + 2, c)
        }
        for p in objects.polygons {
            for ring in [p.polygon.exterior] + p.polygon.holes {
                for k in ring.indices {
                    let a = ring[k], b = ring[(k + 1) % ring.count]
                    line(a.x * scale, a.y * scale, b.x * scale, b.y * scale, colour(p.classID))
                }
            }
        }
    }

    /// A one-pixel line by sampling it at every pixel step, clipped to the thumbnail.
    private mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: (UInt8, UInt8, UInt8)) {
        let steps = max(1, Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)))
        for k in 0...steps {
            let t = Double(k) / Double(steps)
            let x = Int((x0 + t * (x1 - x0)).rounded(.down)), y = Int((y0 + t * (y1 - y0)).rounded(.down))
            guard x >= 0, y >= 0, x < width, y < height else { continue }
            (rgb[3 * (y * width + x)], rgb[3 * (y * width + x) + 1], rgb[3 * (y * width + x) + 2]) = c
        }
    }
}

extension PixelData {
    /// Sample `i` as a Double, whatever the type.
    func double(at i: Int) -> Double {
        switch self {
        case .uint8(let v): Double(v[i])
        case .uint16(let v): Double(v[i])
        case .float32(let v): Double(v[i])
        }
    }
}

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

    init(_ image: ImageBuffer, instances: LabelImage?, limits: [(lo: Double, hi: Double)], maxSide: Int = 128) {
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

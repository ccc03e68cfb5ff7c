import Raster

/// Where the buffers of a `SampleTargets` lie in the image they were read from: the whole
/// image, or a region of a whole-slide image too large to decode at once.
///
/// Tiles, warps and edge policies always work in the coordinates of the whole image (so the
/// true image border is where `reflect` mirrors and `constant` pads); only fetching a sample
/// subtracts the window's origin. A tile or warp must read only pixels inside the window
/// (`TileExtractor.footprint`, `Augmenter.footprint` say which); reading outside traps.
public struct ImageWindow: Sendable, Equatable {
    /// The buffers' rectangle in image coordinates.
    public var rect: PixelRect
    public var imageWidth: Int
    public var imageHeight: Int

    public init(rect: PixelRect, imageWidth: Int, imageHeight: Int) {
        precondition(rect.x >= 0 && rect.y >= 0 && rect.width > 0 && rect.height > 0
                     && rect.x + rect.width <= imageWidth && rect.y + rect.height <= imageHeight,
                     "window \(rect) does not lie inside the \(imageWidth)x\(imageHeight) image")
        self.rect = rect
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }

    /// A buffer holding the whole `width × height` image.
    public static func whole(width: Int, height: Int) -> ImageWindow {
        ImageWindow(rect: PixelRect(x: 0, y: 0, width: width, height: height), imageWidth: width, imageHeight: height)
    }

    /// Whether the buffers hold the whole image.
    public var isWhole: Bool { rect.x == 0 && rect.y == 0 && rect.width == imageWidth && rect.height == imageHeight }

    /// Whether every pixel of `r` is in the window.
    public func contains(_ r: PixelRect) -> Bool {
        r.x >= rect.x && r.y >= rect.y && r.x + r.width <= rect.x + rect.width && r.y + r.height <= rect.y + rect.height
    }

    /// Offset of image pixel (0, 0) in a plane of the buffer: sample (x, y) of a plane is at
    /// `y * rect.width + x + planeOffset` (negative unless the window starts at the origin).
    var planeOffset: Int { -(rect.y * rect.width + rect.x) }
}

/// The smallest rectangle holding two rectangles.
public func union(_ a: PixelRect, _ b: PixelRect) -> PixelRect {
    let x = min(a.x, b.x), y = min(a.y, b.y)
    return PixelRect(x: x, y: y, width: max(a.x + a.width, b.x + b.width) - x, height: max(a.y + a.height, b.y + b.height) - y)
}

/// The rows (or columns) of an axis of `count` samples that taps `taps` read once mapped by
/// the border (`reflect` mirrors, otherwise taps outside read nothing), nil when none is read.
func axisFootprint(_ taps: ClosedRange<Int>, count: Int, reflect: Bool) -> ClosedRange<Int>? {
    var lo = Int.max, hi = Int.min
    if taps.upperBound >= 0 && taps.lowerBound < count {
        lo = max(taps.lowerBound, 0)
        hi = min(taps.upperBound, count - 1)
    }
    if reflect && (taps.lowerBound < 0 || taps.upperBound >= count) {
        // Taps reaching a whole period or more can land anywhere.
        if taps.count >= 2 * count { return 0 ... count - 1 }
        for i in taps where i < 0 || i >= count {
            let r = reflectIndex(i, count: count)
            lo = min(lo, r)
            hi = max(hi, r)
        }
    }
    return lo <= hi ? lo ... hi : nil
}

/// The rectangle of per-axis footprints, nil when either axis reads nothing.
func footprintRect(x: ClosedRange<Int>?, y: ClosedRange<Int>?) -> PixelRect? {
    guard let x, let y else { return nil }
    return PixelRect(x: x.lowerBound, y: y.lowerBound, width: x.count, height: y.count)
}

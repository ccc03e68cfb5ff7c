import Raster

/// Cuts tiles out of images and label images, padding edge tiles by their `EdgePolicy`.
///
/// Tiles come from `TileGrid` (or follow its shape rules): `rect` starts inside the image at
/// x, y ≥ 0 and `valid` is its intersection with the image, so padding is only ever needed on
/// the right and bottom. A tile that does not fit the image it is applied to is a programmer
/// error and traps.
public enum TileExtractor {
    /// The tile's pixels as a tile-sized image with the same channels and pixel type.
    ///
    /// Outside the image, `reflect` mirrors exactly like `numpy.pad(mode: "reflect")`: the edge
    /// pixel is not repeated (`… c b | a b c d | c b a …`), padding wider than the image keeps
    /// reflecting back and forth (period 2·(n − 1)), and a one-pixel-wide image repeats its
    /// single pixel. `constant` fills with `padValue` converted to the pixel type: for
    /// integer types rounded to nearest (halves away from zero) and clamped to the type's
    /// range, for `float32` rounded to the nearest `Float`. `drop` tiles never need padding.
    ///
    /// `window` says where `image` lies in the image the tile was planned on (the whole of it
    /// when nil); it must hold the tile's `footprint`.
    public static func extract(_ image: ImageBuffer, tile: Tile, edge: EdgePolicy, padValue: Double,
                               window: ImageWindow? = nil) -> ImageBuffer {
        let geometry = Geometry(tile: tile, window: window ?? .whole(width: image.width, height: image.height), edge: edge)
        let pixels: PixelData = switch image.pixels {
        case .uint8(let v):
            .uint8(geometry.extract(v, channels: image.channels, pad: clampedInteger(padValue)))
        case .uint16(let v):
            .uint16(geometry.extract(v, channels: image.channels, pad: clampedInteger(padValue)))
        case .float32(let v):
            .float32(geometry.extract(v, channels: image.channels, pad: Float(padValue)))
        }
        return ImageBuffer(width: tile.rect.width, height: tile.rect.height, channels: image.channels, pixels: pixels)
    }

    /// The tile's labels as a tile-sized label image.
    ///
    /// `constant` pads with 0 (background), never with the image pad value: an invented
    /// object id or class would be a false label. `reflect` mirrors labels exactly as it
    /// mirrors the image, so masks stay aligned with the mirrored pixels; a mirrored instance
    /// keeps its id, so the same id can appear as two disjoint regions in one tile.
    public static func extract(_ labels: LabelImage, tile: Tile, edge: EdgePolicy, window: ImageWindow? = nil) -> LabelImage {
        let geometry = Geometry(tile: tile, window: window ?? .whole(width: labels.width, height: labels.height), edge: edge)
        return LabelImage(width: tile.rect.width, height: tile.rect.height,
                          values: geometry.extract(labels.values, channels: 1, pad: 0))
    }

    /// The pixels `extract` reads for `tile` of a `imageWidth × imageHeight` image: the tile's
    /// valid part and, with `reflect`, the pixels its padding mirrors.
    public static func footprint(tile: Tile, imageWidth: Int, imageHeight: Int, edge: EdgePolicy) -> PixelRect {
        Geometry(tile: tile, window: .whole(width: imageWidth, height: imageHeight), edge: edge).footprint
    }

    /// A new image made of `image`'s channels at `indices`, in that order; indices may repeat
    /// (e.g. grey → RGB). Indices are validated by the caller against `image.channels` (the
    /// recipe's channel map is checked when the plan is built), so an out-of-range index traps.
    public static func selectChannels(_ image: ImageBuffer, _ indices: [Int]) -> ImageBuffer {
        precondition(!indices.isEmpty, "selectChannels needs at least one channel")
        for i in indices {
            precondition(i >= 0 && i < image.channels, "channel \(i) out of range 0..<\(image.channels)")
        }
        let plane = image.width * image.height
        func select<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(plane * indices.count)
            for i in indices { out.append(contentsOf: v[i * plane ..< (i + 1) * plane]) }
            return out
        }
        let pixels: PixelData = switch image.pixels {
        case .uint8(let v): .uint8(select(v))
        case .uint16(let v): .uint16(select(v))
        case .float32(let v): .float32(select(v))
        }
        return ImageBuffer(width: image.width, height: image.height, channels: indices.count, pixels: pixels)
    }

    /// `value` rounded half away from zero and clamped to `T`'s range.
    ///
    /// Written without `rounded(_:)`, a libm call on the baseline x86-64 target, because it
    /// runs for every sample of every augmented tile; the result is the same for every input.
    static func clampedInteger<T: FixedWidthInteger & UnsignedInteger>(_ value: Double) -> T {
        precondition(T.bitWidth <= 32, "clampedInteger is for 8- to 32-bit samples")
        if value < 0.5 { return 0 }
        if value >= Double(T.max) - 0.5 { return T.max }
        // value ≥ 0.5, so the truncation is ⌊value⌋ and value − ⌊value⌋ is exact.
        // The half test is a coin toss on real data: added as 0 or 1 rather than branched on.
        let t = Int64(value), up = value - Double(t) >= 0.5
        return T(truncatingIfNeeded: t &+ Int64(unsafeBitCast(up, to: UInt8.self)))
    }
}

/// Where each output row and padding column of one tile reads from, computed once per tile
/// and shared by all channels.
private struct Geometry {
    let window: ImageWindow
    let tileWidth: Int
    let tileHeight: Int
    /// Source x of the tile's first column.
    let x0: Int
    /// Number of leading tile columns inside the image.
    let validWidth: Int
    /// Source row of each output row, or nil for a constant-padded row.
    let sourceRows: [Int?]
    /// Source x of each column after `validWidth`, or nil where the columns are constant-padded.
    let padColumns: [Int]?

    init(tile: Tile, window: ImageWindow, edge: EdgePolicy) {
        let r = tile.rect
        let imageWidth = window.imageWidth, imageHeight = window.imageHeight
        precondition(r.x >= 0 && r.y >= 0 && r.x < imageWidth && r.y < imageHeight,
                     "tile \(r) does not start inside the \(imageWidth)x\(imageHeight) image")
        let valid = PixelRect(x: r.x, y: r.y, width: min(r.width, imageWidth - r.x),
                              height: min(r.height, imageHeight - r.y))
        precondition(tile.valid == valid, "tile valid rect \(tile.valid) does not match \(valid) for this image")
        precondition(edge != .drop || valid == r, "drop tile \(r) extends past the image")
        self.window = window
        tileWidth = r.width
        tileHeight = r.height
        x0 = r.x
        validWidth = valid.width
        switch edge {
        case .reflect:
            sourceRows = (0 ..< r.height).map { reflectIndex(r.y + $0, count: imageHeight) }
            padColumns = (valid.width ..< r.width).map { reflectIndex(r.x + $0, count: imageWidth) }
        case .constant, .drop:
            sourceRows = (0 ..< r.height).map { $0 < valid.height ? r.y + $0 : nil }
            padColumns = nil
        }
    }

    /// Every source pixel `extract` reads.
    var footprint: PixelRect {
        let rows = sourceRows.compactMap { $0 }, columns = (padColumns ?? []) + [x0, x0 + validWidth - 1]
        return PixelRect(x: columns.min()!, y: rows.min()!, width: columns.max()! - columns.min()! + 1,
                         height: rows.max()! - rows.min()! + 1)
    }

    /// Extracts the tile from `channels` planes of `source`; the in-image part of each row is
    /// one contiguous block copy, only padding is filled per sample.
    func extract<T>(_ source: [T], channels: Int, pad: T) -> [T] {
        let bufferWidth = window.rect.width, planeIn = bufferWidth * window.rect.height
        let planeOut = tileWidth * tileHeight
        precondition(source.count == planeIn * channels, "buffer does not match its window \(window.rect)")
        // Unchecked pointer reads below: the tile must not read outside the buffer.
        if !window.isWhole {
            precondition(window.contains(footprint), "tile reads \(footprint), outside the window \(window.rect)")
        }
        return source.withUnsafeBufferPointer { src in
            Array(unsafeUninitializedCapacity: planeOut * channels) { dst, initialized in
                var o = 0
                for c in 0 ..< channels {
                    let plane = c * planeIn
                    for sourceRow in sourceRows {
                        guard let y = sourceRow else {
                            dst.baseAddress!.advanced(by: o).initialize(repeating: pad, count: tileWidth)
                            o += tileWidth
                            continue
                        }
                        let row = plane + y * bufferWidth + window.planeOffset
                        let block = UnsafeBufferPointer(rebasing: src[row + x0 ..< row + x0 + validWidth])
                        _ = UnsafeMutableBufferPointer(rebasing: dst[o ..< o + validWidth]).initialize(from: block)
                        o += validWidth
                        if let padColumns {
                            for x in padColumns { (dst.baseAddress! + o).initialize(to: src[row + x]); o += 1 }
                        } else {
                            let padCount = tileWidth - validWidth
                            dst.baseAddress!.advanced(by: o).initialize(repeating: pad, count: padCount)
                            o += padCount
                        }
                    }
                }
                initialized = o
            }
        }
    }
}

/// `numpy.pad(mode: "reflect")`'s source index for position `i` of an axis of `count` samples:
/// mirror about the first and last sample without repeating them, periodically with period
/// 2·(count − 1); a single sample is repeated.
func reflectIndex(_ i: Int, count: Int) -> Int {
    guard count > 1 else { return 0 }
    let period = 2 * (count - 1)
    let r = ((i % period) + period) % period
    return r < count ? r : period - r
}

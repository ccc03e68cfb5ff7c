import Raster

/// What happens where a tile grid meets the right or bottom edge of an image.
public enum EdgePolicy: String, Codable, Sendable, CaseIterable, NamedChoice {
    /// Keep only tiles that lie fully inside the image; the remainder strip is not exported.
    case drop
    /// Pad the part of an edge tile outside the image by mirroring the image about its last
    /// row/column without repeating it, like `numpy.pad(mode: "reflect")`.
    case reflect
    /// Pad the part of an edge tile outside the image with a constant (`TileGridSpec.padValue`
    /// for images, 0 = background for labels).
    case constant
}

/// The size, step and edge handling of a regular tile grid, as a recipe states it.
///
/// A stride larger than the tile size is allowed: it samples tiles with gaps between them
/// (useful to thin out very large images); pixels in the gaps are not exported.
public struct TileGridSpec: Codable, Sendable, Equatable {
    /// Tile width in pixels, ≥ 1.
    public let tileWidth: Int
    /// Tile height in pixels, ≥ 1.
    public let tileHeight: Int
    /// Horizontal distance between the origins of neighbouring tiles, ≥ 1.
    public let strideX: Int
    /// Vertical distance between the origins of neighbouring tiles, ≥ 1.
    public let strideY: Int
    /// How tiles at the right and bottom edges are handled.
    public let edge: EdgePolicy
    /// The image value used by `EdgePolicy.constant`; finite, so that a manifest can record it
    /// as JSON. Converted to the pixel type as `TileExtractor` documents.
    public let padValue: Double

    /// Validates and stores a grid. Throws a `TilingError` naming the first field out of range.
    public init(
        tileWidth: Int, tileHeight: Int, strideX: Int, strideY: Int,
        edge: EdgePolicy, padValue: Double = 0
    ) throws(TilingError) {
        for (field, value) in [("tileWidth", tileWidth), ("tileHeight", tileHeight),
                               ("strideX", strideX), ("strideY", strideY)] where value < 1 {
            throw TilingError(code: .invalidGridSpec, message: "must be at least 1, got \(value)", field: field)
        }
        guard padValue.isFinite else {
            throw TilingError(code: .invalidGridSpec, message: "must be a finite number, got \(padValue)",
                              field: "padValue")
        }
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.strideX = strideX
        self.strideY = strideY
        self.edge = edge
        self.padValue = padValue
    }

    private enum CodingKeys: String, CodingKey {
        case tileWidth, tileHeight, strideX, strideY, edge, padValue
    }

    /// Decodes and validates; `padValue` may be omitted (0). A value out of range becomes a
    /// `DecodingError.dataCorrupted` whose coding path ends at the field and whose underlying
    /// error is the `TilingError`, so recipe errors can point at the exact key.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                tileWidth: c.decode(Int.self, forKey: .tileWidth),
                tileHeight: c.decode(Int.self, forKey: .tileHeight),
                strideX: c.decode(Int.self, forKey: .strideX),
                strideY: c.decode(Int.self, forKey: .strideY),
                edge: c.decode(EdgePolicy.self, forKey: .edge),
                padValue: c.decodeIfPresent(Double.self, forKey: .padValue) ?? 0)
        } catch let error as TilingError {
            let key = CodingKeys(rawValue: error.field).map { [$0] } ?? []
            throw DecodingError.dataCorrupted(.init(
                codingPath: c.codingPath + key, debugDescription: error.message, underlyingError: error))
        }
    }
}

/// One tile of a grid: where it lies in the source image and which part of it is real pixels.
public struct Tile: Sendable, Equatable {
    /// The full tile in source coordinates; `x, y ≥ 0`, size = the grid's tile size. It may
    /// extend past the right/bottom edge of the image (padded edge tiles).
    public let rect: PixelRect
    /// The part of `rect` inside the image: same origin, never empty.
    public let valid: PixelRect
    /// Zero-based grid row (index of the tile's origin along y); −1 for a tile not on a grid
    /// (`randomTiles`).
    public let row: Int
    /// Zero-based grid column (index of the tile's origin along x); −1 off a grid.
    public let column: Int

    public init(rect: PixelRect, valid: PixelRect, row: Int, column: Int) {
        self.rect = rect
        self.valid = valid
        self.row = row
        self.column = column
    }
}

/// Lays regular tile grids over images.
public enum TileGrid {
    /// The tiles of `spec` over an image of `imageWidth` × `imageHeight`, in row-major order
    /// (y outer, x inner).
    ///
    /// Grid rule, applied to x and y independently (shown for x):
    /// - Tile origins are x = 0, strideX, 2·strideX, … .
    /// - `drop`: a tile is kept only if it lies fully inside the image (x + tileWidth ≤
    ///   imageWidth). An image narrower than the tile gives no tiles.
    /// - `reflect` / `constant`: tiles continue while their origin is < imageWidth and the
    ///   previous tile did not already reach the edge; the last tile is the first whose right
    ///   edge x + tileWidth ≥ imageWidth. No tile is entirely padding, and when stride ≤ tile
    ///   size every pixel is in at least one tile. An image narrower than the tile gives one
    ///   column of tiles at x = 0.
    /// - An image with zero width or height has no tiles under any policy.
    public static func tiles(imageWidth: Int, imageHeight: Int, spec: TileGridSpec) -> [Tile] {
        precondition(imageWidth >= 0 && imageHeight >= 0, "negative image size")
        let xs = origins(extent: imageWidth, tile: spec.tileWidth, stride: spec.strideX, edge: spec.edge)
        let ys = origins(extent: imageHeight, tile: spec.tileHeight, stride: spec.strideY, edge: spec.edge)
        var tiles: [Tile] = []
        tiles.reserveCapacity(xs.count * ys.count)
        for (row, y) in ys.enumerated() {
            for (column, x) in xs.enumerated() {
                tiles.append(Tile(
                    rect: PixelRect(x: x, y: y, width: spec.tileWidth, height: spec.tileHeight),
                    valid: PixelRect(x: x, y: y, width: min(spec.tileWidth, imageWidth - x),
                                     height: min(spec.tileHeight, imageHeight - y)),
                    row: row, column: column))
            }
        }
        return tiles
    }

    /// Tile origins along one axis, by the rule documented on `tiles`.
    static func origins(extent: Int, tile: Int, stride: Int, edge: EdgePolicy) -> [Int] {
        var result: [Int] = []
        var origin = 0
        switch edge {
        case .drop:
            while origin + tile <= extent {
                result.append(origin)
                origin += stride
            }
        case .reflect, .constant:
            while origin < extent {
                result.append(origin)
                if origin + tile >= extent { break }
                origin += stride
            }
        }
        return result
    }
}

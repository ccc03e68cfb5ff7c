import Raster
import Testing
@testable import Tiling

/// Grid invariants over many (image size, tile, stride, policy) combinations.
@Suite struct TileGridPropertyTests {
    static let extents = [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 64, 100]
    static let tiles = [1, 2, 3, 4, 7, 8, 16, 33]
    static let strides = [1, 2, 3, 5, 8, 16, 40]

    /// Runs `body` for every combination, with the tile size and stride on x differing from y
    /// so that swapped axes would be caught.
    private func forEachCombination(_ body: (Int, Int, TileGridSpec, [Tile]) throws -> Void) throws {
        for edge in EdgePolicy.allCases {
            for w in Self.extents {
                for h in [1, 6, 19] {
                    for tile in Self.tiles {
                        for stride in Self.strides {
                            let spec = try TileGridSpec(tileWidth: tile, tileHeight: tile + 1,
                                                        strideX: stride, strideY: stride + 1,
                                                        edge: edge, padValue: 0)
                            try body(w, h, spec, TileGrid.tiles(imageWidth: w, imageHeight: h, spec: spec))
                        }
                    }
                }
            }
        }
    }

    @Test func rectsAndValidAreConsistentAndInRowMajorOrder() throws {
        try forEachCombination { w, h, spec, tiles in
            let columns = Set(tiles.map(\.rect.x)).count
            for (i, t) in tiles.enumerated() {
                #expect(t.rect.width == spec.tileWidth && t.rect.height == spec.tileHeight)
                #expect(t.rect.x == t.column * spec.strideX && t.rect.y == t.row * spec.strideY)
                #expect(t.row == i / columns && t.column == i % columns)
                #expect(t.valid == PixelRect(x: t.rect.x, y: t.rect.y,
                                             width: min(spec.tileWidth, w - t.rect.x),
                                             height: min(spec.tileHeight, h - t.rect.y)))
                // No tile is entirely padding.
                #expect(t.valid.width >= 1 && t.valid.height >= 1)
            }
        }
    }

    @Test func dropTilesLieInsideAndNoFurtherTileFits() throws {
        try forEachCombination { w, h, spec, tiles in
            guard spec.edge == .drop else { return }
            #expect(tiles.allSatisfy { $0.valid == $0.rect })
            let expectedColumns = w < spec.tileWidth ? 0 : (w - spec.tileWidth) / spec.strideX + 1
            let expectedRows = h < spec.tileHeight ? 0 : (h - spec.tileHeight) / spec.strideY + 1
            #expect(tiles.count == expectedColumns * expectedRows, "\(w)x\(h) \(spec)")
        }
    }

    @Test func paddedGridsCoverEveryPixelWhenStrideFitsTile() throws {
        try forEachCombination { w, h, spec, tiles in
            guard spec.edge != .drop else { return }
            let last = try #require(tiles.last)
            // The last column/row either reaches the edge or the next origin is past it (gaps).
            #expect(last.rect.x + spec.tileWidth >= w || last.rect.x + spec.strideX >= w)
            #expect(last.rect.y + spec.tileHeight >= h || last.rect.y + spec.strideY >= h)
            guard spec.strideX <= spec.tileWidth && spec.strideY <= spec.tileHeight else { return }
            var covered = [Bool](repeating: false, count: w * h)
            for t in tiles {
                for y in t.valid.y ..< t.valid.y + t.valid.height {
                    for x in t.valid.x ..< t.valid.x + t.valid.width { covered[y * w + x] = true }
                }
            }
            #expect(covered.allSatisfy { $0 }, "\(w)x\(h) \(spec)")
        }
    }
}

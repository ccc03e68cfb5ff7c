import Foundation
import Raster
import Testing
@testable import Tiling

private func spec(_ tile: Int, _ stride: Int, _ edge: EdgePolicy) throws -> TileGridSpec {
    try TileGridSpec(tileWidth: tile, tileHeight: tile, strideX: stride, strideY: stride, edge: edge)
}

private func rect(_ x: Int, _ y: Int, _ w: Int, _ h: Int) -> PixelRect {
    PixelRect(x: x, y: y, width: w, height: h)
}

@Suite struct TileGridSpecTests {
    @Test func rejectsNonPositiveSizesNamingTheField() {
        #expect(throws: TilingError(code: .invalidGridSpec, message: "must be at least 1, got 0", field: "tileWidth")) {
            try TileGridSpec(tileWidth: 0, tileHeight: 8, strideX: 8, strideY: 8, edge: .drop)
        }
        #expect(throws: TilingError(code: .invalidGridSpec, message: "must be at least 1, got -3", field: "strideY")) {
            try TileGridSpec(tileWidth: 8, tileHeight: 8, strideX: 8, strideY: -3, edge: .drop)
        }
        #expect(throws: TilingError.self) {
            try TileGridSpec(tileWidth: 8, tileHeight: 8, strideX: 8, strideY: 8, edge: .constant, padValue: .nan)
        }
    }

    @Test func strideLargerThanTileIsAllowed() throws {
        let s = try TileGridSpec(tileWidth: 4, tileHeight: 4, strideX: 10, strideY: 10, edge: .constant)
        #expect(TileGrid.tiles(imageWidth: 25, imageHeight: 5, spec: s).map(\.rect.x) == [0, 10, 20])
    }

    @Test func decodesWithDefaultPadValueAndRoundTrips() throws {
        let json = #"{"tileWidth":64,"tileHeight":32,"strideX":48,"strideY":32,"edge":"reflect"}"#
        let s = try JSONDecoder().decode(TileGridSpec.self, from: Data(json.utf8))
        #expect(s == (try TileGridSpec(tileWidth: 64, tileHeight: 32, strideX: 48, strideY: 32, edge: .reflect)))
        let again = try JSONDecoder().decode(TileGridSpec.self, from: JSONEncoder().encode(s))
        #expect(again == s)
    }

    @Test func decodingAnInvalidValuePointsAtItsKey() {
        let json = #"{"tileWidth":64,"tileHeight":32,"strideX":0,"strideY":32,"edge":"drop"}"#
        do {
            _ = try JSONDecoder().decode(TileGridSpec.self, from: Data(json.utf8))
            Issue.record("decoded an invalid spec")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.codingPath.map(\.stringValue) == ["strideX"])
            #expect((context.underlyingError as? TilingError)?.field == "strideX")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite struct TileGridTests {
    @Test func exactFitGivesFourTiles() throws {
        let tiles = TileGrid.tiles(imageWidth: 256, imageHeight: 256, spec: try spec(128, 128, .drop))
        #expect(tiles.map(\.rect) == [rect(0, 0, 128, 128), rect(128, 0, 128, 128),
                                      rect(0, 128, 128, 128), rect(128, 128, 128, 128)])
        #expect(tiles.map(\.valid) == tiles.map(\.rect))
        #expect(tiles.map { [$0.row, $0.column] } == [[0, 0], [0, 1], [1, 0], [1, 1]])
        // Pad policies add nothing when the grid fits exactly.
        #expect(TileGrid.tiles(imageWidth: 256, imageHeight: 256, spec: try spec(128, 128, .reflect)) == tiles)
    }

    @Test func paddedEdgeTiles() throws {
        let tiles = TileGrid.tiles(imageWidth: 360, imageHeight: 360, spec: try spec(128, 128, .reflect))
        #expect(tiles.count == 9)
        let last = try #require(tiles.last)
        #expect(last.rect == rect(256, 256, 128, 128))
        #expect(last.valid == rect(256, 256, 104, 104))
        #expect(last.row == 2 && last.column == 2)
        #expect(tiles[2].valid == rect(256, 0, 104, 128))
        #expect(TileGrid.tiles(imageWidth: 360, imageHeight: 360, spec: try spec(128, 128, .constant))
            .map(\.valid) == tiles.map(\.valid))
    }

    @Test func dropKeepsOnlyFullTiles() throws {
        let tiles = TileGrid.tiles(imageWidth: 360, imageHeight: 360, spec: try spec(128, 128, .drop))
        #expect(tiles.map(\.rect) == [rect(0, 0, 128, 128), rect(128, 0, 128, 128),
                                      rect(0, 128, 128, 128), rect(128, 128, 128, 128)])
    }

    @Test func overlappingStride() throws {
        // Origins 0, 96, 192: 192 + 128 = 320 ≥ 300 ends the row.
        let padded = TileGrid.tiles(imageWidth: 300, imageHeight: 128, spec: try spec(128, 96, .constant))
        #expect(padded.map(\.rect.x) == [0, 96, 192])
        #expect(padded.map(\.valid.width) == [128, 128, 108])
        let dropped = TileGrid.tiles(imageWidth: 300, imageHeight: 128, spec: try spec(128, 96, .drop))
        #expect(dropped.map(\.rect.x) == [0, 96])
        // 224 = 96 + 128 reaches the edge exactly, so no third tile.
        #expect(TileGrid.tiles(imageWidth: 224, imageHeight: 128, spec: try spec(128, 96, .reflect))
            .map(\.rect.x) == [0, 96])
    }

    @Test func imageSmallerThanTile() throws {
        #expect(TileGrid.tiles(imageWidth: 100, imageHeight: 60, spec: try spec(128, 128, .drop)).isEmpty)
        let tiles = TileGrid.tiles(imageWidth: 100, imageHeight: 60, spec: try spec(128, 128, .reflect))
        #expect(tiles == [Tile(rect: rect(0, 0, 128, 128), valid: rect(0, 0, 100, 60), row: 0, column: 0)])
        #expect(TileGrid.tiles(imageWidth: 0, imageHeight: 60, spec: try spec(128, 128, .constant)).isEmpty)
    }

    @Test func nonSquareTilesAndStrides() throws {
        let s = try TileGridSpec(tileWidth: 10, tileHeight: 4, strideX: 10, strideY: 3, edge: .constant, padValue: 1)
        let tiles = TileGrid.tiles(imageWidth: 15, imageHeight: 8, spec: s)
        // y: 0 + 4 < 8 and 3 + 4 < 8 continue; 6 + 4 ≥ 8 is the last row.
        #expect(tiles.map(\.rect.x) == [0, 10, 0, 10, 0, 10])
        #expect(tiles.map(\.rect.y) == [0, 0, 3, 3, 6, 6])
        #expect(tiles.map(\.valid.width) == [10, 5, 10, 5, 10, 5])
        #expect(tiles.map(\.valid.height) == [4, 4, 4, 4, 2, 2])
    }
}

import Foundation
import Raster
import Testing
@testable import Tiling

@Suite struct RandomStreamTests {
    // Random123's kat_vectors for philox4x32_10.
    @Test func philoxMatchesRandom123KnownAnswers() {
        let zero = philox4x32_10(counter: (0, 0, 0, 0), key: (0, 0))
        #expect([zero.0, zero.1, zero.2, zero.3] == [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let ones = philox4x32_10(counter: (.max, .max, .max, .max), key: (.max, .max))
        #expect([ones.0, ones.1, ones.2, ones.3] == [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        let pi = philox4x32_10(counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: (0xa409_3822, 0x299f_31d0))
        #expect([pi.0, pi.1, pi.2, pi.3] == [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    /// A variant's draws depend on its address only: drawing other variants first changes nothing,
    /// and changing any part of the address changes the draws.
    @Test func drawsAreAddressedNotOrdered() {
        func firstDraws(_ s: RandomStream) -> [UInt32] {
            var s = s
            return (0 ..< 8).map { _ in s.nextUInt32() }
        }
        let base = RandomStream(seed: 42, tileKey: 7, augmentation: 3)
        var other = RandomStream(seed: 42, tileKey: 7, augmentation: 2)
        for _ in 0 ..< 100 { _ = other.nextUInt32() }
        #expect(firstDraws(base) == firstDraws(RandomStream(seed: 42, tileKey: 7, augmentation: 3)))
        let b0 = base.block(1)
        #expect(Array(firstDraws(base)[4 ..< 8]) == [b0.0, b0.1, b0.2, b0.3])
        for changed in [RandomStream(seed: 43, tileKey: 7, augmentation: 3), RandomStream(seed: 42, tileKey: 8, augmentation: 3),
                        RandomStream(seed: 42, tileKey: 7, augmentation: 4), base.substream(1)] {
            #expect(firstDraws(changed) != firstDraws(base))
        }
    }

    @Test func uniformAndNormalHaveTheirMoments() {
        var r = RandomStream(seed: 1, tileKey: 2, augmentation: 0)
        let u = (0 ..< 20000).map { _ in r.uniform() }
        let g = (0 ..< 20000).map { _ in r.normal() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(u.reduce(0, +) / 20000 - 0.5) < 0.01)
        let mean = g.reduce(0, +) / 20000, variance = g.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }

    @Test func tileKeyFoldsTheHexPrefix() {
        #expect(RandomStream.tileKey(fromHex: "0123456789abcdef" + String(repeating: "0", count: 48)) == 0x0123_4567_89ab_cdef)
        #expect(RandomStream.tileKey(fromHex: "xyz") == nil)
    }
}

@Suite struct PipelineTests {
    static let json = """
    {"variants": 3, "steps": [
      {"flip": {"horizontal": 0.5, "vertical": 0.5}},
      {"rot90": {"probability": 1}},
      {"affine": {"probability": 0.8, "rotation": [-30, 30], "scale": [0.9, 1.1], "shear": [-5, 5],
                  "translate": [-0.05, 0.05], "interpolation": "bicubic"}},
      {"elastic": {"probability": 0.5, "alpha": [10, 30], "sigma": 5, "interpolation": "bilinear"}},
      {"blur": {"probability": 0.5, "sigma": [0.5, 1.5]}},
      {"intensity": {"probability": 1, "brightness": [-0.1, 0.1], "contrast": [0.8, 1.2], "gamma": [0.8, 1.25]}},
      {"gaussianNoise": {"probability": 0.5, "sigma": [0, 0.03]}},
      {"poissonNoise": {"probability": 0.5, "photons": [50, 200]}},
      {"channelMix": {"probability": 0.5, "strength": 0.05}},
      {"stainJitter": {"probability": 0.5, "alpha": 0.05, "beta": 0.02}},
      {"normalize": {"method": {"percentile": {"low": 1, "high": 99}}}}
    ]}
    """

    static func pipeline() throws -> AugmentationPipeline {
        try JSONDecoder().decode(AugmentationPipeline.self, from: Data(json.utf8))
    }

    @Test func recipeFormDecodesAndRoundTrips() throws {
        let p = try Self.pipeline()
        #expect(p.variants == 3 && p.steps.count == 11)
        #expect(p.steps[2] == .affine(probability: 0.8, rotation: Interval(-30, 30), scale: Interval(0.9, 1.1),
                                      shear: Interval(-5, 5), translate: Interval(-0.05, 0.05), interpolation: .bicubic))
        let again = try JSONDecoder().decode(AugmentationPipeline.self, from: JSONEncoder().encode(p))
        #expect(again == p)
    }

    @Test(arguments: [
        ([AugmentationStep.flip(horizontal: 1.5, vertical: 0)], "steps[0].flip", "probability"),
        ([.blur(probability: 1, sigma: Interval(2, 1))], "steps[0].blur", "sigma"),
        ([.rot90(probability: 1), .normalize(method: .percentile(low: 99, high: 1))], "steps[1].normalize", "percentiles"),
        ([.elastic(probability: 1, alpha: Interval(1, 2), sigma: 3, interpolation: .bilinear),
          .elastic(probability: 1, alpha: Interval(1, 2), sigma: 3, interpolation: .bilinear)], "augmentation", "at most one elastic"),
    ])
    func invalidPipelinesNameTheStep(steps: [AugmentationStep], field: String, words: String) {
        #expect {
            _ = try AugmentationPipeline(variants: 1, steps: steps)
        } throws: { error in
            guard let e = error as? TilingError else { return false }
            return e.code == .invalidAugmentation && e.field == field && e.message.contains(words)
        }
    }

    /// Steps draw from their own streams: editing one step's range leaves the others' draws alone.
    @Test func stepsDrawIndependently() throws {
        let a = try AugmentationPipeline(variants: 1, steps: [
            .blur(probability: 1, sigma: Interval(0.5, 1.5)),
            .intensity(probability: 1, brightness: Interval(-0.1, 0.1), contrast: Interval(1, 1), gamma: Interval(1, 1))])
        let b = try AugmentationPipeline(variants: 1, steps: [
            .blur(probability: 1, sigma: Interval(2, 3)),
            .intensity(probability: 1, brightness: Interval(-0.1, 0.1), contrast: Interval(1, 1), gamma: Interval(1, 1))])
        let r = RandomStream(seed: 9, tileKey: 99, augmentation: 0)
        let da = a.draw(r, channels: 1, tileWidth: 8, tileHeight: 8), db = b.draw(r, channels: 1, tileWidth: 8, tileHeight: 8)
        #expect(da.steps[0] != db.steps[0])
        #expect(da.steps[1] == db.steps[1])
    }

    @Test func nonSquareTilesOnlyTurnByHalves() throws {
        let p = try AugmentationPipeline(variants: 1, steps: [.rot90(probability: 1)])
        var turns = Set<Int>()
        for k in 0 ..< 64 {
            for case .rot90(let q) in p.draw(RandomStream(seed: 0, tileKey: UInt64(k), augmentation: 0), channels: 1,
                                              tileWidth: 16, tileHeight: 8).steps { turns.insert(q) }
        }
        #expect(turns == [2])
    }
}

/// Determinism and replay with the full pipeline on a real stained (RGB) image.
@Suite("Determinism and replay on real data", .serialized, .enabled(if: SharedData.available, "needs ../shared/data"))
struct ReplayTests {
    let sample: SampleTargets
    let tiles: [Tile]
    let pipeline: AugmentationPipeline

    init() throws {
        sample = try dsbSample(dsbStained, crop: PixelRect(x: 0, y: 0, width: 200, height: 150))
        tiles = TileGrid.tiles(imageWidth: 200, imageHeight: 150,
                               spec: try TileGridSpec(tileWidth: 64, tileHeight: 64, strideX: 48, strideY: 48, edge: .reflect))
        pipeline = try PipelineTests.pipeline()
    }

    /// Every variant of every tile, in the order given.
    func augmentAll(_ order: [Int]) throws -> [Int: (DrawnAugmentation, AugmentedTile)] {
        var out: [Int: (DrawnAugmentation, AugmentedTile)] = [:]
        for t in order {
            for k in 0 ..< pipeline.variants {
                let r = RandomStream(seed: 2024, tileKey: UInt64(1000 + t), augmentation: UInt32(k))
                let drawn = pipeline.draw(r, channels: 3, tileWidth: 64, tileHeight: 64)
                out[t * 10 + k] = (drawn, try Augmenter.apply(drawn, to: sample, tile: tiles[t], border: .reflect, padValue: 0,
                                                              boxFilter: pipeline.boxFilter))
            }
        }
        return out
    }

    @Test func resultsDependOnAddressNotOrderThreadsOrBLASThreads() async throws {
        let forward = try augmentAll(Array(tiles.indices))
        BLAS.setThreads(2)
        let backward = try augmentAll(tiles.indices.reversed())
        BLAS.setThreads(1)
        // Two workers, each taking every other tile.
        let halves = try await withThrowingTaskGroup(of: [Int: (DrawnAugmentation, AugmentedTile)].self) { group in
            for start in 0 ..< 2 {
                group.addTask { try augmentAll(Array(stride(from: start, to: tiles.count, by: 2))) }
            }
            var merged: [Int: (DrawnAugmentation, AugmentedTile)] = [:]
            for try await part in group { merged.merge(part) { a, _ in a } }
            return merged
        }
        #expect(forward.count == tiles.count * 3)
        for key in forward.keys.sorted() {
            #expect(forward[key]!.0 == backward[key]!.0 && forward[key]!.1 == backward[key]!.1, "tile \(key)")
            #expect(forward[key]!.0 == halves[key]!.0 && forward[key]!.1 == halves[key]!.1, "tile \(key)")
        }
        // The draws vary: not every variant is the same transform.
        #expect(Set(forward.values.map { "\($0.0)" }).count == forward.count)
    }

    /// The recorded parameters (as JSON, as a bundle stores them) regenerate the tile exactly.
    @Test func recordedParametersReplayTheTile() throws {
        let all = try augmentAll([2, 5])
        for key in all.keys.sorted() {
            let (drawn, tile) = all[key]!
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let record = try encoder.encode(drawn)
            let decoded = try JSONDecoder().decode(DrawnAugmentation.self, from: record)
            #expect(decoded == drawn)
            let replayed = try Augmenter.apply(decoded, to: sample, tile: tiles[key / 10], border: .reflect, padValue: 0,
                                               boxFilter: pipeline.boxFilter)
            #expect(replayed == tile)
            #expect(tile.image.pixelType == .float32 && tile.normalization.count == 1 && tile.normalization[0].count == 3)
        }
    }

    @Test func stainJitterRefusesNonRGB() throws {
        let grey = SampleTargets(image: TileExtractor.selectChannels(sample.image, [0]))
        #expect(throws: TilingError.self) {
            try Augmenter.apply(DrawnAugmentation(steps: [.stainJitter(alpha: [1, 1, 1], beta: [0, 0, 0])]), to: grey,
                                tile: tiles[0], border: .reflect, padValue: 0, boxFilter: BoxFilter())
        }
    }
}

@Suite struct PhotometricTests {
    static let flat = SampleTargets(image: ImageBuffer(width: 100, height: 100, channels: 1,
                                                       pixels: .float32(Array(repeating: 0.4, count: 10000))))

    @Test func gaussianNoiseHasTheDrawnSigma() throws {
        let out = floats(try run([.gaussianNoise(sigma: 0.05, field: RandomStream(seed: 1, tileKey: 1, augmentation: 0, stream: 2))], Self.flat).image)
        let mean = out.reduce(0, +) / 10000, sd = (out.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10000).squareRoot()
        #expect(abs(mean - 0.4) < 0.003 && abs(sd - 0.05) < 0.003)
    }

    @Test func poissonNoiseHasPoissonMoments() throws {
        // x = 0.4 at 50 photons: counts with mean 20 and variance 20.
        let out = floats(try run([.poissonNoise(photons: 50, field: RandomStream(seed: 1, tileKey: 1, augmentation: 0, stream: 2))], Self.flat).image)
        let counts = out.map { Double($0) * 50 }
        #expect(counts.allSatisfy { abs($0 - $0.rounded()) < 1e-3 })
        let mean = counts.reduce(0, +) / 10000, variance = counts.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10000
        #expect(abs(mean - 20) < 0.2 && abs(variance - 20) < 1.2)
    }

    // numpy.percentile(np.arange(100), [1, 99]) == [0.99, 98.01]
    @Test func percentileNormalizationRecordsNumpysPercentiles() throws {
        let image = ImageBuffer(width: 10, height: 10, channels: 1, pixels: .uint8((0 ..< 100).map { UInt8(99 - $0) }))
        let out = try run([.normalize(method: .percentile(low: 1, high: 99))], SampleTargets(image: image))
        #expect(out.normalization[0][0].count == 2)
        #expect(abs(out.normalization[0][0][0] - 0.99) < 1e-9 && abs(out.normalization[0][0][1] - 98.01) < 1e-9)
        #expect(abs(floats(out.image)[0] - Float((99 - 0.99) / (98.01 - 0.99))) < 1e-6)
    }

    @Test func intensityIsRoundedAndClampedIntoUInt8() throws {
        let image = ImageBuffer(width: 3, height: 1, channels: 1, pixels: .uint8([0, 128, 255]))
        let out = try run([.intensity(brightness: 0.2, contrast: 1, gamma: 1)], SampleTargets(image: image))
        // 0.2·255 = 51; 128 + 51 = 179; 255 + 51 clamps.
        #expect(out.image.pixels == .uint8([51, 179, 255]))
    }
}

@Suite struct SamplingTests {
    // Brute force in numpy over every threshold of the same histogram gives t = 6.
    @Test func otsuMatchesBruteForce() {
        #expect(otsuThreshold(histogram: [0, 5, 20, 40, 22, 6, 1, 0, 0, 3, 10, 25, 30, 12, 4, 0]) == 6)
    }

    /// Crop windows of a regular overlapping grid give every interior pixel exactly one owner.
    @Test(arguments: [(16, 4), (16, 5), (10, 0)])
    func cropWindowsPartitionTheImage(tile: Int, overlap: Int) {
        let stride = tile - overlap
        let w = blendWindow(.crop, length: tile, overlap: overlap)
        var sum = [Double](repeating: 0, count: stride * 6 + tile)
        for t in 0 ..< 6 { for i in 0 ..< tile { sum[t * stride + i] += w[i] } }
        #expect(sum[tile ..< stride * 6].allSatisfy { $0 == 1 })
        #expect(blendWindow(.average, length: tile, overlap: overlap) == Array(repeating: 1, count: tile))
    }

    @Test func hannWindowPeaksInTheMiddleAndStaysPositive() {
        let w = blendWindow(.hann, length: 8, overlap: 4)
        #expect(w.allSatisfy { $0 > 0 })
        #expect(w[3] == w.max() && w[4] == w[3] && w[0] == w.min() && abs(w[0] - w[7]) < 1e-15)
        // sin²(π·0.5/8), the first sample's centre.
        #expect(abs(w[0] - 0.03806023374435663) < 1e-15)
    }

    @Test func balancedSamplingHonoursCapsAndIgnoresOrder() {
        var candidates: [SamplingCandidate] = []
        for i in 0 ..< 60 { candidates.append(SamplingCandidate(key: UInt64(i * 31 + 7), classID: i % 3, group: "g\(i % 4)")) }
        let chosen = balancedSample(candidates, seed: 5, perClass: 6, perGroup: 2).map { candidates[$0] }
        let reversed = Array(candidates.reversed())
        #expect(balancedSample(reversed, seed: 5, perClass: 6, perGroup: 2).map { reversed[$0].key }.sorted()
                == chosen.map(\.key).sorted())
        for c in 0 ..< 3 {
            #expect(chosen.filter { $0.classID == c }.count == 6)
            for g in 0 ..< 4 { #expect(chosen.filter { $0.classID == c && $0.group == "g\(g)" }.count <= 2) }
        }
        #expect(balancedSample(candidates, seed: 6, perClass: 6, perGroup: 2).map { candidates[$0] } != chosen)
        // A group cap alone: 60 candidates in 12 (class, group) pairs of 5, at most 2 each.
        #expect(balancedSample(candidates, seed: 5, perGroup: 2).count == 24)
    }

    @Test func randomTilesAreDistinctInsideAndRepeat() {
        let r = RandomStream(seed: 3, tileKey: 4, augmentation: 0)
        let a = randomTiles(count: 50, width: 32, height: 16, imageWidth: 100, imageHeight: 40, random: r)
        #expect(a == randomTiles(count: 50, width: 32, height: 16, imageWidth: 100, imageHeight: 40, random: r))
        #expect(a.count == 50 && Set(a.map(\.rect)).count == 50)
        #expect(a.allSatisfy { $0.rect.x + 32 <= 100 && $0.rect.y + 16 <= 40 && $0.row == -1 && $0.column == -1 })
        #expect(a.map { [$0.rect.y, $0.rect.x] } == a.map { [$0.rect.y, $0.rect.x] }.sorted { $0.lexicographicallyPrecedes($1) })
        // More tiles than positions: every position once; a tile larger than the image: none.
        #expect(randomTiles(count: 99, width: 3, height: 2, imageWidth: 4, imageHeight: 3, random: r).count == 4)
        #expect(randomTiles(count: 5, width: 8, height: 2, imageWidth: 4, imageHeight: 3, random: r).isEmpty)
    }

    @Test func rescaledLabelsKeepTheirIds() {
        let labels = LabelImage(width: 4, height: 2, values: [1, 1, 2, 2, 3, 3, 4, 4])
        let up = Rescale.labels(labels, width: 8, height: 4)
        #expect(Array(up.values[0 ..< 8]) == [1, 1, 1, 1, 2, 2, 2, 2])
        #expect(Rescale.size(width: 1000, height: 500, source: (0.65, 0.65), target: 1.3) == (500, 250))
    }
}

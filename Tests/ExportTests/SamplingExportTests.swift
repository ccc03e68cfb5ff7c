import AVDB
import BundleFormat
import Foundation
import ImageFormats
import Raster
import Testing
import Tiling
@testable import Export

/// Sampling and rescaling through the whole export, on the real data of `samples/`: foreground
/// filters against fractions counted on the unfiltered bundle's own tiles, the class balance on
/// the idr0026 table with its caps counted, tile choice independent of input names and order,
/// rescaling from OME-XML and ImageJ metadata, and replay of a rescaled, augmented sample.
@Suite(.serialized) struct SamplingExportTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../samples").standardizedFileURL
    static let dsb = samples.appendingPathComponent("dsb2018-nuclei/data")
    static let ome = Workspace.sharedData("ome-tiff-aics-zeiss")

    /// A recipe over the six DSB 2018 images of samples/dsb2018-nuclei (RGB, instance masks).
    static func dsbRecipe(root: String = dsb.path, images: String = "stage1_train/*/images/*.png", masks: Bool = true,
                          tiling: String = "size: 96\n  stride: 64\n  edge: reflect", extra: String = "") -> String {
        """
        recipe_version: 1
        dataset: {name: dsb-sampling, version: 0.1.0}
        seed: 11
        inputs:
          root: \(root)
          images: "\(images)"
        \(masks ? "labels:\n  instance_masks:\n    objects_dir: \"stage1_train/{stem}/masks\"" : "")
        channels: {select: [0, 1, 2]}
        tiling:
          \(tiling)
        \(extra)
        output:
          path: out/b.h5

        """
    }

    /// One tile's place: its source file's content and its rectangle.
    struct Place: Hashable { var sha: String; var x: Int64; var y: Int64 }

    static func places(_ bundle: URL) throws -> [Place] {
        let reader = try BundleReader(opening: bundle)
        let tiles = try reader.table(at: "/tiles"), sources = try reader.table(at: "/sources")
        guard case .int32(let s)? = tiles["source"], case .int64(let x)? = tiles["x"], case .int64(let y)? = tiles["y"],
              case .string(let sha)? = sources["sha256"] else { return [] }
        return s.indices.map { Place(sha: sha[Int(s[$0])], x: x[$0], y: y[$0]) }
    }

    static func doubles(_ bundle: URL, _ column: String) throws -> [Double] {
        guard case .float64(let v)? = try BundleReader(opening: bundle).table(at: "/tiles")[column] else { return [] }
        return v
    }

    // MARK: Recipe errors

    /// Each bad option fails with one line naming the recipe line and the key.
    @Test(arguments: [
        ("sampling:\n  random_tiles: 0", "random_tiles", "sampling.random_tiles: must be at least 1, got 0"),
        ("sampling:\n  random_tiles: many", "random_tiles", "sampling.random_tiles: expected an integer, got 'many'"),
        ("sampling:\n  foreground: {mask: instance, min_fraction: 0.1}", "foreground",
         "sampling.foreground.mask: 'instance' needs labels.instance_masks"),
        ("sampling:\n  foreground: {otsu: grey, min_fraction: 0.1}", "foreground",
         "sampling.foreground.otsu: 'grey' is not one of dark, bright"),
        ("sampling:\n  foreground:\n    otsu: dark\n    min_fraction: 1.5", "min_fraction",
         "sampling.foreground.min_fraction: must be greater than 0 and at most 1, got 1.5"),
        ("sampling:\n  foreground: {otsu: dark}", "foreground", "missing required key 'sampling.foreground.min_fraction'"),
        ("sampling:\n  foreground: {otsu: dark, mask: instance, min_fraction: 0.5}", "foreground",
         "sampling.foreground: give either mask or otsu, not both"),
        ("sampling:\n  balance:\n    per_group: 2\n    group_column: Plate", "group_column",
         "sampling.balance.group_column: names a column of the annotation table"),
        ("sampling:\n  balance: {}", "balance", "sampling.balance: give per_class, per_group or both"),
        ("sampling:\n  balanse: {per_class: 3}", "balanse", "unknown key 'sampling.balanse'; did you mean 'balance'?"),
        ("rescale:\n  pixel_size: -1", "pixel_size", "rescale.pixel_size: must be a positive size in µm per pixel, got -1.0"),
        ("rescale:\n  pixel_size: 0.5\n  use_metadata: false", "use_metadata",
         "rescale.use_metadata: false needs source_pixel_size"),
        ("rescale:\n  pixel_size: 0.5\n  source_pixel_size: [1, 2, 3]", "source_pixel_size",
         "rescale.source_pixel_size: expected a number or [x, y]"),
        ("rescale:\n  pixel_size: 0.5\n  filter: lanczos", "filter", "rescale.filter: 'lanczos' is not one of bilinear, bicubic"),
        ("rescale: {source_pixel_size: 1}", "rescale", "missing required key 'rescale.pixel_size'"),
    ])
    func badOptionIsNamed(section: String, keyOnLine: String, expected: String) {
        let text = RecipeTests.minimal + "\n" + section
        let line = text.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains(keyOnLine) }.map { $0 + 1 } ?? 0
        do {
            _ = try Recipe.parse(text, file: "bad.yaml")
            Issue.record("accepted \(section)")
        } catch {
            #expect(error.code == .recipe)
            #expect(error.description.hasPrefix("bad.yaml:\(line): "), "\(error.description)")
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    // MARK: Foreground

    /// The mask filter keeps exactly the grid tiles whose exported instance mask is at least 5 %
    /// nuclei, counted here on the unfiltered bundle's mask tiles, and records their fractions.
    @Test func maskFilterKeepsTheTilesWithEnoughNuclei() throws {
        let ws = try Workspace()
        try ws.write("recipe.yaml", Self.dsbRecipe())
        let all = try ws.export(output: "out/all.h5")
        try ws.write("recipe.yaml", Self.dsbRecipe(extra: "sampling:\n  foreground: {mask: instance, min_fraction: 0.05}"))
        let kept = try ws.export(output: "out/kept.h5")

        let reader = try BundleReader(opening: all.bundle)
        var fractions: [Double] = []
        for i in 0..<all.manifest.counts.tiles {
            let mask = try #require(try reader.instanceMask(i))
            fractions.append(Double(mask.values.filter { $0 != 0 }.count) / Double(mask.values.count))
        }
        let allPlaces = try Self.places(all.bundle)
        let expected = allPlaces.indices.filter { fractions[$0] >= 0.05 }
        #expect(expected.count < allPlaces.count && !expected.isEmpty, "the filter must drop some tiles and keep some")
        #expect(try Self.places(kept.bundle) == expected.map { allPlaces[$0] })
        #expect(try Self.doubles(kept.bundle, "foreground") == expected.map { fractions[$0] })
        let keptReader = try BundleReader(opening: kept.bundle)
        for (k, i) in expected.enumerated().prefix(5) { #expect(try keptReader.tileImage(k) == reader.tileImage(i)) }

        let sampling = try #require(kept.manifest.sampling)
        #expect(sampling.foreground == .init(source: "instance_mask", polarity: nil, minFraction: 0.05))
        #expect(sampling.sources.map(\.positions).reduce(0, +) == allPlaces.count)
        #expect(sampling.sources.map(\.belowForeground).reduce(0, +) == allPlaces.count - expected.count)
        #expect(sampling.sources.map(\.kept) == sampling.sources.indices.map { s in
            expected.filter { allPlaces[$0].sha == kept.manifest.inputs.first { $0.path == sampling.sources[s].path }!.sha256 }.count
        })
        #expect(BundleValidator.validate(kept.bundle).isValid)
        // The plan shows the same report before anything is written.
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"), output: ws.url("out/plan.h5").path)
        #expect(plan.sampling == sampling)
        #expect(try plan.summaryJSON().contains("\"below_foreground\""))
    }

    /// Otsu on the DSB images (fluorescence: nuclei are bright): the recorded threshold is Otsu's
    /// of each image's channel mean, brute-forced here, and the kept tiles are those whose pixels
    /// are at least 30 % at or above it, counted on the unfiltered bundle's tiles.
    @Test func otsuFilterKeepsTheBrightTiles() throws {
        let ws = try Workspace()
        try ws.write("recipe.yaml", Self.dsbRecipe(masks: false))
        let all = try ws.export(output: "out/all.h5")
        try ws.write("recipe.yaml", Self.dsbRecipe(masks: false, extra: "sampling:\n  foreground: {otsu: bright, min_fraction: 0.3}"))
        let kept = try ws.export(output: "out/kept.h5")
        let sampling = try #require(kept.manifest.sampling)

        for entry in sampling.sources {
            let image = try ImageReader.read(Self.dsb.appendingPathComponent(entry.path))
            #expect(entry.otsuThreshold == Self.bruteForceOtsu(TileExtractor.selectChannels(image, [0, 1, 2])), "\(entry.path)")
        }
        let reader = try BundleReader(opening: all.bundle)
        let allPlaces = try Self.places(all.bundle)
        let threshold = Dictionary(uniqueKeysWithValues: sampling.sources.map { s in
            (kept.manifest.inputs.first { $0.path == s.path }!.sha256, s.otsuThreshold!)
        })
        var expected: [Int] = []
        for i in allPlaces.indices {
            guard case .uint8(let v) = try reader.tileImage(i).pixels else { continue }
            let n = v.count / 3
            let bright = (0..<n).filter { (Double(v[$0]) + Double(v[n + $0]) + Double(v[2 * n + $0])) / 3 >= threshold[allPlaces[i].sha]! }
            if Double(bright.count) / Double(n) >= 0.3 { expected.append(i) }
        }
        #expect(!expected.isEmpty && expected.count < allPlaces.count)
        #expect(try Self.places(kept.bundle) == expected.map { allPlaces[$0] })
    }

    /// The threshold of specs/recipe/v1.md §8.2 by trying every bin: independent of Otsu's
    /// running sums in `Tiling`.
    static func bruteForceOtsu(_ image: ImageBuffer) -> Double {
        guard case .uint8(let v) = image.pixels else { return .nan }
        let n = image.width * image.height
        let mean = (0..<n).map { (Double(v[$0]) + Double(v[n + $0]) + Double(v[2 * n + $0])) / 3 }
        let lo = mean.min()!, hi = mean.max()!
        var histogram = [Double](repeating: 0, count: 256)
        for m in mean { histogram[min(Int((m - lo) / (hi - lo) * 256), 255)] += 1 }
        var best = -1.0, bestT = 0
        for t in 0..<256 {
            let low = histogram[...t], high = histogram[(t + 1)...]
            let w0 = low.reduce(0, +), w1 = high.reduce(0, +)
            guard w0 > 0, w1 > 0 else { continue }
            let m0 = zip(low.indices, low).map { Double($0) * $1 }.reduce(0, +) / w0
            let m1 = zip(high.indices, high).map { Double($0) * $1 }.reduce(0, +) / w1
            if w0 * w1 * (m0 - m1) * (m0 - m1) > best { (best, bestT) = (w0 * w1 * (m0 - m1) * (m0 - m1), t) }
        }
        return lo + Double(bestT + 1) / 256 * (hi - lo)
    }

    // MARK: Class balance

    /// samples/idr0026-balanced on the real idr0026 table: per treatment at most 100 tiles and
    /// per mouse (`Characteristics [Individual]`) at most 24, counted on the bundle; and as many
    /// as the caps allow: min(100, Σ over mice of min(24, that mouse's candidates)).
    @Test func classBalanceHonoursItsCapsOnIdr0026() throws {
        let recipe = Self.samples.appendingPathComponent("idr0026-balanced/recipe.yaml")
        let ws = try Workspace()
        let balanced = try Exporter.run(Planner.plan(recipeAt: recipe, output: ws.url("out/balanced.h5").path))
        // The candidates: the same recipe without its balance.
        let text = try String(contentsOf: recipe, encoding: .utf8)
        let unbalanced = try #require(text.range(of: "  balance:")).lowerBound
        try ws.write("recipe.yaml", String(text[..<unbalanced]).replacingOccurrences(
            of: "root: ../idr0026-immunotherapy/data", with: "root: \(Self.samples.path)/idr0026-immunotherapy/data")
            + "output:\n  path: out/candidates.h5\n")
        let candidates = try ws.export()

        let table = try AnnotationTable(contentsOf: Self.samples.appendingPathComponent(
            "idr0026-immunotherapy/data/idr0026-experimentA-annotation.csv"))
        var mouse: [String: String] = [:]
        let (dataset, image, individual) = try (table.columnIndex(named: "Dataset Name"), table.columnIndex(named: "Image Name"),
                                                table.columnIndex(named: "Characteristics [Individual]"))
        for row in 0..<table.rowCount {
            mouse["images/\(table.value(row: row, column: dataset))/\(table.value(row: row, column: image)).tif"] =
                table.value(row: row, column: individual)
        }
        func counts(_ bundle: URL) throws -> [String: Int] {
            let reader = try BundleReader(opening: bundle)
            let tiles = try reader.table(at: "/tiles"), sources = try reader.table(at: "/sources")
            guard case .int32(let s)? = tiles["source"], case .int32(let label)? = tiles["label"],
                  case .string(let paths)? = sources["path"] else { return [:] }
            var out: [String: Int] = [:]
            for i in s.indices { out["\(label[i]) \(mouse[paths[Int(s[i])]]!)", default: 0] += 1 }
            return out
        }
        let kept = try counts(balanced.bundle), offered = try counts(candidates.bundle)
        #expect(kept.values.allSatisfy { $0 <= 24 }, "\(kept)")
        #expect(kept.keys.allSatisfy { kept[$0]! <= offered[$0] ?? 0 })
        for label in ["0", "1"] {
            let keptInClass = kept.filter { $0.key.hasPrefix("\(label) ") }.values.reduce(0, +)
            let possible = offered.filter { $0.key.hasPrefix("\(label) ") }.values.map { min(24, $0) }.reduce(0, +)
            #expect(keptInClass == min(100, possible), "class \(label): kept \(keptInClass), caps allow \(min(100, possible))")
        }
        // Both caps bind on this data: one class stops at 100, and some mouse stops at 24.
        #expect(balanced.manifest.counts.perClass.contains { $0.tiles == 100 })
        #expect(kept.values.contains(24) && offered.values.contains { $0 > 24 })
        let classes = try #require(balanced.manifest.sampling?.classes)
        #expect(classes.map(\.kept) == balanced.manifest.counts.perClass.map(\.tiles))
        #expect(classes.map(\.groups) == [7, 7])
        // Tiles are a subset of the candidates, pixel for pixel the same.
        let candidatePlaces = try Self.places(candidates.bundle)
        #expect(Set(try Self.places(balanced.bundle)).isSubset(of: Set(candidatePlaces)))
    }

    @Test func unknownGroupColumnIsNamed() throws {
        let ws = try Workspace.plateDataset()
        try ws.write("recipe.yaml", Workspace.recipe + "sampling:\n  balance: {per_group: 1, group_column: Plates}\n")
        let error = try #require(ws.failingExport())
        #expect(error.code == .mismatch, "\(error)")
        #expect(error.location.hasSuffix("data/table.csv"), "\(error)")
        #expect(error.message.contains("sampling.balance.group_column") && error.message.contains("Plates"), "\(error)")
    }

    // MARK: Determinism

    /// Random positions, the Otsu filter and a per-image cap choose the same tiles (by content and
    /// rectangle) when the images are renamed so that their order reverses.
    @Test func sameTilesWhateverTheInputNamesAndOrder() throws {
        let ids = try FileManager.default.contentsOfDirectory(atPath: Self.dsb.appendingPathComponent("stage1_train").path).sorted()
        let section = "sampling:\n  random_tiles: 7\n  foreground: {otsu: bright, min_fraction: 0.1}\n  balance: {per_group: 4}"
        var runs: [[Place]] = []
        for names in [ids.indices.map { "img-\($0).png" }, ids.indices.map { "img-\(ids.count - $0).png" }] {
            let ws = try Workspace()
            for (id, name) in zip(ids, names) {
                try FileManager.default.createDirectory(at: ws.url("data"), withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: Self.dsb.appendingPathComponent("stage1_train/\(id)/images/\(id).png"),
                                                 to: ws.url("data/\(name)"))
            }
            try ws.write("recipe.yaml", Self.dsbRecipe(root: "data", images: "*.png", masks: false, tiling: "size: 64",
                                                       extra: section))
            let result = try ws.export()
            // Every image gets its 7 distinct random positions inside it before the filters.
            #expect(result.manifest.sampling?.sources.map(\.positions) == Array(repeating: 7, count: ids.count))
            runs.append(try Self.places(result.bundle).sorted { ($0.sha, $0.y, $0.x) < ($1.sha, $1.y, $1.x) })
        }
        #expect(runs[0] == runs[1])
        #expect(runs[0].count > 6 && Set(runs[0]).count == runs[0].count)
    }

    // MARK: Rescaling

    /// The same pixels as an OME-TIFF (PhysicalSizeX in µm) and as an ImageJ TIFF (1 /
    /// XResolution microns) rescale to 2 µm/px with the pixel size read from each file's own
    /// metadata, found here in the file bytes.
    @Test(.enabled(if: ome != nil, "../shared/data/ome-tiff-aics-zeiss not found"))
    func rescaleReadsOMEAndImageJPixelSizes() throws {
        let folder = try #require(Self.ome)
        let ws = try Workspace()
        try FileManager.default.createDirectory(at: ws.url("data"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("s_1_t_1_c_1_z_1.ome.tiff"), to: ws.url("data/a.tif"))
        try FileManager.default.copyItem(at: folder.appendingPathComponent("s_1_t_1_c_1_z_1.tiff"), to: ws.url("data/b.tif"))
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: ome, version: 0.1.0}
            inputs: {root: data, images: "*.tif"}
            rescale: {pixel_size: 2}
            tiling: {size: 64}
            output: {path: out/b.h5}

            """)
        let result = try ws.export()
        let omeText = String(decoding: try Data(contentsOf: ws.url("data/a.tif")), as: UTF8.self)
        let match = try #require(omeText.firstMatch(of: /PhysicalSizeX="([0-9.]+)"/))
        let ome = try #require(Double(match.1))
        // ImageJ stores pixels per micron as the rational XResolution, 923076 / 1000000 in this
        // file, which libtiff hands over as a 32-bit float.
        let imageJ = 1 / Double(Float(923_076.0 / 1_000_000.0))
        let rescaling = try #require(result.manifest.rescaling)
        #expect(rescaling.sources.map(\.pixelSizeFrom) == ["ome", "imagej"])
        #expect(rescaling.sources.map(\.originalPixelSizeX) == [ome, imageJ])
        let width = Int((475 * ome / 2).rounded()), height = Int((325 * ome / 2).rounded())
        #expect(rescaling.sources.map(\.width) == [width, width] && rescaling.sources.map(\.height) == [height, height])
        let sources = try BundleReader(opening: result.bundle).table(at: "/sources")
        #expect(sources["width"] == .int64([Int64(width), Int64(width)]))
        #expect(sources["original_width"] == .int64([475, 475]))
        #expect(sources["pixel_size_x"] == .float64([ome * 475 / Double(width), imageJ * 475 / Double(width)]))
        // Same pixels, same rescaled size: the two files give the same tiles.
        let reader = try BundleReader(opening: result.bundle)
        let perSource = result.manifest.counts.tiles / 2
        #expect(perSource == (width / 64) * (height / 64))
        for i in 0..<perSource { #expect(try reader.tileImage(i) == reader.tileImage(perSource + i)) }
    }

    @Test func rescaleWithoutAPixelSizeNamesTheFile() throws {
        let ws = try Workspace()
        try ws.write("recipe.yaml", Self.dsbRecipe(masks: false, extra: "rescale: {pixel_size: 0.5}"))
        let error = try #require(ws.failingExport())
        #expect(error.location.hasSuffix(".png"), "\(error)")
        #expect(error.message.contains("rescale.source_pixel_size"), "\(error)")
        #expect(!error.description.contains("\n"))
        #expect(ws.outputEntries().isEmpty)
    }

    /// samples/dsb2018-sampled (rescaled, foreground-filtered, augmented, boxes derived from the
    /// masks): every tile, with its mask and boxes, replays bit for bit from the inputs and its
    /// stored parameters (scripts/test.sh also verifies that a re-export gives the same content hash).
    @Test func rescaledAugmentedSampleReplays() throws {
        let recipe = Self.samples.appendingPathComponent("dsb2018-sampled/recipe.yaml")
        let ws = try Workspace()
        let first = try Exporter.run(Planner.plan(recipeAt: recipe, output: ws.url("out/a.h5").path))
        #expect((first.manifest.objects?.boxes ?? 0) > 0, "the sample derives boxes, so replay compares them too")
        let replayed = try Replayer.replay(bundle: first.bundle, inputs: Self.dsb, tiles: Array(0..<first.manifest.counts.tiles))
        #expect(replayed.count == first.manifest.counts.tiles)
        #expect(replayed.filter { !$0.passed }.isEmpty, "\(replayed.filter { !$0.passed })")
        let sources = try BundleReader(opening: first.bundle).table(at: "/sources")
        // 1 µm/px declared, 1.25 µm/px wanted: every side × 0.8, rounded.
        guard case .int64(let width)? = sources["width"], case .int64(let original)? = sources["original_width"] else {
            Issue.record("no rescaled sizes in /sources")
            return
        }
        #expect(width == original.map { Int64((Double($0) * 0.8).rounded()) })
    }
}

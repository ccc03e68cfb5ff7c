import BundleFormat
import Foundation
import Testing
@testable import Export

/// Whole-slide sources read by regions (specs/recipe/v1.md §7.1): the bundle is the same bits as
/// from the whole image, for every edge policy and with augmentation, and a large tiled TIFF
/// exports with memory far below its decoded size.
@Suite(.serialized, .enabled(if: SlideWriter.available, "python3 with numpy and tifffile is not installed"))
struct RegionReadTests: CLIRunning {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let makeSlide = repository.appendingPathComponent("Benchmarks/make_slide.py")

    /// Writes a tiled, deflated TIFF (and a label TIFF) with `Benchmarks/make_slide.py`.
    func writeSlide(_ path: URL, width: Int, height: Int, channels: Int, dtype: String, tile: Int = 256,
                    mask: URL? = nil) throws {
        var arguments = ["python3", Self.makeSlide.path, path.path, "--width", "\(width)", "--height", "\(height)",
                         "--channels", "\(channels)", "--dtype", dtype, "--tile", "\(tile)"]
        if let mask { arguments += ["--mask", mask.path] }
        for file in [path, mask].compactMap({ $0 }) {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        let run = try launch(URL(fileURLWithPath: "/usr/bin/env"), arguments)
        try #require(run.status == 0, "make_slide.py failed: \(run.stderr)")
    }

    /// The content hash of `recipe` exported whole and by regions (threshold 0), after checking
    /// that every source of the plan really is read by regions at threshold 0. Every tile of
    /// the bundle made by regions then replays exactly, itself read by regions.
    func hashes(_ ws: Workspace, workers: Int = 2) throws -> (whole: String, regions: String) {
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"), output: ws.url("out/whole.h5").path)
        for source in plan.sources {
            #expect(try RegionReads.usesRegions(source, plan: plan, threshold: 0), "\(source.path) is read whole")
            #expect(try !RegionReads.usesRegions(source, plan: plan, threshold: RegionReads.defaultThreshold))
        }
        let whole = try Exporter.run(plan, options: ExportOptions(workers: workers))
        let regionPlan = try Planner.plan(recipeAt: ws.url("recipe.yaml"), output: ws.url("out/regions.h5").path)
        let regions = try Exporter.run(regionPlan, options: ExportOptions(workers: workers, regionThreshold: 0))
        #expect(regions.manifest.counts == whole.manifest.counts)
        #expect(BundleValidator.validate(regions.bundle).isValid)
        let replayed = try Replayer.replay(bundle: regions.bundle, inputs: regionPlan.root,
                                           tiles: Array(0 ..< regions.manifest.counts.tiles), regionThreshold: 0)
        #expect(replayed.count == regions.manifest.counts.tiles && replayed.allSatisfy(\.passed),
                "tiles \(replayed.filter { !$0.passed }.map(\.tile)) differ when replayed by regions")
        return (whole.manifest.contentHash, regions.manifest.contentHash)
    }

    /// The idr0035-moa sample (real IDR table, 3-channel TIFFs, reflect edges) with `edit` applied.
    func idr0035(_ edit: (String) -> String = { $0 }) throws -> Workspace {
        let ws = try Workspace()
        var recipe = try String(contentsOf: Self.repository.appendingPathComponent("samples/idr0035-moa/recipe.yaml"),
                                encoding: .utf8)
        recipe = recipe.replacingOccurrences(
            of: "  root: data", with: "  root: \(Self.repository.appendingPathComponent("samples/idr0035-moa/data").path)")
        try ws.write("recipe.yaml", edit(recipe))
        return ws
    }

    static let augmentation = """
        augmentation:
          variants: 2
          steps:
            - flip: {horizontal: 0.5, vertical: 0.5}
            - rot90: {probability: 0.5}
            - affine: {probability: 0.8, rotation: [-40, 40], scale: [0.7, 1.3], shear: [-5, 5], translate: [-0.1, 0.1],
                       interpolation: INTERPOLATION}
            - elastic: {probability: 0.3, alpha: [4, 8], sigma: 3, interpolation: INTERPOLATION}
            - blur: {probability: 0.5, sigma: [0.5, 1.0]}
            - intensity: {probability: 1, brightness: [-0.05, 0.05], contrast: [0.9, 1.1], gamma: [0.8, 1.25]}
        output:

        """

    @Test func idr0035SampleReflectIsTheSameByRegions() throws {
        let ws = try idr0035()
        let (whole, regions) = try hashes(ws)
        #expect(regions == whole)
    }

    /// Constant edges (reflect with augmentation is covered by the generated TIFF below).
    @Test func idr0035AugmentedIsTheSameByRegions() throws {
        let ws = try idr0035 {
            $0.replacingOccurrences(of: "  edge: reflect", with: "  edge: constant\n  pad_value: 7")
                .replacingOccurrences(of: "output:\n", with: Self.augmentation.replacingOccurrences(of: "INTERPOLATION", with: "bicubic"))
        }
        let (whole, regions) = try hashes(ws, workers: 1)
        #expect(regions == whole)
    }

    /// A generated 2-channel uint16 tiled TIFF with an instance-label TIFF, tiles that overhang
    /// the right and bottom border, each edge policy, plain and augmented.
    @Test(arguments: [("reflect", false), ("constant", false), ("drop", false), ("reflect", true), ("constant", true)])
    func generatedTiledTIFFIsTheSameByRegions(_ edge: String, _ augmented: Bool) throws {
        let ws = try Workspace()
        try writeSlide(ws.url("data/slide.tif"), width: 800, height: 520, channels: 2, dtype: "uint16", tile: 128,
                       mask: ws.url("data/masks/slide.tif"))
        var recipe = """
            recipe_version: 1
            dataset: {name: slide, version: 1.0.0, description: A generated tiled TIFF., license: CC0-1.0}
            seed: 9
            inputs: {root: data, images: "slide.tif"}
            labels:
              instance_masks: {file: "masks/{stem}.tif"}
            tiling: {size: 160, stride: 150, edge: \(edge)\(edge == "constant" ? ", pad_value: 100" : "")}
            output:
              path: out/slide.h5

            """
        if augmented {
            recipe = recipe.replacingOccurrences(
                of: "output:\n", with: Self.augmentation.replacingOccurrences(of: "INTERPOLATION", with: "bilinear"))
        }
        try ws.write("recipe.yaml", recipe)
        let (whole, regions) = try hashes(ws)
        #expect(regions == whole)
    }

    /// `trainset export` of a 20 000 × 20 000 uint8 tiled TIFF (400 MB decoded, about 50 MB on
    /// disk) as a child process: its peak RSS (the child's and its supervised child's,
    /// `getrusage(RUSAGE_CHILDREN)` of a Python parent) stays far below the decoded size, because
    /// no region larger than a few tiles is ever decoded.
    @Test func aLargeTiledTIFFExportsWithBoundedMemory() throws {
        guard let executable = Self.executable else {
            Issue.record("trainset executable not found next to \(CommandLine.arguments[0]); run swift build --build-tests")
            return
        }
        let ws = try Workspace()
        let side = 20_000
        try writeSlide(ws.url("data/slide.tif"), width: side, height: side, channels: 1, dtype: "uint8")
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: big-slide, version: 1.0.0, description: A generated whole-slide image., license: CC0-1.0}
            seed: 1
            inputs: {root: data, images: "slide.tif"}
            tiling: {size: 512, stride: 512, edge: reflect}
            output: {path: out/big.h5, deflate_level: 1}

            """)
        let (status, peak) = try runMeasured(executable, ["export", "recipe.yaml", "--quiet", "--workers", "2"], in: ws.root)
        #expect(status == 0)
        let decoded = side * side
        print("RegionReadTests: peak RSS \(peak >> 20) MiB exporting a \(side)x\(side) uint8 TIFF (\(decoded >> 20) MiB decoded)")
        // Generous: the region path holds a few regions of 512² tiles per worker; the whole path
        // would hold the 400 MB image (and its copies) alone.
        #expect(peak < 200 << 20, "peak RSS \(peak >> 20) MiB for a \(decoded >> 20) MiB image")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: ws.url("out/big.h5.manifest.json")))
        #expect(manifest.counts.tiles == (side + 511) / 512 * ((side + 511) / 512))
        // Replaying tiles reads only their regions too (the first, an interior one and the last,
        // which overhangs the border).
        let (replay, replayPeak) = try runMeasured(
            executable, ["replay", "out/big.h5", "--inputs", "data", "--tile", "0", "--tile", "700",
                         "--tile", "\(manifest.counts.tiles - 1)"], in: ws.root)
        #expect(replay == 0)
        print("RegionReadTests: peak RSS \(replayPeak >> 20) MiB replaying 3 tiles of it")
        #expect(replayPeak < 200 << 20, "peak RSS \(replayPeak >> 20) MiB replaying tiles of a \(decoded >> 20) MiB image")
    }

    /// Runs `executable arguments…` in `directory` with output discarded; its exit status and
    /// the peak RSS in bytes of it and every descendant it waited for (the supervised child).
    ///
    /// Measured by a small Python parent, not from this process: a process started by this one
    /// inherits the high-water RSS of the address space it was spawned from until it executes,
    /// which in a full test run is the test runner's own hundreds of MB.
    func runMeasured(_ executable: URL, _ arguments: [String], in directory: URL) throws -> (Int32, Int) {
        let measure = """
            import resource, subprocess, sys
            with open("stderr.txt", "wb") as err:
                code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=err)
            print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        let run = try launch(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", measure, executable.path] + arguments,
                             in: directory)
        let fields = run.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(run.status == 0 && fields.count == 2, "measuring failed: \(run.stderr)")
        if fields[0] != 0 {
            let stderr = (try? String(contentsOf: directory.appendingPathComponent("stderr.txt"), encoding: .utf8)) ?? ""
            Issue.record("trainset failed with status \(fields[0]): \(stderr)")
        }
        return (Int32(fields[0]), fields[1] * 1024)
    }

    /// A TIFF stored as one 36 MB strip would be decoded whole by every region: it is read whole.
    @Test func aTIFFInOneLargeStripIsReadWhole() throws {
        let ws = try Workspace()
        try FileManager.default.createDirectory(at: ws.url("data"), withIntermediateDirectories: true)
        let write = "import numpy, sys, tifffile; tifffile.imwrite(sys.argv[1], numpy.zeros((6000, 6000), numpy.uint8), "
            + "rowsperstrip=6000, compression='zlib')"
        let run = try launch(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", write, ws.url("data/strip.tif").path])
        try #require(run.status == 0, "\(run.stderr)")
        try ws.write("recipe.yaml", """
            recipe_version: 1
            dataset: {name: strip, version: 1.0.0, description: One large strip., license: CC0-1.0}
            seed: 1
            inputs: {root: data, images: "strip.tif"}
            tiling: {size: 256, stride: 256, edge: drop}
            output: {path: out/strip.h5}

            """)
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"))
        #expect(try !RegionReads.usesRegions(plan.sources[0], plan: plan, threshold: 0))
    }

    /// A header declaring 100 000 × 100 000 pixels and no data: by regions it fails on the
    /// first region with one line naming the file; with rescale, which needs the whole image,
    /// it is refused before anything is decoded.
    @Test func aHostileHeaderIsRefusedWithOneLine() throws {
        for rescale in [false, true] {
            let ws = try Workspace()
            try ws.copy(fixture: "bad_huge_dimensions.tif", to: "data/huge.tif")
            try ws.write("recipe.yaml", """
                recipe_version: 1
                dataset: {name: huge, version: 1.0.0, description: A hostile header., license: CC0-1.0}
                seed: 1
                inputs: {root: data, images: "huge.tif"}
                tiling: {size: 256, stride: 256, edge: drop}
                \(rescale ? "rescale: {pixel_size: 4, source_pixel_size: 1}\n" : "")output: {path: out/huge.h5}

                """)
            let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"))
            let error = #expect(throws: ExportError.self) { try Exporter.run(plan, options: ExportOptions(workers: 2)) }
            #expect(error?.description.contains("huge.tif") == true)
            #expect(error?.description.contains("\n") == false)
            if rescale { #expect(error?.message.contains("rescale") == true, "\(error?.description ?? "")") }
            #expect(ws.outputEntries().isEmpty)
        }
    }
}

/// Whether `Benchmarks/make_slide.py` can run (python3 with numpy and tifffile).
enum SlideWriter {
    static let available: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import numpy, tifffile"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
}

import AVDB
import BundleFormat
import Export
import Foundation
import ImageFormats
import LabelSchema
import Raster
import Testing

/// A reader under fuzz: where its seeds come from and how one input is judged.
struct FuzzTarget: Sendable, CustomTestStringConvertible {
    /// Also the folder name under `Tests/Fixtures/fuzz-regressions/`.
    var name: String
    /// Name of the file each input is written to (readers that take a path see this name).
    var fileName: String
    var kinds: [Mutation.Kind] = Mutation.Kind.allCases
    /// The seed files, or a message saying why there are none here.
    var seeds: @Sendable () throws -> Result<[FuzzInput], SkipReason>
    /// Judges one input written at `file`.
    var check: @Sendable (_ input: FuzzInput, _ file: URL) -> Verdict

    var testDescription: String { name }

    struct SkipReason: Error { var message: String }

    /// Targets judged in this process, one input at a time.
    static let inProcess: [FuzzTarget] = [tiff, png, jpeg, csv, study, recipe, voc, coco, geojson, schema]
    /// Every target; `bundle` runs through the CLI (libhdf5 can crash on a damaged bundle),
    /// its mutations in batches by `BundleFuzzTests`.
    static let all: [FuzzTarget] = inProcess + [bundle]
    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

// MARK: - seeds

private func seedFiles(_ urls: [URL]) throws -> [FuzzInput] {
    try urls.map { FuzzInput(name: $0.lastPathComponent, bytes: Array(try Data(contentsOf: $0))) }
}

/// The first `lines` lines of `url`: the real IDR tables are up to 700 KB, and a head keeps
/// 2 000 parses fast while still holding their quoting, term columns and long fields.
private func head(_ url: URL, lines: Int) throws -> FuzzInput {
    let bytes = Array(try Data(contentsOf: url))
    var newlines = 0
    var end = bytes.count
    for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
        newlines += 1
        if newlines == lines { end = i + 1; break }
    }
    return FuzzInput(name: "\(url.lastPathComponent)[:\(lines) lines]", bytes: Array(bytes[..<end]))
}

private let images = Paths.fixtures.appendingPathComponent("images")

// MARK: - images

private func imageTarget(_ name: String, suffixes: [String]) -> FuzzTarget {
    FuzzTarget(name: name, fileName: "input.\(name)", seeds: {
        // The `bad_*` fixtures are already rejected, so mutating them explores less; the
        // 8192 x 8192 region fixture would spend the run decoding 64 Mi samples per input.
        let urls = Paths.files(in: images, suffixes: suffixes)
            .filter { !$0.lastPathComponent.hasPrefix("bad_") && $0.lastPathComponent != "region_large_tiled.tif" }
        return .success(try seedFiles(urls))
    }, check: checkImage)
}

/// `info` and `read` must agree with each other and with the buffer they return; a TIFF
/// region read must return the samples of the full read. Images are limited to 16 Mi samples
/// so that a header claiming a huge size is refused by the budget, not by the machine.
@Sendable private func checkImage(_ input: FuzzInput, _ file: URL) -> Verdict {
    let options = ReadOptions(maxPixels: 1 << 24)
    if let problem = write(input.bytes, to: file) { return .wrong(problem) }
    do throws(ImageError) {
        let info = try ImageReader.info(file, options: options)
        let image = try ImageReader.read(file, options: options)
        guard image.width == info.width, image.height == info.height, image.channels == info.channels,
              image.pixelType == info.pixelType else {
            return .wrong("info says \(info.width)x\(info.height)x\(info.channels) \(info.pixelType), "
                          + "read gave \(image.width)x\(image.height)x\(image.channels) \(image.pixelType)")
        }
        let rect = PixelRect(x: image.width / 3, y: image.height / 3, width: max(1, image.width / 3), height: max(1, image.height / 3))
        let region = try ImageReader.readRegion(file, rect: rect, options: options)
        guard region.width == rect.width, region.height == rect.height, region.channels == image.channels else {
            return .wrong("region \(rect) came back \(region.width)x\(region.height)x\(region.channels)")
        }
        let full = samples(image.pixels), part = samples(region.pixels)
        for c in 0..<image.channels {
            for y in 0..<rect.height {
                for x in 0..<rect.width {
                    let a = part[region.index(channel: c, y: y, x: x)]
                    let b = full[image.index(channel: c, y: rect.y + y, x: rect.x + x)]
                    guard a == b || (a.isNaN && b.isNaN) else {
                        return .wrong("region sample (\(c), \(y), \(x)) is \(a), the full read has \(b)")
                    }
                }
            }
        }
        return .accepted
    } catch {
        guard error.description.hasPrefix(file.path) else { return .wrong("the error does not name the file: \(error)") }
        return .rejected(error.description)
    }
}

/// Writes without `Data.write`'s fsync, which would make the disk, not the reader, the
/// bottleneck. Returns a problem, or nil.
func write(_ bytes: [UInt8], to file: URL) -> String? {
    guard let stream = fopen(file.path, "wb") else { return "cannot create \(file.path)" }
    defer { fclose(stream) }
    return fwrite(bytes, 1, bytes.count, stream) == bytes.count ? nil : "cannot write \(file.path)"
}

/// Samples as doubles, to compare buffers of any pixel type.
private func samples(_ pixels: PixelData) -> [Double] {
    switch pixels {
    case .uint8(let v): v.map(Double.init)
    case .uint16(let v): v.map(Double.init)
    case .float32(let v): v.map(Double.init)
    }
}

extension FuzzTarget {
    static let tiff = imageTarget("tiff", suffixes: [".tif"])
    static let png = imageTarget("png", suffixes: [".png"])
    static let jpeg = imageTarget("jpeg", suffixes: [".jpg"])
}

// MARK: - text formats read from memory

/// Seeds from the repository plus, when present, files from the shared real data.
private func withShared(_ local: [FuzzInput], _ shared: (URL) throws -> [FuzzInput]) throws -> Result<[FuzzInput], FuzzTarget.SkipReason> {
    var all = local
    if let data = Paths.sharedData { all += try shared(data) }
    if all.isEmpty {
        return .failure(.init(message: "no seeds: ../shared/data was not found next to this clone (\(Paths.repository.path))"))
    }
    return .success(all)
}

extension FuzzTarget {
    /// RFC 4180 tables with IDR annotation columns: records must have the header's field count.
    static let csv = FuzzTarget(name: "csv", fileName: "input.csv", seeds: {
        let sample = Paths.repository.appendingPathComponent("samples/idr0035-moa/data/idr0035-screenA-annotation.csv")
        let dsb = Paths.repository.appendingPathComponent("samples/dsb2018-nuclei/data")
        return try withShared([try head(sample, lines: 12)] + (try seedFiles(Paths.files(in: dsb, suffixes: [".csv"])))) { data in
            let idr = data.appendingPathComponent("idr-annotation-csv")
            let tables = ["idr0025-stadler-proteinatlas/idr0025-screenA-annotation.csv",
                          "idr0026-weigelin-immunotherapy/idr0026-experimentA-annotation.csv",
                          "idr0038-held-kidneylightsheet/idr0038-experimentB-annotation.csv"]
            let boxes = data.appendingPathComponent("bccd-blood-cell-boxes/boxes.csv")
            return try tables.map { try head(idr.appendingPathComponent($0), lines: 10) } + [try head(boxes, lines: 30)]
        }
    }, check: { input, file in
        do throws(AVDBError) {
            let table = try CSVTable(bytes: input.bytes, file: file.path)
            let annotations = AnnotationTable(table)
            for row in table.rows.indices {
                guard table.rows[row].fields.count == table.header.count else {
                    return .wrong("row \(row) has \(table.rows[row].fields.count) fields, the header \(table.header.count)")
                }
                _ = annotations.characteristics(row: row)
                _ = annotations.phenotypes(row: row)
            }
            return .accepted
        } catch {
            return .rejected(error.description)
        }
    })

    /// IDR study files (tab-separated key/value lines with term sources).
    static let study = FuzzTarget(name: "study", fileName: "study.txt", seeds: {
        let sample = Paths.repository.appendingPathComponent("samples/idr0035-moa/data/idr0035-study.txt")
        return try withShared([try head(sample, lines: 80)]) { data in
            [try head(data.appendingPathComponent("idr-annotation-csv/idr0026-weigelin-immunotherapy/idr0026-study.txt"), lines: 80)]
        }
    }, check: { input, file in
        do throws(AVDBError) {
            let study = try IDRStudy(text: String(decoding: input.bytes, as: UTF8.self), file: file.path)
            for entry in study.entries where entry.key.isEmpty && entry.values.isEmpty {
                return .wrong("line \(entry.line) gave an entry with neither key nor values")
            }
            return .accepted
        } catch {
            return .rejected(error.description)
        }
    })

    /// Recipes: the samples' YAML through the same parser `trainset export` uses.
    static let recipe = FuzzTarget(name: "recipe", fileName: "recipe.yaml", seeds: {
        let samples = Paths.repository.appendingPathComponent("samples")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: samples.path)) ?? []).sorted()
        return .success(try seedFiles(names.map { samples.appendingPathComponent("\($0)/recipe.yaml") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }))
    }, check: { input, file in
        do throws(ExportError) {
            let recipe = try Recipe.parse(String(decoding: input.bytes, as: UTF8.self), file: file.path)
            guard Recipe.supportedVersions.contains(recipe.recipeVersion) else {
                return .wrong("accepted recipe_version \(recipe.recipeVersion)")
            }
            return .accepted
        } catch {
            return .rejected(error.description)
        }
    })

    static let voc = FuzzTarget(name: "voc", fileName: "input.xml", seeds: {
        try withShared([]) { data in
            let dir = data.appendingPathComponent("bccd-blood-cell-boxes/BCCD/Annotations")
            return try seedFiles(Array(Paths.files(in: dir, suffixes: [".xml"]).prefix(4)))
        }
    }, check: { input, file in
        do throws(AVDBError) {
            return checkObjects([try VOCReader.read(Data(input.bytes), file: file.path)])
        } catch {
            return .rejected(error.description)
        }
    })

    static let coco = FuzzTarget(name: "coco", fileName: "input.json", seeds: {
        .success(try seedFiles([Paths.fixtures.appendingPathComponent("annotations/dsb-8b12e186.coco.json")]))
    }, check: { input, file in
        do throws(AVDBError) {
            return checkObjects(try COCOReader.read(Data(input.bytes), file: file.path))
        } catch {
            return .rejected(error.description)
        }
    })

    static let geojson = FuzzTarget(name: "geojson", fileName: "input.geojson", seeds: {
        .success(try seedFiles([Paths.fixtures.appendingPathComponent("annotations/qupath-export.geojson")]))
    }, check: { input, file in
        do throws(AVDBError) {
            return checkObjects([try GeoJSONReader.read(Data(input.bytes), file: file.path, image: "slide.tif")])
        } catch {
            return .rejected(error.description)
        }
    })

    static let schema = FuzzTarget(name: "schema", fileName: "schema.json", seeds: {
        .success(try seedFiles(Paths.files(in: Paths.fixtures.appendingPathComponent("label-schema"), suffixes: [".json"])))
    }, check: { input, file in
        do throws(LabelSchemaError) {
            let schema = try Schema.parse(Data(input.bytes), file: file.path)
            // What the loader accepted must survive its own writer: the round trip is the
            // cheapest proof that nothing half-parsed got through.
            let again = try Schema.parse(Data(schema.jsonText.utf8), file: file.path)
            return again == schema ? .accepted : .wrong("the schema does not survive jsonText → parse")
        } catch {
            return .rejected(error.description)
        }
    })
}

/// Geometry read from a file must be finite: a NaN or infinite coordinate is a reader bug,
/// since the geometry policy and rasterizer assume finite numbers.
private func checkObjects(_ images: [AnnotatedImage]) -> Verdict {
    for image in images {
        for object in image.objects {
            let numbers: [Double]
            switch object.geometry {
            case .box(let box): numbers = [box.xMin, box.yMin, box.xMax, box.yMax]
            case .point(let point): numbers = [point.x, point.y]
            case .polygons(let polygons):
                numbers = polygons.flatMap { ([$0.exterior] + $0.holes).flatMap { $0.flatMap { [$0.x, $0.y] } } }
            case .mask: numbers = []
            }
            if let bad = numbers.first(where: { !$0.isFinite }) {
                return .wrong("\(object.ref): coordinate \(bad) is not finite")
            }
        }
    }
    return .accepted
}

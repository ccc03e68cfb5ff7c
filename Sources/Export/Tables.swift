import BundleFormat
import Foundation
import SampleLinking
import Tiling

/// The `/tiles`, `/classes` and `/sources` tables of a plan, in the column order of the spec.
enum Tables {
    /// The plan's inputs must carry their SHA-256 (the augmentation of a row is drawn from it).
    static func make(_ plan: ExportPlan) -> [Table] {
        var source: [Int32] = [], x: [Int64] = [], y: [Int64] = []
        var width: [Int32] = [], height: [Int32] = [], validWidth: [Int32] = [], validHeight: [Int32] = []
        var label: [Int32] = []
        var key: [String] = [], variant: [Int32] = [], parameters: [String] = []
        for (index, s) in plan.sources.enumerated() {
            let sourceSHA256 = plan.sha256(of: s)
            for tile in s.tiles {
                for k in 0..<plan.variants {
                    key.append(Augmentation.tileKey(sourceSHA256: sourceSHA256, tile: tile))
                    variant.append(Int32(k))
                    // Drawn again, as the row was: holding every row's JSON until now would
                    // make the export's memory grow with the dataset.
                    if let drawn = TileOutputs.drawn(plan, sourceSHA256: sourceSHA256, tile: tile, variant: k) {
                        parameters.append(Augmentation.json(drawn))
                    }
                }
            }
            for tile in s.tiles.flatMap({ Array(repeating: $0, count: plan.variants) }) {
                source.append(Int32(index))
                x.append(Int64(tile.rect.x))
                y.append(Int64(tile.rect.y))
                width.append(Int32(tile.rect.width))
                height.append(Int32(tile.rect.height))
                validWidth.append(Int32(tile.valid.width))
                validHeight.append(Int32(tile.valid.height))
                label.append(plan.bundleLabel(s.label))
            }
        }
        var tiles = Table(path: BundleLayout.tiles, columns: [
            Column("source", .int32(source), references: BundleLayout.sources), Column("x", .int64(x)), Column("y", .int64(y)),
            Column("width", .int32(width)), Column("height", .int32(height)),
            Column("valid_width", .int32(validWidth)), Column("valid_height", .int32(validHeight)),
            Column("label", .int32(label)),
        ])
        var classes = Table(path: BundleLayout.classes, columns: [
            Column("id", .int32(plan.classIDs.map { Int32($0) })),
            Column("name", .string(plan.classNames)),
        ], scope: .bundle)
        if let schema = plan.labelSchema?.schema {
            // A schema's class facts travel with the ids (bundle format §5.2).
            let ordered = plan.classNames.map { schema.class(named: $0)! }
            classes.columns += [
                Column("colour", .string(ordered.map(\.colour))),
                Column("parent", .string(ordered.map { $0.parent ?? "" })),
                Column("terms", .string(ordered.map { $0.terms.map(\.curie).joined(separator: " ") })),
            ]
        }
        var sources = Table(path: BundleLayout.sources, columns: [
            Column("path", .string(plan.sources.map(\.path))),
            Column("sha256", .string(plan.sources.map(plan.sha256(of:)))),
            Column("key", .string(plan.sources.map(\.key))),
            Column("width", .int64(plan.sources.map { Int64($0.width) })),
            Column("height", .int64(plan.sources.map { Int64($0.height) })),
            Column("channels", .int32(plan.sources.map { Int32($0.channels) })),
            Column("label", .int32(plan.sources.map { plan.bundleLabel($0.label) })),
        ])
        if plan.recipe.augmentation != nil {
            // Augmentation appends the tile key, the variant and the drawn parameters (bundle format §5.5).
            tiles.columns += [Column("key", .string(key)), Column("augmentation", .int32(variant)),
                              Column("parameters", .string(parameters))]
        }
        let selection = selectionColumns(plan)
        tiles.columns += selection.tiles
        sources.columns += selection.sources
        let grid = selection.grid.map { [$0] } ?? []
        guard let samples = plan.samples else { return [tiles, classes, sources] + grid }
        // Sample linking appends its columns after the spec's (bundle format §5.4).
        let tileSource = source.map { plan.sources[Int($0)] }
        tiles.columns += [
            Column("sample", .int32(tileSource.map { Int32($0.sampleRow ?? -1) }), references: BundleLayout.samples),
            Column("split", .string(tileSource.map { $0.split ?? "" })),
        ]
        sources.columns += [
            Column("sample", .int32(plan.sources.map { Int32($0.sampleRow ?? -1) }), references: BundleLayout.samples),
            Column("group", .string(plan.sources.map { $0.group ?? "" })),
            Column("split", .string(plan.sources.map { $0.split ?? "" })),
        ]
        return [tiles, classes, sources, sampleTable(samples.samples)] + grid
    }

    /// What tiling, sampling and rescaling add (bundle format §5.6, §5.7): each tile's grid
    /// cell and foreground fraction, each source's sizes before rescaling, and `/grid`.
    static func selectionColumns(_ plan: ExportPlan) -> (tiles: [Column], sources: [Column], grid: Table?) {
        let tiles = plan.sources.flatMap { s in s.tiles.indices.flatMap { Array(repeating: (s, $0), count: plan.variants) } }
        var tileColumns: [Column] = [], sourceColumns: [Column] = []
        var grid: Table?
        if plan.recipe.sampling?.randomTiles == nil {
            tileColumns += [Column("grid_row", .int32(tiles.map { Int32($0.0.tiles[$0.1].row) })),
                            Column("grid_column", .int32(tiles.map { Int32($0.0.tiles[$0.1].column) }))]
            let g = plan.grid
            let count = plan.sources.count
            func repeated(_ v: Int) -> ColumnData { .int32(Array(repeating: Int32(v), count: count)) }
            grid = Table(path: BundleLayout.grid, columns: [
                Column("rows", .int32(plan.sources.map { Int32($0.grid?.rows ?? 0) })),
                Column("columns", .int32(plan.sources.map { Int32($0.grid?.columns ?? 0) })),
                Column("tile_width", repeated(g.tileWidth)), Column("tile_height", repeated(g.tileHeight)),
                Column("stride_x", repeated(g.strideX)), Column("stride_y", repeated(g.strideY)),
                Column("overlap_x", repeated(max(0, g.tileWidth - g.strideX))),
                Column("overlap_y", repeated(max(0, g.tileHeight - g.strideY))),
            ])
        }
        if plan.recipe.sampling?.foreground != nil {
            tileColumns.append(Column("foreground", .float64(tiles.map { $0.0.foreground?[$0.1] ?? 0 })))
        }
        if plan.recipe.rescale != nil {
            let r = plan.sources.map { $0.rescale! }
            sourceColumns += [
                Column("original_width", .int64(r.map { Int64($0.originalWidth) })),
                Column("original_height", .int64(r.map { Int64($0.originalHeight) })),
                Column("original_pixel_size_x", .float64(r.map(\.originalPixelSizeX))),
                Column("original_pixel_size_y", .float64(r.map(\.originalPixelSizeY))),
                // The pixel size the tiles have: the rounded size, not the recipe's target, decides it.
                Column("pixel_size_x", .float64(r.map { $0.originalPixelSizeX * Double($0.originalWidth) / Double($0.width) })),
                Column("pixel_size_y", .float64(r.map { $0.originalPixelSizeY * Double($0.originalHeight) / Double($0.height) })),
            ]
        }
        return (tileColumns, sourceColumns, grid)
    }

    /// `/stitch`: the blending windows of the tile size and overlap along x and y, one pair per
    /// mode (bundle format §5.6), when tiles come from a grid.
    static func stitchWindows(_ plan: ExportPlan) -> [Column]? {
        guard plan.recipe.sampling?.randomTiles == nil else { return nil }
        let g = plan.grid
        return BlendMode.allCases.flatMap { mode in
            [Column("\(mode.rawValue)_x", .float64(blendWindow(mode, length: g.tileWidth, overlap: g.tileWidth - g.strideX))),
             Column("\(mode.rawValue)_y", .float64(blendWindow(mode, length: g.tileHeight, overlap: g.tileHeight - g.strideY)))]
        }
    }

    /// `/samples`: one column per released sample column, typed; missing values are
    /// `Int64.min`, NaN or "" (bundle format §5.4). A quantity range is two columns, `<name>` and
    /// `<name> (upper)`; units and categories are in the manifest.
    static func sampleTable(_ data: SampleTableData) -> Table {
        var columns: [Column] = []
        for c in data.columns {
            let name = c.name.replacingOccurrences(of: "/", with: "_")
            switch c.type {
            case .integer:
                columns.append(Column(name, .int64(zip(c.ints ?? [], c.valid).map { $1 ? $0 : Int64.min })))
            case .float:
                columns.append(Column(name, .float64(zip(c.doubles ?? [], c.valid).map { $1 ? $0 : .nan })))
            case .quantity:
                columns.append(Column(name, .float64(zip(c.doubles ?? [], c.valid).map { $1 ? $0 : .nan })))
                columns.append(Column(name + " (upper)", .float64(zip(c.upperDoubles ?? [], c.valid).map { $1 ? $0 : .nan })))
            case .categorical, .date, .text:
                columns.append(Column(name, .string((0..<c.count).map { c.text(at: $0) ?? "" })))
            }
        }
        // Every shard of a sharded export links the same sample table (bundle format §13.3).
        return Table(path: BundleLayout.samples, columns: columns, scope: .bundle)
    }
}

/// The manifest of a plan, before the writer adds dataset digests and the content hash.
enum ManifestBuilder {
    /// `objects` are the groups written, whose row counts the manifest records.
    static func make(_ plan: ExportPlan, objects: ObjectGroups? = nil) throws -> Manifest {
        var tilesPerClass = Array(repeating: 0, count: plan.classNames.count)
        var sourcesPerClass = Array(repeating: 0, count: plan.classNames.count)
        var unlabeled = 0
        for s in plan.sources {
            if s.label >= 0 {
                tilesPerClass[Int(s.label)] += s.tiles.count * plan.variants
                sourcesPerClass[Int(s.label)] += 1
            } else {
                unlabeled += s.tiles.count * plan.variants
            }
        }
        let perClass = plan.classNames.indices.map {
            Manifest.ClassCount(id: plan.classIDs[$0], name: plan.classNames[$0], tiles: tilesPerClass[$0], sources: sourcesPerClass[$0])
        }
        let recipe = plan.recipe
        var manifest = Manifest(
            tool: ToolInfo.tool,
            // The deflate encoder changes the stored bytes (never the content hash): recorded too.
            libraries: ToolInfo.libraries
                + [Manifest.Library(name: "deflate", version: TileEncoder.deflateEncoder(level: plan.spec.deflateLevel))],
            recipe: Manifest.Recipe(path: plan.recipePath, sha256: FileDigest.of(data: Data(plan.recipeText.utf8)),
                                    text: plan.recipeText),
            dataset: Manifest.Dataset(name: recipe.dataset.name, version: recipe.dataset.version,
                                      description: recipe.dataset.description.isEmpty ? nil : recipe.dataset.description,
                                      license: recipe.dataset.license.isEmpty ? nil : recipe.dataset.license,
                                      url: recipe.dataset.url,
                                      creators: recipe.dataset.creators.isEmpty ? nil : recipe.dataset.creators,
                                      datePublished: recipe.dataset.datePublished,
                                      parent: recipe.dataset.parent),
            seed: recipe.seed,
            inputs: plan.inputs,
            counts: Manifest.Counts(tiles: plan.tileCount, sources: plan.sources.count, unlabeledTiles: unlabeled,
                                    perClass: perClass),
            matching: plan.matching,
            labelMapping: plan.labelMapping,
            tiling: Manifest.Tiling(tileWidth: plan.grid.tileWidth, tileHeight: plan.grid.tileHeight,
                                    strideX: plan.grid.strideX, strideY: plan.grid.strideY,
                                    edge: plan.grid.edge.rawValue, padValue: plan.grid.padValue),
            channels: Manifest.Channels(names: plan.spec.channelNames, sourceIndices: plan.sourceChannelIndices,
                                        pixelType: plan.spec.pixelType,
                                        palette: recipe.channels.palette?.rawValue),
            warnings: plan.warnings)
        manifest.study = plan.study
        manifest.shard = plan.shard
        if let info = plan.labelSchema {
            manifest.labelSchema = Manifest.LabelSchemaFile(path: info.path, sha256: plan.inputs.first { $0.path == info.path }?.sha256 ?? "",
                                                            name: info.schema.name, version: info.schema.version.description, text: info.text)
        }
        manifest.samples = try plan.samples.map { try JSONValue.snakeCased($0.manifest) }
        manifest.objects = plan.objects.map { o in
            var section = o.manifest
            (section.boxes, section.points, section.polygons) = (objects?.boxCount ?? 0, objects?.pointCount ?? 0, objects?.polygonCount ?? 0)
            section.perClass = plan.classNames.indices.map { i in
                let rows = objects?.rows(ofClass: Int32(plan.classIDs[i])) ?? (boxes: 0, points: 0, polygons: 0)
                return .init(id: plan.classIDs[i], name: plan.classNames[i], boxes: rows.boxes, points: rows.points, polygons: rows.polygons)
            }
            return section
        }
        if plan.recipe.labels.imageLabels != nil {
            manifest.imageLabels = Manifest.ImageLabels(
                columns: plan.imageLabelColumns.values, termColumns: plan.imageLabelColumns.terms,
                perClass: plan.classNames.indices.map { i in
                    let id = Int32(plan.classIDs[i])
                    let carrying = plan.sources.filter { $0.imageLabels.contains(id) }
                    return Manifest.ClassCount(id: Int(id), name: plan.classNames[i],
                                               tiles: carrying.reduce(0) { $0 + $1.tiles.count } * plan.variants, sources: carrying.count)
                },
                unlabeledSources: plan.sources.filter(\.imageLabels.isEmpty).count)
        }
        manifest.sampling = plan.sampling
        manifest.rescaling = plan.rescaling
        return manifest
    }
}

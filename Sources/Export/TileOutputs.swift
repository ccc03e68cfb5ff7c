import BundleFormat
import Raster
import Tiling

/// Everything one bundle row is made of for one grid tile and variant: the pixels and masks the
/// writer stores and the per-tile values the tables and ragged groups record. New per-tile
/// outputs belong here and in `produce`, which is the one place rows are made.
struct TileOutputs: Sendable {
    var image: ImageBuffer
    var instances: LabelImage?
    var semantic: LabelImage?
    /// The tile's boxes, points and polygons in bundle form, when the recipe has `labels.objects`.
    var objects: TileObjects?

    /// Row `variant` of grid tile `tile` of `source`, whose pixels, masks and objects are
    /// `targets` and whose image file has SHA-256 `sourceSHA256` (the tile key's root, so the
    /// draws follow the content, not the file's name or position). A recipe that augments
    /// reads `targets` fastest prepared once per source (`SampleTargets.preparedForWarp`).
    static func produce(_ plan: ExportPlan, source: ExportPlan.Source, _ targets: SampleTargets,
                        sourceSHA256: String, tile: Tile, variant: Int) throws(TilingError) -> TileOutputs {
        try produce(plan, source: source, targets, tile: tile,
                    drawn: drawn(plan, sourceSHA256: sourceSHA256, tile: tile, variant: variant))
    }

    /// The row of grid tile `tile` with augmentation `drawn` (nil when the recipe does not
    /// augment): `trainset replay` applies the parameters stored with a tile this way.
    static func produce(_ plan: ExportPlan, source: ExportPlan.Source, _ targets: SampleTargets,
                        tile: Tile, drawn: DrawnAugmentation?) throws(TilingError) -> TileOutputs {
        let grid = plan.grid
        guard let pipeline = plan.recipe.augmentation, let drawn else {
            return TileOutputs(
                image: TileExtractor.extract(targets.image, tile: tile, edge: grid.edge, padValue: grid.padValue,
                                             window: targets.window),
                instances: targets.instances.map { TileExtractor.extract($0, tile: tile, edge: grid.edge, window: targets.window) },
                semantic: targets.semantic.map { TileExtractor.extract($0, tile: tile, edge: grid.edge, window: targets.window) },
                objects: ObjectTiling.objects(of: targets, tile: tile, source: source, plan: plan))
        }
        let out = try Augmenter.apply(drawn, to: targets, tile: tile, border: grid.edge,
                                      padValue: grid.padValue, boxFilter: pipeline.boxFilter, rounding: pipeline.rounding)
        return TileOutputs(image: out.image, instances: out.instances, semantic: out.semantic,
                           objects: ObjectTiling.objects(of: out, source: source, plan: plan))
    }

    /// The source pixels (image and masks) that `produce` reads for this row, in the source's
    /// coordinates; nil when it reads none. A source too large to decode whole is read as the
    /// union of its rows' footprints.
    static func footprint(_ plan: ExportPlan, source: ExportPlan.Source, sourceSHA256: String, tile: Tile,
                          variant: Int) -> PixelRect? {
        footprint(plan, source: source, tile: tile, drawn: drawn(plan, sourceSHA256: sourceSHA256, tile: tile, variant: variant))
    }

    /// The source pixels that grid tile `tile` reads with augmentation `drawn` (nil: none).
    static func footprint(_ plan: ExportPlan, source: ExportPlan.Source, tile: Tile, drawn: DrawnAugmentation?) -> PixelRect? {
        let (width, height, edge) = (source.readWidth, source.readHeight, plan.grid.edge)
        guard let drawn else { return TileExtractor.footprint(tile: tile, imageWidth: width, imageHeight: height, edge: edge) }
        return Augmenter.footprint(drawn, tile: tile, imageWidth: width, imageHeight: height, border: edge)
    }

    /// The augmentation drawn for this row, nil when the recipe does not augment. The draws
    /// follow the tile key (rooted in the image's SHA-256) and the variant only, so the tables
    /// draw them again rather than keep every row's (`Tables.make`).
    /// Drawn for the plan's channel count (the images are read with exactly those channels).
    static func drawn(_ plan: ExportPlan, sourceSHA256: String, tile: Tile, variant: Int) -> DrawnAugmentation? {
        plan.recipe.augmentation.map {
            Augmentation.draw($0, seed: plan.recipe.seed, key: Augmentation.tileKey(sourceSHA256: sourceSHA256, tile: tile),
                              variant: variant, channels: plan.sourceChannelIndices.count, grid: plan.grid)
        }
    }
}

import AVDB
import BundleFormat
import Raster
import Tiling

/// Objects in the export: a source's objects attached to its sample targets (polygons painted
/// into masks when the recipe rasterizes), and each output tile's objects in the bundle's form.
///
/// A target's `label` is the index of its object in `SourceObjects` (class and instance ids are
/// looked up after the move); a box with an `instance` is a mask-derived box, recomputed in
/// every tile from the instance mask.
enum ObjectTiling {
    /// `pixels`, a sample of the whole image and nothing else, with its masks (of the image's
    /// size) and the source's objects.
    static func targets(_ pixels: SampleTargets, semantic: LabelImage?, instances: LabelImage?, source: ExportPlan.Source,
                        plan: ExportPlan) -> SampleTargets {
        precondition(pixels.window.isWhole, "objects are attached to whole images")
        let (width, height) = (pixels.window.imageWidth, pixels.window.imageHeight)
        var targets = pixels
        guard let spec = plan.recipe.labels.objects, let objects = source.objects else {
            (targets.semantic, targets.instances) = (semantic, instances)
            return targets
        }
        let list = objects.objects
        var instances = instances, semantic = semantic
        if spec.rasterize.instance {
            let painted = Rasterizer.instanceMask(list, width: width, height: height)
            // The planner numbered painted objects by the same rule.
            assert(painted.objectIndices.count == objects.paintedClasses.count)
            instances = painted.labels
        }
        if spec.rasterize.semantic {
            let classed = list.indices.filter { objects.classIDs[$0] > 0 }
            semantic = Rasterizer.semanticMask(classed.map { list[$0] }, classIDs: classed.map { UInt32(objects.classIDs[$0]) },
                                               width: width, height: height)
        }
        var boxes: [LabeledBox] = [], points: [LabeledPoint] = [], polygons: [LabeledPolygon] = []
        for (k, object) in list.enumerated() {
            switch object.geometry {
            case .box(let b) where !spec.deriveBoxes: boxes.append(LabeledBox(b, label: k))
            case .point(let p): points.append(LabeledPoint(p, label: k))
            case .polygons(let parts): polygons += parts.map { LabeledPolygon($0, label: k) }
            case .box, .mask: break
            }
        }
        if spec.deriveBoxes, let instances {
            boxes = Rasterizer.boxes(of: instances).map { LabeledBox($0.box, label: -1, instance: $0.id) }
        }
        (targets.semantic, targets.instances) = (semantic, instances)
        (targets.boxes, targets.points, targets.polygons) = (boxes, points, polygons)
        return targets
    }

    /// The objects of a tile cut without augmentation.
    static func objects(of targets: SampleTargets, tile: Tile, source: ExportPlan.Source, plan: ExportPlan) -> TileObjects? {
        guard let filter = plan.objects?.filter else { return nil }
        return bundleForm(Augmenter.objects(of: targets, tile: tile, filter: filter), source: source, plan: plan)
    }

    /// The objects of an augmented tile.
    static func objects(of tile: AugmentedTile, source: ExportPlan.Source, plan: ExportPlan) -> TileObjects? {
        guard plan.objects != nil else { return nil }
        return bundleForm(TileObjectTargets(boxes: tile.boxes, points: tile.points, polygons: tile.polygons), source: source, plan: plan)
    }

    /// Moved targets with their class and instance ids; polygon vertices clamped to the tile,
    /// which absorbs the clipper's last-bit rounding at the tile edge.
    static func bundleForm(_ moved: TileObjectTargets, source: ExportPlan.Source, plan: ExportPlan) -> TileObjects {
        let objects = source.objects!
        let (w, h) = (Double(plan.grid.tileWidth), Double(plan.grid.tileHeight))
        func clamp(_ p: Point2D) -> Point2D { Point2D(x: min(max(p.x, 0), w), y: min(max(p.y, 0), h)) }
        return TileObjects(
            boxes: moved.boxes.map { b in
                guard let id = b.instance else {
                    return ObjectBox(b.box, classID: objects.classIDs[b.label], instanceID: objects.instanceIDs[b.label])
                }
                let k = Int(id) - 1
                let painted = objects.paintedClasses.indices.contains(k) ? objects.paintedClasses[k] : nil
                return ObjectBox(b.box, classID: painted ?? plan.objects!.instanceClass, instanceID: Int64(id))
            },
            points: moved.points.map { ObjectPoint($0.point, classID: objects.classIDs[$0.label], instanceID: objects.instanceIDs[$0.label]) },
            polygons: moved.polygons.map {
                ObjectPolygon(Polygon(exterior: $0.polygon.exterior.map(clamp), holes: $0.polygon.holes.map { $0.map(clamp) }),
                              classID: objects.classIDs[$0.label], instanceID: objects.instanceIDs[$0.label])
            })
    }

    /// `/image_labels`: every tile carries its source's classes, K times with augmentation.
    static func imageLabelGroup(_ plan: ExportPlan) -> RaggedGroup? {
        guard plan.recipe.labels.imageLabels != nil else { return nil }
        return ObjectGroups.imageLabels(plan.sources.flatMap { s in
            Array(repeating: s.imageLabels, count: s.tiles.count * plan.variants)
        })
    }
}

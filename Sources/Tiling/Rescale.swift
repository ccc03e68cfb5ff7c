import Raster

/// Resampling whole images to a target physical pixel size before they are tiled, so that
/// every tile of a bundle shows the same µm per pixel.
public enum Rescale {
    /// The output size for an image of `width × height` at `source` µm/px shown at `target`
    /// µm/px: each side scaled by source / target and rounded to nearest, at least 1.
    public static func size(width: Int, height: Int, source: (x: Double, y: Double), target: Double) -> (width: Int, height: Int) {
        (max(Int((Double(width) * source.x / target).rounded()), 1),
         max(Int((Double(height) * source.y / target).rounded()), 1))
    }

    /// `image` resampled to `width × height` with `filter` (antialiased when shrinking; see
    /// `BandMatrix.resampling`), in the image's pixel type.
    public static func image(_ image: ImageBuffer, width: Int, height: Int, filter: BandMatrix.Filter) -> ImageBuffer {
        let rows = BandMatrix.resampling(input: image.height, output: height, filter: filter)
        let cols = BandMatrix.resampling(input: image.width, output: width, filter: filter)
        let out = Kernels.separable(floatPlanes(image), count: image.channels, width: image.width, height: image.height,
                                    rowsOp: rows, colsOp: cols, path: Kernels.separablePath)
        return ImageBuffer(width: width, height: height, channels: image.channels, pixels: pixelData(out, type: image.pixelType))
    }

    /// `labels` resampled to `width × height` by nearest neighbour (the source pixel containing
    /// each output pixel's centre), so ids are never blended.
    public static func labels(_ labels: LabelImage, width: Int, height: Int) -> LabelImage {
        let sx = Double(labels.width) / Double(width), sy = Double(labels.height) / Double(height)
        var values = [UInt32](repeating: 0, count: width * height)
        for y in 0 ..< height {
            let yy = min(Int((Double(y) + 0.5) * sy), labels.height - 1)
            for x in 0 ..< width {
                let xx = min(Int((Double(x) + 0.5) * sx), labels.width - 1)
                values[y * width + x] = labels.values[yy * labels.width + xx]
            }
        }
        return LabelImage(width: width, height: height, values: values)
    }
}

extension Rescale {
    /// Every target of a sample resampled to `width × height`: the image with `filter`, masks
    /// by nearest neighbour, and boxes, points and polygons scaled with the pixel grid
    /// (continuous coordinates, pixel i covering [i, i + 1)), so they stay on their pixels.
    public static func targets(_ t: SampleTargets, width: Int, height: Int, filter: BandMatrix.Filter) -> SampleTargets {
        precondition(t.window.isWhole, "rescaling needs the whole image")
        let sx = Double(width) / Double(t.image.width), sy = Double(height) / Double(t.image.height)
        func scaled(_ p: Point2D) -> Point2D { Point2D(x: p.x * sx, y: p.y * sy) }
        return SampleTargets(
            image: image(t.image, width: width, height: height, filter: filter),
            semantic: t.semantic.map { labels($0, width: width, height: height) },
            instances: t.instances.map { labels($0, width: width, height: height) },
            boxes: t.boxes.map { b in
                LabeledBox(Box(xMin: b.box.xMin * sx, yMin: b.box.yMin * sy, xMax: b.box.xMax * sx, yMax: b.box.yMax * sy),
                           label: b.label, instance: b.instance)
            },
            points: t.points.map { LabeledPoint(scaled($0.point), label: $0.label) },
            polygons: t.polygons.map { p in
                LabeledPolygon(Polygon(exterior: p.polygon.exterior.map(scaled), holes: p.polygon.holes.map { $0.map(scaled) }),
                               label: p.label)
            })
    }
}

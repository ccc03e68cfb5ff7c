import BundleFormat
import Foundation
import ImageFormats
import Raster
import Tiling

/// Rescaling in the export (specs/recipe/v1.md §9): where a source's physical pixel size comes
/// from, the size it is tiled at, and the resampling of its pixels and masks when it is read.
enum Rescaling {
    /// The source's sizes before and after rescaling, decided from its header and the recipe.
    static func plan(_ rescale: Recipe.Rescale, info: ImageInfo, path: String, url: URL) throws(ExportError)
        -> Manifest.Rescaling.Source {
        let shown = FileSystem.display(url)
        var size: (x: Double, y: Double, from: String)?
        if rescale.useMetadata {
            size = try metadataPixelSize(info, file: shown)
        }
        if size == nil, let declared = rescale.sourcePixelSize {
            size = (declared.x, declared.y, "recipe")
        }
        guard let size else {
            throw ExportError(.input, shown, "has no physical pixel size in its OME-XML or ImageJ metadata; "
                              + "declare it with rescale.source_pixel_size")
        }
        // Checked in floating point first: an absurd ratio must be refused, not overflow Int.
        let samples = Double(info.width) * size.x / rescale.pixelSize * Double(info.height) * size.y / rescale.pixelSize
            * Double(max(info.channels, 1))
        let limit = ReadOptions().maxPixels
        guard samples <= Double(limit) else {
            throw ExportError(.recipe, shown, "rescaling \(info.width)x\(info.height) px at \(size.x)x\(size.y) µm/px to "
                              + "\(rescale.pixelSize) µm/px gives more than the limit of \(limit) samples; check rescale.pixel_size")
        }
        let out = Rescale.size(width: info.width, height: info.height, source: (size.x, size.y), target: rescale.pixelSize)
        return Manifest.Rescaling.Source(path: path, originalWidth: info.width, originalHeight: info.height,
                                         originalPixelSizeX: size.x, originalPixelSizeY: size.y, pixelSizeFrom: size.from,
                                         width: out.width, height: out.height)
    }

    /// µm per pixel from OME-XML `PhysicalSizeX/Y` (a missing Y is taken equal to X) or an ImageJ
    /// calibration, nil when the file has neither.
    static func metadataPixelSize(_ info: ImageInfo, file: String) throws(ExportError) -> (x: Double, y: Double, from: String)? {
        if let ome = info.ome, let x = ome.physicalSizeX {
            let mx = try micrometres(x, unit: ome.physicalSizeXUnit, file: file, field: "OME PhysicalSizeX")
            let my = try ome.physicalSizeY.map { (y) throws(ExportError) in
                try micrometres(y, unit: ome.physicalSizeYUnit, file: file, field: "OME PhysicalSizeY") } ?? mx
            return (mx, my, "ome")
        }
        if let ij = info.imageJ, let x = ij.pixelWidth, let unit = ij.unit {
            let mx = try micrometres(x, unit: unit, file: file, field: "ImageJ pixel width")
            return (mx, try micrometres(ij.pixelHeight ?? x, unit: unit, file: file, field: "ImageJ pixel height"), "imagej")
        }
        return nil
    }

    /// Units OME-XML and ImageJ write for lengths, in µm.
    static let unitsInMicrometres: [String: Double] = [
        "µm": 1, "μm": 1, "um": 1, "micron": 1, "microns": 1, "micrometer": 1, "micrometre": 1,
        "nm": 1e-3, "Å": 1e-4, "pm": 1e-6, "mm": 1e3, "cm": 1e4, "m": 1e6,
    ]

    static func micrometres(_ value: Double, unit: String?, file: String, field: String) throws(ExportError) -> Double {
        let unit = unit ?? "µm"
        guard let factor = unitsInMicrometres[unit] else {
            throw ExportError(.input, file, "\(field) is in '\(unit)', a unit trainset does not convert; "
                              + "set rescale.use_metadata: false and declare rescale.source_pixel_size")
        }
        let size = value * factor
        guard size.isFinite, size > 0 else {
            throw ExportError(.input, file, "\(field) is \(value) \(unit), not a positive size; "
                              + "set rescale.use_metadata: false and declare rescale.source_pixel_size")
        }
        return size
    }

    /// A source's targets, read at their original size, resampled to the planned size.
    static func apply(_ targets: SampleTargets, to source: ExportPlan.Source, filter: BandMatrix.Filter) -> SampleTargets {
        guard source.rescale != nil else { return targets }
        return Rescale.targets(targets, width: source.width, height: source.height, filter: filter)
    }
}

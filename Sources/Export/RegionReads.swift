import AVDB
import Foundation
import ImageFormats
import Raster
import Tiling

/// Sources too large to decode at once (whole-slide images) are read one region at a time:
/// each batch of rows reads the union of its rows' footprints (`TileOutputs.footprint`) from
/// the image and mask files, so memory follows the tile size and the batch, not the image.
/// Rows are the same bits as from the whole image: tiles, warps and edge policies keep the
/// whole image's coordinates and border (`ImageWindow`), and a footprint is exactly the set of
/// pixels a row reads. specs/recipe/v1.md §7.1 says when it applies.
enum RegionReads {
    /// Decoded bytes (`bytes(of:)`) above which a source is read by regions.
    static let defaultThreshold = 256 << 20
    /// Decoded bytes a source read whole may take. Above it a source that needs the whole image
    /// is refused before anything is decoded, rather than risking running out of memory.
    static let wholeLimit = 4 << 30
    /// Decoded bytes of one region, about: consecutive rows share a read while their union
    /// stays within it (a batch that wraps to the next grid row would otherwise read two
    /// full-width bands).
    static let regionBudget = 32 << 20

    /// Bytes a source holds per pixel while its tiles are made: the image as read and its
    /// selected channels, each mask as 32-bit labels, and the image as Float for warping.
    static func bytesPerPixel(_ source: ExportPlan.Source, plan: ExportPlan) -> Int {
        let byteWidth = plan.spec.pixelType.byteWidth, selected = plan.sourceChannelIndices.count
        let masks = (source.instanceMask == nil ? 0 : 1) + (source.semanticMask == nil ? 0 : 1)
        return (source.channels + selected) * byteWidth + 4 * masks + (plan.recipe.augmentation == nil ? 0 : 4 * selected)
    }

    /// Decoded bytes of `source` read whole (saturating: a hostile header must not overflow).
    static func bytes(of source: ExportPlan.Source, plan: ExportPlan) -> Int {
        let (pixels, o1) = source.readWidth.multipliedReportingOverflow(by: source.readHeight)
        let (total, o2) = pixels.multipliedReportingOverflow(by: bytesPerPixel(source, plan: plan))
        return o1 || o2 ? .max : total
    }

    /// Whether `source` is read by regions: when it is larger than `threshold` and nothing in
    /// the recipe needs it whole. A source that needs the whole image and is larger than
    /// `wholeLimit` is refused with the reason.
    static func usesRegions(_ source: ExportPlan.Source, plan: ExportPlan, threshold: Int) throws(ExportError) -> Bool {
        let bytes = bytes(of: source, plan: plan)
        guard bytes > threshold else { return false }
        if let reason = try wholeImageReason(source, plan: plan) {
            try requireWhole(source, bytes: bytes, needs: reason)
            return false
        }
        return true
    }

    /// Why `source` cannot be read by regions, nil when it can.
    private static func wholeImageReason(_ source: ExportPlan.Source, plan: ExportPlan) throws(ExportError) -> String? {
        if plan.recipe.rescale != nil { return "rescale (it resamples the whole image)" }
        if plan.recipe.labels.objects != nil { return "labels.objects (objects are attached to the whole image)" }
        for mask in [source.instanceMask, source.semanticMask].compactMap({ $0 }) {
            guard case .file(_, let url) = mask else { return "a mask assembled from object files" }
            if let reason = try unreadableByRegion(url, what: "mask") { return reason }
        }
        return try unreadableByRegion(source.url, what: "image")
    }

    /// Why the file cannot be read by regions: only TIFF files are (PNG and JPEG decode whole),
    /// and only if their strips or tiles are small (a region decodes every strip it touches,
    /// so a TIFF stored as one strip would be decoded whole for every region).
    private static func unreadableByRegion(_ url: URL, what: String) throws(ExportError) -> String? {
        let info: ImageInfo
        do {
            info = try ImageReader.info(url)
        } catch {
            throw ExportError(.input, FileSystem.display(url), error.message)
        }
        guard info.format == .tiff else { return "a \(info.format.rawValue.uppercased()) \(what) (only TIFF is read by region)" }
        let (width, height) = info.isTiled ? (info.tileWidth ?? info.width, info.tileHeight ?? info.height)
                                           : (info.width, info.rowsPerStrip ?? info.height)
        let blockBytes = Double(width) * Double(min(height, info.height)) * Double(info.samplesPerPixel)
            * Double(max(info.bitsPerSample, 8) / 8)
        guard blockBytes <= Double(regionBudget) else {
            return "a TIFF \(what) stored in \(info.isTiled ? "tiles" : "strips") of \(width)x\(min(height, info.height)) px "
                + "(regions need tiles or strips of at most \(regionBudget >> 20) MiB)"
        }
        return nil
    }

    /// Refuses to read `source` whole when that would take more than `wholeLimit` bytes;
    /// `needs` names what needs the whole image.
    static func requireWhole(_ source: ExportPlan.Source, bytes: Int, needs: String) throws(ExportError) {
        guard bytes > wholeLimit else { return }
        let gib = String(format: "%.1f", Double(bytes) / Double(1 << 30))
        throw ExportError(.input, FileSystem.display(source.url),
                          "is \(source.readWidth)x\(source.readHeight) px (\(gib) GiB decoded), more than the "
                          + "\(wholeLimit >> 30) GiB a source may take when read whole, which \(needs) needs; "
                          + "large TIFFs are read by region only without it")
    }

    /// The window read for rows that read no pixel at all (all padding): the buffers must not
    /// be empty.
    static let noPixels = PixelRect(x: 0, y: 0, width: 1, height: 1)

    /// Consecutive rows that share one read: each run's union of footprints stays within
    /// `regionBudget` unless a single row needs more. A run whose rows read no pixel at all
    /// gets the `noPixels` window.
    static func runs(_ footprints: [PixelRect?], bytesPerPixel: Int) -> [(rows: Range<Int>, rect: PixelRect)] {
        var out: [(rows: Range<Int>, rect: PixelRect)] = []
        var start = 0, rect: PixelRect?
        for (i, footprint) in footprints.enumerated() {
            guard let footprint else { continue }
            if let current = rect {
                let merged = union(current, footprint)
                if merged.width * merged.height * bytesPerPixel <= regionBudget {
                    rect = merged
                    continue
                }
                out.append((start..<i, current))
                start = i
            }
            rect = footprint
        }
        if start < footprints.count { out.append((start..<footprints.count, rect ?? noPixels)) }
        return out
    }

    /// The image and masks of `rect` of `source`, with the bundle's channels.
    static func read(_ source: ExportPlan.Source, rect: PixelRect, plan: ExportPlan) throws(ExportError) -> SampleTargets {
        let window = ImageWindow(rect: rect, imageWidth: source.readWidth, imageHeight: source.readHeight)
        let image = try ImageLoading.read(source, region: rect, palette: plan.recipe.channels.palette,
                                          channels: plan.sourceChannelIndices)
        func mask(_ input: ExportPlan.MaskInput?) throws(ExportError) -> LabelImage? {
            try input.map { (m) throws(ExportError) in try MaskLoading.load(m, for: source, region: rect) }
        }
        return SampleTargets(image: image, semantic: try mask(source.semanticMask), instances: try mask(source.instanceMask),
                             window: window)
    }
}

import AVDB
import Foundation
import ImageFormats
import Raster
import Tiling

/// Reads a source's planned mask into a label image of the source's size.
enum MaskLoading {
    /// The whole mask, or only `region` of it (for a mask file; masks assembled from object
    /// files are always read whole).
    static func load(_ mask: ExportPlan.MaskInput, for source: ExportPlan.Source, region: PixelRect? = nil)
        throws(ExportError) -> LabelImage {
        if let region {
            guard case .file(_, let url) = mask else { preconditionFailure("masks assembled from object files are read whole") }
            // The file's size is checked before the region is cut, which must lie inside it.
            let info: ImageInfo
            do {
                info = try ImageReader.info(url)
            } catch {
                throw ExportError(.input, FileSystem.display(url), error.message)
            }
            try checkSize(mask, width: info.width, height: info.height, for: source)
            do throws(AVDBError) {
                return try MaskAssembly.labelImage(
                    from: try reading(url) { () throws(ImageError) in try ImageReader.readRegion(url, rect: region) },
                    file: url.path)
            } catch {
                throw ExportError(.input, error.location(default: FileSystem.display(url)), error.message)
            }
        }
        let label: LabelImage
        do {
            switch mask {
            case .file(_, let url):
                label = try MaskAssembly.labelImage(contentsOf: url)
            case .objects(_, let files):
                label = try MaskAssembly.instanceMask(objectFiles: files.map(\.url), width: source.readWidth, height: source.readHeight).labels
            }
        } catch {
            throw ExportError(.input, error.location(default: FileSystem.display(source.url)), error.message)
        }
        try checkSize(mask, width: label.width, height: label.height, for: source)
        return label
    }

    /// A reader's error as the mask assembly reports it.
    private static func reading<T>(_ url: URL, _ body: () throws(ImageError) -> T) throws(AVDBError) -> T {
        do {
            return try body()
        } catch {
            throw AVDBError(.imageUnreadable, error.message, file: error.file)
        }
    }

    private static func checkSize(_ mask: ExportPlan.MaskInput, width: Int, height: Int,
                                  for source: ExportPlan.Source) throws(ExportError) {
        guard width != source.readWidth || height != source.readHeight else { return }
        let path: String
        switch mask {
        case .file(_, let url): path = FileSystem.display(url)
        case .objects(let directory, let files):
            path = files.first.map { FileSystem.display($0.url.deletingLastPathComponent()) } ?? directory
        }
        throw ExportError(.mismatch, path,
                          "mask is \(width)x\(height) but its image \(source.path) is \(source.readWidth)x\(source.readHeight)")
    }
}

/// Reads a source's pixels with the bundle's channels, at the size it was planned to be read.
enum ImageLoading {
    /// The whole image, or only `region` of it.
    static func read(_ source: ExportPlan.Source, region: PixelRect? = nil, palette: Recipe.PaletteChoice?,
                     channels: [Int]) throws(ExportError) -> ImageBuffer {
        let options = ReadOptions(palette: palette == .rgb ? .rgb : .indices)
        func reading<T>(_ body: () throws(ImageError) -> T) throws(ExportError) -> T {
            do {
                return try body()
            } catch {
                throw ExportError(.input, FileSystem.display(source.url), error.message)
            }
        }
        let image: ImageBuffer
        if let region {
            // The file's size is checked before the region is cut, which must lie inside it.
            let info = try reading { () throws(ImageError) in try ImageReader.info(source.url, options: options) }
            try checkSize(source, width: info.width, height: info.height)
            image = try reading { () throws(ImageError) in try ImageReader.readRegion(source.url, rect: region, options: options) }
        } else {
            image = try reading { () throws(ImageError) in try ImageReader.read(source.url, options: options) }
            try checkSize(source, width: image.width, height: image.height)
        }
        return channels == Array(0..<image.channels) ? image : TileExtractor.selectChannels(image, channels)
    }

    private static func checkSize(_ source: ExportPlan.Source, width: Int, height: Int) throws(ExportError) {
        guard width != source.readWidth || height != source.readHeight else { return }
        throw ExportError(.input, FileSystem.display(source.url),
                          "changed while exporting: planned \(source.readWidth)x\(source.readHeight), read \(width)x\(height)")
    }
}

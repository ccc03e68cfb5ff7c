import AVDB
import Foundation
import ImageFormats
import Raster
import Tiling

/// Reads a source's planned mask into a label image of the source's size.
enum MaskLoading {
    static func load(_ mask: ExportPlan.MaskInput, for source: ExportPlan.Source) throws(ExportError) -> LabelImage {
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
        guard label.width == source.readWidth, label.height == source.readHeight else {
            let path: String
            switch mask {
            case .file(_, let url): path = FileSystem.display(url)
            case .objects(let directory, let files):
                path = files.first.map { FileSystem.display($0.url.deletingLastPathComponent()) } ?? directory
            }
            throw ExportError(.mismatch, path,
                              "mask is \(label.width)x\(label.height) but its image \(source.path) is \(source.readWidth)x\(source.readHeight)")
        }
        return label
    }
}

/// Reads a source's pixels with the bundle's channels, at the size it was planned to be read.
enum ImageLoading {
    static func read(_ source: ExportPlan.Source, palette: Recipe.PaletteChoice?, channels: [Int]) throws(ExportError)
        -> ImageBuffer {
        let image: ImageBuffer
        do {
            image = try ImageReader.read(source.url, options: ReadOptions(palette: palette == .rgb ? .rgb : .indices))
        } catch {
            throw ExportError(.input, FileSystem.display(source.url), error.message)
        }
        guard image.width == source.readWidth, image.height == source.readHeight else {
            throw ExportError(.input, FileSystem.display(source.url),
                              "changed while exporting: planned \(source.readWidth)x\(source.readHeight), read \(image.width)x\(image.height)")
        }
        return channels == Array(0..<image.channels) ? image : TileExtractor.selectChannels(image, channels)
    }
}

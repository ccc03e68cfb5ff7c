import AVDB
import Foundation
import ImageFormats
import Raster

/// Reads a source's planned mask into a label image of the source's size.
enum MaskLoading {
    static func load(_ mask: ExportPlan.MaskInput, for source: ExportPlan.Source) throws(ExportError) -> LabelImage {
        let label: LabelImage
        do {
            switch mask {
            case .file(_, let url):
                label = try MaskAssembly.labelImage(contentsOf: url)
            case .objects(_, let files):
                label = try MaskAssembly.instanceMask(objectFiles: files.map(\.url), width: source.width, height: source.height).labels
            }
        } catch {
            throw ExportError(.input, error.location(default: FileSystem.display(source.url)), error.message)
        }
        guard label.width == source.width, label.height == source.height else {
            let path: String
            switch mask {
            case .file(_, let url): path = FileSystem.display(url)
            case .objects(let directory, let files):
                path = files.first.map { FileSystem.display($0.url.deletingLastPathComponent()) } ?? directory
            }
            throw ExportError(.mismatch, path,
                              "mask is \(label.width)x\(label.height) but its image \(source.path) is \(source.width)x\(source.height)")
        }
        return label
    }
}

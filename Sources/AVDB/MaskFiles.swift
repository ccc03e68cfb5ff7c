import Foundation
import ImageFormats
import Raster

extension MaskAssembly {
    /// Assembles the instance mask of one image from a directory holding one binary mask file
    /// per object (e.g. DSB 2018 `stage1_train/<id>/masks/`).
    ///
    /// Mask files are the directory's non-hidden files with an image extension, taken in
    /// UTF-8 byte order of their names; object ids 1…n follow that order and
    /// `InstanceMask.objectNames` records it. An empty directory gives an image without objects.
    public static func instanceMask(
        directory: URL, width: Int, height: Int, options: ReadOptions = .init()
    ) throws(AVDBError) -> InstanceMask {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw AVDBError(.fileUnreadable, "cannot list mask directory: \(error.localizedDescription)", file: directory.path)
        }
        let maskNames = ImageLister.sortedPaths(names.filter { name in
            !name.hasPrefix(".")
                && ImageLister.imageExtensions.contains((name as NSString).pathExtension.lowercased())
                && ImageMatcher.isRegularFile(directory.appendingPathComponent(name))
        })
        return try instanceMask(objectFiles: maskNames.map { directory.appendingPathComponent($0) },
                                width: width, height: height, options: options)
    }

    /// Assembles an instance mask from binary mask files given in id order (object `i + 1` is
    /// `objectFiles[i]`), for callers that listed and fingerprinted the files when planning.
    /// `InstanceMask.objectNames` holds the files' names.
    public static func instanceMask(
        objectFiles: [URL], width: Int, height: Int, options: ReadOptions = .init()
    ) throws(AVDBError) -> InstanceMask {
        var builder = InstanceMaskBuilder(width: width, height: height)
        for url in objectFiles {
            try builder.add(read(url, options: options), name: url.lastPathComponent, file: url.path)
        }
        return builder.result
    }

    /// Reads a label image file (uint8 or uint16, one channel) used as an instance or semantic
    /// mask; see `labelImage(from:file:width:height:)` for the checks. A TIFF is decoded
    /// straight into the labels (`ImageReader.readLabels`), the common case for a mask.
    public static func labelImage(
        contentsOf url: URL, width: Int? = nil, height: Int? = nil, options: ReadOptions = .init()
    ) throws(AVDBError) -> LabelImage {
        if let labels = try reading({ () throws(ImageError) in try ImageReader.readLabels(url, options: options) }) {
            try checkMaskSize(labels.width, labels.height, file: url.path, width: width, height: height)
            return labels
        }
        return try labelImage(from: read(url, options: options), file: url.path, width: width, height: height)
    }

    private static func read(_ url: URL, options: ReadOptions) throws(AVDBError) -> ImageBuffer {
        try reading { () throws(ImageError) in try ImageReader.read(url, options: options) }
    }

    private static func reading<T>(_ body: () throws(ImageError) -> T) throws(AVDBError) -> T {
        do {
            return try body()
        } catch {
            throw AVDBError(.imageUnreadable, error.message, file: error.file)
        }
    }
}

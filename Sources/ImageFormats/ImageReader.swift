import CrashIsolation
import Foundation
import Raster
internal import CJPEG
internal import CPNG
internal import CTIFF

/// Reads TIFF (incl. BigTIFF, OME-TIFF, ImageJ), PNG and JPEG files into planar `ImageBuffer`s
/// holding exactly the values `tifffile.imread` / `np.asarray(PIL.Image.open(...))` give, with
/// channels first. The format is detected from the file's first bytes.
///
/// All functions are thread-safe: library messages are captured per call, never printed.
public enum ImageReader {
    /// The header of `url`: size, channels and type of what `read` would return, layout and
    /// metadata. Reads no pixel data.
    public static func info(_ url: URL, options: ReadOptions = .init()) throws(ImageError) -> ImageInfo {
        let path = url.path
        return try Breadcrumbs.reading(path) { () throws(ImageError) -> ImageInfo in
            switch try detectFormat(path) {
            case .tiff: return try TIFFFile.open(path).withClosing { tiff throws(ImageError) in try tiff.info(options) }
            case .png: return try PNGDecoder.info(path, options: options)
            case .jpeg: return try JPEGDecoder.info(path)
            }
        }
    }

    /// The whole image of `url` as planar CHW samples.
    ///
    /// For a TIFF this is page 0, except that ImageJ channel stacks (`channels=N`, one slice and
    /// one frame) and OME-TIFFs with SizeC > 1 and SizeZ = SizeT = 1 return their C pages as C
    /// channels, as `tifffile.imread` does. Other multi-page files return page 0 only (tifffile
    /// would stack uniform pages).
    public static func read(_ url: URL, options: ReadOptions = .init()) throws(ImageError) -> ImageBuffer {
        let path = url.path
        return try Breadcrumbs.reading(path) { () throws(ImageError) -> ImageBuffer in
            switch try detectFormat(path) {
            case .tiff: return try TIFFFile.open(path).withClosing { tiff throws(ImageError) in try tiff.read(region: nil, options) }
            case .png: return try PNGDecoder.read(path, options: options)
            case .jpeg: return try JPEGDecoder.read(path, options: options)
            }
        }
    }

    /// The samples of `rect` of the image `read` would return.
    ///
    /// For TIFF only the strips or tiles that intersect `rect` are decoded, so regions of
    /// whole-slide images far larger than memory can be read; `options.maxPixels` then limits
    /// the region, not the image. PNG and JPEG are decoded whole and cropped.
    /// - Precondition: `rect` is non-empty and lies inside the image (see `info`).
    public static func readRegion(_ url: URL, rect: PixelRect, options: ReadOptions = .init()) throws(ImageError) -> ImageBuffer {
        let path = url.path
        return try Breadcrumbs.reading(path) { () throws(ImageError) -> ImageBuffer in
            switch try detectFormat(path) {
            case .tiff:
                return try TIFFFile.open(path).withClosing { tiff throws(ImageError) in try tiff.read(region: rect, options) }
            case .png: return crop(try PNGDecoder.read(path, options: options), to: rect)
            case .jpeg: return crop(try JPEGDecoder.read(path, options: options), to: rect)
            }
        }
    }

    /// The whole image of `url` as 32-bit labels (a mask file), without holding the samples in
    /// their own type as well, when `read` would give one channel of uint8 or uint16 samples
    /// from a TIFF. Nil for anything else: the caller then reads it with `read` and says what
    /// is wrong with it as a mask, or converts a PNG.
    public static func readLabels(_ url: URL, options: ReadOptions = .init()) throws(ImageError) -> LabelImage? {
        let path = url.path
        return try Breadcrumbs.reading(path) { () throws(ImageError) -> LabelImage? in
            guard try detectFormat(path) == .tiff else { return nil }
            return try TIFFFile.open(path).withClosing { tiff throws(ImageError) in try tiff.readLabels(options) }
        }
    }

    /// Names and versions of the C libraries doing the decoding, for provenance records:
    /// "libtiff" (e.g. "4.5.0", from the first line of TIFFGetVersion), "libpng", "libjpeg" (e.g.
    /// "libjpeg-turbo 2.1.5 (API 62)").
    public static var libraryVersions: [(name: String, version: String)] {
        // The first line reads "LIBTIFF, Version 4.5.0"; keep the number, as the others give.
        let banner = String(cString: TIFFGetVersion()).split(separator: "\n").first.map(String.init) ?? ""
        let tiff = banner.components(separatedBy: "Version ").last ?? banner
        let jpeg = String(cString: cjpeg_turbo_version())
        return [
            ("libtiff", tiff),
            ("libpng", String(cString: png_get_libpng_ver(nil))),
            ("libjpeg", jpeg.isEmpty ? "API \(JPEG_LIB_VERSION)" : "libjpeg-turbo \(jpeg) (API \(JPEG_LIB_VERSION))"),
        ]
    }

    static func detectFormat(_ path: String) throws(ImageError) -> ImageFileFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw openError(path, errno: errno)
        }
        defer { try? handle.close() }
        let head: Data
        do {
            head = try handle.read(upToCount: 8) ?? Data()
        } catch {
            throw ImageError(.unreadable, file: path, "cannot read the file: \(error.localizedDescription)")
        }
        let b = [UInt8](head)
        if b.starts(with: [0x49, 0x49, 0x2A, 0x00]) || b.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
            || b.starts(with: [0x49, 0x49, 0x2B, 0x00]) || b.starts(with: [0x4D, 0x4D, 0x00, 0x2B]) {
            return .tiff
        }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if b.isEmpty { throw ImageError(.corrupt, file: path, "the file is empty") }
        throw ImageError(.unsupported, file: path,
                         "not a TIFF, PNG or JPEG file (first bytes \(b.map { String(format: "%02x", $0) }.joined(separator: " ")))")
    }

    /// The error for a file that could not be opened, from the `errno` of the failed open.
    static func openError(_ path: String, errno code: Int32) -> ImageError {
        if code == ENOENT || code == ENOTDIR {
            return ImageError(.notFound, file: path, "no such file")
        }
        return ImageError(.unreadable, file: path, "cannot open the file: \(String(cString: strerror(code)))")
    }

    /// Cuts `rect` out of a decoded image.
    static func crop(_ image: ImageBuffer, to rect: PixelRect) -> ImageBuffer {
        precondition(rect.width > 0 && rect.height > 0 && rect.x >= 0 && rect.y >= 0
                     && rect.x + rect.width <= image.width && rect.y + rect.height <= image.height,
                     "region \(rect) does not lie inside the \(image.width)x\(image.height) image")
        func cut<T>(_ source: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(rect.width * rect.height * image.channels)
            for c in 0..<image.channels {
                for y in rect.y..<(rect.y + rect.height) {
                    let start = image.index(channel: c, y: y, x: rect.x)
                    out.append(contentsOf: source[start..<(start + rect.width)])
                }
            }
            return out
        }
        let pixels: PixelData = switch image.pixels {
        case .uint8(let v): .uint8(cut(v))
        case .uint16(let v): .uint16(cut(v))
        case .float32(let v): .float32(cut(v))
        }
        return ImageBuffer(width: rect.width, height: rect.height, channels: image.channels, pixels: pixels)
    }
}

/// Allocates `count` samples of `type` and lets `fill` write their bytes; `fill` returns an error
/// instead of throwing because the standard library's buffer closures do not carry typed throws.
func makePixels(_ type: PixelType, count: Int,
                fill: (UnsafeMutableRawBufferPointer) -> ImageError?) throws(ImageError) -> PixelData {
    var failure: ImageError?
    let pixels: PixelData
    switch type {
    case .uint8:
        var v = [UInt8](repeating: 0, count: count)
        failure = v.withUnsafeMutableBytes { fill($0) }
        pixels = .uint8(v)
    case .uint16:
        var v = [UInt16](repeating: 0, count: count)
        failure = v.withUnsafeMutableBytes { fill($0) }
        pixels = .uint16(v)
    case .float32:
        var v = [Float](repeating: 0, count: count)
        failure = v.withUnsafeMutableBytes { fill($0) }
        pixels = .float32(v)
    }
    if let failure { throw failure }
    return pixels
}

/// Refuses a declared size above the limit before anything is allocated.
func checkSize(_ path: String, width: Int, height: Int, channels: Int, _ options: ReadOptions) throws(ImageError) {
    let (wh, o1) = width.multipliedReportingOverflow(by: height)
    let (total, o2) = wh.multipliedReportingOverflow(by: channels)
    if o1 || o2 || total > options.maxPixels {
        throw ImageError(.tooLarge, file: path,
                         "declared size \(width)x\(height)x\(channels) exceeds the limit of \(options.maxPixels) samples")
    }
}

/// Makes a library message fit on one line.
func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}

/// The text of a NUL-terminated C character buffer.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

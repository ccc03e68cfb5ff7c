import Foundation
import Raster
internal import CJPEG

/// Baseline and progressive 8-bit JPEG through libjpeg-turbo (via the `cjpeg_read` shim, which keeps
/// libjpeg's longjmp in C). Greyscale gives one channel; YCbCr and RGB give RGB decoded with
/// libjpeg's defaults (islow IDCT, fancy upsampling), which is what Pillow uses. CMYK/YCCK and
/// 12-bit JPEGs are refused as unsupported. A file that ends before the last scan is corrupt,
/// as Pillow reports it, rather than padded with grey.
enum JPEGDecoder {
    static func info(_ path: String) throws(ImageError) -> ImageInfo {
        let header = try readHeader(path)
        return ImageInfo(format: .jpeg, width: Int(header.width), height: Int(header.height),
                         channels: outputChannels(header), pixelType: .uint8,
                         bitsPerSample: Int(header.precision), samplesPerPixel: Int(header.components),
                         compression: "jpeg")
    }

    static func read(_ path: String, options: ReadOptions) throws(ImageError) -> ImageBuffer {
        var header = try readHeader(path)
        let (width, height, channels) = (Int(header.width), Int(header.height), outputChannels(header))
        try checkSize(path, width: width, height: height, channels: channels, options)
        var interleaved = [UInt8](repeating: 0, count: width * height * channels)
        var message = [CChar](repeating: 0, count: 512)
        let status = interleaved.withUnsafeMutableBufferPointer { out in
            cjpeg_read(path, &header, out.baseAddress, out.count, &message, message.count)
        }
        guard status == 0 else { throw failure(path, status, message) }
        let plane = width * height
        let pixels = try makePixels(.uint8, count: channels * plane) { raw in
            let out = raw.bindMemory(to: UInt8.self)
            for i in 0..<plane { for c in 0..<channels { out[c * plane + i] = interleaved[i * channels + c] } }
            return nil
        }
        return ImageBuffer(width: width, height: height, channels: channels, pixels: pixels)
    }

    private static func readHeader(_ path: String) throws(ImageError) -> cjpeg_header {
        var header = cjpeg_header()
        var message = [CChar](repeating: 0, count: 512)
        let status = cjpeg_read(path, &header, nil, 0, &message, message.count)
        guard status == 0 else { throw failure(path, status, message) }
        if header.precision != 8 {
            throw ImageError(.unsupported, file: path, "\(header.precision)-bit JPEG is not supported (only 8-bit)")
        }
        let space = J_COLOR_SPACE(UInt32(header.color_space))
        guard space == JCS_GRAYSCALE || space == JCS_YCbCr || space == JCS_RGB else {
            throw ImageError(.unsupported, file: path,
                             "JPEG colour space \(colorSpaceName(space)) with \(header.components) components is not supported (only greyscale and RGB/YCbCr)")
        }
        return header
    }

    private static func outputChannels(_ header: cjpeg_header) -> Int {
        J_COLOR_SPACE(UInt32(header.color_space)) == JCS_GRAYSCALE ? 1 : 3
    }

    private static func colorSpaceName(_ space: J_COLOR_SPACE) -> String {
        switch space {
        case JCS_CMYK: "CMYK"
        case JCS_YCCK: "YCCK"
        default: "\(space.rawValue)"
        }
    }

    private static func failure(_ path: String, _ status: Int32, _ message: [CChar]) -> ImageError {
        if status < 0 { return ImageReader.openError(path, errno: errno) }
        let text = oneLine(cString(message))
        return ImageError(.corrupt, file: path, "damaged or truncated JPEG: \(text)")
    }
}

import Foundation
import Raster
internal import CPNG

/// PNG through libpng's classic API (via the `cpng_read` shim, which keeps libpng's longjmp in C).
///
/// Values are those of `np.asarray(PIL.Image.open(path))`, channels first:
/// - 8-bit grey, grey+alpha, RGB, RGBA: the stored samples.
/// - 1-bit grey: 0 and 1 (Pillow's mode "1" becomes a bool array); 2- and 4-bit grey: scaled to
///   0...255 (× 85, × 17) as Pillow's mode "L" does.
/// - Palette: the indices (Pillow's mode "P"), or with `PaletteMode.rgb` the PLTE colours; indices
///   past the end of PLTE map to black.
/// - 16-bit grey: uint16, as Pillow's "I;16". 16-bit grey+alpha, RGB and RGBA: uint16 with all
///   channels kept. Pillow differs here (it drops to 8 bits, and turns grey+alpha into RGBA);
///   these match `imagecodecs.png_decode` instead, so no precision is lost.
/// - tRNS, gAMA, sRGB and iCCP are ignored, as Pillow's pixel values ignore them.
enum PNGDecoder {
    private static let grey: Int32 = 0, rgb: Int32 = 2, palette: Int32 = 3, greyAlpha: Int32 = 4, rgba: Int32 = 6

    static func info(_ path: String, options: ReadOptions) throws(ImageError) -> ImageInfo {
        let header = try readHeader(path)
        return makeInfo(header, options)
    }

    static func read(_ path: String, options: ReadOptions) throws(ImageError) -> ImageBuffer {
        var header = try readHeader(path)
        let info = makeInfo(header, options)
        try checkSize(path, width: info.width, height: info.height, channels: max(info.channels, Int(header.channels)), options)
        let (width, height) = (info.width, info.height)
        let stored = Int(header.channels)
        let bytesPerSample = header.bit_depth == 16 ? 2 : 1
        var interleaved = [UInt8](repeating: 0, count: width * height * stored * bytesPerSample)
        var message = [CChar](repeating: 0, count: 512)
        let status = interleaved.withUnsafeMutableBufferPointer { out in
            cpng_read(path, &header, out.baseAddress, out.count, &message, message.count)
        }
        guard status == 0 else { throw failure(path, status, message) }

        let plane = width * height
        if header.color_type == palette && options.palette == .rgb {
            let table = withUnsafeBytes(of: header.palette) { [UInt8]($0) }
            let entries = Int(header.palette_size)
            let pixels = try makePixels(.uint8, count: 3 * plane) { raw in
                let out = raw.bindMemory(to: UInt8.self)
                for i in 0..<plane {
                    let index = Int(interleaved[i])
                    guard index < entries else { continue }
                    for c in 0..<3 { out[c * plane + i] = table[3 * index + c] }
                }
                return nil
            }
            return ImageBuffer(width: width, height: height, channels: 3, pixels: pixels)
        }
        let scale: UInt8 = switch (header.color_type, header.bit_depth) {
        case (grey, 2): 85
        case (grey, 4): 17
        default: 1
        }
        let pixels = try makePixels(info.pixelType, count: stored * plane) { raw in
            interleaved.withUnsafeBytes { source in
                if bytesPerSample == 2 {
                    let src = source.bindMemory(to: UInt16.self), out = raw.bindMemory(to: UInt16.self)
                    for i in 0..<plane { for c in 0..<stored { out[c * plane + i] = src[i * stored + c] } }
                } else {
                    let src = source.bindMemory(to: UInt8.self), out = raw.bindMemory(to: UInt8.self)
                    for i in 0..<plane { for c in 0..<stored { out[c * plane + i] = src[i * stored + c] &* scale } }
                }
            }
            return nil
        }
        return ImageBuffer(width: width, height: height, channels: stored, pixels: pixels)
    }

    private static func readHeader(_ path: String) throws(ImageError) -> cpng_header {
        var header = cpng_header()
        var message = [CChar](repeating: 0, count: 512)
        let status = cpng_read(path, &header, nil, 0, &message, message.count)
        guard status == 0 else { throw failure(path, status, message) }
        return header
    }

    private static func makeInfo(_ header: cpng_header, _ options: ReadOptions) -> ImageInfo {
        let expand = header.color_type == palette && options.palette == .rgb
        return ImageInfo(
            format: .png, width: Int(header.width), height: Int(header.height),
            channels: expand ? 3 : Int(header.channels),
            pixelType: header.bit_depth == 16 ? .uint16 : .uint8,
            bitsPerSample: Int(header.bit_depth), samplesPerPixel: Int(header.channels),
            compression: "deflate", isPalette: header.color_type == palette)
    }

    private static func failure(_ path: String, _ status: Int32, _ message: [CChar]) -> ImageError {
        if status < 0 { return ImageReader.openError(path, errno: errno) }
        let text = oneLine(cString(message))
        return ImageError(.corrupt, file: path, "damaged or truncated PNG: \(text)")
    }
}

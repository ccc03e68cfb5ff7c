import Foundation
import Raster
internal import CTIFF

/// Collects libtiff's messages for one open file, so concurrent reads never share a handler and
/// nothing reaches stderr.
private final class TIFFMessages {
    var errors: [String] = []
    var warnings: [String] = []
}

private func formatMessage(_ module: UnsafePointer<CChar>?, _ format: UnsafePointer<CChar>?,
                           _ arguments: CVaListPointer?) -> String {
    guard let format, let arguments else { return "" }
    var buffer = [CChar](repeating: 0, count: 1024)
    _ = vsnprintf(&buffer, buffer.count, format, arguments)
    let text = oneLine(cString(buffer))
    // Codecs pass the file name as the module; every ImageError already names the file.
    guard let module, !String(cString: module).contains("/") else { return text }
    return "\(String(cString: module)): \(text)"
}

private let captureError: TIFFErrorHandlerExtR = { _, userData, module, format, arguments in
    guard let userData else { return 0 }
    Unmanaged<TIFFMessages>.fromOpaque(userData).takeUnretainedValue().errors
        .append(formatMessage(module, format, arguments))
    return 1
}

private let captureWarning: TIFFErrorHandlerExtR = { _, userData, module, format, arguments in
    guard let userData else { return 0 }
    Unmanaged<TIFFMessages>.fromOpaque(userData).takeUnretainedValue().warnings
        .append(formatMessage(module, format, arguments))
    return 1
}

/// The few libtiff code paths that still report through the process-wide handlers (rather than
/// the per-file ones) would print to stderr; silence them once.
private let silenceGlobalHandlers: Void = {
    TIFFSetErrorHandler(nil)
    TIFFSetWarningHandler(nil)
}()

/// The layout of one TIFF directory (page).
struct TIFFPage: Equatable {
    var width: Int
    var height: Int
    var samplesPerPixel: Int
    var bitsPerSample: Int
    var sampleFormat: Int
    var photometric: Int
    var compression: Int
    var isPlanar: Bool
    var isTiled: Bool
    var tileWidth: Int
    var tileHeight: Int
    var rowsPerStrip: Int
    /// What the page is when it is not a full-resolution image: `reduced-resolution` (a
    /// thumbnail or pyramid level: NewSubfileType bit 0), or the `label` or `macro` image of a
    /// whole-slide file (Aperio writes the word on the second line of the ImageDescription;
    /// NewSubfileType 9 marks a macro). nil for an ordinary image page.
    var secondaryKind: String? = nil

    /// The element type of the stored samples; nil when it is none of ours.
    var pixelType: PixelType? {
        switch (sampleFormat, bitsPerSample) {
        case (Int(SAMPLEFORMAT_UINT), 8), (Int(SAMPLEFORMAT_VOID), 8): .uint8
        case (Int(SAMPLEFORMAT_UINT), 16), (Int(SAMPLEFORMAT_VOID), 16): .uint16
        case (Int(SAMPLEFORMAT_IEEEFP), 32): .float32
        default: nil
        }
    }

    /// Why `pixelType` is nil.
    var unsupportedSampleMessage: String {
        let kind = switch sampleFormat {
        case Int(SAMPLEFORMAT_UINT), Int(SAMPLEFORMAT_VOID): "unsigned integer"
        case Int(SAMPLEFORMAT_INT): "signed integer"
        case Int(SAMPLEFORMAT_IEEEFP): "floating point"
        case Int(SAMPLEFORMAT_COMPLEXINT), Int(SAMPLEFORMAT_COMPLEXIEEEFP): "complex"
        default: "sample format \(sampleFormat)"
        }
        return "\(bitsPerSample)-bit \(kind) samples are not supported (only uint8, uint16 and float32)"
    }

    var isPalette: Bool { photometric == Int(PHOTOMETRIC_PALETTE) }

    /// Whether this page's samples can be another channel of `first`: compression and strip or
    /// tile layout may differ, the pixel grid and sample type may not.
    func canStack(with first: TIFFPage) -> Bool {
        width == first.width && height == first.height && samplesPerPixel == first.samplesPerPixel
            && bitsPerSample == first.bitsPerSample && sampleFormat == first.sampleFormat
            && photometric == first.photometric
    }
}

/// An open TIFF file. Not thread-safe itself; every `ImageReader` call opens its own.
final class TIFFFile {
    let path: String
    private let handle: OpaquePointer
    private let messages: TIFFMessages

    private init(path: String, handle: OpaquePointer, messages: TIFFMessages) {
        self.path = path
        self.handle = handle
        self.messages = messages
    }

    static func open(_ path: String) throws(ImageError) -> TIFFFile {
        _ = silenceGlobalHandlers
        let messages = TIFFMessages()
        let context = Unmanaged.passUnretained(messages).toOpaque()
        guard let options = TIFFOpenOptionsAlloc() else {
            throw ImageError(.unreadable, file: path, "out of memory")
        }
        TIFFOpenOptionsSetErrorHandlerExtR(options, captureError, context)
        TIFFOpenOptionsSetWarningHandlerExtR(options, captureWarning, context)
        // Bounds every single allocation libtiff makes (strip buffers, tag arrays), so a corrupt
        // byte count cannot ask for gigabytes; pixel buffers are allocated by us, after checks.
        TIFFOpenOptionsSetMaxSingleMemAlloc(options, 1 << 32)
        // "m": read() instead of mmap(), so a file truncated while open cannot raise SIGBUS.
        let handle = TIFFOpenExt(path, "rm", options)
        TIFFOpenOptionsFree(options)
        guard let handle else {
            let detail = messages.errors.last ?? "not a readable TIFF file"
            throw ImageError(.corrupt, file: path, "damaged TIFF: \(detail)")
        }
        return TIFFFile(path: path, handle: handle, messages: messages)
    }

    /// Runs `body` and closes the file, whatever happens.
    func withClosing<R>(_ body: (TIFFFile) throws(ImageError) -> R) throws(ImageError) -> R {
        defer { TIFFClose(handle) }
        return try body(self)
    }

    // MARK: Tags

    private func field<T>(_ tag: Int32, defaulted: Bool = false, _ type: T.Type) -> T? {
        let slot = UnsafeMutablePointer<T>.allocate(capacity: 1)
        defer { slot.deallocate() }
        let found = withVaList([slot]) { arguments in
            defaulted ? TIFFVGetFieldDefaulted(handle, UInt32(tag), arguments)
                : TIFFVGetField(handle, UInt32(tag), arguments)
        }
        return found == 1 ? slot.pointee : nil
    }

    private func string(_ tag: Int32) -> String? {
        field(tag, UnsafeMutablePointer<CChar>?.self).flatMap { $0 }.map { String(cString: $0) }
    }

    private func colormap(entries: Int) -> [[UInt16]]? {
        let slots = UnsafeMutablePointer<UnsafeMutablePointer<UInt16>?>.allocate(capacity: 3)
        slots.initialize(repeating: nil, count: 3)
        defer { slots.deallocate() }
        let found = withVaList([slots, slots + 1, slots + 2]) { TIFFVGetField(handle, UInt32(TIFFTAG_COLORMAP), $0) }
        guard found == 1, let r = slots[0], let g = slots[1], let b = slots[2] else { return nil }
        let channels: [UnsafeMutablePointer<UInt16>] = [r, g, b]
        return channels.map { Array(UnsafeBufferPointer(start: $0, count: entries)) }
    }

    private func selectPage(_ index: Int) throws(ImageError) -> TIFFPage {
        if Int(TIFFCurrentDirectory(handle)) != index {
            guard TIFFSetDirectory(handle, tdir_t(index)) == 1 else {
                throw libraryError("cannot read page \(index)")
            }
        }
        let u16 = { (tag: Int32) in Int(self.field(tag, defaulted: true, UInt16.self) ?? 0) }
        let u32 = { (tag: Int32) in Int(self.field(tag, defaulted: true, UInt32.self) ?? 0) }
        let tiled = TIFFIsTiled(handle) != 0
        var page = TIFFPage(
            width: u32(TIFFTAG_IMAGEWIDTH), height: u32(TIFFTAG_IMAGELENGTH),
            samplesPerPixel: u16(TIFFTAG_SAMPLESPERPIXEL), bitsPerSample: u16(TIFFTAG_BITSPERSAMPLE),
            sampleFormat: u16(TIFFTAG_SAMPLEFORMAT),
            photometric: Int(field(TIFFTAG_PHOTOMETRIC, UInt16.self) ?? UInt16(PHOTOMETRIC_MINISBLACK)),
            compression: u16(TIFFTAG_COMPRESSION),
            isPlanar: u16(TIFFTAG_PLANARCONFIG) == Int(PLANARCONFIG_SEPARATE),
            isTiled: tiled,
            tileWidth: tiled ? u32(TIFFTAG_TILEWIDTH) : 0, tileHeight: tiled ? u32(TIFFTAG_TILELENGTH) : 0,
            rowsPerStrip: tiled ? 0 : u32(TIFFTAG_ROWSPERSTRIP))
        page.secondaryKind = Self.secondaryKind(subfileType: Int(field(TIFFTAG_SUBFILETYPE, UInt32.self) ?? 0),
                                                description: string(TIFFTAG_IMAGEDESCRIPTION))
        if page.samplesPerPixel == 1 { page.isPlanar = false }
        if !tiled && (page.rowsPerStrip <= 0 || page.rowsPerStrip > page.height) { page.rowsPerStrip = page.height }
        if page.photometric == Int(PHOTOMETRIC_YCBCR) && page.compression == Int(COMPRESSION_JPEG) {
            // Let libjpeg convert to RGB (and upsample chroma) as tifffile's JPEG decoder does.
            _ = withVaList([Int32(JPEGCOLORMODE_RGB)]) { TIFFVSetField(handle, UInt32(TIFFTAG_JPEGCOLORMODE), $0) }
        }
        return page
    }

    /// See `TIFFPage.secondaryKind`.
    static func secondaryKind(subfileType: Int, description: String?) -> String? {
        let words = (description ?? "").split(whereSeparator: \.isNewline).dropFirst().first?
            .split(separator: " ").first.map { $0.lowercased() }
        if words == "label" || words == "macro" { return words }
        if subfileType == 9 { return "macro" }
        return subfileType & 1 != 0 ? "reduced-resolution" : nil
    }

    /// Pages scanned for associated images: whole-slide files hold a handful of pages, and a
    /// long multi-page stack should not pay a directory read per page for `info`.
    static let associatedScanLimit = 64

    /// The label and macro images among the pages, which `read` never returns (they can show
    /// a patient's name or a hand-written slide label).
    private func associatedImages(pageCount: Int) throws(ImageError) -> [String] {
        guard pageCount > 1 else { return [] }
        var kinds: [String] = []
        for index in 1..<min(pageCount, Self.associatedScanLimit) {
            if let kind = try selectPage(index).secondaryKind, kind != "reduced-resolution" { kinds.append(kind) }
        }
        return kinds
    }

    /// Pages that become channels must be full-resolution image pages: a file whose metadata
    /// points a channel at a thumbnail, a pyramid level or a label/macro image is refused.
    private func requireFullResolution(_ page: TIFFPage, index: Int) throws(ImageError) {
        if let kind = page.secondaryKind {
            throw ImageError(.unsupported, file: path, "page \(index) is a \(kind) image, not the full-resolution image; "
                             + "trainset reads only full-resolution pages and never a slide's label or macro image")
        }
    }

    /// Why `page` cannot be decoded, if it cannot.
    private func check(_ page: TIFFPage) throws(ImageError) -> PixelType {
        guard let type = page.pixelType else {
            throw ImageError(.unsupported, file: path, page.unsupportedSampleMessage)
        }
        guard (1...4).contains(page.samplesPerPixel) else {
            throw ImageError(.unsupported, file: path, "\(page.samplesPerPixel) samples per pixel are not supported (1 to 4)")
        }
        if page.photometric == Int(PHOTOMETRIC_YCBCR) && page.compression != Int(COMPRESSION_JPEG) {
            throw ImageError(.unsupported, file: path, "YCbCr TIFF without JPEG compression is not supported")
        }
        if page.compression == Int(COMPRESSION_OJPEG) {
            throw ImageError(.unsupported, file: path, "old-style JPEG compression (6) is not supported; re-save the file with a current writer")
        }
        if TIFFIsCODECConfigured(UInt16(truncatingIfNeeded: page.compression)) == 0 {
            throw ImageError(.unsupported, file: path, "compression \(compressionName(page.compression)) is not available in this libtiff")
        }
        if page.isPalette && (page.samplesPerPixel != 1 || type == .float32) {
            throw ImageError(.unsupported, file: path,
                             "palette image with \(page.samplesPerPixel) \(page.bitsPerSample)-bit samples per pixel (only one uint8 or uint16 index)")
        }
        guard page.width > 0 && page.height > 0 else {
            throw ImageError(.corrupt, file: path, "image has no pixels (\(page.width)x\(page.height))")
        }
        if page.isTiled && (page.tileWidth <= 0 || page.tileHeight <= 0) {
            throw ImageError(.corrupt, file: path, "invalid tile size \(page.tileWidth)x\(page.tileHeight)")
        }
        return type
    }

    // MARK: Series

    /// What `read` returns: the pages that become channels, and the metadata that decided it.
    private struct Plan {
        var first: TIFFPage
        var pages: [Int]
        var pageCount: Int
        var ome: OMEMetadata?
        var imageJ: ImageJMetadata?

        /// Whether palette indices are looked up: only for a single page, so a stack of index
        /// channels stays a stack of index channels.
        func expandsPalette(_ options: ReadOptions) -> Bool {
            first.isPalette && options.palette == .rgb && pages.count == 1
        }
    }

    private func plan() throws(ImageError) -> Plan {
        let first = try selectPage(0)
        try requireFullResolution(first, index: 0)
        let pageCount = Int(TIFFNumberOfDirectories(handle))
        let description = string(TIFFTAG_IMAGEDESCRIPTION) ?? ""
        var ome: OMEMetadata?
        var imageJ: ImageJMetadata?
        var pages = [0]
        if description.contains("<OME"), let parsed = OMEXMLParser.parse(description), let meta = parsed.metadata {
            ome = meta
            if meta.sizeC > 1 && meta.sizeZ == 1 && meta.sizeT == 1 && first.samplesPerPixel == 1 {
                pages = (0..<meta.sizeC).map { parsed.page(ofChannel: $0) }
            }
        } else if let meta = parseImageJ(description, xResolution: field(TIFFTAG_XRESOLUTION, Float.self).map(Double.init),
                                         yResolution: field(TIFFTAG_YRESOLUTION, Float.self).map(Double.init)) {
            imageJ = meta
            if meta.channels > 1 && meta.slices <= 1 && meta.frames <= 1 && first.samplesPerPixel == 1 {
                pages = Array(0..<meta.channels)
            }
        }
        if let beyond = pages.first(where: { $0 >= pageCount }) {
            throw ImageError(.unsupported, file: path,
                             "the metadata puts channel data in page \(beyond) but the file has \(pageCount) pages (multi-file OME datasets and ImageJ files storing all planes under one page are not supported)")
        }
        return Plan(first: first, pages: pages, pageCount: pageCount, ome: ome, imageJ: imageJ)
    }

    func info(_ options: ReadOptions) throws(ImageError) -> ImageInfo {
        let plan = try plan()
        let page = plan.first
        let type = try check(page)
        let expand = plan.expandsPalette(options)
        let associated = try associatedImages(pageCount: plan.pageCount)
        return ImageInfo(
            format: .tiff, width: page.width, height: page.height,
            channels: expand ? 3 : page.samplesPerPixel * plan.pages.count,
            pixelType: expand ? .uint8 : type, bitsPerSample: page.bitsPerSample,
            samplesPerPixel: page.samplesPerPixel, pageCount: plan.pageCount, isTiled: page.isTiled,
            tileWidth: page.isTiled ? page.tileWidth : nil, tileHeight: page.isTiled ? page.tileHeight : nil,
            rowsPerStrip: page.isTiled ? nil : page.rowsPerStrip, isBigTIFF: TIFFIsBigTIFF(handle) != 0,
            compression: compressionName(page.compression), isPalette: page.isPalette,
            channelsFromPages: plan.pages.count > 1, ome: plan.ome, imageJ: plan.imageJ, associatedImages: associated)
    }

    // MARK: Pixels

    /// The image (or `region` of it) as `read`/`readRegion` return it.
    func read(region: PixelRect?, _ options: ReadOptions) throws(ImageError) -> ImageBuffer {
        let plan = try plan()
        let first = plan.first
        let type = try check(first)
        let rect = region ?? PixelRect(x: 0, y: 0, width: first.width, height: first.height)
        precondition(rect.width > 0 && rect.height > 0 && rect.x >= 0 && rect.y >= 0
                     && rect.x + rect.width <= first.width && rect.y + rect.height <= first.height,
                     "region \(rect) does not lie inside the \(first.width)x\(first.height) image")
        let expand = plan.expandsPalette(options)
        let channels = first.samplesPerPixel * plan.pages.count
        try checkSize(path, width: rect.width, height: rect.height, channels: expand ? 3 : channels, options)

        let pixels = try makePixels(type, count: channels * rect.width * rect.height) { out in
            do throws(ImageError) {
                try decodePages(plan, rect: rect, into: out, bytesPerSample: type.byteWidth, options)
                return nil
            } catch {
                return error
            }
        }
        guard expand else { return ImageBuffer(width: rect.width, height: rect.height, channels: channels, pixels: pixels) }
        return ImageBuffer(width: rect.width, height: rect.height, channels: 3,
                           pixels: try applyColormap(pixels, bits: first.bitsPerSample))
    }

    /// The whole image as 32-bit labels, when `read` would give one channel of uint8 or uint16
    /// samples; nil otherwise. The samples are decoded into the first bytes of the label array
    /// and widened in place, so no buffer of the file's own type is ever held next to it.
    func readLabels(_ options: ReadOptions) throws(ImageError) -> LabelImage? {
        let plan = try plan()
        let first = plan.first
        let type = try check(first)
        guard plan.pages.count == 1, first.samplesPerPixel == 1, type != .float32, !plan.expandsPalette(options)
        else { return nil }
        let rect = PixelRect(x: 0, y: 0, width: first.width, height: first.height)
        try checkSize(path, width: rect.width, height: rect.height, channels: 1, options)
        let count = rect.width * rect.height, width = type.byteWidth
        var values = [UInt32](repeating: 0, count: count)
        var failure: ImageError?
        values.withUnsafeMutableBytes { raw in
            do throws(ImageError) {
                try decodePages(plan, rect: rect, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<(count * width)]),
                                bytesPerSample: width, options)
            } catch {
                failure = error
                return
            }
            // Backwards: label i's four bytes cover samples 2i and up (4i and up for uint8),
            // which are read by the time it is written.
            for i in stride(from: count - 1, through: 0, by: -1) {
                let sample = width == 1 ? UInt32(raw.load(fromByteOffset: i, as: UInt8.self))
                    : UInt32(raw.load(fromByteOffset: 2 * i, as: UInt16.self))
                raw.storeBytes(of: sample, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
        if let failure { throw failure }
        return LabelImage(width: rect.width, height: rect.height, values: values)
    }

    /// Decodes `rect` of every page of the plan into `out`, page k's samples as its channels.
    private func decodePages(_ plan: Plan, rect: PixelRect, into out: UnsafeMutableRawBufferPointer,
                             bytesPerSample: Int, _ options: ReadOptions) throws(ImageError) {
        for (k, index) in plan.pages.enumerated() {
            let page = try selectPage(index)
            try requireFullResolution(page, index: index)
            guard page.canStack(with: plan.first) else {
                throw ImageError(.unsupported, file: path,
                                 "page \(index) differs in size, type or layout from page 0, so it cannot be a channel")
            }
            try decode(page, rect: rect, into: out, firstChannel: k * page.samplesPerPixel,
                       bytesPerSample: bytesPerSample, options)
        }
    }

    /// Looks `indices` up in the page's colour map; see `PaletteMode.rgb` for the 8-bit rule.
    private func applyColormap(_ indices: PixelData, bits: Int) throws(ImageError) -> PixelData {
        let entries = 1 << bits
        guard let map = colormap(entries: entries) else {
            throw ImageError(.corrupt, file: path, "palette image without a colour map")
        }
        let eightBit = map.allSatisfy { $0.allSatisfy { $0 <= 255 } }
        let table = map.map { channel in channel.map { UInt8(truncatingIfNeeded: eightBit ? $0 : $0 >> 8) } }
        let values: [Int] = switch indices {
        case .uint8(let v): v.map(Int.init)
        case .uint16(let v): v.map(Int.init)
        case .float32: []
        }
        let plane = values.count
        var out = [UInt8](repeating: 0, count: 3 * plane)
        for c in 0..<3 {
            let lut = table[c]
            for i in 0..<plane { out[c * plane + i] = lut[values[i]] }
        }
        return .uint8(out)
    }

    /// Decodes the strips or tiles of the current page that intersect `rect` and copies their
    /// samples into the planar buffer `out` (shaped channels × rect), starting at `firstChannel`.
    private func decode(_ page: TIFFPage, rect: PixelRect, into out: UnsafeMutableRawBufferPointer,
                        firstChannel: Int, bytesPerSample: Int, _ options: ReadOptions) throws(ImageError) {
        let blockWidth = page.isTiled ? page.tileWidth : page.width
        let blockHeight = page.isTiled ? page.tileHeight : page.rowsPerStrip
        let samplesInBlock = page.isPlanar ? 1 : page.samplesPerPixel
        let rowBytes = blockWidth * samplesInBlock * bytesPerSample
        let blockBytes = page.isTiled ? Int(TIFFTileSize(handle)) : Int(TIFFStripSize(handle))
        guard blockBytes > 0 else { throw libraryError("cannot compute the strip or tile size") }
        if blockBytes / bytesPerSample > options.maxPixels {
            throw ImageError(.tooLarge, file: path,
                             "a single strip or tile holds \(blockBytes / bytesPerSample) samples, more than the limit of \(options.maxPixels)")
        }
        guard blockBytes >= min(blockHeight, page.height) * rowBytes else {
            throw ImageError(.corrupt, file: path, "strip or tile size \(blockBytes) is smaller than its \(blockHeight) rows of \(rowBytes) bytes")
        }
        let plane = rect.width * rect.height
        // A strip of one sample per pixel that spans the region's width is, decoded, a run of
        // the output plane: it is decoded in place, without the block buffer (the size of a
        // whole plane in a file written as one strip per plane) and its copy.
        let inPlace = !page.isTiled && samplesInBlock == 1 && rect.x == 0 && rect.width == page.width
        var blockBuffer: UnsafeMutableRawPointer?
        defer { blockBuffer?.deallocate() }
        let firstBlockRow = rect.y / blockHeight, lastBlockRow = (rect.y + rect.height - 1) / blockHeight
        let firstBlockColumn = rect.x / blockWidth, lastBlockColumn = (rect.x + rect.width - 1) / blockWidth
        for sampleBlock in 0..<(page.isPlanar ? page.samplesPerPixel : 1) {
            for blockRow in firstBlockRow...lastBlockRow {
                for blockColumn in firstBlockColumn...lastBlockColumn {
                    let (bx, by) = (blockColumn * blockWidth, blockRow * blockHeight)
                    let rows = min(blockHeight, page.height - by)
                    let got: Int
                    if inPlace && by >= rect.y && by + rows <= rect.y + rect.height {
                        let strip = TIFFComputeStrip(handle, UInt32(by), UInt16(sampleBlock))
                        let channel = firstChannel + (page.isPlanar ? sampleBlock : 0)
                        let target = out.baseAddress! + (channel * plane + (by - rect.y) * rect.width) * bytesPerSample
                        got = Int(TIFFReadEncodedStrip(handle, strip, target, tmsize_t(rows * rowBytes)))
                        guard got == rows * rowBytes else { throw blockError(got, tiled: false, x: bx, y: by, expected: rows * rowBytes) }
                        continue
                    }
                    let buffer = blockBuffer ?? UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 16)
                    blockBuffer = buffer
                    if page.isTiled {
                        let tile = TIFFComputeTile(handle, UInt32(bx), UInt32(by), 0, UInt16(sampleBlock))
                        got = Int(TIFFReadEncodedTile(handle, tile, buffer, tmsize_t(blockBytes)))
                    } else {
                        let strip = TIFFComputeStrip(handle, UInt32(by), UInt16(sampleBlock))
                        got = Int(TIFFReadEncodedStrip(handle, strip, buffer, tmsize_t(blockBytes)))
                    }
                    guard got >= (page.isTiled ? blockHeight : rows) * rowBytes else {
                        throw blockError(got, tiled: page.isTiled, x: bx, y: by, expected: rows * rowBytes)
                    }
                    // The part of this block inside the region, in image coordinates.
                    let y0 = max(rect.y, by), y1 = min(rect.y + rect.height, by + rows)
                    let x0 = max(rect.x, bx), x1 = min(rect.x + rect.width, bx + blockWidth)
                    for y in y0..<y1 {
                        let source = buffer + (y - by) * rowBytes + (x0 - bx) * samplesInBlock * bytesPerSample
                        let target = (y - rect.y) * rect.width + (x0 - rect.x)
                        for s in 0..<samplesInBlock {
                            let channel = firstChannel + (page.isPlanar ? sampleBlock : s)
                            copySamples(from: source + s * bytesPerSample, stride: samplesInBlock, count: x1 - x0,
                                        to: out.baseAddress! + (channel * plane + target) * bytesPerSample,
                                        bytesPerSample: bytesPerSample)
                        }
                    }
                }
            }
        }
    }

    /// The error for a strip or tile that decoded to `got` bytes (negative: not at all).
    private func blockError(_ got: Int, tiled: Bool, x: Int, y: Int, expected: Int) -> ImageError {
        let what = tiled ? "tile" : "strip"
        guard got >= 0 else { return libraryError("cannot decode the \(what) at x=\(x), y=\(y)") }
        return ImageError(.corrupt, file: path, "\(what) at x=\(x), y=\(y) decoded to \(got) bytes, expected \(expected)")
    }

    private func libraryError(_ what: String) -> ImageError {
        let detail = messages.errors.last.map { ": \($0)" } ?? ""
        return ImageError(.corrupt, file: path, "damaged TIFF, \(what)\(detail)")
    }
}

/// Copies `count` samples spaced `stride` samples apart into consecutive samples.
private func copySamples(from source: UnsafeMutableRawPointer, stride: Int, count: Int,
                         to target: UnsafeMutableRawPointer, bytesPerSample: Int) {
    if stride == 1 {
        target.copyMemory(from: source, byteCount: count * bytesPerSample)
        return
    }
    func gather<T>(_ type: T.Type) {
        let src = source.assumingMemoryBound(to: T.self), dst = target.assumingMemoryBound(to: T.self)
        for i in 0..<count { dst[i] = src[i * stride] }
    }
    switch bytesPerSample {
    case 1: gather(UInt8.self)
    case 2: gather(UInt16.self)
    default: gather(UInt32.self)
    }
}

/// tifffile's name for a TIFF compression code.
func compressionName(_ code: Int) -> String {
    switch code {
    case 1: "none"
    case 2: "ccittrle"
    case 3: "ccitt_t4"
    case 4: "ccitt_t6"
    case 5: "lzw"
    case 6: "ojpeg"
    case 7: "jpeg"
    case 8: "adobe_deflate"
    case 32773: "packbits"
    case 32946: "deflate"
    case 34661: "jbig"
    case 34712: "jpeg2000"
    case 34887: "lerc"
    case 34925: "lzma"
    case 50000: "zstd"
    case 50001: "webp"
    case 50002: "jpegxl"
    default: "compression \(code)"
    }
}

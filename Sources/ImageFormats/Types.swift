import Raster

/// The container format of an image file, detected from its first bytes (never its extension).
public enum ImageFileFormat: String, Sendable, Codable {
    case tiff, png, jpeg
}

/// What a reader returns for palette (colour-mapped) images.
public enum PaletteMode: String, Sendable, Codable {
    /// The stored index values, one channel: what `tifffile.imread` and `np.asarray` of a Pillow
    /// `P` image return. Right for label images saved with a colour map.
    case indices
    /// The indices looked up in the colour map: three uint8 channels. TIFF pages stacked as
    /// channels (ImageJ, OME) keep their indices.
    ///
    /// TIFF colour maps hold 16-bit entries. When every entry is at most 255 the map was written
    /// as 8-bit values widened without scaling (a common writer bug), so entries are used as they
    /// are; otherwise each entry is scaled to 8 bits by `>> 8`.
    case rgb
}

/// Options for `ImageReader`.
public struct ReadOptions: Sendable {
    /// How palette images are returned.
    public var palette: PaletteMode
    /// Largest `width * height * channels` (of the image, or of the region for `readRegion`) a
    /// read may produce. Larger declared sizes are refused with `.tooLarge` before any pixel
    /// memory is allocated, so a corrupt or hostile header cannot exhaust memory.
    public var maxPixels: Int

    public init(palette: PaletteMode = .indices, maxPixels: Int = 1 << 31) {
        self.palette = palette
        self.maxPixels = maxPixels
    }
}

/// The OME-XML metadata of an OME-TIFF that matters for training data: the first image's
/// `Pixels` element and its channels.
public struct OMEMetadata: Sendable, Codable, Equatable {
    /// The order of the dimensions in the page sequence, e.g. "XYCZT".
    public var dimensionOrder: String
    public var sizeX: Int
    public var sizeY: Int
    public var sizeZ: Int
    public var sizeC: Int
    public var sizeT: Int
    /// The `Name` attribute of each `Channel`, in order; empty strings for unnamed channels.
    public var channelNames: [String]
    public var physicalSizeX: Double?
    public var physicalSizeY: Double?
    public var physicalSizeZ: Double?
    /// Unit of `physicalSizeX`; the OME schema's default "µm" when the size is given without a unit.
    public var physicalSizeXUnit: String?
    public var physicalSizeYUnit: String?
    public var physicalSizeZUnit: String?
    /// The OME pixel type, e.g. "uint16".
    public var pixelType: String?

    public init(dimensionOrder: String, sizeX: Int, sizeY: Int, sizeZ: Int, sizeC: Int, sizeT: Int,
                channelNames: [String], physicalSizeX: Double? = nil, physicalSizeY: Double? = nil,
                physicalSizeZ: Double? = nil, physicalSizeXUnit: String? = nil,
                physicalSizeYUnit: String? = nil, physicalSizeZUnit: String? = nil,
                pixelType: String? = nil) {
        self.dimensionOrder = dimensionOrder
        self.sizeX = sizeX
        self.sizeY = sizeY
        self.sizeZ = sizeZ
        self.sizeC = sizeC
        self.sizeT = sizeT
        self.channelNames = channelNames
        self.physicalSizeX = physicalSizeX
        self.physicalSizeY = physicalSizeY
        self.physicalSizeZ = physicalSizeZ
        self.physicalSizeXUnit = physicalSizeXUnit
        self.physicalSizeYUnit = physicalSizeYUnit
        self.physicalSizeZUnit = physicalSizeZUnit
        self.pixelType = pixelType
    }
}

/// The ImageJ metadata of a TIFF written by ImageJ/Fiji (ImageDescription starting "ImageJ=").
public struct ImageJMetadata: Sendable, Codable, Equatable {
    /// The ImageJ version that wrote the file, e.g. "1.52o".
    public var version: String
    /// Number of planes (pages) in the stack.
    public var images: Int
    public var channels: Int
    public var slices: Int
    public var frames: Int
    /// The spatial unit, e.g. "micron", when the file is calibrated.
    public var unit: String?
    /// Z spacing in `unit`.
    public var spacing: Double?
    /// Pixel width and height in `unit` (1 / XResolution, 1 / YResolution), when calibrated.
    public var pixelWidth: Double?
    public var pixelHeight: Double?

    public init(version: String, images: Int, channels: Int, slices: Int, frames: Int,
                unit: String? = nil, spacing: Double? = nil, pixelWidth: Double? = nil,
                pixelHeight: Double? = nil) {
        self.version = version
        self.images = images
        self.channels = channels
        self.slices = slices
        self.frames = frames
        self.unit = unit
        self.spacing = spacing
        self.pixelWidth = pixelWidth
        self.pixelHeight = pixelHeight
    }
}

/// What `ImageReader.info` learns from a file's header.
public struct ImageInfo: Sendable, Equatable {
    public var format: ImageFileFormat
    public var width: Int
    public var height: Int
    /// Channels of the buffer `read` returns with the same options (not necessarily the samples
    /// per pixel stored: palette expansion and channel pages change it).
    public var channels: Int
    /// Element type of the buffer `read` returns.
    public var pixelType: PixelType
    /// Bits per stored sample (1, 2, 4, 8, 16 or 32).
    public var bitsPerSample: Int
    /// Samples per pixel as stored in the first page (PNG/JPEG: in the file).
    public var samplesPerPixel: Int
    /// Pages (TIFF directories) in the file; 1 for PNG and JPEG.
    public var pageCount: Int
    public var isTiled: Bool
    public var tileWidth: Int?
    public var tileHeight: Int?
    /// Rows per strip of a striped TIFF.
    public var rowsPerStrip: Int?
    public var isBigTIFF: Bool
    /// Compression scheme as tifffile names it ("none", "lzw", "adobe_deflate", "jpeg", "zstd", ...);
    /// "deflate" for PNG, "jpeg" for JPEG.
    public var compression: String?
    public var isPalette: Bool
    /// Whether `read` stacks several pages as channels (ImageJ channel stacks and OME-TIFF
    /// multi-channel images with one Z and one T).
    public var channelsFromPages: Bool
    public var ome: OMEMetadata?
    public var imageJ: ImageJMetadata?
    /// Associated images of a whole-slide file (`label`, `macro`), in page order. `read` never
    /// returns them: a slide label can show a patient's name.
    public var associatedImages: [String]

    public init(format: ImageFileFormat, width: Int, height: Int, channels: Int,
                pixelType: PixelType, bitsPerSample: Int, samplesPerPixel: Int, pageCount: Int = 1,
                isTiled: Bool = false, tileWidth: Int? = nil, tileHeight: Int? = nil,
                rowsPerStrip: Int? = nil, isBigTIFF: Bool = false, compression: String? = nil,
                isPalette: Bool = false, channelsFromPages: Bool = false, ome: OMEMetadata? = nil,
                imageJ: ImageJMetadata? = nil, associatedImages: [String] = []) {
        self.format = format
        self.width = width
        self.height = height
        self.channels = channels
        self.pixelType = pixelType
        self.bitsPerSample = bitsPerSample
        self.samplesPerPixel = samplesPerPixel
        self.pageCount = pageCount
        self.isTiled = isTiled
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.rowsPerStrip = rowsPerStrip
        self.isBigTIFF = isBigTIFF
        self.compression = compression
        self.isPalette = isPalette
        self.channelsFromPages = channelsFromPages
        self.ome = ome
        self.imageJ = imageJ
        self.associatedImages = associatedImages
    }
}

/// A file that could not be read, and why.
public struct ImageError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file does not exist.
        case notFound
        /// The file exists but cannot be opened or read (permissions, I/O error).
        case unreadable
        /// A valid file using something this reader does not handle (format, sample type, layout).
        case unsupported
        /// The file is damaged or truncated.
        case corrupt
        /// The declared image is larger than `ReadOptions.maxPixels`.
        case tooLarge
    }

    public var code: Code
    /// Path of the file.
    public var file: String
    /// What went wrong and, where it helps, what to do about it.
    public var message: String

    public init(_ code: Code, file: String, _ message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    /// One line: "<file>: <message>".
    public var description: String { "\(file): \(message)" }
}

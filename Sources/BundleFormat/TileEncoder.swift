import Crypto
import HDF5
import Raster

/// One tile's image and masks as the bundle stores them: checked against the bundle's spec,
/// filtered into the chunks HDF5 would write (shuffle, deflate, Fletcher-32), with the decoded
/// samples kept for the content hash. Made by a `TileEncoder` on any thread, appended by the
/// one `BundleWriter` in tile order.
public struct EncodedTile: Sendable {
    /// The tile's row in the bundle.
    public let index: Int
    let image: PixelData
    let instanceMask: [UInt32]?
    let semanticMask: [UInt16]?
    let imageChunk: [UInt8]
    let instanceChunk: [UInt8]?
    let semanticChunk: [UInt8]?

    /// Bytes of the stored chunks (what the tile adds to the file).
    public var storedBytes: Int {
        imageChunk.count + (instanceChunk?.count ?? 0) + (semanticChunk?.count ?? 0)
    }
}

/// Checks and filters tiles for one bundle, off the writer's thread. It holds scratch
/// buffers, so each thread uses its own encoder.
public final class TileEncoder {
    public let spec: BundleSpec
    private let image: ChunkEncoder
    private let instance: ChunkEncoder
    private let semantic: ChunkEncoder

    /// An encoder for tiles of a bundle of `spec` (whose deflate level must be 0–9, as the
    /// writer checks when it creates the bundle).
    public init(spec: BundleSpec) {
        self.spec = spec
        image = ChunkEncoder(layout: TileLayout.image(spec), elementSize: spec.pixelType.byteWidth)
        instance = ChunkEncoder(layout: TileLayout.mask(spec), elementSize: MemoryLayout<UInt32>.size)
        semantic = ChunkEncoder(layout: TileLayout.mask(spec), elementSize: MemoryLayout<UInt16>.size)
    }

    /// Which deflate encoder (name, version, its own level) compresses chunks at the bundle's
    /// `deflateLevel`, for the manifest's `libraries`.
    public static func deflateEncoder(level: Int) -> String { ChunkEncoder.deflateEncoder(level: level) }

    /// Tile number `index` ready for `BundleWriter.append`.
    ///
    /// Throws `.shape` when the image's shape or pixel type differs from the spec, when a mask
    /// the spec requires is missing (or one it does not declare is given), when a mask's shape
    /// differs, or when a semantic class id does not fit in uint16.
    public func encode(index: Int, image: ImageBuffer, instanceMask: LabelImage?,
                       semanticMask: LabelImage?) throws(BundleError) -> EncodedTile {
        guard image.pixelType == spec.pixelType else {
            throw BundleError(code: .shape, message: "tile \(index) has \(image.pixelType.rawValue) pixels, the bundle holds "
                              + spec.pixelType.rawValue, path: BundleLayout.images)
        }
        guard image.channels == spec.channels, image.height == spec.tileHeight, image.width == spec.tileWidth else {
            throw BundleError(code: .shape, message: "tile \(index) is \(image.channels)x\(image.height)x\(image.width) (CxHxW), "
                              + "the bundle holds \(spec.channels)x\(spec.tileHeight)x\(spec.tileWidth)",
                              path: BundleLayout.images)
        }
        try checkMask(instanceMask, wanted: spec.instanceMasks, path: BundleLayout.instanceMasks, index: index)
        try checkMask(semanticMask, wanted: spec.semanticMasks, path: BundleLayout.semanticMasks, index: index)
        var semanticValues: [UInt16]?
        if let semanticMask {
            if let bad = semanticMask.values.first(where: { $0 > UInt32(UInt16.max) }) {
                throw BundleError(code: .shape, message: "tile \(index) has semantic class id \(bad), above the uint16 maximum",
                                  path: BundleLayout.semanticMasks)
            }
            semanticValues = semanticMask.values.map { UInt16($0) }
        }
        do {
            let imageChunk: [UInt8] = switch image.pixels {
            case .uint8(let v): try Self.encode(v, with: self.image)
            case .uint16(let v): try Self.encode(v, with: self.image)
            case .float32(let v): try Self.encode(v, with: self.image)
            }
            return EncodedTile(
                index: index, image: image.pixels, instanceMask: instanceMask?.values, semanticMask: semanticValues,
                imageChunk: imageChunk,
                instanceChunk: try instanceMask.map { (m) throws(HDF5Error) in try Self.encode(m.values, with: instance) },
                semanticChunk: try semanticValues.map { (v) throws(HDF5Error) in try Self.encode(v, with: semantic) })
        } catch {
            throw BundleError(error)
        }
    }

    private static func encode<T>(_ values: [T], with encoder: ChunkEncoder) throws(HDF5Error) -> [UInt8] {
        #if _endian(little)
        return try values.withUnsafeBytes { encoder.encodeResult($0) }.get()
        #else
        #error("chunks are filtered from little-endian samples, as the datasets store them")
        #endif
    }

    private func checkMask(_ mask: LabelImage?, wanted: Bool, path: String, index: Int) throws(BundleError) {
        switch (mask, wanted) {
        case (nil, true):
            throw BundleError(code: .shape, message: "tile \(index) has no mask but the bundle declares one", path: path)
        case (.some, false):
            throw BundleError(code: .shape, message: "tile \(index) has a mask but the bundle declares none", path: path)
        case (.some(let m), true) where m.width != spec.tileWidth || m.height != spec.tileHeight:
            throw BundleError(code: .shape, message: "tile \(index) mask is \(m.height)x\(m.width), the bundle holds "
                              + "\(spec.tileHeight)x\(spec.tileWidth)", path: path)
        default:
            return
        }
    }
}

extension ChunkEncoder {
    /// `encode` as a `Result`, for use inside the standard library's buffer closures.
    func encodeResult(_ bytes: UnsafeRawBufferPointer) -> Result<[UInt8], HDF5Error> {
        Result { () throws(HDF5Error) in try encode(bytes) }
    }
}

/// The storage of tile datasets: one tile per chunk, the spec's shuffle and deflate, then
/// Fletcher-32 (bundle format §4). The writer creates the datasets with these layouts and the
/// encoder filters chunks for them, so the two cannot disagree.
enum TileLayout {
    static func image(_ spec: BundleSpec) -> DatasetLayout {
        .chunked([1, spec.channels, spec.tileHeight, spec.tileWidth], shuffle: spec.shuffle,
                 deflateLevel: spec.deflateLevel, fletcher32: true, unlimitedFirstDimension: spec.tileCount == 0)
    }

    static func mask(_ spec: BundleSpec) -> DatasetLayout {
        .chunked([1, spec.tileHeight, spec.tileWidth], shuffle: spec.shuffle, deflateLevel: spec.deflateLevel,
                 fletcher32: true, unlimitedFirstDimension: spec.tileCount == 0)
    }
}

/// A tile whose decoded bytes the writer hashed on their own, so that a check of the written
/// file can decode that tile through HDF5's filters and compare (spot checks of the
/// pre-filtered chunks; every chunk's checksum is verified besides).
public struct SpotCheck: Sendable, Equatable {
    public var path: String
    public var tile: Int
    /// SHA-256 (hex) of the tile's canonical bytes in that dataset.
    public var sha256: String

    /// Tiles the writer spot-checks: the first, the last and every 64th.
    static func isChecked(_ tile: Int, of count: Int) -> Bool { tile % 64 == 0 || tile == count - 1 }
}

import Raster

/// An instance label image and where each of its objects came from.
public struct InstanceMask: Sendable, Equatable {
    /// Object `i + 1` covers the pixels holding `i + 1`; 0 is background.
    public let labels: LabelImage
    /// `objectNames[i]` is the source (mask file name) of object `i + 1`, so the id → file
    /// mapping can be recorded with the bundle.
    public let objectNames: [String]
    /// `pixelCounts[i]` is the number of pixels of object `i + 1`; 0 for an empty mask file,
    /// which keeps its id so ids stay tied to file order.
    public let pixelCounts: [Int]

    /// Number of objects.
    public var objectCount: Int { objectNames.count }
}

/// Assembles an instance label image from one binary mask per object (the Data Science Bowl
/// layout: each non-zero pixel of a mask belongs to that object), one mask at a time so only
/// the label image and one decoded mask are held.
///
/// Ids are given in the order masks are added, starting at 1; add them in sorted file-name
/// order for ids that do not depend on the file system.
public struct InstanceMaskBuilder: Sendable {
    private var labels: LabelImage
    private var names: [String] = []
    private var counts: [Int] = []

    /// Starts an all-background label image of the image's size.
    public init(width: Int, height: Int) {
        labels = LabelImage(width: width, height: height)
    }

    /// Adds the next object: every pixel where any channel of `mask` is non-zero.
    ///
    /// `name` is recorded as the object's source (usually the mask's file name); `file` (its
    /// path, default `name`) is what errors point at. Fails when the mask's size differs from
    /// the image's or when it claims a pixel an earlier mask already claimed (the error names
    /// both masks and the first such pixel).
    public mutating func add(_ mask: ImageBuffer, name: String, file: String? = nil) throws(AVDBError) {
        let file = file ?? name
        guard mask.width == labels.width, mask.height == labels.height else {
            throw AVDBError(.maskSizeMismatch,
                            "mask is \(mask.width)x\(mask.height) (width x height) but the image is \(labels.width)x\(labels.height); each mask must have its image's size",
                            file: file)
        }
        guard names.count < Int(UInt32.max) else {
            throw AVDBError(.unsupportedMask, "more than \(UInt32.max) objects do not fit a 32-bit label image", file: file)
        }
        let id = UInt32(names.count + 1)
        let foreground = Self.foreground(of: mask)
        var count = 0
        for index in foreground.indices where foreground[index] {
            let existing = labels.values[index]
            if existing != 0 {
                throw AVDBError(.overlappingMasks,
                                "mask overlaps \"\(names[Int(existing) - 1])\" at pixel (x=\(index % labels.width), y=\(index / labels.width)); instance masks must not share pixels",
                                file: file)
            }
            labels.values[index] = id
            count += 1
        }
        names.append(name)
        counts.append(count)
    }

    /// The label image and the id → name mapping of the masks added so far.
    public var result: InstanceMask {
        InstanceMask(labels: labels, objectNames: names, pixelCounts: counts)
    }

    /// Row-major flags: true where any channel is non-zero.
    private static func foreground(of mask: ImageBuffer) -> [Bool] {
        let plane = mask.width * mask.height
        var flags = Array(repeating: false, count: plane)
        func mark<T: Numeric>(_ samples: [T]) {
            for c in 0..<mask.channels {
                let base = c * plane
                for i in 0..<plane where samples[base + i] != 0 { flags[i] = true }
            }
        }
        switch mask.pixels {
        case .uint8(let v): mark(v)
        case .uint16(let v): mark(v)
        case .float32(let v): mark(v)
        }
        return flags
    }
}

/// Turns mask files, or their decoded buffers, into label images.
public enum MaskAssembly {
    /// A label image file (instance ids or class ids) as a `LabelImage`.
    ///
    /// The buffer must have one channel of unsigned integers: a float or multi-channel file is
    /// an error rather than a guess (an RGB-coloured mask needs a colour → class table first).
    /// When `width` and `height` are given the mask must have that size.
    public static func labelImage(from buffer: ImageBuffer, file: String, width: Int? = nil, height: Int? = nil) throws(AVDBError) -> LabelImage {
        guard buffer.channels == 1 else {
            throw AVDBError(.unsupportedMask,
                            "label image has \(buffer.channels) channels; save it as a single-channel uint8 or uint16 image",
                            file: file)
        }
        try checkMaskSize(buffer.width, buffer.height, file: file, width: width, height: height)
        let values: [UInt32]
        switch buffer.pixels {
        case .uint8(let v): values = v.map(UInt32.init)
        case .uint16(let v): values = v.map(UInt32.init)
        case .float32:
            throw AVDBError(.unsupportedMask,
                            "label image holds float32 samples; labels must be uint8 or uint16 integers",
                            file: file)
        }
        return LabelImage(width: buffer.width, height: buffer.height, values: values)
    }

    /// Refuses a mask of `maskWidth` × `maskHeight` when the image is `width` × `height`.
    static func checkMaskSize(_ maskWidth: Int, _ maskHeight: Int, file: String, width: Int?, height: Int?) throws(AVDBError) {
        if let width, let height, maskWidth != width || maskHeight != height {
            throw AVDBError(.maskSizeMismatch,
                            "mask is \(maskWidth)x\(maskHeight) (width x height) but the image is \(width)x\(height); each mask must have its image's size",
                            file: file)
        }
    }
}

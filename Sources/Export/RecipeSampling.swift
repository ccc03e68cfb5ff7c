import Tiling
import Yams

extension Recipe {
    /// Which tiles of the planned positions are kept (specs/recipe/v1.md §8). Decided in
    /// planning, so the plan fixes the tile list.
    public struct Sampling: Sendable, Equatable {
        /// Keep tiles with at least `minFraction` of foreground pixels.
        public struct Foreground: Sendable, Equatable {
            public enum Source: Sendable, Equatable {
                /// Non-zero pixels of the instance mask.
                case instanceMask
                /// Non-zero pixels of the semantic mask (0 = background).
                case semanticMask
                /// Tissue by Otsu's threshold of the image's channel mean.
                case otsu(TissuePolarity)
            }
            public var source: Source
            /// In (0, 1].
            public var minFraction: Double
        }

        /// Class-balanced selection with a per-group cap (at least one of the two limits).
        public struct Balance: Sendable, Equatable {
            /// At most this many grid tiles per class (unlabeled tiles count as one more class).
            public var perClass: Int?
            /// At most this many grid tiles per group within a class.
            public var perGroup: Int?
            /// The annotation-table column whose value is a tile's group; nil: the source image.
            public var groupColumn: String?
        }

        /// N random tile positions per image instead of the grid.
        public var randomTiles: Int?
        public var foreground: Foreground?
        public var balance: Balance?
    }

    /// Physical pixel sizes in µm per pixel along x and y.
    public struct PixelSize: Sendable, Equatable, Codable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) { (self.x, self.y) = (x, y) }
    }

    /// Resampling of every source to one physical pixel size before it is tiled (§9).
    public struct Rescale: Sendable, Equatable {
        /// µm per pixel of every tile.
        public var pixelSize: Double
        /// µm per pixel of sources whose metadata gives none (or of every source when
        /// `useMetadata` is false).
        public var sourcePixelSize: PixelSize?
        /// Use the OME-XML (or ImageJ) physical pixel size when a source has one.
        public var useMetadata: Bool
        /// Image interpolation (antialiased when shrinking); masks are always nearest.
        public var filter: BandMatrix.Filter
    }

    /// Largest `sampling.random_tiles`: far beyond any useful count, low enough that drawing
    /// distinct positions stays quick.
    public static let maxRandomTiles = 100_000
}

/// The hand-walked `sampling` and `rescale` sections, with the same one-line errors as the rest
/// of the recipe.
extension RecipeReader {
    func sampling(_ node: Node, labels: Labels, inputs: Inputs) throws(ExportError) -> Recipe.Sampling {
        let p = "sampling"
        let m = try mapping(node, p, allowed: ["random_tiles", "foreground", "balance"])
        guard !m.isEmpty else { throw fail(node, p, "name at least one of random_tiles, foreground, balance") }
        return Recipe.Sampling(
            randomTiles: try m["random_tiles"].map { (n) throws(ExportError) in
                try int(n, "\(p).random_tiles", min: 1, max: Recipe.maxRandomTiles) },
            foreground: try m["foreground"].map { (n) throws(ExportError) in try foreground(n, labels: labels) },
            balance: try m["balance"].map { (n) throws(ExportError) in try balance(n, inputs: inputs) })
    }

    func foreground(_ node: Node, labels: Labels) throws(ExportError) -> Recipe.Sampling.Foreground {
        let p = "sampling.foreground"
        let m = try mapping(node, p, allowed: ["mask", "otsu", "min_fraction"], required: ["min_fraction"])
        let source: Recipe.Sampling.Foreground.Source
        switch (m["mask"], m["otsu"]) {
        case (let mask?, nil):
            let kind = try string(mask, "\(p).mask")
            switch kind {
            case "instance" where labels.instanceMasks != nil: source = .instanceMask
            case "semantic" where labels.semanticMasks != nil: source = .semanticMask
            case "instance", "semantic":
                throw fail(mask, "\(p).mask", "'\(kind)' needs labels.\(kind)_masks, which the recipe does not set")
            default:
                throw fail(mask, "\(p).mask", "'\(kind)' is not one of instance, semantic")
            }
        case (nil, let otsu?):
            source = .otsu(try choice(otsu, "\(p).otsu", TissuePolarity.self))
        case (nil, nil):
            throw fail(node, p, "give mask (instance or semantic) or otsu (dark or bright)")
        default:
            throw fail(m["otsu"], p, "give either mask or otsu, not both")
        }
        let fraction = try double(m["min_fraction"]!, "\(p).min_fraction")
        guard fraction > 0, fraction <= 1 else {
            throw fail(m["min_fraction"], "\(p).min_fraction", "must be greater than 0 and at most 1, got \(fraction)")
        }
        return .init(source: source, minFraction: fraction)
    }

    func balance(_ node: Node, inputs: Inputs) throws(ExportError) -> Recipe.Sampling.Balance {
        let p = "sampling.balance"
        let m = try mapping(node, p, allowed: ["per_class", "per_group", "group_column"])
        let perClass = try m["per_class"].map { (n) throws(ExportError) in try int(n, "\(p).per_class", min: 1) }
        let perGroup = try m["per_group"].map { (n) throws(ExportError) in try int(n, "\(p).per_group", min: 1) }
        guard perClass != nil || perGroup != nil else { throw fail(node, p, "give per_class, per_group or both") }
        let column = try m["group_column"].map { (n) throws(ExportError) in try nonEmptyString(n, "\(p).group_column") }
        if column != nil && inputs.annotations == nil {
            throw fail(m["group_column"], "\(p).group_column", "names a column of the annotation table: add inputs.annotations")
        }
        if column != nil && perGroup == nil {
            throw fail(m["group_column"], "\(p).group_column", "only matters with per_group")
        }
        return .init(perClass: perClass, perGroup: perGroup, groupColumn: column)
    }

    func rescale(_ node: Node) throws(ExportError) -> Recipe.Rescale {
        let p = "rescale"
        let m = try mapping(node, p, allowed: ["pixel_size", "source_pixel_size", "use_metadata", "filter"],
                            required: ["pixel_size"])
        let target = try positiveDouble(m["pixel_size"]!, "\(p).pixel_size")
        var source: Recipe.PixelSize?
        if let n = m["source_pixel_size"] {
            if case .sequence = n {
                let items = try list(n, "\(p).source_pixel_size")
                guard items.count == 2 else { throw fail(n, "\(p).source_pixel_size", "expected a number or [x, y]") }
                source = .init(x: try positiveDouble(items[0], "\(p).source_pixel_size[0]"),
                               y: try positiveDouble(items[1], "\(p).source_pixel_size[1]"))
            } else {
                let size = try positiveDouble(n, "\(p).source_pixel_size")
                source = .init(x: size, y: size)
            }
        }
        let useMetadata = try m["use_metadata"].map { (n) throws(ExportError) in try bool(n, "\(p).use_metadata") } ?? true
        if !useMetadata && source == nil {
            throw fail(m["use_metadata"], "\(p).use_metadata", "false needs source_pixel_size, the size to use instead")
        }
        return .init(pixelSize: target, sourcePixelSize: source, useMetadata: useMetadata,
                     filter: try m["filter"].map { (n) throws(ExportError) in
                         try choice(n, "\(p).filter", BandMatrix.Filter.self) } ?? .bilinear)
    }

    /// A physical size in µm: finite and positive.
    func positiveDouble(_ node: Node, _ path: String) throws(ExportError) -> Double {
        let value = try double(node, path)
        guard value > 0 else { throw fail(node, path, "must be a positive size in µm per pixel, got \(value)") }
        return value
    }
}

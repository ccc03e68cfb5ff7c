extension Manifest {
    /// Which tile positions were planned and which were kept, and why (recipe `sampling`;
    /// bundle format §7): counts per source and per class, and the thresholds used.
    public struct Sampling: Sendable, Codable, Equatable {
        public struct Foreground: Sendable, Codable, Equatable {
            /// `instance_mask`, `semantic_mask` or `otsu`.
            public var source: String
            /// With `otsu`: `dark` or `bright`, the side of the threshold that is tissue.
            public var polarity: String?
            public var minFraction: Double
            public init(source: String, polarity: String?, minFraction: Double) {
                (self.source, self.polarity, self.minFraction) = (source, polarity, minFraction)
            }
            enum CodingKeys: String, CodingKey { case source, polarity, minFraction = "min_fraction" }
        }

        public struct Balance: Sendable, Codable, Equatable {
            public var perClass: Int?
            public var perGroup: Int?
            /// The annotation column naming a tile's group; absent: the group is the source image.
            public var groupColumn: String?
            public init(perClass: Int?, perGroup: Int?, groupColumn: String?) {
                (self.perClass, self.perGroup, self.groupColumn) = (perClass, perGroup, groupColumn)
            }
            enum CodingKeys: String, CodingKey { case perClass = "per_class", perGroup = "per_group", groupColumn = "group_column" }
        }

        /// One source: positions planned, dropped by each filter, kept.
        public struct SourceCount: Sendable, Codable, Equatable {
            public var path: String
            public var positions: Int
            /// Dropped for too little foreground.
            public var belowForeground: Int
            /// Dropped by the class balance (class or group cap reached).
            public var overCap: Int
            public var kept: Int
            /// With `otsu`: the threshold of this image's channel mean, in intensity units.
            public var otsuThreshold: Double?
            public init(path: String, positions: Int, belowForeground: Int, overCap: Int, kept: Int, otsuThreshold: Double?) {
                self.path = path
                self.positions = positions
                self.belowForeground = belowForeground
                self.overCap = overCap
                self.kept = kept
                self.otsuThreshold = otsuThreshold
            }
            enum CodingKeys: String, CodingKey {
                case path, positions, kept
                case belowForeground = "below_foreground", overCap = "over_cap", otsuThreshold = "otsu_threshold"
            }
        }

        /// One class under the balance: its candidates (after the foreground filter) and what
        /// was kept, with the number of groups and the most tiles any one group kept.
        public struct ClassCount: Sendable, Codable, Equatable {
            /// Class id as in `/classes/id`, −1 for unlabeled tiles.
            public var id: Int
            public var name: String
            public var candidates: Int
            public var kept: Int
            public var groups: Int
            public var maxPerGroup: Int
            public init(id: Int, name: String, candidates: Int, kept: Int, groups: Int, maxPerGroup: Int) {
                self.id = id
                self.name = name
                self.candidates = candidates
                self.kept = kept
                self.groups = groups
                self.maxPerGroup = maxPerGroup
            }
            enum CodingKeys: String, CodingKey { case id, name, candidates, kept, groups, maxPerGroup = "max_per_group" }
        }

        /// `grid` or `random`.
        public var positions: String
        public var randomTiles: Int?
        public var foreground: Foreground?
        public var balance: Balance?
        /// Every planned source, in `/sources` order.
        public var sources: [SourceCount]
        /// With a balance: one entry per class that had candidates, by id.
        public var classes: [ClassCount]?

        public init(positions: String, randomTiles: Int?, foreground: Foreground?, balance: Balance?,
                    sources: [SourceCount], classes: [ClassCount]?) {
            self.positions = positions
            self.randomTiles = randomTiles
            self.foreground = foreground
            self.balance = balance
            self.sources = sources
            self.classes = classes
        }
        enum CodingKeys: String, CodingKey {
            case positions, foreground, balance, sources, classes
            case randomTiles = "random_tiles"
        }
    }

    /// Resampling to one physical pixel size before tiling (recipe `rescale`; bundle format §7).
    public struct Rescaling: Sendable, Codable, Equatable {
        /// One source's sizes before and after.
        public struct Source: Sendable, Codable, Equatable {
            public var path: String
            public var originalWidth: Int
            public var originalHeight: Int
            /// µm per pixel of the source file.
            public var originalPixelSizeX: Double
            public var originalPixelSizeY: Double
            /// Where the source's pixel size came from: `ome`, `imagej` or `recipe`.
            public var pixelSizeFrom: String
            /// Size after rescaling: what `/sources/width` and `height` hold and tiles are cut from.
            public var width: Int
            public var height: Int
            public init(path: String, originalWidth: Int, originalHeight: Int, originalPixelSizeX: Double,
                        originalPixelSizeY: Double, pixelSizeFrom: String, width: Int, height: Int) {
                self.path = path
                self.originalWidth = originalWidth
                self.originalHeight = originalHeight
                self.originalPixelSizeX = originalPixelSizeX
                self.originalPixelSizeY = originalPixelSizeY
                self.pixelSizeFrom = pixelSizeFrom
                self.width = width
                self.height = height
            }
            enum CodingKeys: String, CodingKey {
                case path, width, height
                case originalWidth = "original_width", originalHeight = "original_height"
                case originalPixelSizeX = "original_pixel_size_x", originalPixelSizeY = "original_pixel_size_y"
                case pixelSizeFrom = "pixel_size_from"
            }
        }

        /// Target µm per pixel.
        public var pixelSize: Double
        /// The recipe's fallback source pixel size [x, y], if any.
        public var sourcePixelSize: [Double]?
        public var useMetadata: Bool
        /// Image filter (`bilinear`, `bicubic`), antialiased when shrinking; labels are nearest.
        public var filter: String
        public var labels: String
        public var sources: [Source]

        public init(pixelSize: Double, sourcePixelSize: [Double]?, useMetadata: Bool, filter: String, sources: [Source]) {
            self.pixelSize = pixelSize
            self.sourcePixelSize = sourcePixelSize
            self.useMetadata = useMetadata
            self.filter = filter
            labels = "nearest"
            self.sources = sources
        }
        enum CodingKeys: String, CodingKey {
            case filter, labels, sources
            case pixelSize = "pixel_size", sourcePixelSize = "source_pixel_size", useMetadata = "use_metadata"
        }
    }
}

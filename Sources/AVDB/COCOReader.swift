import Foundation
import Raster

/// Reads COCO object-detection/segmentation JSON: boxes, polygons and RLE masks (uncompressed
/// `counts` lists and compressed `counts` strings).
///
/// COCO coordinates are continuous pixel coordinates with the origin at the top-left corner
/// of the image, the Raster convention already: `bbox [x, y, w, h]` becomes
/// `Box(xMin: x, yMin: y, xMax: x + w, yMax: y + h)`, polygon vertices are taken as they are.
/// RLE runs are column-major (down each column, then the next), alternating background and
/// foreground and starting with background, as pycocotools writes them.
public enum COCOReader {
    /// Reads the file at `url`.
    public static func read(contentsOf url: URL) throws(AVDBError) -> [AnnotatedImage] {
        let data = Data(try CSVReader.readFile(url, maxSize: AnnotationLimits.maxFileSize))
        return try read(data, file: url.path)
    }

    /// One `AnnotatedImage` per entry of `images`, in file order; each annotation gives a box
    /// object (from `bbox`) and a shape object (from `segmentation`) sharing its id as
    /// `instanceID`, with `ref` `annotation id N`.
    public static func read(_ data: Data, file: String) throws(AVDBError) -> [AnnotatedImage] {
        let parsed: Document
        do {
            parsed = try JSONDecoder().decode(Document.self, from: data)
        } catch let error as DecodingError {
            throw AVDBError(.malformedAnnotation, describe(error), file: file)
        } catch {
            throw AVDBError(.malformedAnnotation, "not a COCO file (\(error))", file: file)
        }
        let categories = Dictionary(parsed.categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var objectsByImage: [Int: [AnnotationObject]] = [:]
        var sizeByImage: [Int: (width: Int, height: Int)] = [:]
        for image in parsed.images {
            guard sizeByImage[image.id] == nil else {
                throw AVDBError(.malformedAnnotation, "images: id \(image.id) is listed twice", file: file)
            }
            sizeByImage[image.id] = (image.width, image.height)
        }
        for a in parsed.annotations ?? [] {
            let ref = "annotation id \(a.id)"
            guard let label = categories[a.category_id] else {
                throw AVDBError(.malformedAnnotation, "\(ref): category_id \(a.category_id) is not in categories", file: file)
            }
            guard let size = sizeByImage[a.image_id] else {
                throw AVDBError(.malformedAnnotation, "\(ref): image_id \(a.image_id) is not in images", file: file)
            }
            let shown = "\(ref) (\(label))"
            var objects: [AnnotationObject] = []
            if let b = a.bbox {
                guard b.count == 4, b.allSatisfy(\.isFinite) else {
                    throw AVDBError(.malformedAnnotation, "\(shown): bbox has \(b.count) numbers; expected [x, y, width, height]", file: file)
                }
                objects.append(AnnotationObject(label: label, instanceID: a.id,
                                                geometry: .box(Box(xMin: b[0], yMin: b[1], xMax: b[0] + b[2], yMax: b[1] + b[3])),
                                                ref: ref))
            }
            switch a.segmentation {
            case nil:
                break
            case .polygons(let lists)?:
                guard !lists.isEmpty else { break }
                var polygons: [Polygon] = []
                for (k, list) in lists.enumerated() {
                    guard list.count % 2 == 0, list.count >= 6, list.allSatisfy(\.isFinite) else {
                        throw AVDBError(.malformedAnnotation,
                                        "\(shown): segmentation[\(k)] has \(list.count) numbers; a polygon needs an even count of at least 6 (x1, y1, x2, y2, …)",
                                        file: file)
                    }
                    polygons.append(Polygon(exterior: stride(from: 0, to: list.count, by: 2).map { Point2D(x: list[$0], y: list[$0 + 1]) }))
                }
                objects.append(AnnotationObject(label: label, instanceID: a.id, geometry: .polygons(polygons), ref: ref))
            case .rle(let rle)?:
                let mask = try decode(rle, object: shown, file: file)
                guard mask.width == size.width, mask.height == size.height else {
                    throw AVDBError(.malformedAnnotation,
                                    "\(shown): RLE size is \(mask.width)x\(mask.height) (width x height) but its image is \(size.width)x\(size.height)",
                                    file: file)
                }
                objects.append(AnnotationObject(label: label, instanceID: a.id, geometry: .mask(mask), ref: ref))
            }
            objectsByImage[a.image_id, default: []].append(contentsOf: objects)
        }
        return parsed.images.map {
            AnnotatedImage(image: $0.file_name, width: $0.width, height: $0.height, objects: objectsByImage[$0.id] ?? [], file: file)
        }
    }

    /// Decodes an RLE (`size` is `[height, width]`) into a row-major mask.
    static func decode(_ rle: RLE, object: String, file: String) throws(AVDBError) -> BinaryMask {
        guard rle.size.count == 2, rle.size[0] >= 0, rle.size[1] >= 0, rle.size[0] * rle.size[1] <= 1 << 31 else {
            throw AVDBError(.malformedAnnotation, "\(object): RLE size \(rle.size) is not [height, width]", file: file)
        }
        let (h, w) = (rle.size[0], rle.size[1])
        let counts: [Int]
        switch rle.counts {
        case .runs(let runs): counts = runs
        case .compressed(let text):
            guard let runs = decompress(text) else {
                throw AVDBError(.malformedAnnotation, "\(object): compressed RLE counts are truncated or hold characters outside '0'…'o'", file: file)
            }
            counts = runs
        }
        guard counts.allSatisfy({ $0 >= 0 }), counts.reduce(0, +) == h * w else {
            throw AVDBError(.malformedAnnotation,
                            "\(object): RLE runs add up to \(counts.reduce(0, +)) pixels (or one is negative) but size \(h)x\(w) has \(h * w)",
                            file: file)
        }
        var bits = Array(repeating: false, count: h * w)
        var position = 0
        for (k, run) in counts.enumerated() {
            if k % 2 == 1 {
                for p in position..<(position + run) { bits[(p % h) * w + p / h] = true }
            }
            position += run
        }
        return BinaryMask(width: w, height: h, bits: bits)
    }

    /// pycocotools' string form: each count is written in 5-bit groups, least significant
    /// first, as characters 48 + group, with 0x20 marking "more groups follow" and 0x10 in the
    /// last group the sign; counts after the second are stored as differences from the count
    /// two before.
    static func decompress(_ text: String) -> [Int]? {
        let bytes = Array(text.utf8)
        var counts: [Int] = []
        var p = 0
        while p < bytes.count {
            var x = 0
            var k = 0
            var more = true
            while more {
                guard p < bytes.count, bytes[p] >= 48, bytes[p] < 48 + 64, k < 12 else { return nil }
                let c = Int(bytes[p]) - 48
                x |= (c & 0x1F) << (5 * k)
                more = c & 0x20 != 0
                p += 1
                k += 1
                if !more && c & 0x10 != 0 { x |= -1 << (5 * k) }
            }
            if counts.count > 2 { x += counts[counts.count - 2] }
            counts.append(x)
        }
        return counts
    }

    /// `annotations[3].bbox: expected …` from a decoding error.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { out, key in
                if let i = key.intValue { return out + "[\(i)]" }
                return out.isEmpty ? key.stringValue : out + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let c):
            return "\(path(c.codingPath + [key])): required key is missing; expected a COCO file (images, annotations, categories)"
        case .typeMismatch(let type, let c):
            return "\(path(c.codingPath)): expected \(type)"
        case .valueNotFound(let type, let c):
            return "\(path(c.codingPath)): expected \(type), found null"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not valid JSON (\(c.debugDescription))" : "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default:
            return "not a COCO file"
        }
    }

    struct Document: Decodable {
        let images: [Image]
        let annotations: [Annotation]?
        let categories: [Category]
    }

    struct Image: Decodable {
        let id: Int
        let file_name: String
        let width: Int
        let height: Int
    }

    struct Category: Decodable {
        let id: Int
        let name: String
    }

    struct Annotation: Decodable {
        let id: Int
        let image_id: Int
        let category_id: Int
        let bbox: [Double]?
        let segmentation: Segmentation?
    }

    enum Segmentation: Decodable {
        case polygons([[Double]])
        case rle(RLE)

        init(from decoder: any Decoder) throws {
            if let lists = try? decoder.singleValueContainer().decode([[Double]].self) {
                self = .polygons(lists)
            } else {
                self = .rle(try RLE(from: decoder))
            }
        }
    }

    struct RLE: Decodable {
        enum Counts: Decodable {
            case runs([Int])
            case compressed(String)

            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let runs = try? c.decode([Int].self) { self = .runs(runs) } else { self = .compressed(try c.decode(String.self)) }
            }
        }

        let size: [Int]
        let counts: Counts
    }
}

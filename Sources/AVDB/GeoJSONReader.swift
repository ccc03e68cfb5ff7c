import Foundation
import Raster

/// Reads QuPath GeoJSON exports: a FeatureCollection, a single Feature, or a bare array of
/// Features (QuPath writes each, depending on the export option).
///
/// QuPath coordinates are continuous pixel coordinates of the full-resolution image with the
/// origin at its top-left corner, the Raster convention already. GeoJSON repeats a ring's first
/// vertex at its end; that closing vertex is dropped because `Polygon` rings are implicitly
/// closed. The class is `properties.classification.name`; unclassified objects get the empty
/// label. Polygon and MultiPolygon give one polygon object, Point and MultiPoint one point
/// object per point; other geometry types are errors naming the feature.
public enum GeoJSONReader {
    /// Reads the file at `url`; `image` names the image the annotations belong to (QuPath
    /// files do not say).
    public static func read(contentsOf url: URL, image: String) throws(AVDBError) -> AnnotatedImage {
        let data = Data(try CSVReader.readFile(url, maxSize: AnnotationLimits.maxFileSize))
        return try read(data, file: url.path, image: image)
    }

    /// Reads GeoJSON held in memory; objects' `ref` is `feature N` (1-based), with the
    /// feature's `id` appended when it has one.
    public static func read(_ data: Data, file: String, image: String) throws(AVDBError) -> AnnotatedImage {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw AVDBError(.malformedAnnotation, "not valid JSON (\(error.localizedDescription)); expected GeoJSON", file: file)
        }
        let features: [Any]
        if let list = root as? [Any] {
            features = list
        } else if let object = root as? [String: Any], object["type"] as? String == "FeatureCollection" {
            guard let list = object["features"] as? [Any] else {
                throw AVDBError(.malformedAnnotation, "features: expected an array of Features", file: file)
            }
            features = list
        } else if let object = root as? [String: Any], object["type"] as? String == "Feature" {
            features = [object]
        } else {
            throw AVDBError(.malformedAnnotation, "top level is neither a FeatureCollection, a Feature nor an array of Features", file: file)
        }
        var objects: [AnnotationObject] = []
        for (i, item) in features.enumerated() {
            var ref = "feature \(i + 1)"
            func fail(_ message: String) -> AVDBError {
                AVDBError(.malformedAnnotation, "\(ref): \(message)", file: file)
            }
            guard let feature = item as? [String: Any], feature["type"] as? String == "Feature" else {
                throw fail("expected an object with \"type\": \"Feature\"")
            }
            if let id = feature["id"] as? String { ref += " (id \(id))" } else if let id = feature["id"] as? Int { ref += " (id \(id))" }
            let properties = feature["properties"] as? [String: Any] ?? [:]
            let label = ((properties["classification"] as? [String: Any])?["name"] as? String) ?? ""
            guard let geometry = feature["geometry"] as? [String: Any], let type = geometry["type"] as? String else {
                throw fail("geometry.type is missing")
            }
            let coordinates = geometry["coordinates"]
            switch type {
            case "Polygon":
                objects.append(AnnotationObject(label: label, geometry: .polygons([try polygon(coordinates, fail)]), ref: ref))
            case "MultiPolygon":
                guard let parts = coordinates as? [Any], !parts.isEmpty else { throw fail("geometry.coordinates: expected a list of polygons") }
                var polygons: [Polygon] = []
                for part in parts { polygons.append(try polygon(part, fail)) }
                objects.append(AnnotationObject(label: label, geometry: .polygons(polygons), ref: ref))
            case "Point":
                objects.append(AnnotationObject(label: label, geometry: .point(try point(coordinates, fail)), ref: ref))
            case "MultiPoint":
                guard let list = coordinates as? [Any] else { throw fail("geometry.coordinates: expected a list of points") }
                for p in list { objects.append(AnnotationObject(label: label, geometry: .point(try point(p, fail)), ref: ref)) }
            default:
                throw fail("geometry type \(type) is not supported; export areas as Polygon/MultiPolygon and points as Point/MultiPoint")
            }
        }
        return AnnotatedImage(image: image, objects: objects, file: file)
    }

    private static func point(_ value: Any?, _ fail: (String) -> AVDBError) throws(AVDBError) -> Point2D {
        guard let pair = value as? [Any], pair.count >= 2, let x = number(pair[0]), let y = number(pair[1]) else {
            throw fail("geometry.coordinates: expected a position [x, y]")
        }
        return Point2D(x: x, y: y)
    }

    /// A finite JSON number. JSONSerialization gives `true`/`false` as NSNumber too, and `is
    /// Bool` holds for the numbers 0 and 1 as well, so booleans are told apart by their
    /// Objective-C type code `c`.
    private static func number(_ value: Any) -> Double? {
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue.isFinite else { return nil }
        return n.doubleValue
    }

    private static func polygon(_ value: Any?, _ fail: (String) -> AVDBError) throws(AVDBError) -> Polygon {
        guard let ringValues = value as? [Any], !ringValues.isEmpty else {
            throw fail("geometry.coordinates: expected a list of rings (exterior first, then holes)")
        }
        var rings: [[Point2D]] = []
        for (r, ringValue) in ringValues.enumerated() {
            guard let positions = ringValue as? [Any] else { throw fail("ring \(r): expected a list of positions") }
            var ring: [Point2D] = []
            for p in positions { ring.append(try point(p, fail)) }
            if ring.count > 1 && ring.first == ring.last { ring.removeLast() }
            guard ring.count >= 3 else { throw fail("ring \(r) has \(ring.count) distinct vertices; a ring needs at least 3") }
            rings.append(ring)
        }
        return Polygon(exterior: rings[0], holes: Array(rings.dropFirst()))
    }
}

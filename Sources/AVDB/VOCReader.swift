import Foundation
#if canImport(FoundationXML)
// On Linux XMLParser lives in FoundationXML (libxml2); on Apple platforms in Foundation.
import FoundationXML
#endif
import Raster

/// Reads Pascal VOC annotation XML (one file per image).
///
/// VOC writes box corners as 1-based, inclusive pixel indices: `xmin = 1, xmax = 3` covers
/// the first three pixel columns. In the Raster convention (pixel i covers `[i, i + 1)`) that
/// is `[xmin - 1, xmax)`, so a box is converted to `Box(xMin: xmin - 1, yMin: ymin - 1,
/// xMax: xmax, yMax: ymax)`.
///
/// A box with `xmax <= xmin` or `ymax <= ymin` is flagged zero-area (`AnnotationObject.defect`)
/// although equal corners would be a one-pixel box under the inclusive reading: annotation tools
/// (LabelImg, which made BCCD) write equal corners for a click without a drag, and a one-pixel
/// box is not a trainable object either.
public enum VOCReader {
    /// Reads the file at `url`; errors name the file and the object.
    public static func read(contentsOf url: URL) throws(AVDBError) -> AnnotatedImage {
        let data = Data(try CSVReader.readFile(url, maxSize: AnnotationLimits.maxFileSize))
        return try read(data, file: url.path)
    }

    /// Reads VOC XML held in memory; `file` names it in errors and issues.
    public static func read(_ data: Data, file: String) throws(AVDBError) -> AnnotatedImage {
        // Foundation's XMLParser on Linux traps on an element or attribute name that is not
        // valid UTF-8 (found by fuzzing); VOC files are ASCII, so refuse such bytes up front.
        if let bad = firstInvalidUTF8(data) {
            throw AVDBError(.malformedAnnotation, "byte \(bad) is not valid UTF-8; a Pascal VOC file must be UTF-8 text", file: file)
        }
        let collector = Collector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        guard parser.parse() else {
            if collector.tooDeep {
                throw AVDBError(.malformedAnnotation, "elements are nested more than \(AnnotationLimits.maxXMLDepth) deep; "
                                + "a Pascal VOC file nests 4 deep", file: file, line: parser.lineNumber)
            }
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown parser error"
            throw AVDBError(.malformedAnnotation, "not well-formed XML (\(reason)); expected a Pascal VOC <annotation>",
                            file: file, line: parser.lineNumber)
        }
        guard collector.root == "annotation" else {
            throw AVDBError(.malformedAnnotation, "root element is <\(collector.root ?? "")>, not <annotation>; this is not a Pascal VOC file", file: file)
        }
        func number(_ text: String?, _ what: String, _ object: String) throws(AVDBError) -> Double {
            guard let text, let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), v.isFinite else {
                throw AVDBError(.malformedAnnotation,
                                "\(object): <\(what)> is \(text.map { "\"\($0)\"" } ?? "missing"); expected a number",
                                file: file)
            }
            return v
        }
        var objects: [AnnotationObject] = []
        for (i, o) in collector.objects.enumerated() {
            let ref = "object \(i + 1)"
            let label = o["name"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let shown = label.isEmpty ? ref : "\(ref) (\(label))"
            let xmin = try number(o["bndbox/xmin"], "bndbox/xmin", shown)
            let ymin = try number(o["bndbox/ymin"], "bndbox/ymin", shown)
            let xmax = try number(o["bndbox/xmax"], "bndbox/xmax", shown)
            let ymax = try number(o["bndbox/ymax"], "bndbox/ymax", shown)
            objects.append(BoxCorners.inclusive(xmin: xmin, ymin: ymin, xmax: xmax, ymax: ymax, base: 1,
                                                label: label, ref: ref))
        }
        func size(_ key: String) -> Int? {
            collector.fields[key].flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.flatMap { $0 > 0 ? $0 : nil }
        }
        let image = collector.fields["filename"]?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return AnnotatedImage(image: image, width: size("size/width"), height: size("size/height"),
                              objects: objects, file: file)
    }

    /// Collects the text of `annotation/…` leaves and of each `object/…` leaf by relative path.
    /// Offset of the first byte that does not start or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ data: Data) -> Int? {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var root: String?
        var fields: [String: String] = [:]
        var objects: [[String: String]] = []
        private(set) var tooDeep = false
        private var stack: [String] = []
        private var text = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            guard stack.count < AnnotationLimits.maxXMLDepth else {
                tooDeep = true
                parser.abortParsing()
                return
            }
            if root == nil { root = name }
            stack.append(name)
            text = ""
            if stack.count == 2 && name == "object" { objects.append([:]) }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard !tooDeep, !stack.isEmpty else { return }
            if stack.count >= 3 && stack[1] == "object" {
                // Keep the first occurrence: BCCD repeats <truncated> etc. inside some objects.
                let key = stack[2...].joined(separator: "/")
                if objects[objects.count - 1][key] == nil { objects[objects.count - 1][key] = text }
            } else if stack.count >= 2 {
                let key = stack[1...].joined(separator: "/")
                if fields[key] == nil { fields[key] = text }
            }
            stack.removeLast()
            text = ""
        }
    }
}

/// Corner conversions shared by the VOC and CSV readers.
enum BoxCorners {
    /// A box given as inclusive pixel indices counted from `base`; flags equal or inverted
    /// corners as zero-area (see `VOCReader`).
    static func inclusive(xmin: Double, ymin: Double, xmax: Double, ymax: Double, base: Int,
                          label: String, ref: String, instanceID: Int? = nil) -> AnnotationObject {
        let b = Double(base)
        let box = Box(xMin: xmin - b, yMin: ymin - b, xMax: xmax - b + 1, yMax: ymax - b + 1)
        let degenerate = xmax <= xmin || ymax <= ymin
        return AnnotationObject(label: label, instanceID: instanceID, geometry: .box(box), ref: ref,
                                defect: degenerate ? .zeroArea : nil,
                                sourceText: degenerate ? "xmin=\(fmt(xmin)) ymin=\(fmt(ymin)) xmax=\(fmt(xmax)) ymax=\(fmt(ymax)) as annotated" : nil)
    }

    /// A box given by continuous corners (already the Raster convention).
    static func continuous(xmin: Double, ymin: Double, xmax: Double, ymax: Double,
                           label: String, ref: String, instanceID: Int? = nil) -> AnnotationObject {
        AnnotationObject(label: label, instanceID: instanceID,
                         geometry: .box(Box(xMin: xmin, yMin: ymin, xMax: xmax, yMax: ymax)), ref: ref)
    }

    static func fmt(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}

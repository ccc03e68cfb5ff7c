import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads the first `Image` of an OME-XML document: its `Pixels` attributes, `Channel` names and
/// `TiffData` plane-to-page mapping.
final class OMEXMLParser: NSObject, XMLParserDelegate {
    /// One `TiffData` element: `planeCount` planes starting at plane (firstC, firstZ, firstT) are
    /// stored in consecutive pages from `ifd`.
    struct TiffData {
        var ifd: Int?
        var firstC: Int
        var firstZ: Int
        var firstT: Int
        var planeCount: Int?
    }

    private(set) var metadata: OMEMetadata?
    private(set) var tiffData: [TiffData] = []
    private var imageDepth = 0
    private var imagesSeen = 0
    private var inFirstPixels = false

    /// Parses `xml`; nil when it is not OME-XML with a `Pixels` element.
    static func parse(_ xml: String) -> OMEXMLParser? {
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        let delegate = OMEXMLParser()
        parser.delegate = delegate
        // A parse error after the first Pixels element (e.g. in a huge annotation block) still
        // leaves the image metadata usable.
        _ = parser.parse()
        return delegate.metadata == nil ? nil : delegate
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        switch elementName {
        case "Image":
            imagesSeen += 1
        case "Pixels" where imagesSeen == 1 && metadata == nil:
            inFirstPixels = true
            func int(_ key: String) -> Int { attributes[key].flatMap { Int($0) } ?? 1 }
            func double(_ key: String) -> Double? { attributes[key].flatMap { Double($0) } }
            // The OME schema's default unit for physical sizes is the micrometre.
            func unit(_ key: String, _ size: String) -> String? {
                attributes[key] ?? (attributes[size] == nil ? nil : "µm")
            }
            metadata = OMEMetadata(
                dimensionOrder: attributes["DimensionOrder"] ?? "XYZCT",
                sizeX: int("SizeX"), sizeY: int("SizeY"), sizeZ: int("SizeZ"),
                sizeC: int("SizeC"), sizeT: int("SizeT"), channelNames: [],
                physicalSizeX: double("PhysicalSizeX"), physicalSizeY: double("PhysicalSizeY"),
                physicalSizeZ: double("PhysicalSizeZ"),
                physicalSizeXUnit: unit("PhysicalSizeXUnit", "PhysicalSizeX"),
                physicalSizeYUnit: unit("PhysicalSizeYUnit", "PhysicalSizeY"),
                physicalSizeZUnit: unit("PhysicalSizeZUnit", "PhysicalSizeZ"),
                pixelType: attributes["Type"])
        case "Channel" where inFirstPixels:
            metadata?.channelNames.append(attributes["Name"] ?? "")
        case "TiffData" where inFirstPixels:
            func int(_ key: String) -> Int? { attributes[key].flatMap { Int($0) } }
            tiffData.append(TiffData(ifd: int("IFD"), firstC: int("FirstC") ?? 0,
                                     firstZ: int("FirstZ") ?? 0, firstT: int("FirstT") ?? 0,
                                     planeCount: int("PlaneCount")))
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        if elementName == "Pixels" && inFirstPixels {
            inFirstPixels = false
            parser.abortParsing()
        }
    }

    /// The page holding channel `c` of a single-Z, single-T image.
    func page(ofChannel c: Int) -> Int {
        for entry in tiffData where entry.firstZ == 0 && entry.firstT == 0 {
            // The schema's defaults: PlaneCount is 1 when IFD is given, else every plane (from IFD 0).
            let count = entry.planeCount ?? (entry.ifd == nil ? Int.max : 1)
            if c >= entry.firstC && c - entry.firstC < count { return (entry.ifd ?? 0) + (c - entry.firstC) }
        }
        return c
    }
}

/// Parses an ImageJ ImageDescription ("ImageJ=1.52o\nimages=3\nchannels=3\n..."); nil if it is not one.
func parseImageJ(_ description: String, xResolution: Double?, yResolution: Double?) -> ImageJMetadata? {
    guard description.hasPrefix("ImageJ=") else { return nil }
    var values: [String: String] = [:]
    for line in description.split(whereSeparator: \.isNewline) {
        guard let eq = line.firstIndex(of: "=") else { continue }
        values[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    func int(_ key: String) -> Int { values[key].flatMap { Int($0) } ?? 1 }
    let unit = values["unit"].map { $0.replacingOccurrences(of: "\\u00B5", with: "µ") }
    func size(_ resolution: Double?) -> Double? {
        guard unit != nil, let resolution, resolution > 0 else { return nil }
        return 1 / resolution
    }
    return ImageJMetadata(version: values["ImageJ"] ?? "", images: int("images"), channels: int("channels"),
                          slices: int("slices"), frames: int("frames"), unit: unit,
                          spacing: values["spacing"].flatMap { Double($0) },
                          pixelWidth: size(xResolution), pixelHeight: size(yResolution))
}

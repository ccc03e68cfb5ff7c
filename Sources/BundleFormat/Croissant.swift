import Foundation

/// Croissant 1.1 metadata (JSON-LD) for a bundle: the dataset's citation facts, the HDF5 file
/// and the tiles CSV as file objects with their SHA-256, the classes and tiles as record sets,
/// and the Responsible-AI fields. Documented in specs/bundle-format/v1.md §11.
struct CroissantDocument {
    var manifest: Manifest
    var tiles: TileRows
    var bundleName: String
    var bundleSHA256: String
    var tilesName: String
    var tilesSHA256: String
    var today: String

    /// The Croissant 1.1 JSON-LD context, as mlcroissant 1.1 writes it.
    static var context: [String: Any] {
        [
        "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
        "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
        "dct": "http://purl.org/dc/terms/",
        "arrayShape": "cr:arrayShape", "citeAs": "cr:citeAs", "column": "cr:column", "conformsTo": "dct:conformsTo",
        "containedIn": "cr:containedIn", "data": ["@id": "cr:data", "@type": "@json"],
        "dataType": ["@id": "cr:dataType", "@type": "@vocab"], "equivalentProperty": "cr:equivalentProperty",
        "examples": ["@id": "cr:examples", "@type": "@json"], "extract": "cr:extract", "field": "cr:field",
        "fileObject": "cr:fileObject", "fileProperty": "cr:fileProperty", "fileSet": "cr:fileSet",
        "format": "cr:format", "includes": "cr:includes", "isArray": "cr:isArray", "isLiveDataset": "cr:isLiveDataset",
        "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField",
        "path": "cr:path", "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex",
        "repeated": "cr:repeated", "replace": "cr:replace", "samplingRate": "cr:samplingRate",
        "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
        ]
    }

    func json() throws(BundleError) -> Data {
        do {
            var data = try JSONSerialization.data(withJSONObject: document(),
                                                  options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            data.append(0x0A)
            return data
        } catch {
            throw BundleError(code: .manifest, message: "cannot encode the Croissant metadata: \(error)")
        }
    }

    func document() -> [String: Any] {
        let m = manifest
        let study = m.study
        var doc: [String: Any] = [
            "@context": Self.context,
            "@type": "sc:Dataset",
            "conformsTo": "http://mlcommons.org/croissant/1.1",
            "name": m.dataset.name,
            "description": m.dataset.description ?? "Training tiles exported by trainset from \(study?.title ?? "an image dataset").",
            "version": m.dataset.version,
            "datePublished": m.dataset.datePublished ?? today,
            "license": m.dataset.license.map(Self.licenseURL) ?? study?.licenseURL ?? study?.license ?? "unknown",
            "url": m.dataset.url ?? study?.externalURL ?? "",
            "creator": (m.dataset.creators ?? []).map { ["@type": "sc:Person", "name": $0] },
            "citeAs": citation(),
            "isLiveDataset": false,
            "distribution": [
                [
                    "@type": "cr:FileObject", "@id": "bundle", "name": "bundle", "contentUrl": bundleName,
                    "encodingFormat": "application/x-hdf5", "sha256": bundleSHA256,
                    "description": "The trainset bundle (specs/bundle-format/v1.md): tile pixels in /images [N, C, H, W] "
                        + "(\(m.channels.pixelType.rawValue), channels \(m.channels.names.joined(separator: ", "))), "
                        + "masks in /masks, tables, and the provenance manifest. Content hash \(m.contentHash).",
                ],
                [
                    "@type": "cr:FileObject", "@id": "tiles-csv", "name": "tiles-csv", "contentUrl": tilesName,
                    "encodingFormat": "text/csv", "sha256": tilesSHA256,
                    "description": "One row per tile, in the order of /images in the bundle.",
                ],
            ],
            // Croissant refuses an enumeration without values, so a bundle without classes has none.
            "recordSet": (manifest.counts.perClass.isEmpty ? [] : [classesRecordSet()]) + [tilesRecordSet()]
                + (tiles.split == nil ? [] : [splitsRecordSet()]),
            "rai:dataCollection": collection(),
            "rai:dataPreprocessingProtocol": preprocessing(),
            "rai:personalSensitiveInformation": personalInformation(),
        ]
        if let copyright = study?.copyright { doc["copyrightNotice"] = copyright }
        return doc
    }

    /// An SPDX identifier becomes its spdx.org URL; anything else (a URL, a name) is kept.
    static func licenseURL(_ license: String) -> String {
        let spdx = license.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "+" }
        return spdx ? "https://spdx.org/licenses/\(license).html" : license
    }

    /// What sample data left, and how each column was treated, from the manifest's samples section.
    private func personalInformation() -> String {
        guard case .object(let samples)? = manifest.samples, case .array(let columns)? = samples["columns"] else {
            return "No sample-level or personal data is linked into this bundle; contact details in the source study file are not copied."
        }
        let treated = columns.compactMap { column -> String? in
            guard case .object(let c) = column, case .string(let name)? = c["name"],
                  case .string(let treatment)? = c["treatment"] else { return nil }
            return "\(name): \(treatment)"
        }
        return "Sample-level data linked per tile under the recipe's privacy policy (identifiers denied by default); "
            + "column treatments: " + treated.joined(separator: "; ")
            + ". Contact details in the source study file are not copied."
    }

    private func splitsRecordSet() -> [String: Any] {
        [
            "@type": "cr:RecordSet", "@id": "splits", "name": "splits",
            "description": "The splits; groups (e.g. individuals) never straddle them.",
            "dataType": "cr:Split",
            "key": ["@id": "splits/name"],
            "field": [field("splits", "name", "sc:Text", description: "Split name.")],
            "data": tiles.splitNames.map { ["splits/name": $0] },
        ]
    }

    private func citation() -> String {
        guard let study = manifest.study, !study.publications.isEmpty else {
            return "\(manifest.dataset.name) \(manifest.dataset.version), exported by trainset \(manifest.tool.version)."
        }
        return study.publications.map { p in
            [p.authors, p.title, p.doi].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ". ")
        }.joined(separator: " ; ")
    }

    private func collection() -> String {
        let m = manifest
        var text = "\(m.counts.sources) source images"
        if let study = m.study {
            text += " from \(study.accession.map { "IDR study \($0)" } ?? "the study") \"\(study.title ?? "")\""
            if let date = study.releaseDate { text += ", publicly released \(date)" }
        }
        text += "; every input file is listed with its SHA-256 in the bundle's /manifest."
        return text
    }

    private func preprocessing() -> [String] {
        let t = manifest.tiling
        return [
            "Tiles of \(t.tileWidth)x\(t.tileHeight) pixels at stride \(t.strideX)x\(t.strideY), edge policy \(t.edge).",
            "Channels \(manifest.channels.names.joined(separator: ", ")) from source channels "
                + "\(manifest.channels.sourceIndices.map(String.init).joined(separator: ", ")), kept in the source pixel type "
                + "\(manifest.channels.pixelType.rawValue) without conversion.",
            "The full recipe is stored in the bundle's /manifest (recipe.text); `trainset verify` re-derives the bundle from it.",
        ]
    }

    private func field(_ recordSet: String, _ name: String, _ type: Any, column: String? = nil, description: String) -> [String: Any] {
        var f: [String: Any] = ["@type": "cr:Field", "@id": "\(recordSet)/\(name)", "name": name,
                                "dataType": type, "description": description]
        if let column {
            f["source"] = ["fileObject": ["@id": "tiles-csv"], "extract": ["column": column]]
        }
        return f
    }

    private func classesRecordSet() -> [String: Any] {
        let classes = manifest.counts.perClass
        return [
            "@type": "cr:RecordSet", "@id": "classes", "name": "classes",
            "description": "The class list: ids used by tiles.label.",
            "dataType": "sc:Enumeration",
            "key": ["@id": "classes/id"],
            "field": [field("classes", "id", "sc:Integer", description: "Class id."),
                      field("classes", "name", "sc:Text", description: "Class name.")],
            "data": classes.map { ["classes/id": $0.id, "classes/name": $0.name] as [String: Any] },
        ]
    }

    private func tilesRecordSet() -> [String: Any] {
        [
            "@type": "cr:RecordSet", "@id": "tiles", "name": "tiles",
            "description": "One record per tile; its pixels are /images[tile] in the bundle.",
            "key": ["@id": "tiles/tile"],
            "field": [
                field("tiles", "tile", "sc:Integer", column: "tile", description: "Index of the tile in /images."),
                field("tiles", "source", "sc:Text", column: "source", description: "Source image path under the input root."),
                field("tiles", "x", "sc:Integer", column: "x", description: "x of the tile's top-left pixel in the source."),
                field("tiles", "y", "sc:Integer", column: "y", description: "y of the tile's top-left pixel in the source."),
                field("tiles", "width", "sc:Integer", column: "width", description: "Tile width in pixels."),
                field("tiles", "height", "sc:Integer", column: "height", description: "Tile height in pixels."),
                field("tiles", "label", manifest.counts.perClass.isEmpty ? "sc:Integer" : ["sc:Integer", "cr:Label"], column: "label",
                      description: "Image-level class id of the tile (classes.id), -1 for none."),
                field("tiles", "class", "sc:Text", column: "class", description: "Class name, empty for none."),
            ] + (tiles.split == nil ? [] : [splitField()]),
        ]
    }

    private func splitField() -> [String: Any] {
        var f = field("tiles", "split", "sc:Text", column: "split", description: "The tile's split.")
        f["references"] = ["field": ["@id": "splits/name"]]
        return f
    }
}

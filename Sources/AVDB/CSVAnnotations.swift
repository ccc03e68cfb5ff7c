import Foundation
import Raster

/// How a CSV of boxes or points names its columns and writes its coordinates.
public struct CSVAnnotationLayout: Sendable, Equatable {
    /// What the rows hold.
    public enum Shape: Sendable, Equatable {
        /// A box per row from four corner columns.
        case box(xMin: String, yMin: String, xMax: String, yMax: String)
        /// A point per row.
        case point(x: String, y: String)
    }

    /// How the numbers relate to pixels.
    public enum Convention: Sendable, Equatable {
        /// Continuous coordinates in the Raster convention: box corners are pixel edges
        /// (`xMax` exclusive), points may fall anywhere.
        case continuous
        /// Integer pixel indices counted from `base` (0 or 1): box corners are inclusive, as
        /// in Pascal VOC; a point is the centre of its pixel (`i - base + 0.5`).
        case pixelIndices(base: Int)
    }

    /// Column naming the image each row belongs to.
    public var image: String
    /// Column holding the class name.
    public var label: String
    public var shape: Shape
    public var convention: Convention
    /// Column holding an instance id, when the table has one.
    public var instance: String?

    public init(image: String, label: String, shape: Shape, convention: Convention, instance: String? = nil) {
        self.image = image
        self.label = label
        self.shape = shape
        self.convention = convention
        self.instance = instance
    }
}

/// Reads boxes or points listed one per row in a CSV, grouped by image.
public enum CSVAnnotationReader {
    /// Reads the table at `url` under `layout`.
    public static func read(contentsOf url: URL, layout: CSVAnnotationLayout,
                            options: CSVOptions = .init()) throws(AVDBError) -> [AnnotatedImage] {
        try read(CSVTable(contentsOf: url, options: options), layout: layout)
    }

    /// Images in order of first appearance, objects in row order; each object's `ref` is
    /// `line N`. Errors name the file, line and column.
    public static func read(_ table: CSVTable, layout: CSVAnnotationLayout) throws(AVDBError) -> [AnnotatedImage] {
        let annotation = AnnotationTable(table)
        let imageColumn = try annotation.columnIndex(named: layout.image)
        let labelColumn = try annotation.columnIndex(named: layout.label)
        let instanceColumn: Int?
        if let name = layout.instance { instanceColumn = try annotation.columnIndex(named: name) } else { instanceColumn = nil }
        let coordinateNames: [String] = switch layout.shape {
        case let .box(x0, y0, x1, y1): [x0, y0, x1, y1]
        case let .point(x, y): [x, y]
        }
        var coordinateColumns: [Int] = []
        for name in coordinateNames { coordinateColumns.append(try annotation.columnIndex(named: name)) }

        var order: [String] = []
        var objectsByImage: [String: [AnnotationObject]] = [:]
        for row in table.rows {
            let image = row[imageColumn].trimmingCharacters(in: .whitespaces)
            guard !image.isEmpty else {
                throw AVDBError(.emptyKeyValue, "the image column is empty; every row must name its image",
                                file: table.file, line: row.line, column: layout.image)
            }
            var v: [Double] = []
            for (name, column) in zip(coordinateNames, coordinateColumns) {
                let text = row[column].trimmingCharacters(in: .whitespaces)
                guard let value = Double(text), value.isFinite else {
                    throw AVDBError(.malformedAnnotation, "\"\(text)\" is not a number", file: table.file,
                                    line: row.line, column: name)
                }
                if case .pixelIndices = layout.convention, value != value.rounded() {
                    throw AVDBError(.malformedAnnotation,
                                    "\(text) is not an integer pixel index; use the continuous convention for fractional coordinates",
                                    file: table.file, line: row.line, column: name)
                }
                v.append(value)
            }
            var instance: Int?
            if let instanceColumn {
                let text = row[instanceColumn].trimmingCharacters(in: .whitespaces)
                guard let id = Int(text) else {
                    throw AVDBError(.malformedAnnotation, "instance id \"\(text)\" is not an integer", file: table.file,
                                    line: row.line, column: layout.instance)
                }
                instance = id
            }
            let label = row[labelColumn].trimmingCharacters(in: .whitespaces)
            let ref = "line \(row.line)"
            let object: AnnotationObject
            switch (layout.shape, layout.convention) {
            case (.box, .continuous):
                object = BoxCorners.continuous(xmin: v[0], ymin: v[1], xmax: v[2], ymax: v[3], label: label, ref: ref,
                                               instanceID: instance)
            case (.box, .pixelIndices(let base)):
                object = BoxCorners.inclusive(xmin: v[0], ymin: v[1], xmax: v[2], ymax: v[3], base: base, label: label,
                                              ref: ref, instanceID: instance)
            case (.point, .continuous):
                object = AnnotationObject(label: label, instanceID: instance, geometry: .point(Point2D(x: v[0], y: v[1])), ref: ref)
            case (.point, .pixelIndices(let base)):
                let shift = 0.5 - Double(base)
                object = AnnotationObject(label: label, instanceID: instance,
                                          geometry: .point(Point2D(x: v[0] + shift, y: v[1] + shift)), ref: ref)
            }
            if objectsByImage[image] == nil { order.append(image) }
            objectsByImage[image, default: []].append(object)
        }
        return order.map { AnnotatedImage(image: $0, objects: objectsByImage[$0]!, file: table.file) }
    }
}

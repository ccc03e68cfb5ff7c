import AVDB
import Export
import Foundation
import ImageFormats
import LabelSchema
import Testing

/// The limits of docs/limits.md: hostile sizes and nesting are refused with a one-line error
/// instead of exhausting memory or the stack.
@Suite struct LimitsTests {
    func oneLine(_ text: String) -> Bool { !text.isEmpty && !text.contains("\n") }

    @Test func oversizedRecipeIsRefusedBeforeParsing() {
        let text = "recipe_version: 1\n# " + String(repeating: "x", count: Recipe.maxTextSize) + "\n"
        do throws(ExportError) {
            _ = try Recipe.parse(text, file: "big.yaml")
            Issue.record("a recipe of \(text.utf8.count) bytes was accepted")
        } catch {
            #expect(error.description == "big.yaml: the recipe has \(text.utf8.count) bytes, more than the limit of "
                    + "\(Recipe.maxTextSize); a recipe is a few kilobytes of YAML")
        }
    }

    /// Issue 8's example: a 50 KB TIFF whose header claims 100 000 × 100 000 pixels is refused
    /// from the header, with the default budget, before any pixel memory is allocated.
    @Test func hugeDeclaredTIFFIsRefusedByTheDefaultBudget() throws {
        let url = Paths.fixtures.appendingPathComponent("images/bad_huge_dimensions.tif")
        do throws(ImageError) {
            _ = try ImageReader.read(url)
            Issue.record("read a TIFF declaring a huge size")
        } catch {
            #expect(error.code == .tooLarge)
            #expect(oneLine(error.description))
        }
    }

    /// A sparse file one byte over the limit: refused from its size, never read.
    @Test func annotationFilesLargerThanTheLimitAreRefusedUnread() throws {
        let directory = try Paths.temporaryDirectory("limits")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("huge.json")
        try Data().write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(AnnotationLimits.maxFileSize + 1))
        try handle.close()
        for reader in ["coco", "geojson", "voc"] {
            do throws(AVDBError) {
                switch reader {
                case "coco": _ = try COCOReader.read(contentsOf: url)
                case "geojson": _ = try GeoJSONReader.read(contentsOf: url, image: "x.tif")
                default: _ = try VOCReader.read(contentsOf: url)
                }
                Issue.record("\(reader) read a file over the limit")
            } catch {
                #expect(error.code == .fileTooLarge)
                #expect(error.description.contains("\(AnnotationLimits.maxFileSize + 1) bytes"))
            }
        }
    }

    /// Inputs nested 100 000 deep are refused in one line, quickly, by every structured reader:
    /// the parsers underneath bound their depth (Foundation's JSON parser at 512 levels, libyaml
    /// at 1 000, libxml2 at 256), so no reader of ours recurses into such a file. The time bound
    /// is generous for a debug build on a loaded machine; the parsers stop within milliseconds.
    @Test func deeplyNestedInputsAreRefusedQuickly() throws {
        let depth = 100_000
        let json = Data((String(repeating: "{\"a\": [", count: depth) + String(repeating: "]}", count: depth)).utf8)
        let xml = Data(("<annotation>" + String(repeating: "<object>", count: depth)
                        + String(repeating: "</object>", count: depth) + "</annotation>").utf8)
        let yaml = "recipe_version: 1\nlabels: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        var outcomes: [(String, String?)] = []
        let began = Date()
        do throws(AVDBError) { _ = try COCOReader.read(json, file: "deep.json"); outcomes.append(("coco", nil)) } catch {
            outcomes.append(("coco", error.description))
        }
        do throws(AVDBError) { _ = try GeoJSONReader.read(json, file: "deep.geojson", image: "x.tif"); outcomes.append(("geojson", nil)) } catch {
            outcomes.append(("geojson", error.description))
        }
        do throws(AVDBError) { _ = try VOCReader.read(xml, file: "deep.xml"); outcomes.append(("voc", nil)) } catch {
            outcomes.append(("voc", error.description))
        }
        do throws(LabelSchemaError) { _ = try Schema.parse(json, file: "deep-schema.json"); outcomes.append(("schema", nil)) } catch {
            outcomes.append(("schema", error.description))
        }
        do throws(ExportError) { _ = try Recipe.parse(yaml, file: "deep.yaml"); outcomes.append(("recipe", nil)) } catch {
            outcomes.append(("recipe", error.description))
        }
        #expect(Date().timeIntervalSince(began) < 30)
        for (reader, error) in outcomes {
            guard let error else { Issue.record("\(reader) accepted an input nested \(depth) deep"); continue }
            #expect(oneLine(error), "\(reader): \(error)")
            #expect(error.hasPrefix("deep"), "\(reader) does not name the file: \(error)")
        }
    }
}

import Foundation
import Testing
@testable import Export

@Suite("Recipe: labels.objects and labels.image_labels")
struct ObjectRecipeTests {
    /// RecipeTests.minimal with a `labels` section (`labels:` on line 10, its first key on line 11;
    /// one line later with the annotation table that image labels need).
    static func recipe(_ labels: String, table: Bool = false) -> String {
        let inputs = table
            ? "inputs:\n  root: data\n  annotations: {file: t.csv, keys: [Well], image_path: \"{Well}.png\"}\n  study_file: s.txt"
            : "inputs:\n  root: data\n  images: \"*.png\""
        return """
            recipe_version: 1
            dataset: {name: demo, version: 1.2.3}
            \(inputs)
            tiling:
              size: 64
            output:
              path: out/demo.h5
            labels:
            \(labels)
            """
    }

    @Test func theBCCDSampleRecipesParse() throws {
        let voc = try Recipe.load(Repository.sample("bccd-boxes/recipe.yaml")).recipe.labels.objects
        #expect(voc?.source == .voc("BCCD/Annotations/{stem}.xml"))
        #expect(voc?.classes == ["RBC", "WBC", "Platelets"] && voc?.geometry == .drop && voc?.minVisibility == 0.25)
        #expect(voc?.minArea == 1 && voc?.rasterize == Recipe.Objects.Rasterize.none && voc?.deriveBoxes == false)
        let csv = try Recipe.load(Repository.sample("bccd-boxes/recipe-csv.yaml")).recipe.labels.objects
        #expect(csv?.source == .csv(.init(file: "boxes.csv", image: "filename", label: "cell_type",
                                           shape: .box(xMin: "xmin", yMin: "ymin", xMax: "xmax", yMax: "ymax"),
                                           instance: nil, coordinates: .pixelIndex1)))
        let dsb = try Recipe.load(Repository.sample("dsb2018-nuclei/recipe.yaml")).recipe.labels.objects
        #expect(dsb?.deriveBoxes == true && dsb?.source == nil && dsb?.instanceClass == "nucleus")
    }

    /// Each mistake is one line naming the recipe, the line and the key.
    @Test(arguments: [
        ("  objects:\n    voc: \"{stem}.xml\"\n    classes: [a]\n    geometri: drop", "bad.yaml:14: labels.objects: unknown key 'labels.objects.geometri'; did you mean 'geometry'? (allowed: voc, coco, geojson, csv, classes, schema, match, unlabeled, unknown, geometry, rasterize, derive_boxes, instance_class, min_area, min_visibility)"),
        ("  objects:\n    classes: [a]", "bad.yaml:12: labels.objects: name an annotation source (voc, coco, geojson or csv) or set derive_boxes: true"),
        ("  objects:\n    voc: a.xml\n    coco: b.json\n    classes: [a]", "bad.yaml:13: labels.objects: give one annotation source, not voc and coco"),
        ("  objects:\n    csv: {file: b.csv, image: i, label: l, box: {x_min: a, y_min: b, x_max: c, y_max: d}}\n    classes: [a]",
         "bad.yaml:12: labels.objects.csv: missing required key 'labels.objects.csv.coordinates'"),
        ("  objects:\n    csv: {file: b.csv, image: i, label: l, point: {x: a, y: b}, coordinates: pixel_index_2}\n    classes: [a]",
         "bad.yaml:12: labels.objects.csv.coordinates: 'pixel_index_2' is not one of continuous, pixel_index_0, pixel_index_1; did you mean 'pixel_index_0'?"),
        ("  objects:\n    voc: \"{stem}.xml\"", "bad.yaml:12: labels.objects: give the classes the object labels map to: 'classes' (a list) or 'schema' (a label schema file)"),
        ("  objects:\n    voc: \"{stem}.xml\"\n    classes: [a]\n    rasterize: instance",
         "bad.yaml:12: labels.objects.rasterize: Pascal VOC files hold boxes, which have no outline to paint; remove rasterize"),
        ("  objects:\n    geojson: \"{stem}.json\"\n    classes: [a]\n    derive_boxes: true",
         "bad.yaml:12: labels.objects.derive_boxes: needs an instance mask: labels.instance_masks, or rasterize: instance (or both)"),
        ("  instance_masks: {file: \"m/{stem}.png\"}\n  objects:\n    geojson: \"{stem}.json\"\n    classes: [a]\n    rasterize: both",
         "bad.yaml:13: labels.objects.rasterize: paints /masks/instance, which labels.instance_masks already fills; use one of them"),
        ("  objects:\n    voc: \"{stem}.xml\"\n    classes: [a]\n    min_visibility: 1.5", "bad.yaml:14: labels.objects.min_visibility: must be between 0 and 1, got 1.5"),
        ("  objects:\n    voc: \"{stem}.xml\"\n    classes: [a]\n    min_area: 0", "bad.yaml:14: labels.objects.min_area: must be more than 0 pixels, got 0.0"),
        ("  instance_masks: {file: \"m/{stem}.png\"}\n  objects:\n    derive_boxes: true\n    classes: [a]\n    instance_class: b",
         "bad.yaml:13: labels.objects.instance_class: 'b' is not in labels.objects.classes"),
    ])
    func objectMistakesAreNamed(labels: String, expected: String) {
        #expect {
            try Recipe.parse(Self.recipe(labels), file: "bad.yaml")
        } throws: { ($0 as? ExportError)?.description == expected }
    }

    @Test(arguments: [
        ("  image_labels:\n    columns: [A, B]\n    term_columns: [A acc]\n    schema: s.json",
         "bad.yaml:14: labels.image_labels.term_columns: has 1 columns for 2 value columns; give one per value column"),
        ("  image_labels:\n    phenotypes: idr\n    classes: [a]", "bad.yaml:13: labels.image_labels: accessions match ontology terms, which only a schema has; add 'schema'"),
        ("  image_labels:\n    phenotypes: all\n    schema: s.json", "bad.yaml:13: labels.image_labels.phenotypes: the only value is 'idr' (every Phenotype N column with its Term Accession)"),
        ("  image_class: {column: A, classes: [a]}\n  image_labels: {columns: [B], classes: [b]}",
         "bad.yaml:13: labels.image_labels: give either image_class (one class per image) or image_labels (several), not both"),
        ("  image_class: {column: A, classes: [a]}\n  objects: {voc: \"{stem}.xml\", classes: [b]}",
         "bad.yaml:13: labels.objects: the bundle has one class table, already given by image_class; remove classes/schema here (object labels map through that table)"),
    ])
    func imageLabelMistakesAreNamed(labels: String, expected: String) {
        #expect {
            try Recipe.parse(Self.recipe(labels, table: true), file: "bad.yaml")
        } throws: { ($0 as? ExportError)?.description == expected }
    }

    @Test func boxFilterBelongsToTheObjectsSection() {
        let text = Self.recipe("  objects:\n    voc: \"{stem}.xml\"\n    classes: [a]")
            + "\naugmentation:\n  variants: 1\n  steps: [{flip: {horizontal: 0.5}}]\n  box_filter: {min_area: 2, min_visibility: 0.5}\n"
        #expect {
            try Recipe.parse(text, file: "bad.yaml")
        } throws: { error in
            (error as? ExportError)?.description
                == "bad.yaml:15: augmentation.box_filter: with labels.objects the tile rule for boxes is labels.objects.min_area and min_visibility; remove box_filter"
        }
    }
}

import Foundation
import Testing
@testable import LabelSchema

/// `Tests/Fixtures/label-schema/<name>`.
func fixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/label-schema").appendingPathComponent(name)
}

/// A minimal valid schema as JSON text, with `extra` spliced in before `classes`.
private func schemaJSON(classes: String, extra: String = "") -> Data {
    Data(##"{"format": "trainset-label-schema/1", "name": "t", "version": "1.0.0", "kinds": ["box"], \##(extra) "classes": \##(classes)}"##.utf8)
}

@Suite struct SchemaLoaderTests {
    /// The v1 fixture must keep loading unchanged in every later trainset.
    @Test func keptV1FixtureLoadsWithEveryFeature() throws {
        let s = try Schema.load(contentsOf: fixture("kept-v1.json"))
        #expect(s.name == "blood-smear-cells")
        #expect(s.version == SemanticVersion(1, 2, 0))
        #expect(s.kinds == LabelKind.allCases)
        #expect(s.classes.map(\.id) == [0, 1, 2, 3, 4, 5])
        #expect(s.classes[1].colour == "#7F7F7F")
        #expect(s.class(named: "leukocyte")?.terms == [TermID(prefix: "CL", localID: "0000738")])
        #expect(s.ancestors(of: "erythrocyte") == ["blood cell"])
        #expect(s.prefixes == ["FBbi": "http://purl.obolibrary.org/obo/FBbi_"])
        #expect(s.mappings == [
            SourceMapping(.exact("RBC "), className: "erythrocyte"),
            SourceMapping(.normalized("thrombocyte"), className: "platelet"),
            SourceMapping(.term(TermID(prefix: "CL", localID: "0000767")), className: "leukocyte"),
            SourceMapping(.regex("(?i)(neutrophil|lymphocyte|monocyte|eosinophil|basophil)s?"), className: "leukocyte"),
        ])
        #expect(s.unknown == .mapTo("other"))
        // Written back and read again, the schema is the same.
        #expect(try Schema.parse(Data(s.jsonText.utf8), file: "round-trip.json") == s)
    }

    @Test(arguments: [
        (##"[{"id": 1, "name": "a", "colour": "#000000"}, {"id": 2, "name": "b", "colour": "#000000", "parent": "Foo"}]"##, "",
         "s.json: classes[1].parent: unknown class 'Foo'"),
        (##"[{"id": 1, "name": "a", "colour": "#000000", "parent": "b"}, {"id": 2, "name": "b", "colour": "#000000", "parent": "a"}]"##, "",
         "s.json: classes[0].parent: cycle 'a' → 'b' → 'a'; a class cannot be its own ancestor"),
        (##"[{"id": 1, "name": "a", "colour": "#000000"}, {"id": 1, "name": "b", "colour": "#000000"}]"##, "",
         "s.json: classes[1].id: id 1 is already used by classes[0]"),
        (##"[{"id": 1, "name": "Red  cell", "colour": "#000000"}, {"id": 2, "name": "red cell", "colour": "#000000"}]"##, "",
         "s.json: classes[1].name: 'red cell' is the same name as classes[0] 'Red  cell' under normalized matching"),
        (##"[{"id": 1, "name": "a", "colour": "red"}]"##, "", "s.json: classes[0].colour: \"red\" is not a colour #RRGGBB"),
        (##"[{"id": 1.5, "name": "a", "colour": "#000000"}]"##, "", "s.json: classes[0].id: must be an integer from 0 to 2147483647"),
        (##"[{"id": 1, "name": "a", "colour": "#000000", "terms": ["XYZ:1"]}]"##, "",
         "s.json: classes[0].terms[0]: \"XYZ:1\" is not a CURIE or IRI of a known ontology (CL, CMPO, EFO, GO, NCBITaxon, PATO, UBERON); write e.g. CMPO:0000077 or declare the prefix under prefixes"),
        (##"[{"id": 1, "name": "a", "colour": "#000000", "colour_": 1}]"##, "",
         "s.json: classes[0].colour_: unknown key; allowed keys are id, name, description, colour, parent, terms, synonyms (prefix extensions with x-)"),
        (##"[{"id": 1, "name": "a", "colour": "#000000"}]"##, ##""mappings": [{"match": "exact", "value": "x", "class": "b"}],"##,
         "s.json: mappings[0].class: unknown class 'b'"),
        (##"[{"id": 1, "name": "a", "colour": "#000000"}, {"id": 2, "name": "b", "colour": "#000000"}]"##,
         ##""mappings": [{"match": "normalized", "value": "A ", "class": "b"}],"##,
         "s.json: mappings[0].value: \"a\" maps to 'b' here but already to 'a'; a value may reach one class only"),
        (##"[{"id": 1, "name": "a", "colour": "#000000"}]"##, ##""mappings": [{"match": "regex", "pattern": "(", "class": "a"}],"##,
         "s.json: mappings[0].pattern: \"(\" is not a valid regular expression"),
        (##"[{"id": 1, "name": "a", "colour": "#000000"}]"##, ##""unknown": {"policy": "map", "class": "zz"},"##,
         "s.json: unknown.class: unknown class 'zz'"),
    ])
    func errorsNameFileAndJSONPath(classes: String, extra: String, expected: String) {
        #expect {
            try Schema.parse(schemaJSON(classes: classes, extra: extra), file: "s.json")
        } throws: { error in
            (error as? LabelSchemaError)?.description == expected
        }
    }

    @Test func rejectsWrongFormatVersionAndBadJSON() {
        #expect(throws: LabelSchemaError(code: .invalidSchema, message: "\"1.0\" is not a semantic version MAJOR.MINOR.PATCH such as 1.0.0",
                                         file: "s.json", path: "version")) {
            try Schema.parse(Data(##"{"format": "trainset-label-schema/1", "name": "t", "version": "1.0", "kinds": ["box"], "classes": []}"##.utf8), file: "s.json")
        }
        #expect(throws: LabelSchemaError.self) { try Schema.parse(Data("{".utf8), file: "s.json") }
        #expect {
            try Schema.load(contentsOf: URL(fileURLWithPath: "/nonexistent/s.json"))
        } throws: { ($0 as? LabelSchemaError)?.code == .unreadableSchema }
    }

    @Test func termsReadCURIEsAndIRIsAlike() {
        let t = TermID(prefix: "CMPO", localID: "0000077")
        #expect(TermID.parse("CMPO:0000077") == t)
        #expect(TermID.parse("http://www.ebi.ac.uk/cmpo/CMPO_0000077") == t)
        #expect(TermID.parse("http://purl.obolibrary.org/obo/CMPO_0000077") == t)
        #expect(TermID.parse("http://purl.obolibrary.org/obo/GO_0005634") == TermID(prefix: "GO", localID: "0005634"))
        #expect(TermID.parse("CMPO_0000077") == nil)
        #expect(TermID.parse("FOO:1") == nil)
        #expect(t.iri() == "http://www.ebi.ac.uk/cmpo/CMPO_0000077")
    }

    @Test func semanticVersions() {
        #expect(SemanticVersion("1.10.0")! > SemanticVersion("1.9.3")!)
        #expect(SemanticVersion("01.0.0") == nil)
        #expect(SemanticVersion("1.0.0-rc1") == nil)
        #expect(SemanticVersion(1, 2, 3).bumped(.major) == SemanticVersion(2, 0, 0))
        #expect(SemanticVersion(1, 2, 3).bump(to: SemanticVersion(1, 3, 0)) == .minor)
    }
}

@Suite struct SchemaNormalizerTests {
    @Test func precedenceTermExactSynonymNormalizedRegexUnknown() throws {
        var n = LabelNormalizer(schema: try Schema.load(contentsOf: fixture("kept-v1.json")))
        let cl = { TermID(prefix: "CL", localID: $0) }
        // A term wins over the text, which names another class.
        #expect(n.normalize("platelet", term: cl("0000232"), at: "a:1") == 2)
        #expect(n.normalize("RBC ", at: "a:2") == 2)           // exact mapping
        #expect(n.normalize("leukocyte", at: "a:3") == 3)      // exact name
        #expect(n.normalize(" wbc", at: "a:4") == 3)           // synonym, normalized
        #expect(n.normalize("THROMBOCYTE", at: "a:5") == 4)    // normalized mapping
        #expect(n.normalize("Neutrophils", at: "a:6") == 3)    // regex
        #expect(n.normalize("x", term: cl("0000767"), at: "a:7") == 3)  // term mapping
        #expect(n.normalize("smudge", at: "a:8") == 5)         // unknown → other
        #expect(n.normalize("smudge", at: "a:9") == 5)
        #expect(n.normalize("  ", at: "a:10") == nil)
        let r = n.report
        let byValue = Dictionary(uniqueKeysWithValues: r.entries.map { ("\($0.value)|\($0.term ?? "")", $0) })
        #expect(byValue["platelet|CL:0000232"]?.rule == .term)
        #expect(byValue["RBC |"]?.rule == .exact)
        #expect(byValue[" wbc|"]?.rule == .synonym)
        #expect(byValue["THROMBOCYTE|"]?.rule == .normalized)
        #expect(byValue["Neutrophils|"]?.rule == .regex)
        #expect(byValue["smudge|"] == MappingReport.Entry(value: "smudge", classId: 5, className: "other", rule: .unknown,
                                                         count: 2, locations: ["a:8", "a:9"]))
        #expect(r.unmapped.map(\.value) == ["smudge"])
        #expect(r.emptyCount == 1)
    }

    @Test func regexMustMatchTheWholeValue() throws {
        var n = LabelNormalizer(schema: try Schema.load(contentsOf: fixture("kept-v1.json")))
        #expect(n.normalize("not a neutrophil", at: "a:1") == 5)
    }

    @Test func multiLabelIdsAreSortedAndUnique() throws {
        let schema = try Schema.load(contentsOf: fixture("kept-v1.json"))
        var n = LabelNormalizer(schema: schema)
        let ids = n.normalize([SourceLabel(value: "WBC"), SourceLabel(value: "RBC"), SourceLabel(value: "white blood cell"),
                               SourceLabel(value: "")], at: "t.csv:2")
        #expect(ids == [2, 3])
        #expect(n.report.entries.map(\.count) == [1, 1, 1])
        #expect(n.report.emptyCount == 1)
    }

    @Test func ignorePolicyAndErrorPolicy() throws {
        let data = schemaJSON(classes: ##"[{"id": 1, "name": "a", "colour": "#000000"}]"##, extra: ##""unknown": {"policy": "ignore"},"##)
        var n = LabelNormalizer(schema: try Schema.parse(data, file: "s.json"))
        #expect(n.normalize("b", at: "t:1") == nil)
        try n.report.check(unknown: .ignore)
        #expect(n.report.unmapped == [MappingReport.Entry(value: "b", classId: nil, className: nil, count: 1, locations: ["t:1"])])
        #expect(throws: LabelSchemaError.self) { try n.report.check(unknown: .error) }
    }
}

@Suite struct SchemaDiffTests {
    @Test func renamedClassNeedsAMajorBump() throws {
        let old = try Schema.load(contentsOf: fixture("kept-v1.json"))
        let new = try Schema.load(contentsOf: fixture("kept-v1-renamed.json"))
        let diff = SchemaDiff(old: old, new: new)
        #expect(diff.changes.map(\.description) == [
            "major: class renamed: 'erythrocyte' → 'red blood cell' (id 2)",
            "major: synonym removed: 'red blood cell': \"red blood cell\"",
            "patch: colour changed: 'leukocyte': #1F77B4 → #0000FF",
            "minor: class added: 'smudge cell' (id 6)",
            "major: mapping removed: exact \"RBC \" → 'erythrocyte'",
            "minor: mapping added: exact \"RBC \" → 'red blood cell'",
            "patch: description changed: schema",
        ])
        #expect(diff.requiredBump == .major)
        #expect(diff.minimumVersion == SemanticVersion(2, 0, 0))
        #expect(!diff.versionIsSufficient)
    }

    @Test func renameByTermWithNewIdAndBumpOrdering() throws {
        let base = try Schema.load(contentsOf: fixture("kept-v1.json"))
        var moved = base
        // Same term, new id and name: one class renamed and re-numbered, not removed + added.
        moved.classes[4] = SchemaClass(id: 40, name: "thrombocyte", colour: "#2CA02C", parent: "blood cell",
                                       terms: [TermID(prefix: "CL", localID: "0000233")], synonyms: ["Platelets"])
        moved.mappings = base.mappings.map { m in
            m.className == "platelet" ? SourceMapping(.normalized("thrombo"), className: "thrombocyte") : m
        }
        let kinds = SchemaDiff(old: base, new: moved).changes.map(\.kind)
        #expect(kinds.prefix(2) == [.classRenamed, .classIdChanged])
        #expect(!kinds.contains(.classRemoved) && !kinds.contains(.classAdded))

        var recoloured = base
        recoloured.classes[0].colour = "#010101"
        recoloured.version = SemanticVersion(1, 2, 1)
        let patch = SchemaDiff(old: base, new: recoloured)
        #expect(patch.requiredBump == .patch && patch.versionIsSufficient)

        var grown = base
        grown.classes.append(SchemaClass(id: 9, name: "schistocyte", colour: "#123456"))
        #expect(SchemaDiff(old: base, new: grown).requiredBump == .minor)
        #expect(SchemaDiff(old: base, new: base).requiredBump == VersionBump.none)
    }
}

@Suite struct SchemaDraftTests {
    @Test func draftGroupsByTermAndNamesByMostFrequentValue() throws {
        let go = { TermID(prefix: "GO", localID: $0) }
        let draft = SchemaDraft.build(name: "draft", kinds: [.multiLabelImageClass], observations: [
            .init(SourceLabel(value: "nuclear", term: go("0005634")), count: 3),
            .init(SourceLabel(value: "nucleus", term: go("0005634")), count: 7),
            .init(SourceLabel(value: "Mito"), count: 2),
            .init(SourceLabel(value: "mito "), count: 5),
            .init(SourceLabel(value: "   "), count: 4),
        ])
        #expect(draft.classes == [
            SchemaClass(id: 1, name: "mito", colour: "#1F77B4"),
            SchemaClass(id: 2, name: "nucleus", colour: "#FF7F0E", terms: [go("0005634")], synonyms: ["nuclear"]),
        ])
        #expect(draft.version == SemanticVersion(0, 1, 0))
        // The draft is a valid schema file and maps every observed value.
        let reloaded = try Schema.parse(Data(draft.jsonText.utf8), file: "draft.json")
        #expect(reloaded == draft)
        var n = LabelNormalizer(schema: reloaded)
        #expect(n.normalize("Mito", at: "x") == 1)
        #expect(n.normalize("nuclear", term: go("0005634"), at: "x") == 2)
    }
}

import AVDB
import Foundation
import Testing

@Suite("IDR study files")
struct StudyFileTests {
    static let sample = [
        "\"# Section with generic information, quoted because it holds a comma\"\t\t",
        "# Study\t\t\t",
        "Comment[IDR Study Accession]\tidr9999\t\t",
        "Study Title\tA title\t\t",
        "Study PubMed ID\t111\t\t333\t\t",
        "Study License\tCC BY 4.0\t",
        "\t\t\t",
        "Term Source Name\tNCBITaxon\tCMPO\tFBbi\t\t",
        "Term Source URI\thttp://purl.obolibrary.org/obo/\thttp://www.ebi.ac.uk/cmpo/\thttp://purl.obolibrary.org/obo/\t\t",
        "Screen Number\t1",
        "Screen Number\t2",
        "Protocol Description\t\"multi",
        "line, with \"\"quotes\"\"\"\t",
        "",
    ].joined(separator: "\n")

    @Test func entriesCommentsAndPositions() throws {
        let study = try IDRStudy(text: Self.sample, file: "idr9999-study.txt")
        #expect(study.entries.map(\.key) == [
            "Comment[IDR Study Accession]", "Study Title", "Study PubMed ID", "Study License",
            "Term Source Name", "Term Source URI", "Screen Number", "Screen Number", "Protocol Description",
        ])
        #expect(study.accession == "idr9999")
        #expect(study.title == "A title")
        // Inner empty values are kept (positional), trailing ones dropped.
        #expect(study.values(for: "Study PubMed ID") == ["111", "", "333"])
        #expect(study.pubMedIDs == ["111", "333"])
        #expect(study.entries(for: "Screen Number").map(\.values) == [["1"], ["2"]])
        #expect(study.entries(for: "Screen Number").map(\.line) == [10, 11])
        #expect(study.value(for: "Protocol Description") == "multi\nline, with \"quotes\"")
        #expect(study.license == "CC BY 4.0")
        #expect(study.licenseURL == nil)
        #expect(study.value(for: "No Such Key") == nil)
    }

    @Test func termSourcesToCURIEAndIRI() throws {
        let sources = try IDRStudy(text: Self.sample, file: "idr9999-study.txt").termSources
        #expect(sources.sources.map(\.name) == ["NCBITaxon", "CMPO", "FBbi"])
        #expect(sources.uriByPrefix["CMPO"] == "http://www.ebi.ac.uk/cmpo/")

        let cmpo = try sources.term(forAccession: "CMPO_0000077")
        #expect(cmpo.prefix == "CMPO")
        #expect(cmpo.localID == "0000077")
        #expect(cmpo.curie == "CMPO:0000077")
        #expect(cmpo.iri == "http://www.ebi.ac.uk/cmpo/CMPO_0000077")
        // A CURIE resolves to the same term.
        #expect(try sources.term(forAccession: "CMPO:0000077") == cmpo)
        // IDR spells FBbi both ways; the declared source still resolves.
        #expect(try sources.term(forAccession: "Fbbi_00000246").iri == "http://purl.obolibrary.org/obo/Fbbi_00000246")
        #expect(try sources.term(forAccession: "NCBITaxon_9606").curie == "NCBITaxon:9606")
    }

    @Test(arguments: ["", "CMPO", "CMPO_", "_0000077", "CMPO 0000077", "not an id"])
    func invalidAccessions(accession: String) throws {
        let sources = try IDRStudy(text: Self.sample, file: "idr9999-study.txt").termSources
        let error = #expect(throws: AVDBError.self) { try sources.term(forAccession: accession) }
        #expect(error?.code == .invalidAccession)
    }

    @Test func undeclaredPrefix() throws {
        let sources = try IDRStudy(text: Self.sample, file: "idr9999-study.txt").termSources
        let error = #expect(throws: AVDBError.self) { try sources.term(forAccession: "PATO_0000384") }
        #expect(error?.code == .unknownTermSource)
        #expect(error?.description
            == "idr9999-study.txt: accession \"PATO_0000384\" uses prefix \"PATO\", which is not a declared Term Source Name (declared: NCBITaxon, CMPO, FBbi); add it to Term Source Name/URI")
    }
}

@Suite("Real IDR study files", .enabled(if: SharedData.available, "needs ../shared/data"))
struct RealStudyFileTests {
    struct Expected: Sendable, CustomStringConvertible {
        let file: String
        let accession: String
        let title: String
        let license: String
        let licenseURL: String
        let releaseDate: String
        let pubMedIDs: [String]
        let firstDOI: String
        let termSources: [String]
        var description: String { accession }
    }

    static let studies = [
        Expected(file: "idr0025-stadler-proteinatlas/idr0025-study.txt", accession: "idr0025",
                 title: "Systematic validation of antibody binding and protein subcellular localization using siRNA and confocal microscopy.",
                 license: "CC BY-SA 3.0", licenseURL: "https://creativecommons.org/licenses/by-sa/3.0/",
                 releaseDate: "2017-03-16", pubMedIDs: ["22361696"],
                 firstDOI: "https://doi.org/10.1016/j.jprot.2012.01.030",
                 termSources: ["NCBITaxon", "EFO", "CMPO", "FBbi"]),
        Expected(file: "idr0026-weigelin-immunotherapy/idr0026-study.txt", accession: "idr0026",
                 title: "Focusing and sustaining the antitumor CTL effector killer response by agonist anti-CD137 mAb",
                 license: "CC BY 4.0", licenseURL: "https://creativecommons.org/licenses/by/4.0/",
                 releaseDate: "2017-04-17", pubMedIDs: ["26034288"],
                 firstDOI: "https://doi.org/10.1073/pnas.1506357112",
                 termSources: ["NCBITaxon", "EFO", "CMPO", "Fbbi", "MP", "OMIT"]),
        Expected(file: "idr0035-caie-drugresponse/idr0035-study.txt", accession: "idr0035",
                 title: "High-Content Phenotypic Profiling of Drug Response Signatures across Distinct Cancer Cells",
                 license: "CC BY 4.0", licenseURL: "https://creativecommons.org/licenses/by/4.0/",
                 releaseDate: "2018-02-12", pubMedIDs: ["20530715", "24045582", "25228240", "28858338"],
                 firstDOI: "http://dx.doi.org/10.1158/1535-7163.MCT-09-1148",
                 termSources: ["NCBITaxon", "EFO", "CMPO", "FBbi"]),
        Expected(file: "idr0038-held-kidneylightsheet/idr0038-study.txt", accession: "idr0038",
                 title: "Ex vivo live cell tracking in kidney organoids using light sheet fluorescence microscopy",
                 license: "CC BY 4.0", licenseURL: "https://creativecommons.org/licenses/by/4.0/",
                 releaseDate: "2017-12-04", pubMedIDs: ["30048451"],
                 firstDOI: "https://doi.org/10.1371/journal.pone.0199918",
                 termSources: ["NCBITaxon", "EFO", "CMPO", "FBbi", "OMIT"]),
    ]

    @Test(arguments: studies)
    func studyFields(expected: Expected) throws {
        let study = try IDRStudy(contentsOf: SharedData.idr(expected.file))
        #expect(study.accession == expected.accession)
        #expect(study.title == expected.title)
        #expect(study.license == expected.license)
        #expect(study.licenseURL == expected.licenseURL)
        #expect(study.publicReleaseDate == expected.releaseDate)
        #expect(study.pubMedIDs == expected.pubMedIDs)
        #expect(study.publicationDOIs.first == expected.firstDOI)
        #expect(study.termSources.sources.map(\.name) == expected.termSources)
        #expect(study.termSources.uri(forPrefix: "CMPO") == "http://www.ebi.ac.uk/cmpo/")
        #expect(study.termSources.uri(forPrefix: "EFO") == "http://www.ebi.ac.uk/efo/")
        #expect(study.studyDescription?.isEmpty == false)
        #expect(try study.termSources.term(forAccession: "CMPO_0000077").iri == "http://www.ebi.ac.uk/cmpo/CMPO_0000077")
    }

    @Test func idr0035Details() throws {
        let study = try IDRStudy(contentsOf: SharedData.idr("idr0035-caie-drugresponse/idr0035-study.txt"))
        #expect(study.publicationDOIs.count == 6)
        #expect(study.values(for: "Study PubMed ID") == ["20530715", "24045582", "25228240", "", "", "28858338"])
        #expect(study.copyright == "The images and ground truth are copyright AstraZeneca Pharmaceuticals.")
        #expect(study.dataDOI == nil)
        #expect(study.value(for: "Screen Imaging Method Term Accession") == "FBbi_00000246")
        #expect(try study.termSources.term(forAccession: "EFO_0001203").iri == "http://www.ebi.ac.uk/efo/EFO_0001203")
        #expect(try study.termSources.term(forAccession: "NCBITaxon_9606").iri == "http://purl.obolibrary.org/obo/NCBITaxon_9606")
    }

    @Test func idr0038QuotedLinesAndRepeatedSections() throws {
        let study = try IDRStudy(contentsOf: SharedData.idr("idr0038-held-kidneylightsheet/idr0038-study.txt"))
        #expect(study.dataDOI == "https://dx.doi.org/10.17867/10000110")
        #expect(study.entries(for: "Experiment Data Publisher").map(\.line) == [50, 105, 161])
        #expect(study.value(for: "Study Person Address")
            == "Department of Biochemistry, Institute of Integrative Biology, University of Liverpool, L69 7ZB, United Kingdom")
        // The stray line `"experimental condition …"""` reads, as in Python, as a key ending in a quote.
        #expect(study.entries(for: "experimental condition and gene, phenotype, image, protein\"").count == 2)
    }
}

import Crypto
import Foundation
import Testing
@testable import SampleLinking

@Suite("Privacy policy")
struct PrivacyTests {
    static let patients = """
    sample_id,patient_name,sex,age,diagnosis_date,postcode
    S1,Jane Doe,female,34,2015-03-02,CB2 1TN
    S2,John Smith,male,67,2016-11-20,CB4 3AA
    S3,Ada Lovelace,female,91,2014-07-01,OX1 2JD
    S4,Alan Turing,male,41,2019-01-15,CB2 8PQ
    """

    @Test func undeclaredPatientNameIsRefusedNamingTheColumn() {
        let config = SamplesConfig(table: "patients.csv", keys: ["sample_id"])
        let error = linkingError { _ = try linkCSV(Self.patients, config: config) }
        #expect(error?.code == .undeclaredIdentifier)
        #expect(error?.column == "patient_name")
        #expect(error?.description.contains("column \"patient_name\"") == true)
        #expect(error?.description.contains("a person's name") == true)
    }

    @Test func droppedPatientNameIsAbsentButListed() throws {
        let config = SamplesConfig(table: "patients.csv", keys: ["sample_id"], privacy: PrivacyConfig(columns: [
            ColumnPolicy(column: "patient_name", treatment: .drop),
            ColumnPolicy(column: "postcode", treatment: .drop),
        ]))
        let result = try linkCSV(Self.patients, config: config)
        #expect(result.samples.columns.map(\.name) == ["sample_id", "sex", "age", "diagnosis_date"])
        let entry = try #require(result.manifest.columns.first { $0.name == "patient_name" })
        #expect(entry.treatment == .drop && !entry.released && entry.identifierWarning != nil)
        #expect(result.manifest.columns.map(\.name) == ["sample_id", "patient_name", "sex", "age", "diagnosis_date", "postcode"])
        let json = try canonicalJSON(result.samples)
        for name in ["Jane Doe", "John Smith", "Ada Lovelace", "Alan Turing"] { #expect(!json.contains(name)) }
    }

    @Test func keepingAnIdentifierNeedsAReason() throws {
        var policy = ColumnPolicy(column: "patient_name", treatment: .keep)
        let config = { (p: ColumnPolicy) in
            SamplesConfig(table: "p.csv", keys: ["sample_id"], columns: ["sample_id", "patient_name"], privacy: PrivacyConfig(columns: [p]))
        }
        #expect(linkingError { _ = try linkCSV(Self.patients, config: config(policy)) }?.code == .undeclaredIdentifier)
        policy.reason = "synthetic names, consented for release"
        let result = try linkCSV(Self.patients, config: config(policy))
        #expect(result.column("patient_name")?.text(at: 0) == "Jane Doe")
        #expect(result.manifest.columns.first { $0.name == "patient_name" }?.reason == "synthetic names, consented for release")
    }

    @Test(arguments: [
        (["email"], ["a@b.org"]), (["contact"], ["jane.doe@example.org", "x@y.co.uk"]),
        (["tel"], ["+44 1223 555 0100", "(617) 555-0199"]), (["ref"], ["MRN 004211", "MRN-77812"]),
        (["x"], ["123-45-6789"]), (["home"], ["12 Mill Road, Cambridge", "3 Baker Street"]),
        (["Date of Birth"], ["1960-01-01"]), (["reviewer"], ["Jane Doe", "John Smith", "Ada Lovelace", "Jane Doe"]), (["DOB"], ["x"]), (["Name"], ["x"]), (["zip"], ["02139"]),
    ])
    func identifiersAreDetected(name: [String], values: [String]) {
        let byName = IdentifierDetector.reason(forName: name[0])
        let byValue = IdentifierDetector.reason(forValues: values)
        #expect(byName != nil || byValue != nil)
    }

    @Test(arguments: [("Characteristics [Individual]", ["mouse 50", "mouse 51"]), ("Compound Name", ["Taxol", "DMSO"]),
                      ("Dose", ["0.3", "1.0"]), ("Plate", ["Week1_22123"]), ("Strain", ["C57BL/6J"]),
                      ("Adobe version", ["2017-04-17", "20170417"]), ("Count", ["1234567890"])])
    func ordinaryColumnsAreNotFlagged(name: String, values: [String]) {
        #expect(IdentifierDetector.reason(forName: name) == nil)
        #expect(IdentifierDetector.reason(forValues: values) == nil)
    }

    @Test func generalizations() throws {
        let config = SamplesConfig(table: "patients.csv", keys: ["sample_id"], privacy: PrivacyConfig(columns: [
            ColumnPolicy(column: "patient_name", treatment: .drop),
            ColumnPolicy(column: "age", treatment: .generalize, generalize: .init(kind: .ageBand, width: 10, topCode: 90)),
            ColumnPolicy(column: "diagnosis_date", treatment: .generalize, generalize: .init(kind: .yearOnly)),
            ColumnPolicy(column: "postcode", treatment: .generalize, generalize: .init(kind: .postcodePrefix, characters: 3)),
        ]))
        let result = try linkCSV(Self.patients, config: config)
        #expect((0..<4).map { result.column("age")?.text(at: $0) } == ["30-39", "60-69", "90+", "40-49"])
        let year = try #require(result.column("diagnosis_date"))
        #expect(year.type == .integer && year.ints == [2015, 2016, 2014, 2019])
        #expect((0..<4).map { result.column("postcode")?.text(at: $0) } == ["CB2", "CB4", "OX1", "CB2"])
        #expect(result.manifest.columns.first { $0.name == "age" }?.rule == "age_band(width=10,top_code=90)")
    }

    @Test(arguments: [(0.0, "0-4"), (4, "0-4"), (5, "5-9"), (64, "60-64"), (89.9, "85-89"), (90, "90+"), (103, "90+")])
    func ageBandsOfWidthFive(value: Double, label: String) {
        #expect(Generalizer.band(low: value, high: value, width: 5, top: 90) == label)
    }

    @Test func rangesSpanningBandsGetTheUnion() {
        #expect(Generalizer.band(low: 8, high: 14, width: 5, top: 90) == "5-14")
        #expect(Generalizer.band(low: 85, high: 95, width: 5, top: 90) == "85+")
    }

    @Test func generalizingTextAsAgeBandIsRefused() {
        let config = SamplesConfig(table: "p.csv", keys: ["sample_id"], columns: ["sample_id", "sex"], privacy: PrivacyConfig(columns: [
            ColumnPolicy(column: "sex", treatment: .generalize, generalize: .init(kind: .ageBand))]))
        let error = linkingError { _ = try linkCSV(Self.patients, config: config) }
        #expect(error?.code == .invalidTreatment && error?.column == "sex")
    }

    static let key1 = "0123456789abcdef-first-key"
    static let key2 = "fedcba9876543210-other-key"

    func pseudonymized(key: String) throws -> SampleLinkResult {
        let config = SamplesConfig(table: "patients.csv", keys: ["sample_id"], privacy: PrivacyConfig(
            columns: [ColumnPolicy(column: "patient_name", treatment: .pseudonymize), ColumnPolicy(column: "postcode", treatment: .drop)],
            pseudonymKey: PseudonymKeySource(environment: "TRAINSET_TEST_KEY")))
        return try linkCSV(Self.patients, config: config, environment: ["TRAINSET_TEST_KEY": key])
    }

    @Test func pseudonymsAreStablePerKeyAndDifferAcrossKeys() throws {
        let a = try pseudonymized(key: Self.key1), b = try pseudonymized(key: Self.key1), c = try pseudonymized(key: Self.key2)
        let pa = try #require(a.column("patient_name")?.strings), pc = try #require(c.column("patient_name")?.strings)
        #expect(pa == b.column("patient_name")?.strings)
        #expect(Set(pa).count == 4 && zip(pa, pc).allSatisfy { $0 != $1 })
        // Independent recomputation of the definition in specs/samples/v1.md.
        let mac = HMAC<SHA256>.authenticationCode(for: Array("trainset/pseudonym/v1".utf8) + [0] + Array("Jane Doe".utf8),
                                                  using: SymmetricKey(data: Array(Self.key1.utf8)))
        #expect(pa[0] == "pid_" + mac.map { String(format: "%02x", $0) }.joined().prefix(32))
        #expect(a.manifest.pseudonymKeyFingerprint == b.manifest.pseudonymKeyFingerprint)
        #expect(a.manifest.pseudonymKeyFingerprint != c.manifest.pseudonymKeyFingerprint)
        #expect(a.manifest.pseudonymKeyFingerprint?.count == 16)
    }

    /// The worked example of specs/samples/v1.md §6, computed with Python's hmac and hashlib.
    @Test func specWorkedExample() {
        let p = Pseudonymizer(key: Array(Self.key1.utf8))
        #expect(p.pseudonym("Jane Doe") == "pid_6cee1bbf9ab2dba61e61953c2fb14494")
        #expect(p.keyFingerprint == "3e4586d142e6a412")
    }

    @Test func noPlainHashOfAnIdentifierAppearsAnywhere() throws {
        let json = try canonicalJSON(try pseudonymized(key: Self.key1))
        for value in ["Jane Doe", "John Smith", "Ada Lovelace", "Alan Turing", "S1", "S2", Self.key1] {
            let digest = SHA256.hash(data: Array(value.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(!json.contains(digest.prefix(16)), "plain SHA-256 of \(value) in output")
        }
        #expect(!json.contains("Jane Doe") && !json.contains(Self.key1))
        let keyDigest = SHA256.hash(data: Array(Self.key1.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(!json.contains(keyDigest.prefix(16)), "the fingerprint must be domain-separated, not the key's plain hash")
    }

    @Test func keyFromFileAndKeyErrors() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("key", Self.key1 + "\n")
        #expect(try PseudonymKeySource(file: file.path).loadKey(environment: [:]) == Array(Self.key1.utf8))
        let p = Pseudonymizer(key: Array(Self.key1.utf8))
        #expect(p.pseudonym("x") == p.pseudonym(" x ") && p.pseudonym("x") != p.pseudonym("X"))
        let short = try dir.write("short", "tooshort")
        #expect(linkingError { _ = try PseudonymKeySource(file: short.path).loadKey(environment: [:]) }?.code == .pseudonymKeyUnavailable)
        #expect(linkingError { _ = try PseudonymKeySource(environment: "NOPE").loadKey(environment: [:]) }?.code == .pseudonymKeyUnavailable)
        #expect(linkingError { _ = try PseudonymKeySource().loadKey(environment: [:]) }?.code == .pseudonymKeyUnavailable)
    }

    @Test func kAnonymityReportAndMinimum() throws {
        let policy: [ColumnPolicy] = [
            ColumnPolicy(column: "patient_name", treatment: .drop), ColumnPolicy(column: "postcode", treatment: .drop),
            ColumnPolicy(column: "age", treatment: .generalize, generalize: .init(kind: .ageBand, width: 50, topCode: 90)),
        ]
        var config = SamplesConfig(table: "patients.csv", keys: ["sample_id"],
                                   privacy: PrivacyConfig(columns: policy, quasiIdentifiers: ["sex", "age"]))
        let report = try #require(try linkCSV(Self.patients, config: config).manifest.kAnonymity)
        // (female, 0-49) ×1, (female, 90+) ×1, (male, 0-49) ×1, (male, 50-89) ×1 → k = 1.
        #expect(report.k == 1 && report.classCount == 4)
        #expect(report.smallestClasses.first?.values == ["female", "0-49"])
        config.privacy?.minimumK = 2
        let error = linkingError { _ = try linkCSV(Self.patients, config: config) }
        #expect(error?.code == .kAnonymityViolated)
        #expect(error?.message.contains("(female, 0-49) × 1") == true)
        config.privacy?.quasiIdentifiers = ["sex"]
        #expect(try linkCSV(Self.patients, config: config).manifest.kAnonymity?.k == 2)
    }
}

import Foundation
import ImageFormats
import Raster
import Testing

/// Damaged, hostile and unsupported files throw an `ImageError` naming the file; nothing crashes,
/// nothing is printed.
@Suite(.serialized) struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var code: ImageError.Code
        var mentions: String
        var testDescription: String { file }
    }

    static let cases = [
        Case(file: "bad_truncated.tif", code: .corrupt, mentions: "TIFF"),
        Case(file: "bad_corrupt_lzw.tif", code: .corrupt, mentions: "strip"),
        Case(file: "bad_huge_dimensions.tif", code: .tooLarge, mentions: "100000x100000"),
        Case(file: "bad_int16.tif", code: .unsupported, mentions: "16-bit signed integer"),
        Case(file: "bad_float64.tif", code: .unsupported, mentions: "64-bit floating point"),
        Case(file: "bad_bilevel.tif", code: .unsupported, mentions: "1-bit unsigned integer"),
        Case(file: "bad_jpeg2000.tif", code: .unsupported, mentions: "jpeg2000"),
        Case(file: "bad_label_only.tif", code: .unsupported, mentions: "page 0 is a label image"),
        Case(file: "bad_truncated.png", code: .corrupt, mentions: "PNG"),
        Case(file: "bad_huge_dimensions.png", code: .tooLarge, mentions: "100000x100000"),
        Case(file: "bad_huge_dimensions.jpg", code: .tooLarge, mentions: "60000x60000"),
        Case(file: "bad_truncated.jpg", code: .corrupt, mentions: "JPEG"),
        Case(file: "bad_cmyk.jpg", code: .unsupported, mentions: "CMYK"),
        Case(file: "bad_random.bin", code: .unsupported, mentions: "not a TIFF, PNG or JPEG"),
        Case(file: "does_not_exist.tif", code: .notFound, mentions: "no such file"),
    ]

    @Test(arguments: cases)
    func throwsTheRightError(_ c: Case) {
        let url = Paths.fixture(c.file)
        let error = #expect(throws: ImageError.self) { try ImageReader.read(url) }
        #expect(error?.code == c.code)
        #expect(error?.file == url.path)
        #expect(error?.description.hasPrefix(url.path + ": ") == true)
        #expect(error?.description.contains(c.mentions) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("\n") == false)
    }

    @Test func hugeDeclaredSizeIsReportedButNotAllocated() throws {
        let url = Paths.fixture("bad_huge_dimensions.tif")
        let info = try ImageReader.info(url)
        #expect(info.width == 100000 && info.height == 100000)
        let error = #expect(throws: ImageError.self) { try ImageReader.read(url, options: ReadOptions(maxPixels: 1 << 31)) }
        #expect(error?.code == .tooLarge)
    }

    @Test(arguments: ["u16_gray.tif", "rgb8.png", "rgb420.jpg"])
    func maxPixelsRefusesLargerImages(_ name: String) {
        let error = #expect(throws: ImageError.self) { try ImageReader.read(Paths.fixture(name), options: ReadOptions(maxPixels: 100)) }
        #expect(error?.code == .tooLarge)
    }

    /// Library diagnostics go into the thrown errors, not to stderr.
    @Test func nothingIsPrinted() throws {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("imageformats-stderr-\(getpid()).txt")
        let fd = open(capture.path, O_CREAT | O_TRUNC | O_WRONLY, 0o600)
        try #require(fd >= 0)
        let saved = dup(STDERR_FILENO)
        fflush(nil)
        dup2(fd, STDERR_FILENO)
        for c in Self.cases {
            _ = try? ImageReader.info(Paths.fixture(c.file))
            _ = try? ImageReader.read(Paths.fixture(c.file))
        }
        fflush(nil)
        dup2(saved, STDERR_FILENO)
        close(saved)
        close(fd)
        let printed = (try? String(contentsOf: capture, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: capture)
        // Other suites may run concurrently, so only look for what these readers could print.
        for marker in ["TIFF", "libpng", "JPEG", "bad_"] {
            #expect(!printed.contains(marker), "stderr: \(printed)")
        }
    }
}

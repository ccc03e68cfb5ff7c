import Foundation
import HDF5
import Raster

/// The outcome of validating a bundle.
public struct ValidationReport: Sendable {
    /// Every problem found, each naming the dataset, group or attribute it concerns.
    public var problems: [String]
    /// What was checked, in order, for printing.
    public var checks: [String]
    /// The content hash recomputed from the data, or nil when some data could not be read.
    public var contentHash: String?
    /// SHA-256 (hex) of the file's bytes, when the check read all of them
    /// (`BundleValidator.validateWritten`).
    public var fileSHA256: String?

    /// A report; validators build it, tests may too.
    public init(problems: [String] = [], checks: [String] = [], contentHash: String? = nil) {
        self.problems = problems
        self.checks = checks
        self.contentHash = contentHash
    }

    /// True when no problem was found.
    public var isValid: Bool { problems.isEmpty }
}

/// Checks a bundle against specs/bundle-format/v1.md and against its own manifest.
public enum BundleValidator {
    /// Validates the bundle at `url`. Never throws: every failure, including an unreadable
    /// file or a corrupted chunk, becomes a problem in the report.
    public static func validate(_ url: URL) -> ValidationReport {
        var v = Validation(path: url.path)
        v.run()
        return v.report
    }

    /// Validates a bundle this process has just written with a `BundleWriter`, reading its
    /// stored bytes rather than decoding them: the structure, metadata, tables and manifest as
    /// `validate` does;
    /// images and masks by their chunks (each present, every filter applied, Fletcher-32
    /// verified from the stored bytes) and by decoding the writer's `spotChecks` through
    /// HDF5's own filters, trusting the image and mask digests the writer streamed from the
    /// samples it compressed instead of inflating every tile again. Sets `fileSHA256`.
    ///
    /// `validate` remains the full check, for files of unknown origin.
    public static func validateWritten(_ url: URL, spotChecks: [SpotCheck]) -> ValidationReport {
        var v = Validation(path: url.path, spotChecks: spotChecks)
        v.run()
        return v.report
    }
}

import BundleFormat
import Foundation

/// Publishing a finished bundle, shared by exports and merges: built under a hidden temporary
/// name in the target directory, validated, sidecars first, the bundle renamed into place last.
extension Exporter {
    /// Prepares the output directory and returns a fresh temporary name for a bundle that will be
    /// published as `final`: a hidden name in the same directory, so the final rename stays on one
    /// file system and an interrupted run never leaves a file that looks like a bundle. Removes the
    /// temporaries of killed runs; refuses an existing `final` unless `overwrite`.
    static func temporaryName(for final: URL, overwrite: Bool) throws(ExportError) -> URL {
        let fm = FileManager.default
        let directory = final.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ExportError(.output, FileSystem.display(directory), "cannot create the output directory: \(error.localizedDescription)")
        }
        StaleTemporaries.remove(forBundle: final.lastPathComponent, in: directory)
        if fm.fileExists(atPath: final.path) && !overwrite {
            throw ExportError(.output, FileSystem.display(final), "already exists; pass --overwrite to replace it")
        }
        return directory.appendingPathComponent(
            ".\(final.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Validates the bundle at `temporary`, writes its sidecars (manifest, tiles CSV, Croissant,
    /// datasheet) and renames everything into place, the bundle last, so a bundle under its final
    /// name always has complete sidecars. Nothing is left under a final name on failure.
    /// `spotChecks`, from the writer of this very file, selects the one-read check of
    /// `BundleValidator.validateWritten`; without, the full check.
    static func publish(_ temporary: URL, as final: URL, manifest: Manifest, spotChecks: [SpotCheck]? = nil)
        throws(ExportError) -> ExportResult {
        let fm = FileManager.default
        let directory = final.deletingLastPathComponent()
        let report = spotChecks.map { BundleValidator.validateWritten(temporary, spotChecks: $0) } ?? BundleValidator.validate(temporary)
        guard report.isValid else {
            throw ExportError(.output, FileSystem.display(final),
                              "the written bundle failed validation and was not published: \(report.problems.joined(separator: "; "))")
        }
        let sidecarTemporary = URL(fileURLWithPath: temporary.path + ".manifest.json")
        var staged: [(temporary: URL, final: URL)] = [(sidecarTemporary, sidecarURL(for: final))]
        defer { for file in staged { try? fm.removeItem(at: file.temporary) } }
        do {
            try manifest.jsonData().write(to: sidecarTemporary)
        } catch {
            throw ExportError(.output, FileSystem.display(sidecarTemporary), "cannot write the sidecar manifest: \(error.localizedDescription)")
        }
        let publication: PublicationFiles
        do {
            publication = try PublicationFiles.make(bundle: temporary, publishedName: final.lastPathComponent, today: Self.today(),
                                                    bundleSHA256: report.fileSHA256)
        } catch {
            throw ExportError(.output, FileSystem.display(final), "cannot derive the Croissant metadata and datasheet: \(error)")
        }
        let names = PublicationFiles.names(forBundle: final.lastPathComponent)
        let extras: [(name: String, data: Data)] = [
            (names.tiles, publication.tilesCSV), (names.croissant, publication.croissant),
            (names.datasheet, Data(publication.datasheet.utf8)),
        ]
        for extra in extras {
            let url = URL(fileURLWithPath: temporary.path + "." + extra.name)
            do {
                try extra.data.write(to: url)
            } catch {
                throw ExportError(.output, FileSystem.display(directory), "cannot write \(extra.name): \(error.localizedDescription)")
            }
            staged.append((url, directory.appendingPathComponent(extra.name)))
        }
        for file in staged { try rename(file.temporary, as: file.final) }
        try rename(temporary, as: final)
        return ExportResult(bundle: final, sidecar: sidecarURL(for: final), manifest: manifest)
    }

    /// rename(2): atomic, and replaces an existing file in one step when --overwrite was given.
    private static func rename(_ temporary: URL, as final: URL) throws(ExportError) {
        guard Foundation.rename(temporary.path, final.path) == 0 else {
            throw ExportError(.output, FileSystem.display(final), "cannot move the finished file into place: \(String(cString: strerror(errno)))")
        }
    }
}

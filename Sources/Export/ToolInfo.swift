import BundleFormat
import Foundation
import HDF5
import ImageFormats
import Tiling

/// The identity of this build of trainset, recorded in every manifest.
public enum ToolInfo {
    /// trainset's own version (semantic; bumped on release).
    public static let version = "0.1.0"

    /// The git commit of the source tree this binary was built from, with `-dirty` when the tree
    /// had uncommitted changes, or `unknown` when the tree is not available.
    ///
    /// SwiftPM offers no portable way to stamp a commit into a build, so the tree is located
    /// through this file's compile-time path and asked at run time. A binary moved away from its
    /// sources reports `unknown` rather than guessing.
    public static let gitCommit: String = {
        let tree = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        guard let head = git(["rev-parse", "HEAD"], in: tree), head.count == 40 else { return "unknown" }
        let status = git(["status", "--porcelain", "--untracked-files=no"], in: tree) ?? ""
        return status.isEmpty ? head : head + "-dirty"
    }()

    /// Versions of the C libraries that decode, compute and write, as the libraries report them.
    public static var libraries: [Manifest.Library] {
        var out = [Manifest.Library(name: "hdf5", version: HDF5Library.version)]
        out += ImageReader.libraryVersions.map { Manifest.Library(name: $0.name, version: $0.version) }
        out.append(Manifest.Library(name: "openblas", version: BLAS.version))
        return out
    }

    public static var tool: Manifest.Tool { Manifest.Tool(name: "trainset", version: version, gitCommit: gitCommit) }

    private static func git(_ arguments: [String], in directory: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

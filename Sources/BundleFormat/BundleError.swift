import Foundation
import HDF5

/// A failure writing or reading a bundle.
///
/// `description` is one line that starts with the file path, then the HDF5 object involved,
/// then what went wrong (and, for library failures, the deepest HDF5 cause).
public struct BundleError: Error, Sendable, CustomStringConvertible {
    /// Stable failure categories.
    public enum Code: String, Sendable, Equatable {
        /// The file could not be created, opened, written or closed.
        case io
        /// The file is not a bundle of a supported version, or its layout is broken.
        case format
        /// A tile, mask or table does not match the bundle's spec (shape, type, presence).
        case shape
        /// Calls out of order: too many tiles, finishing early, writing a table twice.
        case state
        /// The manifest could not be encoded or decoded.
        case manifest
    }

    /// The failure category.
    public var code: Code
    /// What went wrong and, where possible, what to do about it.
    public var message: String
    /// The HDF5 object (dataset, group or `object@attribute`) involved, if any.
    public var path: String?
    /// The bundle file, if known.
    public var file: String?
    /// The captured HDF5 error stack when the library failed (outermost call first).
    public var hdf5Stack: [String]

    /// An error with explicit context.
    public init(code: Code, message: String, path: String? = nil, file: String? = nil, hdf5Stack: [String] = []) {
        self.code = code
        self.message = message
        self.path = path
        self.file = file
        self.hdf5Stack = hdf5Stack
    }

    /// Wraps a library failure, keeping its object, file and stack.
    init(_ error: HDF5Error, code: Code = .io, file: String? = nil) {
        let mapped: Code = switch error.code {
        case .notHDF5, .typeMismatch: .format
        case .notFound: error.objectPath == nil ? .io : .format
        case .shapeMismatch: .shape
        default: code
        }
        self.init(code: mapped, message: error.message, path: error.objectPath, file: error.file ?? file,
                  hdf5Stack: error.stack)
    }

    /// One line: `<file>: <object>: <message> [HDF5: <deepest cause>]`.
    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let path { parts.append(path) }
        parts.append(message)
        var line = parts.joined(separator: ": ")
        if let cause = hdf5Stack.last { line += " [HDF5: \(cause)]" }
        return line
    }
}

/// Runs an HDF5 operation, turning its error into a `BundleError`.
@inline(__always)
func bundleIO<R: ~Copyable>(_ file: String, _ body: () throws(HDF5Error) -> R) throws(BundleError) -> R {
    do {
        return try body()
    } catch {
        throw BundleError(error, file: file)
    }
}

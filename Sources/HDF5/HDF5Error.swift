internal import CHDF5
import CrashIsolation

/// A failure reported by the HDF5 library or detected by this wrapper.
///
/// When the library itself failed, `stack` holds its error stack (outermost API call first,
/// deepest cause last), captured at the moment of failure and then cleared, so one error never
/// leaks into the next call's report.
public struct HDF5Error: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases so callers can switch on it.
    public enum Code: String, Sendable, Equatable {
        /// Exclusive create found a file already at the path.
        case alreadyExists
        /// The file or object does not exist.
        case notFound
        /// The file exists but is not an HDF5 file.
        case notHDF5
        case openFailed
        case createFailed
        case readFailed
        case writeFailed
        case closeFailed
        /// The stored element type differs from the one requested.
        case typeMismatch
        /// A buffer's element count or a selection does not fit the dataset's shape.
        case shapeMismatch
        /// Any other library failure (property lists, dataspaces, queries).
        case libraryFailure
    }

    /// The failure category.
    public var code: Code
    /// What went wrong and, where possible, what to do about it.
    public var message: String
    /// The HDF5 object (group, dataset or attribute path) involved, if any.
    public var objectPath: String?
    /// The file involved, if known.
    public var file: String?
    /// The HDF5 error stack text, one entry per frame, outermost first.
    public var stack: [String]

    /// An error with explicit context; library failures are built internally with their stack.
    public init(code: Code, message: String, objectPath: String? = nil, file: String? = nil, stack: [String] = []) {
        self.code = code
        self.message = message
        self.objectPath = objectPath
        self.file = file
        self.stack = stack
    }

    /// One line: `<file>: <object>: <message> [HDF5: <deepest cause>]`.
    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let objectPath { parts.append(objectPath) }
        parts.append(message)
        var line = parts.joined(separator: ": ")
        // The deepest frame names the actual cause (e.g. "Fletcher32 checksum"); the
        // outer frames only repeat which API call was running.
        if let cause = stack.last { line += " [HDF5: \(cause)]" }
        return line
    }

    /// The whole captured stack, one frame per line, for verbose output.
    public var stackText: String { stack.joined(separator: "\n") }
}

/// Process-wide library state.
///
/// Every call into libhdf5, including error-stack capture and the closes in `deinit`, runs
/// under one recursive lock. HDF5 builds differ: Debian's 1.10.8 happens to be configured
/// thread-safe (its settings file says so), Homebrew's and most source builds are not. The
/// wrapper does not rely on either: the intended model is that one thread owns a file, and the
/// lock only makes accidental concurrent use safe, never fast.
enum Library {
    static let lock = RecursiveLock()
    /// How deeply the current holder of `lock` has nested `locked` calls; guarded by `lock`.
    nonisolated(unsafe) static var depth = 0

    static let opened: Bool = {
        _ = H5open()
        return true
    }()
}

/// Runs `body` holding the library lock.
@inline(__always)
func locked<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    Library.lock.lock()
    Library.depth += 1
    // Only the outermost call is timed: it is the one a looping libhdf5 never returns from.
    if Library.depth == 1 { Watchdog.enter("libhdf5") }
    defer {
        if Library.depth == 1 { Watchdog.leave() }
        Library.depth -= 1
        Library.lock.unlock()
    }
    _ = Library.opened
    // Errors are captured into `HDF5Error`, so the library's own printing to stderr is turned
    // off. In a thread-safe build that setting (like the error stack) is per thread, and
    // Swift concurrency moves work between threads, so it is applied on every entry; the call
    // only stores a pointer.
    _ = H5Eset_auto2(chdf5_e_default(), nil, nil)
    return try body()
}

/// Captures and clears the default error stack (of the current thread, in a thread-safe
/// build: the one the failing call ran on). Must be called with the lock held.
func captureErrorStack() -> [String] {
    var frames: [String] = []
    withUnsafeMutablePointer(to: &frames) { framesPointer in
        _ = H5Ewalk2(chdf5_e_default(), H5E_WALK_DOWNWARD, { n, err, client in
            guard let err, let client else { return 0 }
            let frames = client.assumingMemoryBound(to: [String].self)
            let e = err.pointee
            let function = e.func_name.map { String(cString: $0) } ?? "?"
            let file = e.file_name.map { String(cString: $0) } ?? "?"
            // Some HDF5 messages embed ctime() text ending in a newline ("file write failed:
            // time = …"); errors are one line, so newlines become spaces.
            let desc = (e.desc.map { String(cString: $0) } ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
            let major = errorMessageText(e.maj_num)
            let minor = errorMessageText(e.min_num)
            frames.pointee.append("#\(n) \(function)() \(file):\(e.line): \(desc) (\(major); \(minor))")
            return 0
        }, framesPointer)
    }
    _ = H5Eclear2(chdf5_e_default())
    return frames
}

private func errorMessageText(_ id: hid_t) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    let n = H5Eget_msg(id, nil, &buffer, buffer.count)
    guard n > 0 else { return "?" }
    return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Builds an error for a library call that just failed, taking the library's stack with it.
func libraryError(_ code: HDF5Error.Code, _ message: String, object: String? = nil, file: String? = nil) -> HDF5Error {
    HDF5Error(code: code, message: message, objectPath: object, file: file, stack: captureErrorStack())
}

/// Builds an error detected by the wrapper itself (no library call failed). Clears any stale
/// stack anyway so it cannot be attributed to a later failure.
func wrapperError(_ code: HDF5Error.Code, _ message: String, object: String? = nil, file: String? = nil) -> HDF5Error {
    _ = H5Eclear2(chdf5_e_default())
    return HDF5Error(code: code, message: message, objectPath: object, file: file)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells a supervising parent process which input files this process has open.
///
/// The C libraries trainset reads with (libhdf5, libtiff, libpng, libjpeg) can crash on hostile
/// files instead of returning an error; libhdf5 1.10.8, for one, recurses without end on some
/// damaged object headers. The CLI therefore runs each command in a child process (see the
/// CLI's `Supervisor`), and when the child dies from a signal the parent names the files that
/// were open at that moment. This module is the child's half: the readers call `reading` (or
/// `opened`/`closed` around a longer-lived handle), which writes one line per event to the pipe
/// whose descriptor the parent put in `TRAINSET_BREADCRUMB_FD`. Without that variable (tests,
/// library use) every call is a no-op.
///
/// Line format, one `write(2)` each (atomic on a pipe below `PIPE_BUF` bytes, so concurrent
/// readers on several threads never interleave): `+<path>\n` when a file is opened, `-<path>\n`
/// when it is closed, `!<message>\n` when the `Watchdog` is about to stop a stalled call. Newlines in paths are written as spaces; paths are cut to 2 000 bytes.
public enum Breadcrumbs {
    /// The environment variable holding the supervisor pipe's write descriptor.
    public static let environmentKey = "TRAINSET_BREADCRUMB_FD"

    private static let descriptor: Int32? = {
        guard let text = getenv(environmentKey).map({ String(cString: $0) }), let fd = Int32(text), fd > 2,
              fcntl(fd, F_GETFD) >= 0 else { return nil }
        // Programs this process starts (a browser for screenshots, say) must not hold the pipe
        // open, or the parent would wait for them as well as for us.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }()

    /// Records that `path` is now open for reading or writing.
    public static func opened(_ path: String) { send("+", path) }

    /// Records that `path` (recorded by `opened`) is closed again.
    public static func closed(_ path: String) { send("-", path) }

    /// Records that a library call stalled (see `Watchdog`), just before the process is killed.
    static func stalled(_ message: String) { send("!", message) }

    /// Runs `body` with `path` recorded as open.
    public static func reading<T, E: Error>(_ path: String, _ body: () throws(E) -> T) throws(E) -> T {
        opened(path)
        defer { closed(path) }
        return try body()
    }

    private static func send(_ mark: String, _ path: String) {
        guard let fd = descriptor else { return }
        var line = Array((mark + path.replacingNewlines()).utf8.prefix(2_000))
        line.append(UInt8(ascii: "\n"))
        // A parent that has gone away (EPIPE) or a full pipe must never stop the work itself.
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

private extension String {
    func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}

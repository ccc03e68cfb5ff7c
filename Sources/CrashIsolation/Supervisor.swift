internal import CProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a command in a child process so that a crash inside a C library becomes one error line.
///
/// libhdf5 1.10.8 overflows its stack on some damaged object headers and libtiff has a long
/// record of crashes on malformed files; neither can be caught inside the process. So the CLI
/// calls `superviseOrContinue()` first thing: the first (parent) process starts the same
/// command line again as its child, passes standard input, output and error straight through,
/// and waits. When the child exits, the parent exits with its status. When the child dies from a
/// crash signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS), the parent prints
///
///     error: <files open at the time>: trainset crashed (SIGSEGV) while reading …
///
/// and exits with status 1. Any other signal (SIGKILL, SIGINT, SIGTERM, …) is raised again in
/// the parent, so shells and schedulers see the child's fate unchanged.
///
/// A pipe carries the child's `Breadcrumbs` (which files are open) to the parent. The child asks
/// the kernel for SIGKILL when its parent dies (`PR_SET_PDEATHSIG`), so killing the command the
/// user started (SIGKILL included) stops the work at once instead of leaving an orphan that
/// could still publish a bundle, or leave temporary files, after a re-run has begun.
///
/// `TRAINSET_SUPERVISOR=off` runs the command in the first process (for a debugger).
public enum Supervisor {
    /// Set in the child to the parent's process id.
    static let childKey = "TRAINSET_SUPERVISED"
    /// `off` disables supervision.
    public static let switchKey = "TRAINSET_SUPERVISOR"

    /// In the parent: runs the command line again as a supervised child and never returns.
    /// In the child, or with supervision off: arranges the child's side and returns, so the
    /// caller runs the command.
    public static func superviseOrContinue() {
        if let parent = getenv(childKey).map({ String(cString: $0) }) {
            dieWithParent(Int32(parent))
            return
        }
        if let value = getenv(switchKey), String(cString: value) == "off" { return }
        // Anything that stops the child from starting runs the command here, unsupervised,
        // rather than failing a command that would have worked.
        guard let outcome = spawnAndWait() else { return }
        finish(outcome)
    }

    // MARK: Child

    private static func dieWithParent(_ parent: Int32?) {
        _ = cprocess_set_parent_death_signal(SIGKILL)
        // The parent may have died before the request above: then this process already
        // belongs to another parent and must stop now.
        if let parent, getppid() != parent { kill(getpid(), SIGKILL) }
    }

    // MARK: Parent

    private enum Outcome {
        case exited(Int32)
        case signalled(Int32, trail: Trail)
    }

    /// What the child's breadcrumbs said by the time it ended.
    private struct Trail {
        /// Files still open, in the order they were opened.
        var openFiles: [String] = []
        /// The watchdog's message when it stopped a stalled library call.
        var stall: String?
    }

    private static func spawnAndWait() -> Outcome? {
        var crumbs: [Int32] = [-1, -1]
        guard pipe(&crumbs) == 0 else { return nil }
        _ = fcntl(crumbs[0], F_SETFD, FD_CLOEXEC)

        var environment = ProcessInfo.processInfo.environment
        environment[childKey] = String(getpid())
        environment[Breadcrumbs.environmentKey] = String(crumbs[1])
        // A crash is reported by the parent in one line; the runtime's multi-page backtrace
        // would bury it. An explicit SWIFT_BACKTRACE setting wins.
        if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }

        let pid = spawn(arguments: CommandLine.arguments,
                        environment: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        close(crumbs[1])
        guard let pid else {
            close(crumbs[0])
            return nil
        }
        let trail = readBreadcrumbs(crumbs[0])
        close(crumbs[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return .exited(1) }
        }
        // WIFEXITED / WIFSIGNALED are macros; this is their definition on Linux.
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(signal, trail: trail)
    }

    private static func spawn(arguments: [String], environment: [String]) -> pid_t? {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        // /proc/self/exe: the very binary running now, whatever PATH or argv[0] say.
        let result = posix_spawn(&pid, "/proc/self/exe", nil, nil, &argv, &envp)
        return result == 0 ? pid : nil
    }

    /// Reads breadcrumb lines until the child (the only holder of the write end) is gone.
    private static func readBreadcrumbs(_ fd: Int32) -> Trail {
        var open: [(path: String, count: Int)] = []
        var stall: String?
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            pending += buffer[0..<n]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[..<newline]
                pending.removeSubrange(...newline)
                guard let mark = line.first else { continue }
                let path = String(decoding: line.dropFirst(), as: UTF8.self)
                if mark == UInt8(ascii: "+") {
                    if let i = open.firstIndex(where: { $0.path == path }) { open[i].count += 1 } else { open.append((path, 1)) }
                } else if mark == UInt8(ascii: "-"), let i = open.firstIndex(where: { $0.path == path }) {
                    open[i].count -= 1
                    if open[i].count == 0 { open.remove(at: i) }
                } else if mark == UInt8(ascii: "!") {
                    stall = path
                }
            }
        }
        return Trail(openFiles: open.map(\.path), stall: stall)
    }

    private static let crashSignals: [Int32: String] = [
        SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE",
        SIGABRT: "SIGABRT", SIGTRAP: "SIGTRAP", SIGSYS: "SIGSYS",
    ]

    private static func finish(_ outcome: Outcome) -> Never {
        switch outcome {
        case .exited(let status):
            exit(status)
        case .signalled(let signal, let trail):
            let files = trail.openFiles
            if signal == SIGKILL, let stall = trail.stall {
                let subject = files.isEmpty ? "trainset" : files.map(display).joined(separator: ", ")
                let cause = files.isEmpty ? "" : " (a damaged file can make the library loop for ever)"
                let reading = files.isEmpty ? "" : files.count == 1 ? " while reading it" : " while reading them"
                let message = "error: \(subject): \(stall)\(reading)\(cause); the watchdog stopped it "
                    + "(\(Watchdog.limitKey) sets the limit in seconds)"
                FileHandle.standardError.write(Data((message + "\n").utf8))
                exit(1)
            }
            guard let name = crashSignals[signal] else {
                // Not a crash: end the same way the child did.
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
                exit(128 + signal)
            }
            let message: String
            if files.isEmpty {
                message = "error: trainset crashed (\(name)) with no input file open; this is a bug in trainset, "
                    + "please report it with the command line"
            } else {
                message = "error: \(files.map(display).joined(separator: ", ")): trainset crashed (\(name)) while reading "
                    + (files.count == 1 ? "this file" : "these files")
                    + "; a damaged or hostile file can crash the C library that decodes it (libhdf5, libtiff, libpng, "
                    + "libjpeg), so the file was read in a supervised process and its crash is reported here instead"
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            exit(1)
        }
    }

    /// A path relative to the working directory when it lies inside it, as the user typed it.
    private static func display(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}

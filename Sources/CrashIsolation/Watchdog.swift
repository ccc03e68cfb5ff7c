import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Stops a supervised process whose C library call has run far longer than any call can take.
///
/// Crashes are not the only way a damaged file defeats a C library: libhdf5 (1.10.8 here, and
/// 2.0 as well) loops for ever on some broken global-heap collections while converting one
/// variable-length string. No check between calls can help while the call never returns, so
/// the library wrappers bracket each call with `enter`/`leave`, and in a supervised child (see
/// `Supervisor`) a monitor thread kills the process when one call has lasted longer than the
/// limit. It first leaves a `!` breadcrumb, so that the parent reports a stalled library on the
/// files that were open, in one line and with exit status 1, instead of hanging with it.
///
/// The limit is 600 s, far beyond any single call on working storage (calls read or write one
/// chunk, one table column or one attribute); `TRAINSET_LIBRARY_CALL_LIMIT` sets it in seconds,
/// and 0 turns the watchdog off. Outside a supervised process `enter` and `leave` only record.
public enum Watchdog {
    /// The environment variable holding the limit in seconds.
    public static let limitKey = "TRAINSET_LIBRARY_CALL_LIMIT"

    private static let limit: Double = {
        guard let text = getenv(limitKey).map({ String(cString: $0) }) else { return 600 }
        return Double(text).map { max(0, $0) } ?? 600
    }()

    /// When the current outermost call began (monotonic nanoseconds), 0 when none is running.
    private static let started = Atomic<Int64>(0)
    /// Which library the current call is in, for the report. Callers hold their library's lock.
    nonisolated(unsafe) private static var library = ""
    private static let monitor: Bool = {
        guard getenv(Supervisor.childKey) != nil, limit > 0 else { return false }
        let thread = Thread { watch() }
        thread.name = "trainset library watchdog"
        thread.start()
        return true
    }()

    /// Marks the start of a call into `library`. Calls must not overlap: callers hold the
    /// library's own process-wide lock (libhdf5 is serialised anyway) and enter only at the
    /// outermost level.
    public static func enter(_ library: String) {
        _ = monitor
        self.library = library
        started.store(now(), ordering: .releasing)
    }

    /// Marks the end of the call begun by `enter`.
    public static func leave() {
        started.store(0, ordering: .releasing)
    }

    private static func now() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }

    private static func watch() {
        let step = min(1.0, limit / 4)
        while true {
            Thread.sleep(forTimeInterval: step)
            let began = started.load(ordering: .acquiring)
            guard began != 0, Double(now() - began) / 1e9 > limit else { continue }
            Breadcrumbs.stalled("\(library) made no progress for \(Int(limit.rounded())) s")
            // The stuck call holds the library lock, so nothing can be cleaned up in-process.
            kill(getpid(), SIGKILL)
        }
    }
}

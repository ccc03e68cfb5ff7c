import ArgumentParser
import Export
import Foundation

/// How `trainset export` reports progress on standard error.
enum ProgressStyle: String, ExpressibleByArgument, CaseIterable {
    /// A bar redrawn in place when standard error is a terminal, else `plain`.
    case auto
    /// One line per finished source image.
    case plain
    /// One JSON object per line (`event` names it), for pipelines and log collectors.
    case json
}

/// Renders export events; the elapsed time, rate and ETA are measured from the `planned` event.
final class ExportProgress {
    private enum Mode { case bar, plain, json, quiet }
    private let mode: Mode
    private var started = Date()
    private var sources = 0
    private var sourcesDone = 0
    private var barShown = false

    init(style: ProgressStyle, quiet: Bool) {
        if quiet {
            mode = .quiet
        } else {
            switch style {
            case .auto: mode = Console.stderrIsTerminal ? .bar : .plain
            case .plain: mode = .plain
            case .json: mode = .json
            }
        }
    }

    var elapsed: Double { Date().timeIntervalSince(started) }

    func warning(_ text: String) {
        switch mode {
        case .quiet: return
        case .json: emit(["event": "warning", "message": text])
        case .bar, .plain: Console.error("warning: \(text)")
        }
    }

    /// A line about what the command decided (a shard skipped or exported again), not a problem.
    func notice(_ text: String) {
        switch mode {
        case .quiet: return
        case .json: emit(["event": "notice", "message": text])
        case .bar, .plain: Console.error(text)
        }
    }

    func handle(_ event: ExportEvent) {
        if case .planned(let count, _, _) = event {
            started = Date()
            sources = count
        }
        switch mode {
        case .quiet: return
        case .json: json(event)
        case .plain, .bar: text(event)
        }
    }

    /// The last lines: the content hash, or the error (a JSON event in `json` mode, so every
    /// line a pipeline reads parses; otherwise the one `error:` line every command prints).
    func finished(contentHash: String, bundle: String) {
        switch mode {
        case .quiet: return
        case .json:
            emit(["event": "done", "bundle": bundle, "content_hash": contentHash, "elapsed_s": Self.rounded(elapsed)])
        case .bar, .plain: Console.error("content hash \(contentHash)")
        }
    }

    func failed(_ error: ExportError) {
        endBar()
        if mode == .json {
            emit(["event": "error", "code": error.code.rawValue, "location": error.location, "message": error.message])
        } else {
            Console.error("error: \(error)")
        }
    }

    private func text(_ event: ExportEvent) {
        switch event {
        case .planned(let sources, let tiles, let output):
            Console.error("exporting \(sources) images, \(tiles) tiles -> \(output)")
        case .tilesWritten(let tiles, let total, let bytes):
            guard mode == .bar else { return }
            bar(tiles, total, bytes)
        case .sourceDone(let index, let total, let path, let tiles):
            sourcesDone = index + 1
            if mode == .plain { Console.error("[\(index + 1)/\(total)] \(path): \(tiles) tiles") }
        case .validating:
            endBar()
            Console.error("validating")
        case .published(let bundle, let sidecar):
            Console.error("wrote \(bundle) and \(sidecar)")
        }
    }

    /// `[#######.............]  1234/7776 tiles  16%  412 tiles/s  57 MB/s  ETA 0:16  images 4/24`
    private func bar(_ done: Int, _ total: Int, _ bytes: Int64) {
        let t = max(elapsed, 1e-3)
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let width = 24, filled = Int((fraction * Double(width)).rounded(.down))
        let rate = Double(done) / t
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(done)/\(total) tiles  \(Int(fraction * 100))%  \(Int(rate.rounded())) tiles/s  "
            + "\(Int((Double(bytes) / 1e6 / t).rounded())) MB/s  ETA \(Self.clock(eta))  images \(sourcesDone)/\(sources)"
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
        barShown = true
    }

    private func endBar() {
        guard barShown else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        barShown = false
    }

    private func json(_ event: ExportEvent) {
        switch event {
        case .planned(let sources, let tiles, let output):
            emit(["event": "planned", "sources": sources, "tiles": tiles, "output": output])
        case .tilesWritten(let tiles, let total, let bytes):
            let t = max(elapsed, 1e-3), rate = Double(tiles) / t
            emit(["event": "progress", "tiles": tiles, "total": total, "bytes": bytes, "elapsed_s": Self.rounded(t),
                  "tiles_per_s": Self.rounded(rate), "eta_s": Self.rounded(rate > 0 ? Double(total - tiles) / rate : 0)])
        case .sourceDone(let index, let total, let path, let tiles):
            emit(["event": "source_done", "index": index, "of": total, "path": path, "tiles": tiles])
        case .validating(let temporary):
            emit(["event": "validating", "temporary": temporary])
        case .published(let bundle, let sidecar):
            emit(["event": "published", "bundle": bundle, "sidecar": sidecar])
        }
    }

    private func emit(_ object: [String: Any]) {
        // Only strings and numbers: serialisation cannot fail.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        Console.error(String(decoding: data, as: UTF8.self))
    }

    private static func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        let (h, m, r) = (s / 3600, (s / 60) % 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, r) : String(format: "%d:%02d", m, r)
    }
}

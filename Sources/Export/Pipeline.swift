import BundleFormat
import Foundation
import Raster
import Tiling

/// The concurrent part of an export (DESIGN §1 "One writer"): worker threads read and hash
/// each source once, cut and augment its tiles and filter them into finished chunks; the
/// calling thread, the only one that touches the open HDF5 file, appends them in row order.
///
/// Work is handed out in plan order as batches of a few grid tiles of one source, so several
/// workers can share one large source. With more than one worker, the worker that finishes the
/// middle batch of a source then loads the next source, while the others go on cutting this
/// one: no worker waits for a decode at the change of source. Without that, memory depended on
/// timing: a decode could overlap the end of the previous source or not, and the peak, the
/// worst of every change, grew with the number of sources. Now the next source is always
/// loaded while the current one is held. Finished rows wait in a reorder window of bounded
/// size: a worker that gets too far ahead of the writer waits. Memory is therefore bounded by
/// two decoded sources (each held once: a recipe that augments keeps only its warp-ready
/// copy) plus the window, whatever the number of sources. A source larger than
/// `regionThreshold` decoded is never decoded whole: each batch reads only the region its
/// rows need (`RegionReads`).
///
/// Every row depends only on its source, grid tile and variant, so the bundle is the same for
/// any number of workers; errors are reported for the earliest row that fails, as a
/// sequential export would report them.
struct Pipeline: Sendable {
    let plan: ExportPlan
    let workers: Int
    /// Decoded bytes above which a source is read by regions.
    let regionThreshold: Int
    /// The plan's inputs by path.
    private let planned: [String: Manifest.InputFile]

    init(plan: ExportPlan, workers: Int, regionThreshold: Int = RegionReads.defaultThreshold) {
        precondition(workers >= 1, "an export needs at least one worker")
        self.plan = plan
        self.workers = workers
        self.regionThreshold = regionThreshold
        planned = Dictionary(plan.inputs.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// A run of grid tiles of one source: the unit a worker claims. A source is split into
    /// several, so that one large image keeps every worker busy (and, later, so that a
    /// whole-slide source can be read one band of tile rows at a time).
    struct Batch: Sendable {
        var source: Int
        var tiles: Range<Int>
        /// Bundle row of the batch's first output.
        var firstRow: Int
    }

    /// What a finished export of the rows brought back besides the bundle.
    struct Outcome {
        /// Every row's boxes, points and polygons in row order, when the recipe has `labels.objects`.
        var objects: ObjectGroups?
        /// SHA-256 and size of every file pixels were read from, by path.
        var digests: [String: FileDigest]
    }

    /// About this many bundle rows per batch.
    static let rowsPerBatch = 8

    var batches: [Batch] {
        let variants = plan.variants
        let gridTiles = max(1, Self.rowsPerBatch / variants)
        var out: [Batch] = []
        var row = 0
        for (s, source) in plan.sources.enumerated() {
            for start in stride(from: 0, to: source.tiles.count, by: gridTiles) {
                let tiles = start..<min(start + gridTiles, source.tiles.count)
                out.append(Batch(source: s, tiles: tiles, firstRow: row))
                row += tiles.count * variants
            }
        }
        return out
    }

    /// Rows finished ahead of the writer, at most: enough that workers on neighbouring batches
    /// rarely wait for each other, few enough that memory does not depend on the dataset.
    var window: Int { 3 * workers * max(Self.rowsPerBatch, plan.variants) }

    /// Runs the workers and hands every finished row to `write` on the calling thread, in row
    /// order. A failure of `write` stops the workers and is rethrown.
    func run(_ write: (EncodedTile) throws(ExportError) -> Void) throws(ExportError) -> Outcome {
        let batches = self.batches
        let state = PipelineState(batches: batches, sourceCount: plan.sources.count, window: window, workers: workers,
                                  loadsAhead: workers > 1)
        for _ in 0..<workers {
            let thread = Thread { [self] in
                work(state, batches)
                state.finishWorker()
            }
            thread.name = "trainset export worker"
            thread.start()
        }
        defer { state.stopAndJoin() }
        // Collected here, in row order, because the ragged groups' offsets are cumulative.
        var objects = plan.objects.map { ObjectGroups(kinds: $0.kinds) }
        for row in 0..<plan.tileCount {
            let finished = try state.take(row)
            try write(finished.tile)
            if let o = finished.objects { objects?.append(o) }
        }
        state.stopAndJoin()
        var digests = state.digests
        // A source none of whose tiles was kept (smaller than a tile, or every tile dropped by
        // sampling) is never loaded, but the manifest lists its files all the same.
        for source in plan.sources where source.tiles.isEmpty {
            for file in source.files where digests[file.path] == nil { digests[file.path] = try digest(of: file) }
        }
        return Outcome(objects: objects, digests: digests)
    }

    private func work(_ state: PipelineState, _ batches: [Batch]) {
        let encoder = TileEncoder(spec: plan.spec)
        while let b = state.claim() {
            let batch = batches[b]
            let loaded: LoadedSource
            switch state.source(batch.source, load: { load(batch.source) }) {
            case .success(let source): loaded = source
            case .failure(let error):
                state.fail(row: batch.firstRow, error)
                state.release(batch.source)
                continue
            }
            let source = plan.sources[batch.source]
            // The batch's rows in order: (grid tile, variant).
            let rows = batch.tiles.flatMap { t in (0..<plan.variants).map { (tile: source.tiles[t], variant: $0) } }
            if let targets = loaded.targets {
                _ = make(rows[...], firstRow: batch.firstRow, targets, loaded, state, encoder)
            } else {
                let footprints = rows.map {
                    TileOutputs.footprint(plan, source: source, sourceSHA256: loaded.sha256, tile: $0.tile, variant: $0.variant)
                }
                for run in RegionReads.runs(footprints, bytesPerPixel: RegionReads.bytesPerPixel(source, plan: plan)) {
                    let first = batch.firstRow + run.rows.lowerBound
                    guard state.isWanted(first) else { break }
                    let targets: SampleTargets
                    do {
                        let read = try RegionReads.read(source, rect: run.rect, plan: plan)
                        // Every row augmented: keep only the warp's copy of the region.
                        targets = plan.recipe.augmentation == nil ? read : read.preparedForWarp()
                    } catch {
                        state.fail(row: first, error)
                        break
                    }
                    guard make(rows[run.rows], firstRow: first, targets, loaded, state, encoder) else { break }
                }
            }
            state.release(batch.source)
            if let next = state.sourceToLoadAhead(after: b) { state.load(next) { load(next) } }
        }
    }

    /// Makes and delivers consecutive rows from `targets`, starting at bundle row `firstRow`;
    /// false when one failed or is no longer wanted, so the rest of the batch is not made.
    private func make(_ rows: ArraySlice<(tile: Tile, variant: Int)>, firstRow: Int, _ targets: SampleTargets,
                      _ loaded: LoadedSource, _ state: PipelineState, _ encoder: TileEncoder) -> Bool {
        for (row, r) in zip(firstRow..., rows) {
            guard state.isWanted(row) else { return false }
            switch make(row: row, tile: r.tile, variant: r.variant, targets, loaded, encoder) {
            case .success(let finished):
                guard state.deliver(row, finished) else { return false }
            case .failure(let error):
                state.fail(row: row, error)
                return false
            }
        }
        return true
    }

    private func make(row: Int, tile: Tile, variant: Int, _ targets: SampleTargets, _ loaded: LoadedSource,
                      _ encoder: TileEncoder) -> Result<FinishedRow, ExportError> {
        let source = plan.sources[loaded.index]
        do {
            let outputs = try TileOutputs.produce(plan, source: source, targets,
                                                  sourceSHA256: loaded.sha256, tile: tile, variant: variant)
            let encoded = try encoder.encode(index: row, image: outputs.image, instanceMask: outputs.instances,
                                             semanticMask: outputs.semantic)
            return .success(FinishedRow(tile: encoded, objects: outputs.objects))
        } catch let error as TilingError {
            return .failure(ExportError(.input, FileSystem.display(source.url), "augmenting the tile at \(tile.rect) failed: \(error)"))
        } catch let error as BundleError {
            return .failure(ExportError(.output, FileSystem.display(plan.output),
                                        "a tile of \(source.path) does not fit the bundle: \(error.message)"))
        } catch {
            return .failure(ExportError(.output, FileSystem.display(plan.output), "a tile of \(source.path) failed: \(error)"))
        }
    }

    /// A pixel input's size and SHA-256, checked against what the plan recorded of it.
    private func digest(of file: (path: String, url: URL)) throws(ExportError) -> FileDigest {
        let shown = FileSystem.display(file.url)
        let digest = try FileDigest.of(file.url, displayPath: shown)
        if let planned = planned[file.path],
           planned.bytes != digest.bytes || (!planned.sha256.isEmpty && planned.sha256 != digest.sha256) {
            throw ExportError(.input, shown, "changed since the export was planned (its size or SHA-256 differs); run the export again")
        }
        return digest
    }

    /// Hashes every file of the source (the one read from disk; decoding then finds the bytes
    /// in the page cache), checks them against the plan, and decodes pixels and masks, unless
    /// the source is read by regions.
    private func load(_ index: Int) -> Result<LoadedSource, ExportError> {
        let source = plan.sources[index]
        do throws(ExportError) {
            var digests: [(path: String, digest: FileDigest)] = []
            for file in source.files { digests.append((file.path, try digest(of: file))) }
            let regions = try RegionReads.usesRegions(source, plan: plan, threshold: regionThreshold)
            let targets = regions ? nil : try Exporter.loadTargets(source, plan: plan, forWarp: plan.recipe.augmentation != nil)
            return .success(LoadedSource(index: index, targets: targets, sha256: digests[0].digest.sha256, digests: digests))
        } catch {
            return .failure(error)
        }
    }
}

/// A source's decoded pixels and masks, shared by the batches cut from it.
final class LoadedSource: Sendable {
    let index: Int
    /// Nil for a source read by regions: each batch reads its own.
    let targets: SampleTargets?
    /// SHA-256 of the image file, the root of its tiles' keys.
    let sha256: String
    let digests: [(path: String, digest: FileDigest)]

    init(index: Int, targets: SampleTargets?, sha256: String, digests: [(path: String, digest: FileDigest)]) {
        self.index = index
        self.targets = targets
        self.sha256 = sha256
        self.digests = digests
    }
}

/// A row ready for the writer.
struct FinishedRow: Sendable {
    var tile: EncodedTile
    var objects: TileObjects?
}

/// What the threads of one export share, every field guarded by `condition`.
private final class PipelineState: @unchecked Sendable {
    private enum Slot {
        case loading
        case loaded(LoadedSource)
        case failed(ExportError)
    }

    private let condition = NSCondition()
    private let batches: [Pipeline.Batch]
    private let window: Int
    private var nextBatch = 0
    private var slots: [Int: Slot] = [:]
    /// Batches of each source not yet finished; a source is dropped when its count reaches 0.
    private var pendingBatches: [Int]
    private var ready: [Int: FinishedRow] = [:]
    /// The row the writer needs next.
    private var next = 0
    private var failure: (row: Int, error: ExportError)?
    private var stopped = false
    private var running: Int
    private(set) var digests: [String: FileDigest] = [:]
    /// For the middle batch of each source that another source follows: that source.
    private let loadAhead: [Int: Int]

    init(batches: [Pipeline.Batch], sourceCount: Int, window: Int, workers: Int, loadsAhead: Bool) {
        self.batches = batches
        self.window = window
        running = workers
        pendingBatches = Array(repeating: 0, count: sourceCount)
        for b in batches { pendingBatches[b.source] += 1 }
        var loadAhead: [Int: Int] = [:]
        if loadsAhead {
            var first = 0
            while first < batches.count {
                let source = batches[first].source
                let end = batches[first...].firstIndex { $0.source != source } ?? batches.count
                if end < batches.count { loadAhead[first + (end - first) / 2] = batches[end].source }
                first = end
            }
        }
        self.loadAhead = loadAhead
    }

    private func locked<R>(_ body: () -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    /// The next batch to work on, or nil when there is none worth doing.
    func claim() -> Int? {
        locked {
            guard !stopped, nextBatch < batches.count else { return nil }
            // Rows after a failed one are never written.
            if let failure, batches[nextBatch].firstRow >= failure.row { return nil }
            nextBatch += 1
            return nextBatch - 1
        }
    }

    /// The source to load once batch `batch` is done, if it is the middle one of its source,
    /// the next source has not been started on, and the export goes on.
    func sourceToLoadAhead(after batch: Int) -> Int? {
        locked {
            guard let next = loadAhead[batch], slots[next] == nil, !stopped, failure == nil else { return nil }
            slots[next] = .loading
            return next
        }
    }

    /// Loads source `index`, which this thread marked `.loading`, and makes it available;
    /// called without the lock.
    @discardableResult
    func load(_ index: Int, _ load: () -> Result<LoadedSource, ExportError>) -> Result<LoadedSource, ExportError> {
        let result = load()
        locked {
            switch result {
            case .success(let loaded):
                slots[index] = .loaded(loaded)
                for d in loaded.digests { digests[d.path] = d.digest }
            case .failure(let error): slots[index] = .failed(error)
            }
            condition.broadcast()
        }
        return result
    }

    /// Source `index`, loaded by this thread with `load` if no other has started on it, else
    /// once that thread is done.
    func source(_ index: Int, load: () -> Result<LoadedSource, ExportError>) -> Result<LoadedSource, ExportError> {
        condition.lock()
        while true {
            switch slots[index] {
            case nil:
                slots[index] = .loading
                condition.unlock()
                return self.load(index, load)
            case .loading?:
                if stopped {
                    condition.unlock()
                    return .failure(ExportError(.output, "", "the export stopped"))
                }
                condition.wait()
            case .loaded(let loaded)?:
                condition.unlock()
                return .success(loaded)
            case .failed(let error)?:
                condition.unlock()
                return .failure(error)
            }
        }
    }

    /// One batch of source `index` is done (or abandoned).
    func release(_ index: Int) {
        locked {
            pendingBatches[index] -= 1
            if pendingBatches[index] == 0 { slots[index] = nil }
        }
    }

    /// Whether `row` is still needed: not after a failed row, not once stopped.
    func isWanted(_ row: Int) -> Bool {
        locked { !stopped && (failure.map { row < $0.row } ?? true) }
    }

    /// Hands a finished row to the writer, waiting while it is too far ahead. False when the
    /// export stopped meanwhile.
    func deliver(_ row: Int, _ finished: FinishedRow) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while row >= next + window && !stopped { condition.wait() }
        guard !stopped else { return false }
        ready[row] = finished
        condition.broadcast()
        return true
    }

    /// Records that `row` (and so every row after it in its batch) cannot be made.
    func fail(row: Int, _ error: ExportError) {
        locked {
            if failure.map({ row < $0.row }) ?? true { failure = (row, error) }
            condition.broadcast()
        }
    }

    /// Row `row` once a worker finished it; throws the error of the earliest failed row when
    /// that is `row`. Every row before a failure is made, since batches are claimed in order.
    func take(_ row: Int) throws(ExportError) -> FinishedRow {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let finished = ready.removeValue(forKey: row) {
                next = row + 1
                condition.broadcast()
                return finished
            }
            if let failure, failure.row == row { throw failure.error }
            condition.wait()
        }
    }

    func finishWorker() {
        locked {
            running -= 1
            condition.broadcast()
        }
    }

    /// Stops the workers (they finish their current row) and waits until all have exited.
    func stopAndJoin() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        ready = [:]
        slots = [:]
    }
}

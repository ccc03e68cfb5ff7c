import Synchronization

/// Results of a pure function for a few recurring arguments, shared by the export's worker
/// threads. Augmented rows keep asking for the same blur matrices and gamma tables (σ and γ are
/// often fixed in a recipe, and every tile has the same size), and building them for each row
/// cost thousands of small allocations and `pow` calls. Values are computed outside the lock,
/// so two threads may build the same one; either result is the same. When `capacity` distinct
/// arguments have been seen (γ drawn from a range never repeats) the memo starts over, so it
/// never grows with the dataset.
final class Memo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    private let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func value(_ key: Key, _ make: () -> Value) -> Value {
        if let known = entries.withLock({ $0[key] }) { return known }
        let made = make()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = made
        }
        return made
    }
}

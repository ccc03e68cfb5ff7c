@testable import Tiling
import Testing

/// `Memo`, the cache behind the blur matrices and gamma tables that every augmented row asks
/// for: a value is built once per argument, and the cache starts over instead of growing.
@Suite struct MemoTests {
    /// Counts how often the memoized function really runs.
    final class Calls: @unchecked Sendable {
        var count = 0
    }

    @Test func aRepeatedArgumentIsBuiltOnce() {
        let memo = Memo<Int, [Int]>(capacity: 4)
        let calls = Calls()
        for _ in 0..<3 {
            #expect(memo.value(7) { calls.count += 1; return [7, 7] } == [7, 7])
        }
        #expect(calls.count == 1)
    }

    @Test func pastItsCapacityItStartsOver() {
        let memo = Memo<Int, Int>(capacity: 2)
        let calls = Calls()
        func square(_ k: Int) -> Int { memo.value(k) { calls.count += 1; return k * k } }
        #expect([square(1), square(2), square(1)] == [1, 4, 1])
        #expect(calls.count == 2)
        // A third argument empties the cache; 1 and 2 are then built again.
        #expect([square(3), square(3), square(1), square(2)] == [9, 9, 1, 4])
        #expect(calls.count == 5)
    }

    @Test func theCachedBlurMatrixIsTheOneBuiltAfresh() {
        let first = BandMatrix.gaussian(count: 37, sigma: 1.3)
        #expect(BandMatrix.gaussian(count: 37, sigma: 1.3) == first)
        // Another σ or length is another entry, not the cached one.
        #expect(BandMatrix.gaussian(count: 37, sigma: 1.31) != first)
        #expect(BandMatrix.gaussian(count: 38, sigma: 1.3).rows == 38)
        // Rows of a Gaussian sum to one, mirrored taps included.
        for w in first.weights { #expect(abs(w.reduce(0, +) - 1) < 1e-5) }
    }
}

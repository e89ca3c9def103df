import XCTest
@testable import L2LTensor

/// `Kernels.parallelMap`: results in item order whatever the thread count, each item run
/// with the caller's graph-recording mode and with its kernels on its own thread, and the
/// caller's thread left as it was.
final class ParallelMapTests: XCTestCase {
    override func tearDown() {
        Kernels.threads = Kernels.cores
        super.tearDown()
    }

    func testResultsComeBackInItemOrderForEveryThreadCount() {
        for threads in [1, 2, 3, 8] {
            Kernels.threads = threads
            for count in [0, 1, 2, 5, 17] {
                XCTAssertEqual(Kernels.parallelMap(count) { $0 * $0 + 1 }, (0..<count).map { $0 * $0 + 1 },
                               "\(count) items on \(threads) threads")
            }
        }
    }

    func testItemsRecordTheGraphExactlyWhenTheCallerDoes() {
        Kernels.threads = 2
        let x = Tensor(shape: [3], scalars: [1, 2, 3]).tracked()
        let recorded = Kernels.parallelMap(4) { i in (x * Float(i + 1)).isTracked }
        XCTAssertEqual(recorded, [true, true, true, true])
        let unrecorded = withoutGraph { Kernels.parallelMap(4) { i in (x * Float(i + 1)).isTracked } }
        XCTAssertEqual(unrecorded, [false, false, false, false])
        // Gradients taken inside items are each item's own.
        let grads = Kernels.parallelMap(4) { i in gradients(of: (x * x * Float(i)).sum(), wrt: [x])[0].scalars }
        XCTAssertEqual(grads, (0..<4).map { i in [2, 4, 6].map { Float(i) * $0 } })
        XCTAssertTrue(isRecordingGraph)
    }

    /// Inside an item the kernels stay on its thread (`onParallelItem`), a nested map runs
    /// in place, and a large op gives the bits it gives outside; afterwards the caller's
    /// thread is no longer marked.
    func testItemsKeepTheirKernelsOnTheirThreadWithTheSameBits() {
        Kernels.threads = 2
        var rng = RNG(seed: 7)
        let big = Tensor.uniform([1 << 18], low: -3, high: 3, rng: &rng)   // above the parallel threshold
        let outside = big.tanh().scalars
        let inside = Kernels.parallelMap(3) { _ in (Kernels.onParallelItem, Kernels.parallelMap(2) { $0 }, big.tanh().scalars) }
        for (marked, nested, values) in inside {
            XCTAssertTrue(marked)
            XCTAssertEqual(nested, [0, 1])
            XCTAssertEqual(values.map(\.bitPattern), outside.map(\.bitPattern))
        }
        XCTAssertFalse(Kernels.onParallelItem)
        XCTAssertEqual(Kernels.parallelMap(1) { _ in Kernels.onParallelItem }, [false], "one item runs as a plain call")
    }

    /// A product above the single-thread threshold runs on one BLAS thread inside an item:
    /// the bits of `Kernels.threads = 1` (OpenBLAS's Haswell sgemm gives other last bits on
    /// two threads, BLASThreadsTests).
    func testALargeProductInsideAnItemHasTheBitsOfOneThread() {
        var rng = RNG(seed: 3)
        let a = Tensor.uniform([256, 1024], low: -1, high: 1, rng: &rng)   // 2·256·256·1024 = 134 MFLOP
        let b = Tensor.uniform([1024, 256], low: -1, high: 1, rng: &rng)
        Kernels.threads = 1
        let one = matmul(a, b).scalars.map(\.bitPattern)
        Kernels.threads = max(2, Kernels.cores)
        for inside in Kernels.parallelMap(2, { _ in matmul(a, b).scalars.map(\.bitPattern) }) {
            XCTAssertEqual(inside, one)
        }
    }
}

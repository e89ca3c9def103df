import XCTest
@testable import L2LTensor

/// The BLAS never runs on more threads than the user allowed: `L2L_NUM_THREADS` /
/// ``Kernels/threads`` and the BLAS's own `OPENBLAS_NUM_THREADS` both cap it.
final class BLASThreadsTests: XCTestCase {
    func testLargeProductsUseNoMoreThreadsThanTheKernels() {
        let saved = Kernels.threads
        defer { Kernels.threads = saved }
        XCTAssertGreaterThanOrEqual(BLAS.threads, 1)
        XCTAssertLessThanOrEqual(BLAS.threads, Kernels.threads)
        Kernels.threads = 1
        XCTAssertEqual(BLAS.threads, 1)
        Kernels.threads = 256
        XCTAssertLessThanOrEqual(BLAS.threads, BLAS.library.openingThreads)
    }

    func testALargeProductGivesTheSameBitsOnOneThreadAsOnAll() {
        // 2·256·256·1024 = 134 MFLOP: above the single-thread threshold.
        var rng = RNG(seed: 3)
        let a = Tensor.uniform([256, 1024], low: -1, high: 1, rng: &rng)
        let b = Tensor.uniform([1024, 256], low: -1, high: 1, rng: &rng)
        let saved = Kernels.threads
        defer { Kernels.threads = saved }
        Kernels.threads = 1
        let one = matmul(a, b).scalars
        Kernels.threads = Kernels.cores
        let all = matmul(a, b).scalars
        XCTAssertEqual(one.map(\.bitPattern), all.map(\.bitPattern))
        XCTAssertEqual(Double(one[0]), Double((0..<1024).map { a.scalars[$0] * b.scalars[$0 * 256] }.reduce(0, +)), accuracy: 1e-3)
    }
}

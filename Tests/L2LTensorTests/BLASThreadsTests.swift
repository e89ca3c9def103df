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

    /// OpenBLAS's SkylakeX sgemm splits a product's rows and columns between threads, never
    /// its sums, so its bits do not depend on the thread count. Its Haswell sgemm (AVX2 CPUs,
    /// Zen 3 among them) is not so: with 2 threads 8 % of this product's elements differed
    /// from 1 thread in the last bits (measured in session 17). There the two must agree to
    /// float rounding.
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
        if BLAS.info.core == "SkylakeX" {
            XCTAssertEqual(one.map(\.bitPattern), all.map(\.bitPattern))
        } else {
            // |sum| ≤ 1 024 terms of magnitude ≤ 1: a relative error of a few ulps of 1 024.
            XCTAssertLessThanOrEqual(zip(one, all).map { abs($0 - $1) }.max()!, 1024 * 4 * Float.ulpOfOne)
        }
        XCTAssertEqual(Double(one[0]), Double((0..<1024).map { a.scalars[$0] * b.scalars[$0 * 256] }.reduce(0, +)), accuracy: 1e-3)
    }
}

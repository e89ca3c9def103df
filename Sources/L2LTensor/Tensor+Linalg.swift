import CKernels
import Synchronization

/// Floating-point operations done by `sgemm` since the process started (2·m·n·k per
/// product): what benchmarks divide by time to report achieved GFLOP/s.
public var gemmFlopCount: Int { gemmFlops.load(ordering: .relaxed) }
private let gemmFlops = Atomic<Int>(0)

/// Products below this many FLOPs run on one OpenBLAS thread: waking the other thread
/// costs more than it saves, and an idle OpenBLAS thread spinning on the second core
/// slows everything else down. The coordinate-wise LSTM's thin products (25,450 × 20 ×
/// 80, 81 MFLOP) are below it: single-threaded, its meta-training used 1.2–1.8× less CPU
/// and ran 1.3–1.8× faster on the shared 2-core machine (the spinning thread competed
/// with the fused cell kernel's workers).
let multiThreadedGemmFlops = 100_000_000
/// The thread count last given to OpenBLAS (0: none yet).
private let gemmThreads = Mutex<Int>(0)

/// Sets OpenBLAS's thread count for a product of `flops` (one, or ``BLAS/threads`` outside
/// the items of ``Kernels/parallelMap(_:_:)``), calling
/// into OpenBLAS only when the count changes. The check and the call happen under one lock:
/// two threads choosing different counts could otherwise leave OpenBLAS on one count and
/// the record on the other, and every later product on the wrong number of threads.
private func chooseGemmThreads(flops: Int) {
    let wanted = flops < multiThreadedGemmFlops || Kernels.onParallelItem ? 1 : BLAS.threads
    gemmThreads.withLock { current in
        if current != wanted {
            BLAS.library.setNumThreads(Int32(wanted))
            current = wanted
        }
    }
}

/// `c = op(a)·op(b)` (or `c += …` when `accumulate`) on row-major, densely packed matrices:
/// `op(a)` is `[m, k]`, `op(b)` is `[k, n]`, `c` is `[m, n]`. Counts the FLOPs and picks
/// OpenBLAS's thread count; every product in the library goes through here (those with an
/// inner dimension of at most ``smallInnerDimension`` and no transpose, or of 1, skip sgemm:
/// ``smallInnerProduct``).
func gemm(_ m: Int, _ n: Int, _ k: Int,
          _ a: UnsafePointer<Float>, _ transposeA: Bool, _ b: UnsafePointer<Float>, _ transposeB: Bool,
          _ c: UnsafeMutablePointer<Float>, accumulate: Bool) {
    guard m > 0 && n > 0 && k > 0 else { return }
    gemmFlops.add(2 * m * n * k, ordering: .relaxed)
    // With k = 1 a transposed operand has the same layout as the plain one.
    if k <= smallInnerDimension && (k == 1 || !transposeA && !transposeB) {
        smallInnerProduct(m, n, k, a, b, c, accumulate: accumulate)
        return
    }
    chooseGemmThreads(flops: 2 * m * n * k)
    BLAS.library.sgemm(BLAS.rowMajor, transposeA ? BLAS.transpose : BLAS.noTranspose, transposeB ? BLAS.transpose : BLAS.noTranspose,
                       Int32(m), Int32(n), Int32(k), 1,
                       a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n),
                       accumulate ? 1 : 0, c, Int32(n))
}

/// Products with an inner dimension up to this size skip `sgemm` (see ``smallInnerProduct``).
let smallInnerDimension = 4

/// `c (+)= a·b` for an inner dimension `k` of a few (the coordinate-wise LSTM's `[P, 2]`
/// gradient features times `[2, 4H]`): each row of `c` is `k` scaled rows of `b`, one
/// vectorised pass that writes `c` once. `sgemm` would first clear `c` (β = 0), then pack
/// both operands and update `c` again, for two multiply-adds per element. A single column
/// (`n` = 1, an output head) runs in C, vectorised across rows (`l2lk_row_dot`). Rows are
/// split across cores; every element's sum is the plain chain of multiplications and
/// additions in the order of `k`, so it is deterministic.
private func smallInnerProduct(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                               _ c: UnsafeMutablePointer<Float>, accumulate: Bool) {
    Kernels.forChunks(m, minimumWork: n * (k + 1)) { rows in
        if n == 1 {   // a matrix-vector product (a coordinate-wise network's output head): rows vectorised in C
            l2lk_row_dot(rows.count, k, a + rows.lowerBound * k, b, c + rows.lowerBound, accumulate ? 1 : 0)
            return
        }
        for i in rows {
            let (row, ai) = (c + i * n, a + i * k)
            if !accumulate { row.initialize(repeating: 0, count: n) }
            for l in 0..<k {
                let (s, bl) = (ai[l], b + l * n)
                for j in 0..<n { row[j] += s * bl[j] }
            }
        }
    }
}

/// Matrix products on CBLAS `sgemm`.
extension Tensor {
    /// `op(a) · op(b)` for matrices, where `op` transposes when asked.
    ///
    /// Shapes: `a` is `[m, k]` (`[k, m]` if `transposeA`), `b` is `[k, n]` (`[n, k]` if
    /// `transposeB`); the result is `[m, n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor,
                              transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: expected matrices, got shapes \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == kb, "matmul: inner dimensions differ: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "")")
        let out = Tensor(shape: [m, n]) { c, count in
            if k == 0 { c.initialize(repeating: 0, count: count); return }
            gemm(m, n, k, a.storage.pointer, transposeA, b.storage.pointer, transposeB, c, accumulate: false)
        }
        return out.recorded([a, b]) { c in
            let (a, b, g) = (c.inputs[0], c.inputs[1], c.grad)
            let ga: Tensor?, gb: Tensor?
            switch (transposeA, transposeB) {
            case (false, false):
                ga = a.isTracked ? matmul(g, b, transposeB: true) : nil
                gb = b.isTracked ? matmul(a, g, transposeA: true) : nil
            case (true, false):
                ga = a.isTracked ? matmul(b, g, transposeB: true) : nil
                gb = b.isTracked ? matmul(a, g) : nil
            case (false, true):
                ga = a.isTracked ? matmul(g, b) : nil
                gb = b.isTracked ? matmul(g, a, transposeA: true) : nil
            case (true, true):
                ga = a.isTracked ? matmul(b, g, transposeA: true, transposeB: true) : nil
                gb = b.isTracked ? matmul(g, a, transposeA: true, transposeB: true) : nil
            }
            return [ga, gb]
        }
    }
}

/// `a · b` for matrices; see ``Tensor/matmul(_:_:transposeA:transposeB:)``.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
}

import Dispatch
import Glibc

/// Element-wise kernels: tight loops over contiguous buffers. The per-element function is
/// a closure literal inlined at each call site, so every op compiles to its own loop.
public enum Kernels {
    /// Work below this many elements runs on the calling thread; above it, split across cores.
    static let parallelThreshold = 1 << 16
    public static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Runs `body` over `0..<count` in contiguous chunks, in parallel when the total work
    /// (`count` items of `workPerItem` elements each) is large.
    @inline(__always)
    static func forChunks(_ count: Int, minimumWork workPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        if count * workPerItem < parallelThreshold || count < 2 || cores == 1 {
            body(0..<count)
            return
        }
        let chunks = cores
        let size = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * size, hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// `out[i] = f(x[i])`.
    @inline(__always)
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        Tensor(shape: x.shape) { out, n in
            let p = x.storage.pointer
            forChunks(n) { r in for i in r { out[i] = f(p[i]) } }
        }
    }

    /// `out[i] = f(a[i], b[i])` for two tensors of the same element count.
    @inline(__always)
    static func zip(_ a: Tensor, _ b: Tensor, shape: [Int], _ f: (Float, Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out, n in
            let pa = a.storage.pointer, pb = b.storage.pointer
            forChunks(n) { r in for i in r { out[i] = f(pa[i], pb[i]) } }
        }
    }

    /// `out = f(a, b)` with NumPy broadcasting; `op` names the caller in shape errors.
    @inline(__always)
    static func broadcast(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape { return zip(a, b, shape: a.shape, f) }
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("\(op): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let pa = a.storage.pointer, pb = b.storage.pointer
        if b.count == 1 && a.shape == shape {
            let s = pb[0]
            return Tensor(shape: shape) { out, n in forChunks(n) { r in for i in r { out[i] = f(pa[i], s) } } }
        }
        if a.count == 1 && b.shape == shape {
            let s = pa[0]
            return Tensor(shape: shape) { out, n in forChunks(n) { r in for i in r { out[i] = f(s, pb[i]) } } }
        }
        // General case: walk the output row by row; the innermost dimension is a strided loop.
        let sa = Shape.broadcastStrides(a.shape, to: shape)
        let sb = Shape.broadcastStrides(b.shape, to: shape)
        let rank = shape.count
        let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
        return Tensor(shape: shape) { out, n in
            guard n > 0 else { return }
            var index = [Int](repeating: 0, count: rank)
            var oa = 0, ob = 0, o = 0
            while o < n {
                var ja = oa, jb = ob
                for k in 0..<inner {
                    out[o + k] = f(pa[ja], pb[jb])
                    ja += ia; jb += ib
                }
                o += inner
                // Advance the outer index (odometer), keeping the two input offsets in step.
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1; oa += sa[d]; ob += sb[d]
                    if index[d] < shape[d] { break }
                    oa -= sa[d] * shape[d]; ob -= sb[d] * shape[d]; index[d] = 0
                    d -= 1
                }
            }
        }
    }
}

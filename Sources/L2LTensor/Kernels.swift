import Dispatch
import Glibc
import CKernels
import Synchronization

/// Element-wise kernels: tight loops over contiguous buffers, split across cores for large
/// tensors. Each op is a case of ``UnaryOp`` or ``BinaryOp``, so the switch on the op runs
/// once per chunk and every case compiles to its own specialised (vectorisable) loop —
/// even on the parallel path, where a per-element closure would become an indirect call.
public enum Kernels {
    /// Work below this many elements runs on the calling thread; above it, split across cores.
    static let parallelThreshold = 1 << 16
    /// Cores this process may run on: those of its CPU affinity mask (so a process bound to
    /// one core, as `mpirun --bind-to core` does, counts 1), else the online cores.
    public static let cores = Int(l2lk_available_cpus())

    /// The default of ``threads``: `L2L_NUM_THREADS` if it is set to a positive whole number,
    /// else ``cores``.
    private static let defaultThreads: Int = {
        if let text = getenv("L2L_NUM_THREADS").map({ String(cString: $0) }), let n = Int(text), n >= 1 { return min(n, 256) }
        return cores
    }()

    private static let threadCount = Atomic<Int>(defaultThreads)

    /// Threads l2l's own kernels split their work across (default: `L2L_NUM_THREADS`, else
    /// ``cores``), and the most workers of a ``parallelMap(_:_:)``. Large BLAS products use as
    /// many, capped by the BLAS's own count when it opened (``BLAS/threads`` is the result),
    /// except inside a `parallelMap` item, where everything runs on the item's thread. Every
    /// kernel gives the same bits for any value: work is split by rows, and reductions sum
    /// fixed blocks in a fixed order. Set it (1…256) for tests or to leave cores to other work.
    public static var threads: Int {
        get { threadCount.load(ordering: .relaxed) }
        set { threadCount.store(Swift.min(Swift.max(1, newValue), 256), ordering: .relaxed) }
    }

    /// The instruction sets l2l's SIMD kernels (CKernels) can run on this CPU, narrowest
    /// first: `"baseline"`, then `"avx2"`, `"avx512"` where supported.
    public static var instructionSets: [String] {
        (0...Int(l2lk_isa_supported())).map { String(cString: l2lk_isa_name(Int32($0))) }
    }

    /// The instruction set the SIMD kernels use: the widest the CPU has unless set to one of
    /// ``instructionSets`` (an unknown name leaves it unchanged). Results are the same bits
    /// on each; only the speed differs.
    public static var instructionSet: String {
        get { String(cString: l2lk_isa_name(l2lk_isa())) }
        set {
            if let isa = instructionSets.firstIndex(of: newValue) { l2lk_set_isa(Int32(isa)) }
        }
    }

    /// Runs `body` over `0..<count` in contiguous chunks, in parallel when the total work
    /// (`count` items of `workPerItem` elements each) is large and the calling thread is not
    /// running an item of ``parallelMap(_:_:)``.
    @inline(__always)
    static func forChunks(_ count: Int, minimumWork workPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = threads
        if count * workPerItem < parallelThreshold || count < 2 || chunks == 1 || onParallelItem {
            body(0..<count)
            return
        }
        let size = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * size, hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// `out[i] = op(x[i])`.
    static func map(_ x: Tensor, _ op: UnaryOp) -> Tensor {
        Tensor(shape: x.shape) { out, n in
            let p = x.storage.pointer
            forChunks(n) { r in op.apply(p, out, r) }
        }
    }

    /// `out = op(a, b)` with NumPy broadcasting; `name` names the caller in shape errors.
    static func broadcast(_ a: Tensor, _ b: Tensor, _ op: BinaryOp, name: String) -> Tensor {
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("\(name): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let pa = a.storage.pointer, pb = b.storage.pointer
        // Contiguous cases: equal shapes, or a scalar against a full tensor.
        if a.shape == shape && (b.shape == shape || b.count == 1) {
            let sb = b.shape == shape ? 1 : 0
            return Tensor(shape: shape) { out, n in forChunks(n) { r in op.apply(pa, 1, pb, sb, out, r) } }
        }
        if b.shape == shape && a.count == 1 {
            return Tensor(shape: shape) { out, n in forChunks(n) { r in op.apply(pa, 0, pb, 1, out, r) } }
        }
        // General case: rows of the innermost dimension, each a strided loop.
        let sa = Shape.broadcastStrides(a.shape, to: shape)
        let sb = Shape.broadcastStrides(b.shape, to: shape)
        let rank = shape.count
        let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
        return Tensor(shape: shape) { out, n in
            guard n > 0 else { return }
            var index = [Int](repeating: 0, count: rank)
            var oa = 0, ob = 0, o = 0
            while o < n {
                op.apply(pa + oa, ia, pb + ob, ib, out + o, 0..<inner)
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

/// One-input element-wise functions (scalar parameters ride in the case).
enum UnaryOp {
    case neg, exp, log, sin, cos, sqrt, abs, sign, relu, sigmoid, tanh, softplus, square
    case pow(Float), addScalar(Float), mulScalar(Float), subtractFrom(Float), divide(Float)
    case clamp(Float, Float)
    /// 1 where lo ≤ x ≤ hi, else 0.
    case inside(Float, Float)
    case greaterThan(Float), lessThan(Float)

    /// `out[i] = f(x[i])` for `i` in `r`.
    @inline(never)
    func apply(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ r: Range<Int>) {
        @inline(__always) func loop(_ f: (Float) -> Float) { for i in r { out[i] = f(x[i]) } }
        func mapped(_ function: Int32) { l2lk_map(function, r.count, x + r.lowerBound, out + r.lowerBound) }
        switch self {
        case .neg: loop { -$0 }
        case .exp: mapped(Int32(L2LK_MAP_EXP))
        case .log: loop { logf($0) }
        case .sin: loop { sinf($0) }
        case .cos: loop { cosf($0) }
        case .sqrt: loop { $0.squareRoot() }
        case .abs: loop { Swift.abs($0) }
        case .sign: loop { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case .relu: loop { Swift.max($0, 0) }
        case .sigmoid: mapped(Int32(L2LK_MAP_SIGMOID))
        case .tanh: mapped(Int32(L2LK_MAP_TANH))
        case .softplus: mapped(Int32(L2LK_MAP_SOFTPLUS))
        case .square: loop { $0 * $0 }
        case .pow(let p): loop { powf($0, p) }
        case .addScalar(let s): loop { $0 + s }
        case .mulScalar(let s): loop { $0 * s }
        case .subtractFrom(let s): loop { s - $0 }
        case .divide(let s): loop { s / $0 }
        case .clamp(let lo, let hi): loop { Swift.min(Swift.max($0, lo), hi) }
        case .inside(let lo, let hi): loop { $0 >= lo && $0 <= hi ? 1 : 0 }
        case .greaterThan(let s): loop { $0 > s ? 1 : 0 }
        case .lessThan(let s): loop { $0 < s ? 1 : 0 }
        }
    }
}

/// Two-input element-wise functions.
enum BinaryOp {
    case add, sub, mul, div
    /// 1 where a > b, else 0.
    case greater
    /// `a` (to stretch `a` to a broadcast shape).
    case first

    /// `out[i] = f(a[i·sa], b[i·sb])` for `i` in `r` (strides 0 or more).
    @inline(never)
    func apply(_ a: UnsafeMutablePointer<Float>, _ sa: Int, _ b: UnsafeMutablePointer<Float>, _ sb: Int,
               _ out: UnsafeMutablePointer<Float>, _ r: Range<Int>) {
        @inline(__always) func loop(_ f: (Float, Float) -> Float) {
            if sa == 1 && sb == 1 {
                for i in r { out[i] = f(a[i], b[i]) }
            } else if sa == 1 && sb == 0 {
                let s = b[0]
                for i in r { out[i] = f(a[i], s) }
            } else if sa == 0 && sb == 1 {
                let s = a[0]
                for i in r { out[i] = f(s, b[i]) }
            } else {
                for i in r { out[i] = f(a[i * sa], b[i * sb]) }
            }
        }
        // `first` never reads `b`, which may be a one-element shape carrier: no loop over it.
        if case .first = self {
            for i in r { out[i] = a[i * sa] }
            return
        }
        switch self {
        case .add: loop { $0 + $1 }
        case .sub: loop { $0 - $1 }
        case .mul: loop { $0 * $1 }
        case .div: loop { $0 / $1 }
        case .greater: loop { $0 > $1 ? 1 : 0 }
        case .first: break
        }
    }
}

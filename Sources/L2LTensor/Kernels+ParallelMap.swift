import Dispatch
import Synchronization

extension Kernels {
    /// `body(0), …, body(count − 1)` in order, computed by up to ``threads`` workers at once
    /// when there are two items or more: the parallelism for independent pieces of work (an
    /// evolution-strategies estimator's particles, a meta-batch's members), where splitting
    /// each item's small ops across cores would gain little. Each worker takes the next item
    /// not yet taken; each item runs with the caller's graph-recording mode, and the kernels,
    /// products and nested `parallelMap`s inside it stay on its thread, so every item gives
    /// the same bits as the same call made on one thread, for any ``threads``. Up to that
    /// many items' intermediate results are alive at once. `body` must not mutate state that
    /// other items read or write (a Python callback, say).
    public static func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        let context = ThreadContext.current
        let workers = min(threads, count)
        guard workers >= 2, !context.isParallelItem else { return (0..<count).map(body) }
        let recording = context.isRecording
        let taken = Atomic<Int>(0)
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let own = ThreadContext.current
                let saved = (own.isRecording, own.isParallelItem)
                (own.isRecording, own.isParallelItem) = (recording, true)
                defer { (own.isRecording, own.isParallelItem) = saved }
                while case let i = taken.add(1, ordering: .relaxed).oldValue, i < count { base[i] = body(i) }
            }
        }
        return results.map { $0! }
    }

    /// Whether the calling thread runs an item of ``parallelMap(_:_:)``: its kernels and
    /// products then use this thread alone.
    static var onParallelItem: Bool { ThreadContext.current.isParallelItem }
}

import Dispatch

extension Kernels {
    /// `body(0), …, body(count − 1)` in order, computed on up to ``threads`` threads at once
    /// when there are two items or more: the parallelism for independent pieces of work (an
    /// evolution-strategies estimator's particles), where splitting each item's small ops
    /// across cores would gain little. Items are dealt out by index (item i to thread
    /// i mod n); each runs with the caller's graph-recording mode, and the kernels, products
    /// and nested `parallelMap`s inside an item stay on its thread, so every item gives the
    /// same bits as the same call made on one thread, for any ``threads``. `body` must not
    /// mutate state that other items read or write (a Python callback, say).
    public static func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        let context = ThreadContext.current
        let workers = min(threads, count)
        guard workers >= 2, !context.isParallelItem else { return (0..<count).map(body) }
        let recording = context.isRecording
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let own = ThreadContext.current
                let saved = (own.isRecording, own.isParallelItem)
                (own.isRecording, own.isParallelItem) = (recording, true)
                defer { (own.isRecording, own.isParallelItem) = saved }
                for i in stride(from: w, to: count, by: workers) { base[i] = body(i) }
            }
        }
        return results.map { $0! }
    }

    /// Whether the calling thread runs an item of ``parallelMap(_:_:)``: its kernels and
    /// products then use this thread alone.
    static var onParallelItem: Bool { ThreadContext.current.isParallelItem }
}

import Glibc

/// What l2l keeps per thread: whether ops record the graph (``withoutGraph(_:)``) and
/// whether the thread is running an item of ``Kernels/parallelMap(_:_:)`` (its kernels then
/// stay on it). Created on a thread's first use, released when the thread exits.
final class ThreadContext {
    /// Whether ops on this thread record the graph.
    var isRecording = true
    /// Whether this thread is running an item of a ``Kernels/parallelMap(_:_:)``.
    var isParallelItem = false

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            Unmanaged<ThreadContext>.fromOpaque(raw!).release()
        }
        return key
    }()

    /// The calling thread's context.
    static var current: ThreadContext {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<ThreadContext>.fromOpaque(raw).takeUnretainedValue()
        }
        let context = ThreadContext()
        pthread_setspecific(key, Unmanaged.passRetained(context).toOpaque())
        return context
    }
}

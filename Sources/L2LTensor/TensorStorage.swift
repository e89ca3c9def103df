import Glibc
import Synchronization

/// A 64-byte-aligned, heap-allocated buffer of `Float`s; the memory behind a ``Tensor``.
///
/// Storage is a class so tensors can share it cheaply; ``Tensor`` gives value semantics
/// on top by copying before any write to shared storage. Large buffers come from
/// ``BufferCache``, so a training loop that allocates the same big activations every step
/// reuses memory instead of faulting in fresh pages each time.
public final class TensorStorage {
    /// Start of the buffer: `count` contiguous `Float`s, 64-byte aligned.
    let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int
    /// Bytes actually reserved (a cache bucket's size for large buffers).
    private let capacityBytes: Int

    /// Allocates uninitialised storage for `count` elements.
    init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let (raw, bytes) = BufferCache.allocate(bytes: max(count, 1) * MemoryLayout<Float>.stride)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        capacityBytes = bytes
        self.count = count
    }

    /// Allocates storage for `count` elements, every one set to `value`.
    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// A new storage holding a copy of this one.
    func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit { BufferCache.release(UnsafeMutableRawPointer(pointer), bytes: capacityBytes) }
}

/// Keeps freed large buffers (≥ 256 KiB) for reuse, in size buckets a quarter-octave
/// apart (at most 25 % slack), up to ``limitBytes`` in total. Small buffers go straight
/// to the C allocator. Thread-safe.
public enum BufferCache {
    /// Buffers below this size are not cached.
    static let minimumBytes = 256 << 10
    /// The most memory the cache holds on to (1 GiB).
    public static let limitBytes = 1 << 30

    private struct State {
        var free: [Int: [UnsafeMutableRawPointer]] = [:]
        var cachedBytes = 0
    }
    private static let state = Mutex(State())
    private static let live = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)

    /// Bytes held by live tensors now (what the cache keeps for reuse is not counted).
    public static var liveBytes: Int { live.load(ordering: .relaxed) }

    /// The most bytes live tensors held at once since the process started or the last
    /// ``resetPeak()``: the tensor memory a computation needed.
    public static var peakLiveBytes: Int { peak.load(ordering: .relaxed) }

    /// Starts a new peak measurement from the bytes live now.
    public static func resetPeak() { peak.store(live.load(ordering: .relaxed), ordering: .relaxed) }

    /// Runs `body` and returns its result with the most bytes live tensors held above those
    /// live at its start while it ran. An enclosing measurement (``peakLiveBytes``) still
    /// sees this peak.
    public static func measurePeak<T>(_ body: () throws -> T) rethrows -> (result: T, bytes: Int) {
        let outer = peakLiveBytes, start = liveBytes
        resetPeak()
        let result = try body()
        let inner = peakLiveBytes
        peak.store(max(outer, inner), ordering: .relaxed)
        return (result, inner - start)
    }

    private static func count(_ bytes: Int) {
        let now = live.wrappingAdd(bytes, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// The bucket size for a request of `bytes`: the next of 2^k · {1, 1.25, 1.5, 1.75}.
    static func bucket(_ bytes: Int) -> Int {
        guard bytes > minimumBytes else { return bytes }
        let octave = 1 << (Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount)   // largest power of 2 ≤ bytes − 1
        let quarter = octave / 4
        return octave + ((bytes - octave + quarter - 1) / quarter) * quarter
    }

    static func allocate(bytes request: Int) -> (UnsafeMutableRawPointer, Int) {
        let bytes = bucket(request)
        count(bytes)
        if bytes >= minimumBytes, let reused = state.withLock({ s -> UnsafeMutableRawPointer? in
            guard let p = s.free[bytes]?.popLast() else { return nil }
            s.cachedBytes -= bytes
            return p
        }) {
            return (reused, bytes)
        }
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, bytes)
        if rc != 0 || raw == nil {
            releaseAll()   // give the cache back and try once more
            let retry = posix_memalign(&raw, 64, bytes)
            precondition(retry == 0 && raw != nil, "TensorStorage: out of memory allocating \(bytes) bytes")
        }
        return (raw!, bytes)
    }

    static func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        live.wrappingSubtract(bytes, ordering: .relaxed)
        if bytes >= minimumBytes {
            let kept = state.withLock { s -> Bool in
                guard s.cachedBytes + bytes <= limitBytes else { return false }
                s.free[bytes, default: []].append(pointer)
                s.cachedBytes += bytes
                return true
            }
            if kept { return }
        }
        free(pointer)
    }

    /// Bytes currently held for reuse.
    public static var cachedBytes: Int { state.withLock { $0.cachedBytes } }

    /// Returns every cached buffer to the system.
    public static func releaseAll() {
        let buffers = state.withLock { s -> [UnsafeMutableRawPointer] in
            defer { s.free = [:]; s.cachedBytes = 0 }
            return s.free.values.flatMap { $0 }
        }
        for p in buffers { free(p) }
    }
}

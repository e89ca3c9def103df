import Glibc

/// A 64-byte-aligned, heap-allocated buffer of `Float`s; the memory behind a ``Tensor``.
///
/// Storage is a class so tensors can share it cheaply; ``Tensor`` gives value semantics
/// on top by copying before any write to shared storage.
public final class TensorStorage {
    /// Start of the buffer: `count` contiguous `Float`s, 64-byte aligned.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Allocates uninitialised storage for `count` elements.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let rc = posix_memalign(&raw, 64, bytes)
        precondition(rc == 0 && raw != nil, "TensorStorage: out of memory allocating \(bytes) bytes")
        pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    /// Allocates storage for `count` elements, every one set to `value`.
    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// A new storage holding a copy of this one.
    public func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit { free(pointer) }
}

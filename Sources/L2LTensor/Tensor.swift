/// A dense, row-major, contiguous tensor of `Float`s with value semantics.
///
/// A tensor may carry a node of the autodiff graph (``isTracked``): every op on tracked
/// inputs records how to differentiate itself, so ``gradients(of:wrt:createGraph:)`` can
/// differentiate any scalar it computes, to any order. Shapes are checked on every op; a
/// mismatch traps with a message that names the op and both shapes (the C ABI and the
/// learners validate user input before it reaches an op, so it never traps there).
///
/// ```swift
/// let w = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]).tracked()
/// let loss = (w * w).sum()
/// let (g) = gradients(of: loss, wrt: [w])[0]   // 2 w
/// ```
public struct Tensor {
    /// Dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    var storage: TensorStorage
    /// The graph node that produced this tensor, or `nil` for a constant.
    var node: GraphNode?

    init(shape: [Int], storage: TensorStorage, node: GraphNode? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Whether this tensor belongs to the autodiff graph (gradients can reach it).
    public var isTracked: Bool { node != nil }

    // MARK: Creation

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:scalars:): negative dimension in \(shape)")
        precondition(Shape.count(shape) == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) needs \(Shape.count(shape)) values, got \(scalars.count)")
        let s = TensorStorage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { s.pointer.initialize(from: $0.baseAddress!, count: scalars.count) }
        self.init(shape: shape, storage: s)
    }

    /// A tensor of `shape` copied from `count(shape)` floats at `pointer`.
    public init(shape: [Int], copying pointer: UnsafePointer<Float>) {
        let s = TensorStorage(uninitializedCount: Shape.count(shape))
        s.pointer.initialize(from: pointer, count: s.count)
        self.init(shape: shape, storage: s)
    }

    /// A tensor of `shape` with every element `value`.
    public init(repeating value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(repeating:shape:): negative dimension in \(shape)")
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: Shape.count(shape)))
    }

    /// A scalar (shape `[]`).
    public init(_ value: Float) { self.init(repeating: value, shape: []) }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Ones of `shape`.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// A tensor of `shape` whose elements are written by `fill` into uninitialised storage.
    public init(shape: [Int], fill: (UnsafeMutablePointer<Float>, Int) -> Void) {
        let s = TensorStorage(uninitializedCount: Shape.count(shape))
        fill(s.pointer, s.count)
        self.init(shape: shape, storage: s)
    }

    // MARK: Reading and writing

    /// All elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements")
        return storage.pointer[0]
    }

    /// Reads the elements in place (no copy).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes the elements in place. Copies first if the storage is shared, and drops the
    /// tensor from the autodiff graph (a written tensor is a new constant).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        node = nil
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Whether every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool {
        // A float is NaN or infinite exactly when its exponent bits are all ones; adding
        // one exponent step then carries into the sign bit. Integer ops, so it vectorises.
        let bits = UnsafeRawPointer(storage.pointer).assumingMemoryBound(to: UInt32.self)
        var flags: UInt32 = 0
        for i in 0..<count { flags |= ((bits[i] & 0x7F80_0000) &+ 0x0080_0000) & 0x8000_0000 }
        return flags == 0
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = count <= 16 ? "\(scalars)" : "\(Array(scalars.prefix(8))) … (\(count) values)"
        return "Tensor(shape: \(shape), \(shown)\(isTracked ? ", tracked" : ""))"
    }
}

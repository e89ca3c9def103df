/// Gradient rules read their inputs from the context (`c.inputs`), never from captured
/// tensors: a captured tensor would keep its graph node alive outside the graph's own
/// bookkeeping, and freeing a long chain would then recurse.
///
/// Element-wise arithmetic with NumPy broadcasting (a row `[n]`/`[1, n]` or a column
/// `[m, 1]` against `[m, n]`, a scalar against anything). Gradients are summed back to
/// each input's shape by ``Tensor/sum(toShape:)``.
extension Tensor {
    /// Element-wise sum; the result has the broadcast shape of `a` and `b`.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        Kernels.broadcast(a, b, .add, name: "add").recorded([a, b]) { c in
            [c.grad.sum(toShape: c.inputs[0].shape), c.grad.sum(toShape: c.inputs[1].shape)]
        }
    }

    /// Element-wise difference; the result has the broadcast shape of `a` and `b`.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        Kernels.broadcast(a, b, .sub, name: "sub").recorded([a, b]) { c in
            [c.grad.sum(toShape: c.inputs[0].shape), (-c.grad).sum(toShape: c.inputs[1].shape)]
        }
    }

    /// Element-wise product; the result has the broadcast shape of `a` and `b`.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        Kernels.broadcast(a, b, .mul, name: "mul").recorded([a, b]) { c in
            let (a, b) = (c.inputs[0], c.inputs[1])
            return [a.isTracked ? (c.grad * b).sum(toShape: a.shape) : nil,
                    b.isTracked ? (c.grad * a).sum(toShape: b.shape) : nil]
        }
    }

    /// Element-wise quotient; the result has the broadcast shape of `a` and `b`.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        Kernels.broadcast(a, b, .div, name: "div").recorded([a, b]) { c in
            let (a, b) = (c.inputs[0], c.inputs[1])
            return [a.isTracked ? (c.grad / b).sum(toShape: a.shape) : nil,
                    b.isTracked ? (-(c.grad * a) / (b * b)).sum(toShape: b.shape) : nil]
        }
    }

    /// Element-wise negation (same shape).
    public static prefix func - (x: Tensor) -> Tensor {
        Kernels.map(x, .neg).recorded([x]) { c in [-c.grad] }
    }

    // MARK: With a Float (same shape as the tensor operand)

    public static func + (a: Tensor, s: Float) -> Tensor {
        Kernels.map(a, .addScalar(s)).recorded([a]) { c in [c.grad] }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor {
        Kernels.map(a, .subtractFrom(s)).recorded([a]) { c in [-c.grad] }
    }
    public static func * (a: Tensor, s: Float) -> Tensor {
        Kernels.map(a, .mulScalar(s)).recorded([a]) { c in [c.grad * s] }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func / (s: Float, a: Tensor) -> Tensor {
        Kernels.map(a, .divide(s)).recorded([a]) { c in
            let a = c.inputs[0]
            return [-(c.grad * s) / (a * a)]
        }
    }

    /// `self += other` in this tensor's own storage, for a storage nobody else holds and a
    /// constant (the gradient accumulation of a first-order backward pass). Same shapes.
    mutating func addInPlace(_ other: Tensor) {
        precondition(shape == other.shape && node == nil && isKnownUniquelyReferenced(&storage),
                     "addInPlace: needs an unshared constant of the same shape")
        let (p, q) = (storage.pointer, other.storage.pointer)
        Kernels.forChunks(count) { r in BinaryOp.add.apply(p, 1, q, 1, p, r) }
    }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
}

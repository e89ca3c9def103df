/// Picking elements by integer index, and selecting by a mask.
extension Tensor {
    /// Picks `self[i, indices[i]]` from each row of a `[n, c]` tensor: the result is `[n]`.
    /// Typical use: the logit or log-probability of each example's label.
    public func gather(rows indices: [Int32]) -> Tensor {
        precondition(rank == 2, "gather: expected a [n, c] tensor, got shape \(shape)")
        let (n, c) = (shape[0], shape[1])
        precondition(indices.count == n, "gather: \(indices.count) indices for shape \(shape)")
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < c }, "gather: an index is outside 0..<\(c)")
        let p = storage.pointer
        return Tensor(shape: [n]) { out, _ in
            for i in 0..<n { out[i] = p[i * c + Int(indices[i])] }
        }.recorded([self]) { ctx in [ctx.grad.scatter(rows: indices, columns: c)] }
    }

    /// The adjoint of ``gather(rows:)``: a `[n, columns]` tensor of zeros with `self[i]` at
    /// column `indices[i]` of row `i`.
    public func scatter(rows indices: [Int32], columns c: Int) -> Tensor {
        precondition(rank == 1 && indices.count == shape[0],
                     "scatter: expected [\(indices.count)] values, got shape \(shape)")
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < c }, "scatter: an index is outside 0..<\(c)")
        let n = shape[0]
        let out = Tensor(repeating: 0, shape: [n, c])
        let (p, q) = (storage.pointer, out.storage.pointer)
        for i in 0..<n { q[i * c + Int(indices[i])] = p[i] }
        return out.recorded([self]) { ctx in [ctx.grad.gather(rows: indices)] }
    }

    /// `a` where `mask` is non-zero, `b` elsewhere. `a` and `b` broadcast to the mask's
    /// shape; the mask is a constant (no gradient flows into it).
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = mask.shape
        for t in [a, b] {
            precondition(Shape.broadcast(t.shape, shape) == shape,
                         "where: shape \(t.shape) does not broadcast to the mask's shape \(shape)")
        }
        let (fa, fb) = (a.broadcast(to: shape).detached(), b.broadcast(to: shape).detached())
        let (m, pa, pb) = (mask.storage.pointer, fa.storage.pointer, fb.storage.pointer)
        return Tensor(shape: shape) { out, n in
            for i in 0..<n { out[i] = m[i] != 0 ? pa[i] : pb[i] }
        }.recorded([a, b]) { c in
            let zero = Tensor.zeros([])
            return [c.inputs[0].isTracked ? select(mask, c.grad, zero).sum(toShape: a.shape) : nil,
                    c.inputs[1].isTracked ? select(mask, zero, c.grad).sum(toShape: b.shape) : nil]
        }
    }
}

/// `a` where `mask` is non-zero, `b` elsewhere; see ``Tensor/select(_:_:_:)``.
public func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor { Tensor.select(mask, a, b) }

/// Picking elements by integer index, and selecting by a mask.
extension Tensor {
    /// Picks `self[i, indices[i]]` from each row of a `[n, c]` tensor: the result is `[n]`.
    /// Typical use: the logit or log-probability of each example's label.
    public func gather(rows indices: [Int32]) -> Tensor {
        precondition(rank == 2, "gather: expected a [n, c] tensor, got shape \(shape)")
        precondition(indices.count == shape[0], "gather: \(indices.count) indices for shape \(shape)")
        return gather(flat: Tensor.rowIndices(indices, columns: shape[1], op: "gather"), shape: [shape[0]])
    }

    /// The adjoint of ``gather(rows:)``: a `[n, columns]` tensor of zeros with `self[i]` at
    /// column `indices[i]` of row `i`.
    public func scatter(rows indices: [Int32], columns c: Int) -> Tensor {
        precondition(rank == 1 && indices.count == shape[0],
                     "scatter: expected [\(indices.count)] values, got shape \(shape)")
        return scatterAdd(flat: Tensor.rowIndices(indices, columns: c, op: "scatter"), shape: [shape[0], c])
    }

    /// Flat positions `i·c + indices[i]`, after checking every index is in `0..<c`.
    private static func rowIndices(_ indices: [Int32], columns c: Int, op: String) -> [Int32] {
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < c }, "\(op): an index is outside 0..<\(c)")
        return indices.enumerated().map { Int32($0.offset * c) + $0.element }
    }

    /// `a` where `mask` is non-zero, `b` elsewhere. `a` and `b` broadcast to the mask's
    /// shape; the mask is a constant (no gradient flows into it).
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = mask.shape
        for t in [a, b] {
            precondition(Shape.broadcast(t.shape, shape) == shape,
                         "where: shape \(t.shape) does not broadcast to the mask's shape \(shape)")
        }
        let (fa, fb) = withoutGraph { (a.broadcast(to: shape), b.broadcast(to: shape)) }
        let out = withExtendedLifetime((mask, fa, fb)) {
            let (m, pa, pb) = (mask.storage.pointer, fa.storage.pointer, fb.storage.pointer)
            return Tensor(shape: shape) { out, n in
                for i in 0..<n { out[i] = m[i] != 0 ? pa[i] : pb[i] }
            }
        }
        let constantMask = mask.detached()
        return out.recorded([a, b]) { c in
            let zero = Tensor.zeros([])
            let (a, b) = (c.inputs[0], c.inputs[1])
            return [a.isTracked ? select(constantMask, c.grad, zero).sum(toShape: a.shape) : nil,
                    b.isTracked ? select(constantMask, zero, c.grad).sum(toShape: b.shape) : nil]
        }
    }
}

/// `a` where `mask` is non-zero, `b` elsewhere; see ``Tensor/select(_:_:_:)``.
public func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor { Tensor.select(mask, a, b) }

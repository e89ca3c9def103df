/// Sums and means over all elements or one axis, and the broadcast/sum-back pair that
/// every gradient rule uses to undo broadcasting.
extension Tensor {
    /// Sum of all elements (shape `[]`).
    public func sum() -> Tensor {
        // Blocks of 4096 summed in Float (vectorised), the block sums accumulated in Double.
        let p = storage.pointer
        var acc: Double = 0
        var start = 0
        while start < count {
            let n = Swift.min(4096, count - start)
            acc += Double(contiguousSum(p + start, n))
            start += n
        }
        return Tensor(Float(acc)).recorded([self]) { [shape] c in [c.grad.broadcast(to: shape)] }
    }

    /// Mean of all elements (shape `[]`).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum along `axis` (negative counts from the end). With `keepDims` the axis stays with
    /// size 1, so the result broadcasts against `self`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = Shape.axis(axis, rank: rank, op: "sum(axis:)")
        let (outer, n, inner) = Shape.split(shape, at: ax)
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let p = storage.pointer
        let result = Tensor(repeating: 0, shape: outShape)
        let q = result.storage.pointer
        if inner == 1 {
            // Rows of contiguous values: eight partial sums so the loop vectorises.
            Kernels.forChunks(outer, minimumWork: n) { rows in
                for o in rows { q[o] = contiguousSum(p + o * n, n) }
            }
        } else {
            Kernels.forChunks(outer, minimumWork: n * inner) { blocks in
                for o in blocks {
                    let dst = q + o * inner
                    for k in 0..<n {
                        let src = p + (o * n + k) * inner
                        for i in 0..<inner { dst[i] += src[i] }
                    }
                }
            }
        }
        let keptShape: [Int] = { var s = shape; s[ax] = 1; return s }()
        return result.recorded([self]) { [shape] c in
            [c.grad.reshaped(keptShape).broadcast(to: shape)]
        }
    }

    /// Mean along `axis`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = Shape.axis(axis, rank: rank, op: "mean(axis:)")
        return sum(axis: ax, keepDims: keepDims) * (1 / Float(Swift.max(shape[ax], 1)))
    }

    /// This tensor stretched to `target` by NumPy broadcasting (a copy). Its gradient is
    /// the incoming gradient summed back to this shape.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        guard let b = Shape.broadcast(shape, target), b == target else {
            preconditionFailure("broadcast(to:): shape \(shape) does not broadcast to \(target)")
        }
        // The second operand only supplies the shape: a one-element tensor stretched to it.
        let shapeCarrier = Tensor(shape: target, storage: TensorStorage(repeating: 0, count: 1))
        return Kernels.broadcast(self, shapeCarrier, .first, name: "broadcast(to:)")
            .recorded([self]) { [shape] c in [c.grad.sum(toShape: shape)] }
    }

    /// This tensor summed down to `target`, the inverse of broadcasting `target` up to this
    /// shape: leading extra axes and axes where `target` has size 1 are summed away.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Shape.broadcast(target, shape) == shape,
                     "sum(toShape:): shape \(target) does not broadcast to \(shape)")
        var t = self
        while t.rank > target.count { t = t.sum(axis: 0) }
        for ax in 0..<target.count where target[ax] == 1 && t.shape[ax] != 1 {
            t = t.sum(axis: ax, keepDims: true)
        }
        return t.reshaped(target)
    }

    /// Index of the largest element of each row of a `[n, c]` tensor (ties: the first).
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows: expected a [n, c] tensor, got shape \(shape)")
        let (n, c) = (shape[0], shape[1])
        let p = storage.pointer
        return (0..<n).map { i in
            var best = 0
            let row = p + i * c
            for j in 1..<Swift.max(c, 1) where row[j] > row[best] { best = j }
            return best
        }
    }
}

/// Sum of `n` contiguous floats with eight independent partial sums (so the loop
/// vectorises without reordering a single accumulator).
@inline(__always)
func contiguousSum(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        lanes += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = lanes.sum()
    while i < n { total += p[i]; i += 1 }
    return total
}

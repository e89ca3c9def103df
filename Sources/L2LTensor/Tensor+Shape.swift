import CKernels

/// Reshape, transpose, slice, pad and concatenate.
extension Tensor {
    /// The same elements with a new shape of equal count; one dimension may be −1 (inferred).
    /// Shares storage (no copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = newShape.firstIndex(of: -1) {
            let rest = Shape.count(newShape.enumerated().filter { $0.offset != i }.map(\.element))
            precondition(rest > 0 && count % rest == 0, "reshape: cannot infer -1 in \(newShape) from shape \(shape)")
            target[i] = count / rest
        }
        precondition(target.allSatisfy { $0 >= 0 } && Shape.count(target) == count,
                     "reshape: shape \(shape) (\(count) elements) cannot become \(newShape)")
        if target == shape { return self }
        return Tensor(shape: target, storage: storage).recorded([self]) { [shape] c in [c.grad.reshaped(shape)] }
    }

    /// The transpose of a `[m, n]` matrix: `[n, m]`.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transpose: expected a matrix, got shape \(shape)")
        let (m, n) = (shape[0], shape[1])
        let src = storage.pointer
        return Tensor(shape: [n, m]) { dst, _ in
            // Blocked so both sides stay in cache.
            let b = 32
            for i0 in stride(from: 0, to: m, by: b) {
                for j0 in stride(from: 0, to: n, by: b) {
                    for i in i0..<Swift.min(i0 + b, m) {
                        for j in j0..<Swift.min(j0 + b, n) { dst[j * m + i] = src[i * n + j] }
                    }
                }
            }
        }.recorded([self]) { c in [c.grad.transposed()] }
    }

    /// Elements `range` along `axis` (a copy).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = Shape.axis(axis, rank: rank, op: "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax],
                     "slice: range \(range) out of bounds for axis \(ax) of shape \(shape)")
        let (outer, n, inner) = Shape.split(shape, at: ax)
        var outShape = shape
        outShape[ax] = range.count
        let src = storage.pointer
        let width = range.count * inner
        return Tensor(shape: outShape) { dst, _ in
            copyRows(outer, width: width, from: src + range.lowerBound * inner, stride: n * inner, to: dst, stride: width)
        }.recorded([self]) { [shape] c in
            [c.grad.padded(axis: ax, before: range.lowerBound, after: shape[ax] - range.upperBound)]
        }
    }

    /// This tensor with `before` and `after` zeros added along `axis` (the adjoint of ``slice(axis:_:)``).
    public func padded(axis: Int, before: Int, after: Int) -> Tensor {
        let ax = Shape.axis(axis, rank: rank, op: "pad")
        precondition(before >= 0 && after >= 0, "pad: negative padding \(before), \(after)")
        let (outer, n, inner) = Shape.split(shape, at: ax)
        var outShape = shape
        outShape[ax] = n + before + after
        let src = storage.pointer
        let total = outShape[ax] * inner
        // Each block is written once: zeros before, the copy, zeros after.
        let out = Tensor(shape: outShape) { dst, _ in
            zeroRows(outer, width: before * inner, at: dst, stride: total)
            copyRows(outer, width: n * inner, from: src, stride: n * inner, to: dst + before * inner, stride: total)
            zeroRows(outer, width: after * inner, at: dst + (before + n) * inner, stride: total)
        }
        return out.recorded([self]) { c in [c.grad.slice(axis: ax, before..<(before + n))] }
    }

    /// `tensors` joined along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let ax = Shape.axis(axis, rank: first.rank, op: "concat")
        for t in tensors {
            var a = t.shape, b = first.shape
            precondition(a.count == b.count, "concat: shapes \(first.shape) and \(t.shape) differ in rank")
            a[ax] = 0; b[ax] = 0
            precondition(a == b, "concat: shapes \(first.shape) and \(t.shape) differ off axis \(ax)")
        }
        var outShape = first.shape
        outShape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        let (outer, _, inner) = Shape.split(outShape, at: ax)
        let total = outShape[ax] * inner
        let out = Tensor(shape: outShape) { dst, _ in
            if inner == 1 && tensors.count > 1 && tensors.allSatisfy({ $0.shape[ax] == 1 }) {
                // Columns side by side (the coordinate-wise networks' features): one vectorised pass.
                let columns: [UnsafePointer<Float>?] = tensors.map { UnsafePointer($0.storage.pointer) }
                l2lk_interleave(tensors.count, outer, columns, dst)
                return
            }
            var offset = 0
            for t in tensors {
                let w = t.shape[ax] * inner
                copyRows(outer, width: w, from: t.storage.pointer, stride: w, to: dst + offset, stride: total)
                offset += w
            }
        }
        let sizes = tensors.map { $0.shape[ax] }
        return out.recorded(tensors) { c in
            var start = 0
            return sizes.map { n in
                defer { start += n }
                return c.grad.slice(axis: ax, start..<(start + n))
            }
        }
    }
}

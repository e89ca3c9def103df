/// Reordering axes.
extension Tensor {
    /// The tensor with its axes reordered: result axis `i` is input axis `axes[i]` (a copy).
    /// `transposed()` is the two-axis case.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes) == Set(0..<rank),
                     "permute: \(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        let inStrides = Shape.strides(shape)
        let strides = axes.map { inStrides[$0] }   // input stride of each output axis
        let src = storage.pointer
        let inverse = (0..<rank).map { axes.firstIndex(of: $0)! }
        return Tensor(shape: outShape) { dst, n in
            guard n > 0 else { return }
            // Walk the output in order; the innermost axis is a strided loop over the input.
            let inner = outShape[rank - 1], innerStride = strides[rank - 1]
            var index = [Int](repeating: 0, count: rank)
            var offset = 0, o = 0
            while o < n {
                var j = offset
                for k in 0..<inner { dst[o + k] = src[j]; j += innerStride }
                o += inner
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1; offset += strides[d]
                    if index[d] < outShape[d] { break }
                    offset -= strides[d] * outShape[d]; index[d] = 0
                    d -= 1
                }
            }
        }.recorded([self]) { c in [c.grad.permuted(inverse)] }
    }
}

/// A sum of matrix products computed into one buffer.
extension Tensor {
    /// `Σₖ aₖ · bₖ` for matrices, accumulated in place by `sgemm` (no temporary per
    /// product, no addition pass): the gate pre-activations `x·W + h·U` of a recurrent layer.
    ///
    /// Shapes: each `aₖ` is `[m, kₖ]` and `bₖ` is `[kₖ, n]`; the result is `[m, n]`.
    ///
    /// ```swift
    /// let gates = Tensor.sumOfProducts([(x, w), (h, u)])   // [P, 4H]
    /// ```
    public static func sumOfProducts(_ terms: [(Tensor, Tensor)]) -> Tensor {
        precondition(!terms.isEmpty, "sumOfProducts: no terms")
        let (m, n) = (terms[0].0.shape.first ?? 0, terms[0].1.shape.last ?? 0)
        for (a, b) in terms {
            precondition(a.rank == 2 && b.rank == 2 && a.shape[0] == m && b.shape[1] == n && a.shape[1] == b.shape[0],
                         "sumOfProducts: term shapes \(a.shape) · \(b.shape) do not give [\(m), \(n)]")
        }
        let out = Tensor(shape: [m, n]) { c, count in
            var written = false
            for (a, b) in terms where a.shape[1] > 0 {
                gemm(m, n, a.shape[1], a.storage.pointer, false, b.storage.pointer, false, c, accumulate: written)
                written = true
            }
            if !written { c.initialize(repeating: 0, count: count) }
        }
        return out.recorded(terms.flatMap { [$0.0, $0.1] }) { c in
            stride(from: 0, to: c.inputs.count, by: 2).flatMap { k -> [Tensor?] in
                let (a, b) = (c.inputs[k], c.inputs[k + 1])
                return [a.isTracked ? matmul(c.grad, b, transposeB: true) : nil,
                        b.isTracked ? matmul(a, c.grad, transposeA: true) : nil]
            }
        }
    }
}

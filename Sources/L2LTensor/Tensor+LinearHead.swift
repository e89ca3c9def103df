import CKernels

/// A one-output linear layer that reads its input from the front columns of each row, as
/// one differentiable op: the output head of a coordinate-wise network, applied to the
/// network's `[P, 2H]` state (h in front) without first copying h out of it.
extension Tensor {
    /// `x[:, 0..<k] · w + bias` for every row of `x`, reading the first `k` columns in place.
    ///
    /// Shapes: `x` `[P, m]`, `w` `[k, 1]` with `1 ≤ k ≤ m`, `bias` `[1]` or `nil` (none); the
    /// result is `[P, 1]`. Each row's sum is a chain of fused multiply-adds over the columns
    /// in order from 0, then the bias is added (CKernels' `l2lk_linear_head`: the bits
    /// OpenBLAS's SkylakeX sgemm gives for the same product), the same bits on every
    /// instruction set; rows are split across cores. The gradient sums over rows (of `w` and
    /// `bias`) add fixed blocks of rows in order, then the blocks in order, so every result
    /// is the same bits for any thread count. When the backward is itself recorded
    /// (`createGraph`), it is written in composed tensor ops, so gradients of any order are
    /// exact.
    ///
    /// ```swift
    /// let out = Tensor.linearHead(state, w: headW, bias: headB)   // state [P, 40], headW [20, 1] → [P, 1]
    /// ```
    public static func linearHead(_ x: Tensor, w: Tensor, bias: Tensor? = nil) -> Tensor {
        let (p, m, k) = (x.shape.first ?? 0, x.shape.last ?? 0, w.shape.first ?? 0)
        precondition(x.rank == 2 && w.shape == [k, 1] && k >= 1 && k <= m && (bias == nil || bias!.shape == [1]),
                     "linearHead: expected x [P, m], w [k, 1] with 1 ≤ k ≤ m, bias [1] or none, got \(x.shape), \(w.shape), \(bias.map { "\($0.shape)" } ?? "none")")
        let out = Tensor(shape: [p, 1]) { out, _ in
            LinearHeadKernel.forward(x, w, bias, out)
        }
        let inputs = bias.map { [x, w, $0] } ?? [x, w]
        return out.recorded(inputs) { ctx in
            isRecordingGraph ? composedHeadGradients(ctx.grad, ctx.inputs)
                             : LinearHeadKernel.backward(ctx.grad, ctx.inputs, adding: ctx.pending?.take(0))
        }
    }

    /// The head's gradients in differentiable tensor ops (for `createGraph`).
    private static func composedHeadGradients(_ g: Tensor, _ inputs: [Tensor]) -> [Tensor?] {
        let (x, w) = (inputs[0], inputs[1])
        let (m, k) = (x.shape[1], w.shape[0])
        let front = k == m ? x : x.slice(axis: 1, 0..<k)
        let dFront = matmul(g, w, transposeB: true)
        return [x.isTracked ? (k == m ? dFront : dFront.padded(axis: 1, before: 0, after: m - k)) : nil,
                w.isTracked ? matmul(front, g, transposeA: true) : nil]
            + (inputs.count == 3 ? [inputs[2].isTracked ? g.sum(toShape: [1]) : nil] : [])
    }
}

/// The head's loops on raw pointers: the forward (in CKernels), and the first-order backward.
private enum LinearHeadKernel {
    /// Rows per block of the sums over rows (a fixed partition, whatever the thread count).
    static let block = 1024

    static func forward(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, _ out: UnsafeMutablePointer<Float>) {
        let (m, k) = (x.shape[1], w.shape[0])
        let (xp, wp) = (x.storage.pointer, w.storage.pointer)
        let b = bias?.storage.pointer
        Kernels.forChunks(x.shape[0], minimumWork: k) { rows in
            l2lk_linear_head(rows.lowerBound, rows.upperBound, k, xp, m, wp, b, out)
        }
    }

    /// d x, d w and d bias (`nil` for inputs off the graph) from the upstream gradient `[P, 1]`;
    /// d x is added into `sum` (x's gradient summed so far, taken from the engine) if given:
    /// only its first k columns change, each to sum + g·w.
    static func backward(_ g: Tensor, _ inputs: [Tensor], adding sum: Tensor?) -> [Tensor?] {
        let (x, w) = (inputs[0], inputs[1])
        let (p, m, k) = (x.shape[0], x.shape[1], w.shape[0])
        let (xp, wp, gp) = (x.storage.pointer, w.storage.pointer, g.storage.pointer)
        var dx: Tensor?
        if let sum {
            let s = sum.storage.pointer
            Kernels.forChunks(p, minimumWork: k) { rows in
                for r in rows {
                    let (row, gr) = (s + r * m, gp[r])
                    for l in 0..<k { row[l] += gr * wp[l] }
                }
            }
            dx = sum
        } else if x.isTracked {
            dx = Tensor(shape: x.shape) { dx, _ in
                Kernels.forChunks(p, minimumWork: m) { rows in
                    for r in rows {
                        let (row, gr) = (dx + r * m, gp[r])
                        for l in 0..<k { row[l] = gr * wp[l] }
                        for l in k..<m { row[l] = 0 }
                    }
                }
            }
        }
        let wantsBias = inputs.count == 3 && inputs[2].isTracked
        guard w.isTracked || wantsBias else { return [dx, nil] + (inputs.count == 3 ? [nil] : []) }
        // Per block: the k sums of x[r, l]·g[r] and the sum of g[r], rows ascending
        // (k + 1 floats); then the blocks in order.
        let blocks = (p + block - 1) / block
        let partials = Tensor(shape: [blocks, k + 1]) { part, _ in
            Kernels.forChunks(blocks, minimumWork: block * k) { range in
                for bi in range {
                    let s = part + bi * (k + 1)
                    s.initialize(repeating: 0, count: k + 1)
                    for r in (bi * block)..<min(p, (bi + 1) * block) {
                        let (row, gr) = (xp + r * m, gp[r])
                        for l in 0..<k { s[l] += row[l] * gr }
                        s[k] += gr
                    }
                }
            }
        }
        let sums = Tensor(shape: [k + 1]) { sum, _ in
            sum.initialize(repeating: 0, count: k + 1)
            let part = partials.storage.pointer
            for bi in 0..<blocks {
                for l in 0...k { sum[l] += part[bi * (k + 1) + l] }
            }
        }
        let dw = w.isTracked ? sums.slice(axis: 0, 0..<k).reshaped([k, 1]) : nil
        return [dx, dw] + (inputs.count == 3 ? [wantsBias ? sums.slice(axis: 0, k..<(k + 1)) : nil] : [])
    }
}

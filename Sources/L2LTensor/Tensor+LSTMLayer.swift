import CKernels

/// A whole coordinate-wise LSTM layer as one fused, differentiable op.
extension Tensor {
    /// One LSTM layer step for `P` rows (coordinates) at once:
    ///
    ///     z = x·W + h·U + b                     ([P, 4H], gate blocks i, f, a, o)
    ///     c' = σ(z_f) ⊙ c + σ(z_i) ⊙ tanh(z_a),   h' = σ(z_o) ⊙ tanh(c')
    ///
    /// Shapes: `input` `[P, m]`, of which the layer reads the first `n` columns (`n ≤ m`: so
    /// the previous layer's whole `[P, 2H]` state can be the input, its h' in front);
    /// `state` `[P, 2H]`, h in columns `0..<H` and c in `H..<2H`; `w` `[n, 4H]`, `u` `[H, 4H]`,
    /// `bias` `[4H]`. The result is the next state, `[P, 2H]` laid out the same way.
    ///
    /// The gate products, the cell and (for the backward) the gate gradients, the input
    /// gradients and the weight gradients run in CKernels' register-tiled SIMD kernels
    /// (AVX-512, AVX2 or baseline, whichever the CPU has), the rows split across cores: no
    /// `[P, 4H]` gate matrix is ever written to memory and no sgemm packs the tiny weight
    /// matrices. The results are the same bits on every instruction set and thread count
    /// (CKernels.h). When the backward is itself recorded (`createGraph`), it is written in
    /// composed tensor ops instead, so gradients of any order are exact.
    ///
    /// ```swift
    /// let next = Tensor.lstmLayer(input: x, state: hc, w: w, u: u, bias: b)   // [P, 2H]
    /// ```
    public static func lstmLayer(input x: Tensor, state: Tensor, w: Tensor, u: Tensor, bias b: Tensor) -> Tensor {
        let p = state.shape.first ?? 0, units = u.shape.first ?? 0, n = w.shape.first ?? 0
        precondition(x.rank == 2 && state.rank == 2 && units >= 1 && x.shape[0] == p && x.shape[1] >= n
                     && state.shape == [p, 2 * units] && w.shape == [n, 4 * units]
                     && u.shape == [units, 4 * units] && b.shape == [4 * units],
                     "lstmLayer: expected x [P, ≥ n], state [P, 2H], w [n, 4H], u [H, 4H], b [4H], got \(x.shape), \(state.shape), \(w.shape), \(u.shape), \(b.shape)")
        let inputs = [x, state, w, u, b]
        let needsGraph = isRecordingGraph && inputs.contains { $0.isTracked }
        let packed = LSTMLayerKernel.pack(w: w, u: u, bias: b)
        let saved = needsGraph ? Tensor(shape: [p, 5 * units]) { _, _ in } : nil
        let out = Tensor(shape: [p, 2 * units]) { out, _ in
            LSTMLayerKernel.forward(x: x, inputs: n, state: state, packed: packed, out: out, saved: saved?.storage.pointer)
        }
        guard let saved else { return out }
        return out.recorded(inputs) { ctx in
            isRecordingGraph ? composedLayerGradients(ctx.grad, ctx.inputs)
                             : LSTMLayerKernel.backward(ctx.grad, saved: saved, ctx.inputs, addingInput: ctx.pending?.take(0))
        }
    }

    /// The layer's gradients in differentiable tensor ops (for `createGraph`).
    private static func composedLayerGradients(_ grad: Tensor, _ inputs: [Tensor]) -> [Tensor?] {
        let (input, state, w, u, b) = (inputs[0], inputs[1], inputs[2], inputs[3], inputs[4])
        let (n, m, units) = (w.shape[0], input.shape[1], u.shape[0])
        let x = n == m ? input : input.slice(axis: 1, 0..<n)
        let (h, c) = (state.slice(axis: 1, 0..<units), state.slice(axis: 1, units..<(2 * units)))
        let cell = composedCellGradients(grad, gates: sumOfProducts([(x, w), (h, u)]), cell: c, bias: b)
        let dGates = cell[0]!
        let dx = matmul(dGates, w, transposeB: true)
        return [input.isTracked ? (n == m ? dx : dx.padded(axis: 1, before: 0, after: m - n)) : nil,
                state.isTracked ? Tensor.concatenate([matmul(dGates, u, transposeB: true), cell[1]!], axis: 1) : nil,
                w.isTracked ? matmul(x, dGates, transposeA: true) : nil,
                u.isTracked ? matmul(h, dGates, transposeA: true) : nil,
                cell[2]]
    }
}

/// Calls into CKernels' LSTM layer: packing, rows split across cores, the ordered reduction.
private enum LSTMLayerKernel {
    /// W, U and b in the forward kernel's layout (a flat tensor).
    static func pack(w: Tensor, u: Tensor, bias b: Tensor) -> Tensor {
        let (n, units) = (w.shape[0], u.shape[0])
        return Tensor(shape: [l2lk_lstm_packed_count(n, units)]) { packed, _ in
            l2lk_lstm_pack(n, units, w.storage.pointer, u.storage.pointer, b.storage.pointer, packed)
        }
    }

    static func forward(x: Tensor, inputs n: Int, state: Tensor, packed: Tensor,
                        out: UnsafeMutablePointer<Float>, saved: UnsafeMutablePointer<Float>?) {
        let (p, units) = (state.shape[0], state.shape[1] / 2)
        Kernels.forChunks(p, minimumWork: 8 * units * (n + units)) { rows in
            let status = l2lk_lstm_forward(rows.lowerBound, rows.upperBound, n, units, x.storage.pointer, x.shape[1],
                                           state.storage.pointer, packed.storage.pointer, out, saved)
            precondition(status == 0, "lstmLayer: out of memory")
        }
    }

    /// d input, d state, d W, d U, d b (`nil` for inputs off the graph) from the upstream
    /// gradient `[P, 2H]` and the forward's saved activations (not differentiable). d input
    /// is added into `inputSum` (the input's gradient summed so far, taken from the engine)
    /// if given: a layer reading the previous layer's state, whose next step has already
    /// given it a gradient.
    static func backward(_ grad: Tensor, saved: Tensor, _ inputs: [Tensor], addingInput inputSum: Tensor?) -> [Tensor?] {
        let (x, state, w, u) = (inputs[0], inputs[1], inputs[2], inputs[3])
        let (p, n, units) = (state.shape[0], w.shape[0], u.shape[0])
        let wants = inputs.map(\.isTracked)
        func buffer(_ shape: [Int], _ wanted: Bool) -> Tensor? { wanted ? Tensor(shape: shape) { _, _ in } : nil }
        let (dx, dState) = (inputSum ?? buffer(x.shape, wants[0]), buffer(state.shape, wants[1]))
        let weights = wants[2] || wants[3] || wants[4]
        let (dw, du, db) = (buffer(w.shape, weights), buffer(u.shape, weights), buffer([4 * units], weights))
        let transposed = Tensor(shape: [l2lk_lstm_packed_transpose_count(n, units)]) { t, _ in
            l2lk_lstm_pack_transpose(n, units, w.storage.pointer, u.storage.pointer, t)
        }
        let block = Int(L2LK_LSTM_BLOCK)
        let blocks = (p + block - 1) / block, partialCount = l2lk_lstm_partial_count(n, units)
        // A tensor, not a raw allocation: its ~1 MB comes back from BufferCache each step
        // instead of being faulted in afresh.
        let partials = weights ? Tensor(shape: [blocks * partialCount]) { _, _ in } : nil
        Kernels.forChunks(blocks, minimumWork: block * 8 * units * (n + units)) { range in
            let status = l2lk_lstm_backward(range.lowerBound, range.upperBound, p, n, units, x.storage.pointer, x.shape[1],
                                            state.storage.pointer, saved.storage.pointer, grad.storage.pointer,
                                            transposed.storage.pointer, dx?.storage.pointer, inputSum == nil ? 0 : 1, dState?.storage.pointer,
                                            partials?.storage.pointer)
            precondition(status == 0, "lstmLayer: out of memory")
        }
        if let partials, let dw, let du, let db {
            Kernels.forChunks(1 + n + units, minimumWork: blocks * 4 * units) { rows in
                l2lk_lstm_reduce(rows.lowerBound, rows.upperBound, blocks, n, units, partials.storage.pointer,
                                 dw.storage.pointer, du.storage.pointer, db.storage.pointer)
            }
        }
        return [dx, dState, wants[2] ? dw : nil, wants[3] ? du : nil, wants[4] ? db : nil]
    }
}

/// The LSTM cell as one fused, differentiable op.
extension Tensor {
    /// One LSTM cell step for `P` rows at once, in a single pass over memory:
    ///
    ///     [i, f, a, o] = gates + bias          (column blocks of H, in this order)
    ///     c' = σ(f) ⊙ c + σ(i) ⊙ tanh(a),   h' = σ(o) ⊙ tanh(c')
    ///
    /// Shapes: `gates` `[P, 4H]` (pre-activations without the bias), `cell` `[P, H]`,
    /// `bias` `[4H]`; the result is `[P, 2H]`, h' in columns `0..<H` and c' in `H..<2H`.
    ///
    /// The first-order backward is one fused pass as well. When the backward is itself
    /// recorded (`createGraph`), the rule is written in composed tensor ops instead, so
    /// gradients of any order are exact.
    ///
    /// ```swift
    /// let hc = Tensor.lstmCell(gates: Tensor.sumOfProducts([(x, w), (h, u)]), cell: c, bias: b)
    /// ```
    public static func lstmCell(gates: Tensor, cell: Tensor, bias: Tensor) -> Tensor {
        let (p, h) = (cell.shape.first ?? 0, cell.shape.last ?? 0)
        precondition(cell.rank == 2 && gates.shape == [p, 4 * h] && bias.shape == [4 * h],
                     "lstmCell: expected gates [P, 4H], cell [P, H], bias [4H], got \(gates.shape), \(cell.shape), \(bias.shape)")
        let inputs = [gates, cell, bias]
        let needsGraph = isRecordingGraph && inputs.contains { $0.isTracked }
        // i, f, a, o and tanh(c') per row, kept for the fused backward.
        let saved = needsGraph ? Tensor(shape: [p, 5 * h]) { _, _ in } : nil
        let out = Tensor(shape: [p, 2 * h]) { out, _ in
            LSTMCellKernel.forward(rows: p, hidden: h, gates: gates.storage.pointer, bias: bias.storage.pointer,
                                   cell: cell.storage.pointer, out: out, saved: saved?.storage.pointer)
        }
        guard let saved else { return out }
        return out.recorded(inputs) { c in
            isRecordingGraph ? composedCellGradients(c.grad, gates: c.inputs[0], cell: c.inputs[1], bias: c.inputs[2])
                             : fusedCellGradients(c.grad, saved: saved, cell: c.inputs[1], bias: c.inputs[2],
                                                  wantsCell: c.inputs[1].isTracked)
        }
    }

    /// d gates, d cell, d bias from the upstream gradient `[P, 2H]` in one pass (not differentiable).
    private static func fusedCellGradients(_ grad: Tensor, saved: Tensor, cell: Tensor, bias: Tensor,
                                           wantsCell: Bool) -> [Tensor?] {
        let (p, h) = (cell.shape[0], cell.shape[1])
        let dCell = Tensor(shape: [p, h]) { _, _ in }
        let dGates = Tensor(shape: [p, 4 * h]) { dg, _ in
            LSTMCellKernel.backward(rows: p, hidden: h, grad: grad.storage.pointer, saved: saved.storage.pointer,
                                    cell: cell.storage.pointer, dGates: dg, dCell: dCell.storage.pointer)
        }
        return [dGates, wantsCell ? dCell : nil, bias.isTracked ? dGates.sum(toShape: bias.shape) : nil]
    }

    /// The same gradients in differentiable tensor ops (for `createGraph`).
    private static func composedCellGradients(_ grad: Tensor, gates: Tensor, cell: Tensor, bias: Tensor) -> [Tensor?] {
        let h = cell.shape[1]
        let z = gates + bias
        func block(_ k: Int) -> Tensor { z.slice(axis: 1, (k * h)..<((k + 1) * h)) }
        let (i, f, a, o) = (block(0).sigmoid(), block(1).sigmoid(), block(2).tanh(), block(3).sigmoid())
        let t = (f * cell + i * a).tanh()
        let dh = grad.slice(axis: 1, 0..<h)
        let dc = grad.slice(axis: 1, h..<(2 * h)) + dh * o * (1 - t * t)
        let dGates = Tensor.concatenate([dc * a * i * (1 - i), dc * cell * f * (1 - f),
                                         dc * i * (1 - a * a), dh * t * o * (1 - o)], axis: 1)
        return [dGates, dc * f, dGates.sum(toShape: bias.shape)]
    }
}

/// The cell's loops. The activations are FastMath's rational ones: the five per element
/// are the kernel's cost (it is compute-bound), and they halve it. Each row's `H` columns of every gate block are contiguous; the loops
/// take one pointer per stream (not offsets from a shared base), which is what lets the
/// compiler prove them independent and vectorise. Rows are split across cores.
private enum LSTMCellKernel {
    static func forward(rows p: Int, hidden h: Int, gates: UnsafeMutablePointer<Float>, bias b: UnsafeMutablePointer<Float>,
                        cell: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                        saved: UnsafeMutablePointer<Float>?) {
        Kernels.forChunks(p, minimumWork: 4 * h) { rows in
            for r in rows {
                let (g, c, o) = (gates + 4 * h * r, cell + h * r, out + 2 * h * r)
                if let saved {
                    forwardRow(h, g, b, c, o, saved + 5 * h * r)
                } else {
                    forwardRow(h, g, b, c, o)
                }
            }
        }
    }

    /// One row; stores i, f, a, o, tanh(c') into `s` when given.
    @inline(__always)
    private static func forwardRow(_ h: Int, _ g: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                   _ c: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                   _ s: UnsafeMutablePointer<Float>? = nil) {
        let (gi, gf, ga, go) = (g, g + h, g + 2 * h, g + 3 * h)
        let (bi, bf, ba, bo) = (b, b + h, b + 2 * h, b + 3 * h)
        let (outH, outC) = (out, out + h)
        @inline(__always) func loop(_ save: (Int, Float, Float, Float, Float, Float) -> Void) {
            for j in 0..<h {
                let i = FastMath.rationalSigmoid(gi[j] + bi[j])
                let f = FastMath.rationalSigmoid(gf[j] + bf[j])
                let a = FastMath.rationalTanh(ga[j] + ba[j])
                let o = FastMath.rationalSigmoid(go[j] + bo[j])
                let cNew = f * c[j] + i * a
                let t = FastMath.rationalTanh(cNew)
                outH[j] = o * t
                outC[j] = cNew
                save(j, i, f, a, o, t)
            }
        }
        if let s {
            let (si, sf, sa, so, st) = (s, s + h, s + 2 * h, s + 3 * h, s + 4 * h)
            loop { j, i, f, a, o, t in si[j] = i; sf[j] = f; sa[j] = a; so[j] = o; st[j] = t }
        } else {
            loop { _, _, _, _, _, _ in }
        }
    }

    static func backward(rows p: Int, hidden h: Int, grad: UnsafeMutablePointer<Float>, saved: UnsafeMutablePointer<Float>,
                         cell: UnsafeMutablePointer<Float>, dGates: UnsafeMutablePointer<Float>,
                         dCell: UnsafeMutablePointer<Float>) {
        Kernels.forChunks(p, minimumWork: 4 * h) { rows in
            for r in rows {
                let (gh, gc) = (grad + 2 * h * r, grad + 2 * h * r + h)
                let s = saved + 5 * h * r
                let (si, sf, sa, so, st) = (s, s + h, s + 2 * h, s + 3 * h, s + 4 * h)
                let dg = dGates + 4 * h * r
                let (di, df, da, dO) = (dg, dg + h, dg + 2 * h, dg + 3 * h)
                let (c, dc) = (cell + h * r, dCell + h * r)
                for j in 0..<h {
                    let (i, f, a, o, t) = (si[j], sf[j], sa[j], so[j], st[j])
                    let dh = gh[j]
                    let dcNew = gc[j] + dh * o * (1 - t * t)
                    di[j] = dcNew * a * i * (1 - i)
                    df[j] = dcNew * c[j] * f * (1 - f)
                    da[j] = dcNew * i * (1 - a * a)
                    dO[j] = dh * t * o * (1 - o)
                    dc[j] = dcNew * f
                }
            }
        }
    }
}

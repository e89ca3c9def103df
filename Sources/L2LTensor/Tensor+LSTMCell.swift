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
        let dBias = bias.isTracked ? Tensor(shape: [4 * h]) { _, _ in } : nil
        let dGates = Tensor(shape: [p, 4 * h]) { dg, _ in
            LSTMCellKernel.backward(rows: p, hidden: h, grad: grad.storage.pointer, saved: saved.storage.pointer,
                                    cell: cell.storage.pointer, dGates: dg, dCell: dCell.storage.pointer,
                                    dBias: dBias?.storage.pointer)
        }
        return [dGates, wantsCell ? dCell : nil, dBias]
    }

    /// The same gradients in differentiable tensor ops (for `createGraph`).
    static func composedCellGradients(_ grad: Tensor, gates: Tensor, cell: Tensor, bias: Tensor) -> [Tensor?] {
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

/// The cell's loops, on `SIMD4` lanes (the package builds for baseline x86-64, so SSE):
/// a loop over the gate blocks reads up to sixteen streams, more than the compiler will
/// check for overlap before vectorising it, so the vectors are written out. The
/// activations are FastMath's rational ones: the five per element are the forward's cost,
/// and they halve it. A row's last `H mod 4` columns go through the same vector code on
/// partial loads and stores. Rows are split across cores.
private enum LSTMCellKernel {
    typealias V = SIMD4<Float>

    /// Four floats at `p` (only the first `n` when `n < 4`; the other lanes are 0).
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> V {
        if n >= 4 { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var v = V()
        for k in 0..<n { v[k] = p[k] }
        return v
    }

    /// Writes the first `min(n, 4)` lanes of `v` to `p`.
    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        if n >= 4 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self); return }
        for k in 0..<n { p[k] = v[k] }
    }

    /// Calls `body(j, n)` for the column groups of a row of width `h`: `n` = 4 for every
    /// full group (so those loads and stores are whole vectors), then the rest once.
    @inline(__always)
    static func columns(_ h: Int, _ body: (Int, Int) -> Void) {
        var j = 0
        while j + 4 <= h { body(j, 4); j += 4 }
        if j < h { body(j, h - j) }
    }

    static func forward(rows p: Int, hidden h: Int, gates: UnsafeMutablePointer<Float>, bias b: UnsafeMutablePointer<Float>,
                        cell: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                        saved: UnsafeMutablePointer<Float>?) {
        Kernels.forChunks(p, minimumWork: 4 * h) { rows in
            for r in rows {
                let (g, c, o) = (gates + 4 * h * r, cell + h * r, out + 2 * h * r)
                columns(h) { j, n in
                    let i = FastMath.rationalSigmoid(load(g + j, n) + load(b + j, n))
                    let f = FastMath.rationalSigmoid(load(g + h + j, n) + load(b + h + j, n))
                    let a = FastMath.rationalTanh(load(g + 2 * h + j, n) + load(b + 2 * h + j, n))
                    let og = FastMath.rationalSigmoid(load(g + 3 * h + j, n) + load(b + 3 * h + j, n))
                    let cNew = f * load(c + j, n) + i * a
                    let t = FastMath.rationalTanh(cNew)
                    store(og * t, o + j, n)
                    store(cNew, o + h + j, n)
                    if let saved {
                        let s = saved + 5 * h * r + j
                        store(i, s, n); store(f, s + h, n); store(a, s + 2 * h, n)
                        store(og, s + 3 * h, n); store(t, s + 4 * h, n)
                    }
                }
            }
        }
    }

    /// Rows per block of the bias gradient's partial sums: a fixed size, so the order of
    /// the sum (and its rounding) does not depend on the number of cores.
    static let biasBlock = 256

    /// d gates `[P, 4H]` and d cell `[P, H]` from the upstream gradient `[P, 2H]` and the
    /// saved activations; with `dBias`, also d bias `[4H]`, the column sums of d gates
    /// (per block of ``biasBlock`` rows while d gates is in registers, then the blocks in order).
    static func backward(rows p: Int, hidden h: Int, grad: UnsafeMutablePointer<Float>, saved: UnsafeMutablePointer<Float>,
                         cell: UnsafeMutablePointer<Float>, dGates: UnsafeMutablePointer<Float>,
                         dCell: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?) {
        let blocks = (p + biasBlock - 1) / biasBlock
        let partials = dBias == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, blocks * 4 * h))
        defer { partials?.deallocate() }
        Kernels.forChunks(blocks, minimumWork: biasBlock * 4 * h) { range in
            for block in range {
                let sums = partials.map { $0 + block * 4 * h }
                sums?.initialize(repeating: 0, count: 4 * h)
                for r in (block * biasBlock)..<Swift.min(p, (block + 1) * biasBlock) {
                    let (gh, gc) = (grad + 2 * h * r, grad + 2 * h * r + h)
                    let s = saved + 5 * h * r
                    let dg = dGates + 4 * h * r
                    let (c, dc) = (cell + h * r, dCell + h * r)
                    columns(h) { j, n in
                        let (i, f, a) = (load(s + j, n), load(s + h + j, n), load(s + 2 * h + j, n))
                        let (o, t) = (load(s + 3 * h + j, n), load(s + 4 * h + j, n))
                        let dh = load(gh + j, n)
                        let dcNew = load(gc + j, n) + dh * o * (1 - t * t)
                        let di = dcNew * a * i * (1 - i)
                        let df = dcNew * load(c + j, n) * f * (1 - f)
                        let da = dcNew * i * (1 - a * a)
                        let dO = dh * t * o * (1 - o)
                        store(di, dg + j, n); store(df, dg + h + j, n)
                        store(da, dg + 2 * h + j, n); store(dO, dg + 3 * h + j, n)
                        store(dcNew * f, dc + j, n)
                        if let sums {
                            store(load(sums + j, n) + di, sums + j, n)
                            store(load(sums + h + j, n) + df, sums + h + j, n)
                            store(load(sums + 2 * h + j, n) + da, sums + 2 * h + j, n)
                            store(load(sums + 3 * h + j, n) + dO, sums + 3 * h + j, n)
                        }
                    }
                }
            }
        }
        guard let dBias, let partials else { return }
        dBias.initialize(repeating: 0, count: 4 * h)
        for block in 0..<blocks {
            for k in 0..<(4 * h) { dBias[k] += partials[block * 4 * h + k] }
        }
    }
}

import Glibc

/// Softmax along the last axis and the losses built on it. The forward passes are fused
/// kernels; every gradient rule is written in differentiable ops (so second derivatives,
/// and Gauss-Newton products through them, work).
extension Tensor {
    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        precondition(rank >= 1, "softmax: expected at least one axis, got a scalar")
        let c = shape[rank - 1]
        let p = storage.pointer
        return Tensor(shape: shape) { out, n in
            guard c > 0 else { return }
            for r in 0..<(n / c) {
                let x = p + r * c, y = out + r * c
                var m = x[0]
                for j in 1..<c { m = Swift.max(m, x[j]) }
                var s: Float = 0
                for j in 0..<c { y[j] = expf(x[j] - m); s += y[j] }
                let inv = 1 / s
                for j in 0..<c { y[j] *= inv }
            }
        }.recorded([self], savesOutput: true) { ctx in
            let y = ctx.output
            return [y * (ctx.grad - (ctx.grad * y).sum(axis: -1, keepDims: true))]
        }
    }

    /// log(softmax(x)) over the last axis, computed stably.
    public func logSoftmax() -> Tensor {
        precondition(rank >= 1, "logSoftmax: expected at least one axis, got a scalar")
        let c = shape[rank - 1]
        let p = storage.pointer
        return Tensor(shape: shape) { out, n in
            guard c > 0 else { return }
            for r in 0..<(n / c) {
                let x = p + r * c, y = out + r * c
                let lse = logSumExp(x, c)
                for j in 0..<c { y[j] = x[j] - lse }
            }
        }.recorded([self]) { ctx in
            [ctx.grad - ctx.inputs[0].softmax() * ctx.grad.sum(axis: -1, keepDims: true)]
        }
    }

    /// Mean over the batch of −log softmax(logits)[label]: `logits` is `[n, c]`, `labels`
    /// holds `n` integers in `0..<c`. Returns a scalar.
    public static func softmaxCrossEntropy(logits: Tensor, labels: [Int32]) -> Tensor {
        precondition(logits.rank == 2, "softmaxCrossEntropy: logits must be [n, c], got shape \(logits.shape)")
        let (n, c) = (logits.shape[0], logits.shape[1])
        precondition(labels.count == n, "softmaxCrossEntropy: \(labels.count) labels for logits of shape \(logits.shape)")
        precondition(labels.allSatisfy { $0 >= 0 && Int($0) < c }, "softmaxCrossEntropy: a label is outside 0..<\(c)")
        let p = logits.storage.pointer
        var total: Double = 0
        for i in 0..<n {
            let x = p + i * c
            total += Double(logSumExp(x, c) - x[Int(labels[i])])
        }
        return Tensor(Float(total / Double(Swift.max(n, 1)))).recorded([logits]) { ctx in
            let onehot = Tensor.ones([n]).scatter(rows: labels, columns: c)
            return [(ctx.inputs[0].softmax() - onehot) * (ctx.grad / Float(Swift.max(n, 1)))]
        }
    }

    /// Mean of the binary cross-entropy between sigmoid(`logits`) and `targets` in [0, 1]
    /// (same shapes), computed from the logits without overflow. Returns a scalar.
    public static func sigmoidBinaryCrossEntropy(logits: Tensor, targets: Tensor) -> Tensor {
        precondition(logits.shape == targets.shape,
                     "sigmoidBinaryCrossEntropy: logits \(logits.shape) and targets \(targets.shape) differ")
        let (x, t) = (logits.storage.pointer, targets.storage.pointer)
        let n = logits.count
        var total: Double = 0
        for i in 0..<n { total += Double(Swift.max(x[i], 0) - x[i] * t[i] + log1pf(expf(-Swift.abs(x[i])))) }
        let scale = 1 / Float(Swift.max(n, 1))
        return Tensor(Float(total) * scale).recorded([logits, targets]) { ctx in
            let (x, t) = (ctx.inputs[0], ctx.inputs[1])
            let g = ctx.grad * scale
            return [x.isTracked ? (x.sigmoid() - t) * g : nil, t.isTracked ? -(x * g) : nil]
        }
    }

    /// Mean of (prediction − target)² over all elements (same shapes). Returns a scalar.
    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape,
                     "meanSquaredError: prediction \(prediction.shape) and target \(target.shape) differ")
        return (prediction - target).pow(2).mean()
    }
}

/// log Σ exp(x[j]) over `c` values, shifted by the maximum for stability.
@inline(__always)
private func logSumExp(_ x: UnsafeMutablePointer<Float>, _ c: Int) -> Float {
    var m = x[0]
    for j in 1..<c { m = Swift.max(m, x[j]) }
    var s: Float = 0
    for j in 0..<c { s += expf(x[j] - m) }
    return m + logf(s)
}

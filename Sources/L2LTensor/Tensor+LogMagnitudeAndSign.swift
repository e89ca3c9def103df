import CKernels
import Glibc

/// Two features per value that put values of very different magnitudes on one scale.
extension Tensor {
    /// For a column `[P, 1]`, the features `[P, 2]` computed in one pass:
    ///
    ///     (log|x| / p, sign x)   if |x| ≥ e^−p
    ///     (−1, e^p · x)          otherwise.
    ///
    /// Differentiable wherever the branches are (its gradient in x is 1/(p·x) on the
    /// first feature and 0 on the second above the threshold, 0 and e^p below), to any
    /// order: the rule is written in tensor ops.
    ///
    /// ```swift
    /// let features = g.logMagnitudeAndSign(p: 10)   // g: [P, 1] → [P, 2]
    /// ```
    public func logMagnitudeAndSign(p: Float) -> Tensor {
        precondition(rank == 2 && shape[1] == 1, "logMagnitudeAndSign: expected a column [P, 1], got \(shape)")
        let (threshold, scale, x) = (expf(-p), expf(p), storage.pointer)
        let out = Tensor(shape: [shape[0], 2]) { out, _ in
            Kernels.forChunks(shape[0]) { rows in
                l2lk_log_magnitude_and_sign(rows.count, x + rows.lowerBound, p, threshold, scale, out + 2 * rows.lowerBound)
            }
        }
        return out.recorded([self]) { c in
            let x = c.inputs[0]
            let small = withoutGraph { x.abs().mask(lessThan: threshold) }
            let dLog = Tensor.select(small, Tensor(0), 1 / (Tensor.select(small, Tensor(1), x) * p))
            return [c.grad.slice(axis: 1, 0..<1) * dLog + c.grad.slice(axis: 1, 1..<2) * (small * scale)]
        }
    }
}

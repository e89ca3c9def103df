import Glibc

/// Element-wise functions. Each gradient rule is written in tensor ops, so it is itself
/// differentiable; non-smooth points use the usual subgradient (relu'(0) = 0,
/// abs'(0) = 0, clamp' = 1 on the closed interval).
extension Tensor {
    /// e^x element-wise (same shape).
    public func exp() -> Tensor {
        Kernels.map(self, .exp).recorded([self], savesOutput: true) { c in [c.grad * c.output] }
    }

    /// Natural logarithm.
    public func log() -> Tensor {
        Kernels.map(self, .log).recorded([self]) { c in [c.grad / c.inputs[0]] }
    }

    /// Sine element-wise (same shape).
    public func sin() -> Tensor {
        Kernels.map(self, .sin).recorded([self]) { c in [c.grad * c.inputs[0].cos()] }
    }

    /// Cosine element-wise (same shape).
    public func cos() -> Tensor {
        Kernels.map(self, .cos).recorded([self]) { c in [-(c.grad * c.inputs[0].sin())] }
    }

    /// Square root element-wise (same shape).
    public func sqrt() -> Tensor {
        Kernels.map(self, .sqrt).recorded([self], savesOutput: true) { c in
            [c.grad / (c.output * 2)]
        }
    }

    /// |x| element-wise (same shape); its gradient is sign(x).
    public func abs() -> Tensor {
        Kernels.map(self, .abs).recorded([self]) { c in [c.grad * c.inputs[0].sign()] }
    }

    /// −1, 0 or 1 per element; its gradient is zero.
    public func sign() -> Tensor {
        Kernels.map(self, .sign)
    }

    /// max(x, 0).
    public func relu() -> Tensor {
        Kernels.map(self, .relu).recorded([self]) { c in
            [c.grad * c.inputs[0].mask(greaterThan: 0)]
        }
    }

    /// 1 / (1 + e^(−x)), computed without overflow for large |x|.
    public func sigmoid() -> Tensor {
        Kernels.map(self, .sigmoid).recorded([self], savesOutput: true) { c in
            [c.grad * c.output * (1 - c.output)]
        }
    }

    /// Hyperbolic tangent element-wise (same shape).
    public func tanh() -> Tensor {
        Kernels.map(self, .tanh).recorded([self], savesOutput: true) { c in
            [c.grad * (1 - c.output * c.output)]
        }
    }

    /// log(1 + e^x), computed as max(x, 0) + log1p(e^(−|x|)) so it never overflows.
    public func softplus() -> Tensor {
        Kernels.map(self, .softplus)
            .recorded([self]) { c in [c.grad * c.inputs[0].sigmoid()] }
    }

    /// x^p element-wise.
    public func pow(_ p: Float) -> Tensor {
        if p == 2 {
            return Kernels.map(self, .square).recorded([self]) { c in [c.grad * c.inputs[0] * 2] }
        }
        return Kernels.map(self, .pow(p)).recorded([self]) { c in
            [c.grad * c.inputs[0].pow(p - 1) * p]
        }
    }

    /// Each element limited to `[lo, hi]`; the gradient passes where `lo ≤ x ≤ hi`.
    public func clamped(_ lo: Float, _ hi: Float) -> Tensor {
        precondition(lo <= hi, "clamp: lower bound \(lo) exceeds upper bound \(hi)")
        return Kernels.map(self, .clamp(lo, hi)).recorded([self]) { c in
            let x = c.inputs[0]
            return [c.grad * Kernels.map(x, .inside(lo, hi))]
        }
    }

    // MARK: Masks (constants: comparisons have no gradient)

    /// 1 where the element is greater than `s`, else 0.
    public func mask(greaterThan s: Float) -> Tensor { Kernels.map(self, .greaterThan(s)) }
    /// 1 where the element is less than `s`, else 0.
    public func mask(lessThan s: Float) -> Tensor { Kernels.map(self, .lessThan(s)) }
    /// 1 where `self > other` (broadcasting), else 0.
    public func mask(greaterThan other: Tensor) -> Tensor {
        Kernels.broadcast(self, other, .greater, name: "mask(greaterThan:)")
    }
}

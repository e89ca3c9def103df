// Pieces every hand-crafted optimiser shares: the descent step (the only place the sign
// convention lives), hyper-parameter checks, and differentiable helpers whose gradients
// stay finite where the textbook formulas' would not.

/// θ − rate·direction, element-wise: the single place where the descent sign lives.
///
/// Every optimiser computes an ascent `direction` (the gradient, a velocity, Adam's
/// m̂/√(v̂ + ε²), …) and a `rate` (a scalar learning rate, or per-element step sizes as in
/// SMORMS3, shaped like the parameter), and applies them here.
/// - Parameters:
///   - parameter: θ, any shape.
///   - rate: shape `[]` or θ's shape.
///   - direction: θ's shape.
public func descentStep(_ parameter: Tensor, rate: Tensor, direction: Tensor) -> Tensor {
    parameter - rate * direction
}

/// Validation of hyper-parameters given as tensors.
enum HyperParameter {
    /// `value` if it is a finite scalar (shape `[]`) satisfying `valid`; otherwise an error
    /// naming the optimiser (`context`), the option (`key`) and the allowed `range` text.
    static func check(_ value: Tensor, _ key: String, of context: String, in range: String,
                      _ valid: (Float) -> Bool) throws -> Tensor {
        guard value.shape == [] else {
            throw L2LError.shape("\(context): \(key) must be a scalar tensor (shape []), got shape \(value.shape)")
        }
        let v = value.scalar
        guard v.isFinite, valid(v) else {
            throw L2LError.invalid("\(context): \(key)=\(v) is outside \(range)")
        }
        return value
    }

    /// Whether a hyper-parameter can change the step: non-zero, or tracked (a caller may
    /// want its gradient at zero). Slots it alone needs are skipped otherwise.
    static func isActive(_ value: Tensor) -> Bool { value.isTracked || value.scalar != 0 }
}

/// √x element-wise, with the derivative at x = 0 taken as 0 instead of +∞.
///
/// Values are exactly `x.sqrt()`. The plain square root's gradient rule divides by 2√x,
/// which gives 0/0 = NaN at x = 0 even when the incoming gradient is 0, and a single NaN
/// poisons the gradient of a scalar hyper-parameter shared by every coordinate. A
/// coordinate whose accumulated squared gradient is exactly 0 has only ever seen zero
/// gradients, so no first-order change of it flows anywhere; 0 is the useful derivative.
/// (Computed as `select(x > 0, √select(x > 0, x, 1), 0)`, so no NaN is formed either way.)
/// Off the graph (or for a constant `x`) it is just `x.sqrt()`.
func zeroSafeSqrt(_ x: Tensor) -> Tensor {
    guard isRecordingGraph, x.isTracked else { return x.sqrt() }
    let positive = x.mask(greaterThan: 0)
    return Tensor.select(positive, Tensor.select(positive, x, Tensor(1)).sqrt(), Tensor(0))
}

/// min(s, x) element-wise for a scalar tensor `s` (shape `[]`): the result has `x`'s shape.
/// Where x > s the value (and gradient) comes from `s`, elsewhere from `x`.
func minimum(_ s: Tensor, _ x: Tensor) -> Tensor {
    Tensor.select(x.mask(greaterThan: s), s, x)
}

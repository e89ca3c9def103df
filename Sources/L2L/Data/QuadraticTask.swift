/// One task of the quadratic family of Andrychowicz et al. (2016), "Learning to learn by
/// gradient descent by gradient descent", §3.1: minimise f(θ) = ‖Wθ − y‖² for a `d × d`
/// matrix W and a `d`-vector y drawn i.i.d. per task (the paper uses d = 10).
///
/// Shapes: `w` `[d, d]`, `y` `[d]`, θ `[d]`; ``loss(_:)`` is a scalar `[]`.
///
/// ```swift
/// var rng = RNG(seed: 1)
/// let task = try QuadraticTask.sample(dimension: 10, rng: &rng)
/// let theta = Tensor.normal([10], std: 0.01, rng: &rng).tracked()
/// let g = gradients(of: task.loss(theta), wrt: [theta])[0]   // 2 Wᵀ(Wθ − y)
/// ```
public struct QuadraticTask {
    /// How W and y are drawn.
    public enum Distribution: String, Sendable {
        /// Standard normal, as the paper says ("drawn from an IID Gaussian distribution").
        case normal
        /// Uniform in [0, 1), as DeepMind's released code (`problems.py`) draws them.
        case uniform
    }

    /// The matrix, `[d, d]`.
    public let w: Tensor
    /// The target, `[d]`.
    public let y: Tensor

    /// The number of parameters d.
    public var dimension: Int { y.count }

    /// A task from a given W (`[d, d]`) and y (`[d]`); both are copied out of any graph.
    ///
    /// Throws `.shapeMismatch` when the shapes do not fit and `.nonFinite` for NaN or ∞.
    public init(w: Tensor, y: Tensor) throws {
        guard y.rank == 1, y.count >= 1, w.shape == [y.count, y.count] else {
            throw L2LError.shape("quadratic: need W of shape [d, d] and y of shape [d], got \(w.shape) and \(y.shape)")
        }
        guard w.isFinite, y.isFinite else { throw L2LError(.nonFinite, "quadratic: W or y holds NaN or infinity") }
        self.w = w.detached()
        self.y = y.detached()
    }

    /// A new task: W's `d·d` values (row-major) then y's `d` values, drawn from `rng`.
    ///
    /// Throws `.invalidArgument` when `dimension < 1`.
    public static func sample(dimension: Int = 10, distribution: Distribution = .normal, rng: inout RNG) throws -> QuadraticTask {
        guard dimension >= 1, dimension <= 1 << 14 else {
            throw L2LError.invalid("quadratic: dimension must be in 1...16384, got \(dimension)")
        }
        func draw(_ shape: [Int]) -> Tensor {
            distribution == .normal ? Tensor.normal(shape, rng: &rng) : Tensor.uniform(shape, rng: &rng)
        }
        let w = draw([dimension, dimension])
        let y = draw([dimension])
        return try QuadraticTask(w: w, y: y)
    }

    /// f(θ) = ‖Wθ − y‖², a differentiable tensor expression (shape `[]`) in θ (and in W, y).
    ///
    /// θ must have `dimension` elements (shape `[d]`); a wrong shape traps like any
    /// tensor op.
    public func loss(_ theta: Tensor) -> Tensor {
        precondition(theta.rank == 1 && theta.count == dimension,
                     "QuadraticTask.loss: θ must have shape [\(dimension)], got \(theta.shape)")
        let residual = matmul(w, theta.reshaped([dimension, 1])) - y.reshaped([dimension, 1])
        return (residual * residual).sum()
    }
}

import Glibc

/// One few-shot regression task of the sine experiments of MAML (Finn et al., 2017, §5.1)
/// and Meta-SGD (Li et al., 2017): y = A·sin(x − φ) with amplitude A ∈ U[0.1, 5], phase φ ∈ U[0, π], and
/// inputs x ∈ U[−5, 5].
///
/// The meta-learning lecture slides (KAIST EE807, lecture 17) write the task as y = A·sin(w·x) with a "frequency"
/// w ∈ [0, π]; we follow the papers, where the second parameter is a phase.
///
/// Shapes: ``batch(k:rng:)`` gives x and y of `[k, 1]`, the input and target of a
/// 1-40-40-1 regressor.
///
/// ```swift
/// var rng = RNG(seed: 3)
/// let task = SineTask.sample(rng: &rng)
/// let (support, query) = task.supportAndQuery(k: 10, rng: &rng)   // K = 10 shots
/// ```
public struct SineTask: Equatable, Sendable {
    /// Where amplitudes are drawn.
    public static let amplitudeRange: ClosedRange<Float> = 0.1...5
    /// Where phases are drawn.
    public static let phaseRange: ClosedRange<Float> = 0...Float.pi
    /// Where inputs are drawn.
    public static let inputRange: ClosedRange<Float> = -5...5

    public let amplitude: Float
    public let phase: Float

    /// A task with a given amplitude and phase.
    public init(amplitude: Float, phase: Float) {
        self.amplitude = amplitude
        self.phase = phase
    }

    /// A new task: the amplitude, then the phase, each one uniform draw from `rng`.
    public static func sample(rng: inout RNG) -> SineTask {
        let a = uniform(amplitudeRange, &rng)
        let p = uniform(phaseRange, &rng)
        return SineTask(amplitude: a, phase: p)
    }

    /// A·sin(x − φ).
    public func callAsFunction(_ x: Float) -> Float {
        amplitude * Float(Glibc.sin(Double(x) - Double(phase)))
    }

    /// The task at each element of `x` (any shape): a constant tensor of the same shape.
    public func values(at x: Tensor) -> Tensor {
        x.withUnsafeBufferPointer { p in Tensor(shape: x.shape) { q, n in for i in 0..<n { q[i] = self(p[i]) } } }
    }

    /// `k` inputs drawn uniformly from ``inputRange`` and their targets, each `[k, 1]`.
    ///
    /// Throws `.invalidArgument` when `k < 0`.
    public func batch(k: Int, rng: inout RNG) throws -> (x: Tensor, y: Tensor) {
        guard k >= 0, k <= 1 << 24 else { throw L2LError.invalid("sine task: k must be in 0...16777216, got \(k)") }
        let x = Tensor.uniform([k, 1], low: SineTask.inputRange.lowerBound, high: SineTask.inputRange.upperBound, rng: &rng)
        return (x, values(at: x))
    }

    /// A K-shot support set (`k` points, for the inner-loop adaptation) and an independent
    /// query set (`queryCount` points, `k` by default, for the meta-loss), drawn in that order.
    public func supportAndQuery(k: Int, queryCount: Int? = nil, rng: inout RNG) throws
        -> (support: (x: Tensor, y: Tensor), query: (x: Tensor, y: Tensor))
    {
        let support = try batch(k: k, rng: &rng)
        let query = try batch(k: queryCount ?? k, rng: &rng)
        return (support, query)
    }

    private static func uniform(_ range: ClosedRange<Float>, _ rng: inout RNG) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * rng.nextUniform()
    }
}

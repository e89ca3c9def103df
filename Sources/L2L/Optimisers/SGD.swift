/// Plain stochastic gradient descent: θ ← θ − lr·∇.
public struct SGD: Optimiser {
    public struct State {}

    /// The step size.
    public let learningRate: Float

    public init(learningRate: Float) throws {
        guard learningRate.isFinite, learningRate >= 0 else {
            throw L2LError.invalid("sgd: lr must be finite and non-negative, got \(learningRate)")
        }
        self.learningRate = learningRate
    }

    /// Options: `lr` (default 0.01).
    public init(config: inout Config) throws {
        try self.init(learningRate: config.float("lr", default: 0.01, range: 0...Float.greatestFiniteMagnitude))
    }

    public func initialState(for parameters: [Tensor]) -> State { State() }

    public func step(parameters: [Tensor], gradients: [Tensor], state: State) -> (parameters: [Tensor], state: State) {
        (zip(parameters, gradients).map { p, g in p - g * learningRate }, state)
    }
}

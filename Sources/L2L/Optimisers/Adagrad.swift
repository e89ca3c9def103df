/// Adagrad (Duchi, Hazan & Singer, 2011) in PyTorch's formulation (`torch.optim.Adagrad`
/// without weight decay).
///
/// With gradient g, step count t (1 for the first step), accumulated squares s (starting at
/// the initial accumulator value s₀), learning rate lr and learning-rate decay δ:
///
///     s ← s + g²
///     θ ← θ − lr / (1 + (t − 1)·δ) · g / (√s + ε)
///
/// The square root's derivative at 0 is taken as 0, so meta-gradients stay finite for
/// coordinates that only saw zero gradients (with s₀ = 0).
public struct Adagrad: Optimiser {
    /// Step count t and the accumulated squares s (one tensor per parameter).
    public struct State: RestorableOptimiserState {
        /// Steps taken (t of the next step is `step + 1`).
        public var step: Int
        /// s, the accumulated squared gradients.
        public var sum: [Tensor]
        /// The tensors by slot name (see ``OptimiserState/slots``).
        public var slots: [String: [Tensor]] { ["sum": sum] }
        public var stepCount: Int { step }
        public func restoring(slots: [String: [Tensor]], stepCount: Int) -> State {
            State(step: stepCount, sum: slots["sum"] ?? sum)
        }
    }

    /// lr, shape `[]`.
    public let learningRate: Tensor
    /// δ, the learning-rate decay, shape `[]`.
    public let learningRateDecay: Tensor
    /// s₀, the accumulator's starting value, shape `[]`.
    public let initialAccumulator: Tensor
    /// ε, shape `[]`.
    public let epsilon: Tensor

    /// Adagrad with hyper-parameters given as scalar tensors (tracked ones get gradients).
    /// - Parameters:
    ///   - learningRate: lr ≥ 0.
    ///   - learningRateDecay: δ ≥ 0.
    ///   - initialAccumulator: s₀ ≥ 0.
    ///   - epsilon: ε > 0.
    public init(learningRate: Tensor, learningRateDecay: Tensor = Tensor(0),
                initialAccumulator: Tensor = Tensor(0), epsilon: Tensor = Tensor(1e-10)) throws {
        self.learningRate = try HyperParameter.check(learningRate, "lr", of: "adagrad", in: "[0, ∞)") { $0 >= 0 }
        self.learningRateDecay = try HyperParameter.check(learningRateDecay, "lr_decay", of: "adagrad", in: "[0, ∞)") { $0 >= 0 }
        self.initialAccumulator = try HyperParameter.check(initialAccumulator, "initial_accumulator", of: "adagrad",
                                                           in: "[0, ∞)") { $0 >= 0 }
        self.epsilon = try HyperParameter.check(epsilon, "eps", of: "adagrad", in: "(0, ∞)") { $0 > 0 }
    }

    /// Adagrad with hyper-parameters given as numbers; same ranges as the tensor initialiser.
    public init(learningRate: Float = 1e-2, learningRateDecay: Float = 0, initialAccumulator: Float = 0,
                epsilon: Float = 1e-10) throws {
        try self.init(learningRate: Tensor(learningRate), learningRateDecay: Tensor(learningRateDecay),
                      initialAccumulator: Tensor(initialAccumulator), epsilon: Tensor(epsilon))
    }

    /// Options of the factory kind `adagrad`: `lr`=0.01, `lr_decay`=0,
    /// `initial_accumulator`=0, `eps`=1e-10.
    public init(config: inout Config) throws {
        try self.init(learningRate: config.float("lr", default: 1e-2),
                      learningRateDecay: config.float("lr_decay", default: 0),
                      initialAccumulator: config.float("initial_accumulator", default: 0),
                      epsilon: config.float("eps", default: 1e-10))
    }

    /// t = 0 and accumulators s₀ shaped like `parameters`.
    public func initialState(for parameters: [Tensor]) -> State {
        State(step: 0, sum: parameters.map { Tensor.zeros($0.shape) + initialAccumulator })
    }

    /// One step of the update above, in tensor ops (differentiable in θ, g and every
    /// hyper-parameter, s₀ included).
    public func step(parameters: [Tensor], gradients: [Tensor], state: State) -> (parameters: [Tensor], state: State) {
        let t = state.step + 1
        let rate = learningRate / (1 + learningRateDecay * Float(t - 1))
        var next = [Tensor](), sums = [Tensor]()
        for i in parameters.indices {
            let g = gradients[i]
            let s = state.sum[i] + g * g
            next.append(descentStep(parameters[i], rate: rate, direction: g / (zeroSafeSqrt(s) + epsilon)))
            sums.append(s)
        }
        return (next, State(step: t, sum: sums))
    }
}

/// SMORMS3 ("squared mean over root mean squared, cubed"), Simon Funk's RMSprop variant
/// (http://sifter.org/~simon/journal/20150420.html, "RMSprop loses to SMORMS3 — beware the
/// epsilon!"), used by the LSTM-learner paper to meta-train its learner.
///
/// Per coordinate, with gradient g, memory length `mem` (starting at 1), gradient and
/// squared-gradient averages ḡ, ḡ₂ (starting at 0), learning rate lr and ε:
///
///     r   = 1 / (mem + 1)
///     ḡ   ← (1 − r)·ḡ  + r·g
///     ḡ₂  ← (1 − r)·ḡ₂ + r·g²
///     x   = ḡ² / (ḡ₂ + ε)                          (in [0, 1]: how consistent g has been)
///     θ   ← θ − min(lr, x) · g / (√ḡ₂ + ε)
///     mem ← 1 + mem·(1 − x)
///
/// The element-wise min(lr, x) is a selection (`Tensor.select` on the mask x > lr), so the
/// gradient of the step flows into lr where x > lr and into x elsewhere. The per-element
/// step size min(lr, x) is the `rate` of ``descentStep(_:rate:direction:)``. The square
/// root's derivative at ḡ₂ = 0 is taken as 0 (see `Descent.swift`).
public struct SMORMS3: Optimiser {
    /// mem, ḡ and ḡ₂, one tensor per parameter each.
    public struct State: RestorableOptimiserState {
        /// mem, the memory lengths.
        public var memory: [Tensor]
        /// ḡ, the averages of g.
        public var gradientAverage: [Tensor]
        /// ḡ₂, the averages of g².
        public var squareAverage: [Tensor]
        /// The tensors by slot name (see ``OptimiserState/slots``).
        public var slots: [String: [Tensor]] { ["mem": memory, "g": gradientAverage, "g2": squareAverage] }
        public func restoring(slots: [String: [Tensor]], stepCount: Int) -> State {
            State(memory: slots["mem"] ?? memory, gradientAverage: slots["g"] ?? gradientAverage,
                  squareAverage: slots["g2"] ?? squareAverage)
        }
    }

    /// lr, the largest step size, shape `[]`.
    public let learningRate: Tensor
    /// ε, shape `[]`.
    public let epsilon: Tensor

    /// SMORMS3 with hyper-parameters given as scalar tensors (tracked ones get gradients).
    /// - Parameters:
    ///   - learningRate: lr ≥ 0.
    ///   - epsilon: ε > 0 (Funk's 1e-16 by default).
    public init(learningRate: Tensor, epsilon: Tensor = Tensor(1e-16)) throws {
        self.learningRate = try HyperParameter.check(learningRate, "lr", of: "smorms3", in: "[0, ∞)") { $0 >= 0 }
        self.epsilon = try HyperParameter.check(epsilon, "eps", of: "smorms3", in: "(0, ∞)") { $0 > 0 }
    }

    /// SMORMS3 with hyper-parameters given as numbers; same ranges as the tensor initialiser.
    public init(learningRate: Float = 1e-3, epsilon: Float = 1e-16) throws {
        try self.init(learningRate: Tensor(learningRate), epsilon: Tensor(epsilon))
    }

    /// Options of the factory kind `smorms3`: `lr`=0.001, `eps`=1e-16.
    public init(config: inout Config) throws {
        try self.init(learningRate: config.float("lr", default: 1e-3), epsilon: config.float("eps", default: 1e-16))
    }

    /// mem = 1 and zero averages, shaped like `parameters`.
    public func initialState(for parameters: [Tensor]) -> State {
        State(memory: parameters.map { Tensor.ones($0.shape) },
              gradientAverage: parameters.map { Tensor.zeros($0.shape) },
              squareAverage: parameters.map { Tensor.zeros($0.shape) })
    }

    /// One step of the update above, in tensor ops (differentiable in θ, g, lr and ε).
    public func step(parameters: [Tensor], gradients: [Tensor], state: State) -> (parameters: [Tensor], state: State) {
        var next = State(memory: [], gradientAverage: [], squareAverage: [])
        var updated = [Tensor]()
        for i in parameters.indices {
            let grad = gradients[i]
            let r = 1 / (state.memory[i] + 1)
            let g = (1 - r) * state.gradientAverage[i] + r * grad
            let g2 = (1 - r) * state.squareAverage[i] + r * (grad * grad)
            let x = (g * g) / (g2 + epsilon)
            let rate = minimum(learningRate, x)
            updated.append(descentStep(parameters[i], rate: rate, direction: grad / (zeroSafeSqrt(g2) + epsilon)))
            next.memory.append(1 + state.memory[i] * (1 - x))
            next.gradientAverage.append(g)
            next.squareAverage.append(g2)
        }
        return (updated, next)
    }
}

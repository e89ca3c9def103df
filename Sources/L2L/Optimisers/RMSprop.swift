/// RMSprop (Tieleman & Hinton, 2012) in PyTorch's formulation (`torch.optim.RMSprop`
/// without weight decay), with optional momentum and centring.
///
/// With gradient g, squared-gradient average v, gradient average ḡ and momentum buffer b
/// (all starting at 0), learning rate lr, smoothing α, momentum μ:
///
///     v ← α·v + (1 − α)·g²
///     centered:   ḡ ← α·ḡ + (1 − α)·g;   s = max(v − ḡ², 0)      otherwise s = v
///     d = g / (√s + ε)
///     μ = 0:      θ ← θ − lr·d
///     μ > 0:      b ← μ·b + d;   θ ← θ − lr·b
///
/// The max(·, 0) only guards against v − ḡ² rounding below zero (it is ≥ 0 in exact
/// arithmetic), where PyTorch would produce NaN. The square root's derivative at 0 is taken
/// as 0, so meta-gradients stay finite for coordinates that only saw zero gradients.
public struct RMSprop: Optimiser {
    /// The averages and the momentum buffer, one tensor per parameter each; the gradient
    /// average is empty unless centred, the buffer empty when the momentum is a constant 0.
    public struct State: RestorableOptimiserState {
        /// v, the averages of g².
        public var squareAverage: [Tensor]
        /// ḡ, the averages of g (centred only).
        public var gradientAverage: [Tensor]
        /// b, the momentum buffers (momentum only).
        public var momentumBuffer: [Tensor]
        /// The tensors by slot name (see ``OptimiserState/slots``).
        public var slots: [String: [Tensor]] {
            var s = ["square_avg": squareAverage]
            if !gradientAverage.isEmpty { s["grad_avg"] = gradientAverage }
            if !momentumBuffer.isEmpty { s["momentum_buffer"] = momentumBuffer }
            return s
        }
        public func restoring(slots: [String: [Tensor]], stepCount: Int) -> State {
            State(squareAverage: slots["square_avg"] ?? squareAverage, gradientAverage: slots["grad_avg"] ?? gradientAverage,
                  momentumBuffer: slots["momentum_buffer"] ?? momentumBuffer)
        }
    }

    /// lr, shape `[]`.
    public let learningRate: Tensor
    /// α, the decay of the averages, shape `[]`.
    public let alpha: Tensor
    /// ε, shape `[]`.
    public let epsilon: Tensor
    /// μ, shape `[]`.
    public let momentum: Tensor
    /// Whether the squared average is centred by the squared mean gradient.
    public let centered: Bool

    /// RMSprop with hyper-parameters given as scalar tensors (tracked ones get gradients).
    /// - Parameters:
    ///   - learningRate: lr ≥ 0.
    ///   - alpha: α in [0, 1].
    ///   - epsilon: ε > 0.
    ///   - momentum: μ in [0, 1).
    ///   - centered: divide by the estimated standard deviation instead of the RMS.
    public init(learningRate: Tensor, alpha: Tensor = Tensor(0.99), epsilon: Tensor = Tensor(1e-8),
                momentum: Tensor = Tensor(0), centered: Bool = false) throws {
        self.learningRate = try HyperParameter.check(learningRate, "lr", of: "rmsprop", in: "[0, ∞)") { $0 >= 0 }
        self.alpha = try HyperParameter.check(alpha, "alpha", of: "rmsprop", in: "[0, 1]") { $0 >= 0 && $0 <= 1 }
        self.epsilon = try HyperParameter.check(epsilon, "eps", of: "rmsprop", in: "(0, ∞)") { $0 > 0 }
        self.momentum = try HyperParameter.check(momentum, "momentum", of: "rmsprop", in: "[0, 1)") { $0 >= 0 && $0 < 1 }
        self.centered = centered
    }

    /// RMSprop with hyper-parameters given as numbers; same ranges as the tensor initialiser.
    public init(learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8,
                momentum: Float = 0, centered: Bool = false) throws {
        try self.init(learningRate: Tensor(learningRate), alpha: Tensor(alpha), epsilon: Tensor(epsilon),
                      momentum: Tensor(momentum), centered: centered)
    }

    /// Options of the factory kind `rmsprop`: `lr`=0.01, `alpha`=0.99, `eps`=1e-8,
    /// `momentum`=0, `centered`=0.
    public init(config: inout Config) throws {
        try self.init(learningRate: config.float("lr", default: 1e-2),
                      alpha: config.float("alpha", default: 0.99),
                      epsilon: config.float("eps", default: 1e-8),
                      momentum: config.float("momentum", default: 0),
                      centered: config.bool("centered", default: false))
    }

    /// Zero averages and buffers shaped like `parameters`.
    public func initialState(for parameters: [Tensor]) -> State {
        let zeros = parameters.map { Tensor.zeros($0.shape) }
        return State(squareAverage: zeros, gradientAverage: centered ? zeros : [],
                     momentumBuffer: HyperParameter.isActive(momentum) ? zeros : [])
    }

    /// One step of the update above, in tensor ops (differentiable in θ, g and every
    /// hyper-parameter).
    public func step(parameters: [Tensor], gradients: [Tensor], state: State) -> (parameters: [Tensor], state: State) {
        var next = State(squareAverage: [], gradientAverage: [], momentumBuffer: [])
        var updated = [Tensor]()
        for i in parameters.indices {
            let g = gradients[i]
            let v = alpha * state.squareAverage[i] + (1 - alpha) * (g * g)
            next.squareAverage.append(v)
            var spread = v
            if centered {
                let mean = alpha * state.gradientAverage[i] + (1 - alpha) * g
                next.gradientAverage.append(mean)
                spread = (v - mean * mean).relu()
            }
            var direction = g / (zeroSafeSqrt(spread) + epsilon)
            if !state.momentumBuffer.isEmpty {
                direction = momentum * state.momentumBuffer[i] + direction
                next.momentumBuffer.append(direction)
            }
            updated.append(descentStep(parameters[i], rate: learningRate, direction: direction))
        }
        return (updated, next)
    }
}

/// Stochastic gradient descent, with optional heavy-ball or Nesterov momentum in PyTorch's
/// formulation (`torch.optim.SGD` without dampening or weight decay).
///
/// With gradient g, velocity v (starting at 0), learning rate lr and momentum μ:
///
///     plain (μ = 0):   θ ← θ − lr·g
///     momentum:        v ← μ·v + g;   θ ← θ − lr·v
///     Nesterov:        v ← μ·v + g;   θ ← θ − lr·(g + μ·v)
///
/// Hyper-parameters are scalar tensors, so a tracked `lr` or `μ` gets a meta-gradient.
///
/// ```swift
/// let sgd = try SGD(learningRate: 0.01, momentum: 0.9)
/// var state = sgd.initialState(for: params)
/// (params, state) = sgd.step(parameters: params, gradients: grads, state: state)
/// ```
public struct SGD: Optimiser {
    /// The velocities v, one per parameter (empty when the momentum is a constant 0).
    public struct State: RestorableOptimiserState {
        /// v, one per parameter.
        public var velocities: [Tensor]
        /// The tensors by slot name (see ``OptimiserState/slots``).
        public var slots: [String: [Tensor]] { velocities.isEmpty ? [:] : ["velocity": velocities] }
        public func restoring(slots: [String: [Tensor]], stepCount: Int) -> State {
            State(velocities: slots["velocity"] ?? velocities)
        }
    }

    /// The step size lr, shape `[]`.
    public let learningRate: Tensor
    /// The momentum μ, shape `[]` (0: plain SGD).
    public let momentum: Tensor
    /// Whether the step looks ahead along the velocity (Nesterov momentum).
    public let nesterov: Bool

    /// An SGD optimiser with hyper-parameters given as scalar tensors (tracked ones get
    /// gradients through ``step(parameters:gradients:state:)``).
    /// - Parameters:
    ///   - learningRate: lr ≥ 0, shape `[]`.
    ///   - momentum: μ in [0, 1), shape `[]`.
    ///   - nesterov: Nesterov momentum; needs μ > 0 (or a tracked μ).
    /// - Throws: `.invalidArgument` for values out of range, `.shapeMismatch` for non-scalars.
    public init(learningRate: Tensor, momentum: Tensor = Tensor(0), nesterov: Bool = false) throws {
        self.learningRate = try HyperParameter.check(learningRate, "lr", of: "sgd", in: "[0, ∞)") { $0 >= 0 }
        self.momentum = try HyperParameter.check(momentum, "momentum", of: "sgd", in: "[0, 1)") { $0 >= 0 && $0 < 1 }
        guard !nesterov || HyperParameter.isActive(momentum) else {
            throw L2LError.invalid("sgd: nesterov needs a momentum > 0")
        }
        self.nesterov = nesterov
    }

    /// An SGD optimiser with hyper-parameters given as numbers (made into constant scalar
    /// tensors); same ranges as the tensor initialiser.
    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false) throws {
        try self.init(learningRate: Tensor(learningRate), momentum: Tensor(momentum), nesterov: nesterov)
    }

    /// Options of the factory kinds `sgd` (`lr`=0.01, `momentum`=0, `nesterov`=0),
    /// `momentum` (`lr`=0.01, `momentum`=0.9) and `nesterov` (`lr`=0.01, `momentum`=0.9,
    /// Nesterov on). With `nesterov: nil` the `nesterov` key is read (kind `sgd`); with
    /// true or false it is fixed and the key is not known (kinds `nesterov`, `momentum`).
    public init(config: inout Config, defaultMomentum: Float = 0, nesterov fixedNesterov: Bool? = nil) throws {
        let lr = try config.float("lr", default: 0.01)
        let momentum = try config.float("momentum", default: defaultMomentum)
        let nesterov = try fixedNesterov ?? config.bool("nesterov", default: false)
        try self.init(learningRate: lr, momentum: momentum, nesterov: nesterov)
    }

    /// Zero velocities shaped like `parameters` (none when the momentum is a constant 0).
    public func initialState(for parameters: [Tensor]) -> State {
        State(velocities: HyperParameter.isActive(momentum) ? parameters.map { Tensor.zeros($0.shape) } : [])
    }

    /// One step of the update above, in tensor ops (differentiable in θ, g, lr and μ).
    public func step(parameters: [Tensor], gradients: [Tensor], state: State) -> (parameters: [Tensor], state: State) {
        guard !state.velocities.isEmpty else {
            return (zip(parameters, gradients).map { descentStep($0, rate: learningRate, direction: $1) }, state)
        }
        var next = [Tensor](), velocities = [Tensor]()
        for (p, (g, v)) in zip(parameters, zip(gradients, state.velocities)) {
            let v = momentum * v + g
            let direction = nesterov ? g + momentum * v : v
            next.append(descentStep(p, rate: learningRate, direction: direction))
            velocities.append(v)
        }
        return (next, State(velocities: velocities))
    }
}

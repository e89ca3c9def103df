/// Adam (Kingma & Ba, 2015) with bias correction, and by default its ε inside the square
/// root so that meta-gradients through the step stay finite.
///
/// With gradient g, step count t (1 for the first step), first and second moments m, v
/// (starting at 0):
///
///     m ← β1·m + (1 − β1)·g              m̂ = m / (1 − β1ᵗ)
///     v ← β2·v + (1 − β2)·g²             v̂ = v / (1 − β2ᵗ)
///     θ ← θ − lr · m̂ / √(v̂ + ε²)         (epsilonInside = true, the default)
///     θ ← θ − lr · m̂ / (√v̂ + ε)          (epsilonInside = false: the paper's and PyTorch's)
///
/// Why ε² inside the root: the textbook denominator √v̂ + ε has derivative 1/(2√v̂) in v̂,
/// which is infinite (and NaN in the backward pass, 0/0) wherever v̂ = 0, i.e. for any
/// coordinate that has only seen zero gradients (a dead ReLU unit, an unused input). One
/// such coordinate makes the meta-gradient of a shared hyper-parameter NaN. √(v̂ + ε²) is
/// smooth everywhere, with derivative at most 1/(2ε) in v̂, and keeps ε's meaning as the
/// floor of the denominator: both forms are ≥ ε, agree to a relative ε²/(2v̂) when v̂ ≫ ε²,
/// and differ by at most a factor √2 (at v̂ = ε²). The textbook form is still available;
/// its square root then uses a derivative of 0 at v̂ = 0 (see the safe square root in
/// `Descent.swift`), so it is finite too, though not smooth there.
///
/// ```swift
/// let adam = try Adam(learningRate: 1e-3)
/// var state = adam.initialState(for: params)
/// (params, state) = adam.step(parameters: params, gradients: grads, state: state)
/// ```
public struct Adam: Optimiser {
    /// Step count t and moments m, v (one tensor per parameter).
    public struct State: RestorableOptimiserState {
        /// Steps taken (t of the next step is `step + 1`).
        public var step: Int
        /// The first moments m.
        public var m: [Tensor]
        /// The second moments v.
        public var v: [Tensor]
        /// The tensors by slot name (see ``OptimiserState/slots``).
        public var slots: [String: [Tensor]] { ["m": m, "v": v] }
        public var stepCount: Int { step }
        public func restoring(slots: [String: [Tensor]], stepCount: Int) -> State {
            State(step: stepCount, m: slots["m"] ?? m, v: slots["v"] ?? v)
        }
    }

    /// lr, shape `[]`.
    public let learningRate: Tensor
    /// β1, the decay of the first moment, shape `[]`.
    public let beta1: Tensor
    /// β2, the decay of the second moment, shape `[]`.
    public let beta2: Tensor
    /// ε, shape `[]`.
    public let epsilon: Tensor
    /// √(v̂ + ε²) when true (default), √v̂ + ε when false.
    public let epsilonInside: Bool

    /// Adam with hyper-parameters given as scalar tensors (tracked ones get gradients).
    /// - Parameters:
    ///   - learningRate: lr ≥ 0.
    ///   - beta1: β1 in [0, 1).
    ///   - beta2: β2 in [0, 1).
    ///   - epsilon: ε > 0; with `epsilonInside`, ε ≥ 1.1e-19 so that ε² stays a normal Float.
    ///   - epsilonInside: where ε goes (see the type's documentation).
    public init(learningRate: Tensor, beta1: Tensor = Tensor(0.9), beta2: Tensor = Tensor(0.999),
                epsilon: Tensor = Tensor(1e-8), epsilonInside: Bool = true) throws {
        self.learningRate = try HyperParameter.check(learningRate, "lr", of: "adam", in: "[0, ∞)") { $0 >= 0 }
        self.beta1 = try HyperParameter.check(beta1, "beta1", of: "adam", in: "[0, 1)") { $0 >= 0 && $0 < 1 }
        self.beta2 = try HyperParameter.check(beta2, "beta2", of: "adam", in: "[0, 1)") { $0 >= 0 && $0 < 1 }
        let smallest: Float = epsilonInside ? Float.leastNormalMagnitude.squareRoot() : .leastNonzeroMagnitude
        self.epsilon = try HyperParameter.check(epsilon, "eps", of: "adam", in: "[\(smallest), ∞)") { $0 >= smallest }
        self.epsilonInside = epsilonInside
    }

    /// Adam with hyper-parameters given as numbers; same ranges as the tensor initialiser.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                epsilonInside: Bool = true) throws {
        try self.init(learningRate: Tensor(learningRate), beta1: Tensor(beta1), beta2: Tensor(beta2),
                      epsilon: Tensor(epsilon), epsilonInside: epsilonInside)
    }

    /// Options of the factory kind `adam`: `lr`=0.001, `beta1`=0.9, `beta2`=0.999,
    /// `eps`=1e-8, `eps_inside`=1 (0 for the textbook √v̂ + ε).
    public init(config: inout Config) throws {
        try self.init(learningRate: config.float("lr", default: 1e-3),
                      beta1: config.float("beta1", default: 0.9),
                      beta2: config.float("beta2", default: 0.999),
                      epsilon: config.float("eps", default: 1e-8),
                      epsilonInside: config.bool("eps_inside", default: true))
    }

    /// t = 0 and zero moments shaped like `parameters`.
    public func initialState(for parameters: [Tensor]) -> State {
        let zeros = parameters.map { Tensor.zeros($0.shape) }
        return State(step: 0, m: zeros, v: zeros)
    }

    /// One step of the update above, in tensor ops (differentiable in θ, g and every
    /// hyper-parameter).
    public func step(parameters: [Tensor], gradients: [Tensor], state: State) -> (parameters: [Tensor], state: State) {
        let t = state.step + 1
        let correction1 = 1 - beta1.pow(Float(t)), correction2 = 1 - beta2.pow(Float(t))
        let epsilonSquared = epsilon * epsilon
        var next = [Tensor](), ms = [Tensor](), vs = [Tensor]()
        for i in parameters.indices {
            let g = gradients[i]
            let m = beta1 * state.m[i] + (1 - beta1) * g
            let v = beta2 * state.v[i] + (1 - beta2) * (g * g)
            let mHat = m / correction1, vHat = v / correction2
            let denominator = epsilonInside ? zeroSafeSqrt(vHat + epsilonSquared) : zeroSafeSqrt(vHat) + epsilon
            next.append(descentStep(parameters[i], rate: learningRate, direction: mHat / denominator))
            ms.append(m)
            vs.append(v)
        }
        return (next, State(step: t, m: ms, v: vs))
    }
}

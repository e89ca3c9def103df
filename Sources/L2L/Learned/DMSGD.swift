/// Dynamic Meta-SGD and Masked Meta-SGD (Kuo et al., M²SGD paper, Table 1, eqs. 6–11).
///
///     [h, c] = LSTM(preprocess(∇), h, c)                 coordinate-wise, H units
///     β_t    = ReLU(β^sta + γ ⊙ tanh(h · U_β))           one rate per learner coordinate
///     θ      ← θ − β_t ⊙ ∇
///     M²SGD: θ ← θ ⊙ 1[β_t > ξ]                           in the phases `mask` names
///
/// This follows the paper's coordinate-wise formulation. The authors' released code is
/// different (their released code): its LSTM reads one projection of the whole network, its head
/// maps 20 → P, γ is fixed and there is no mask at all.
///
/// β^sta starts at 1e-3 (as the code) and U_β at zero, so the untrained optimiser is
/// Meta-SGD at 1e-3: a random U_β makes tanh(U_β h) dwarf β^sta and switch half the
/// coordinates off at once (the authors' code), and a large one saturates tanh, freezing β_t
/// (ARCHITECTURE.md, "Failure modes"). `u_beta_init=a` draws U_β from U(±a) instead (the
/// authors' PyTorch default for their 20 → P head is a = 1/√20 ≈ 0.2236, which gives
/// tanh terms of order 0.06 at start); it is how M²SGD reaches the paper's sparsity.
/// U_β is one vector shared by every coordinate and the LSTM's first outputs h are nearly
/// the same for every coordinate, so h · U_β is nearly one number: when it is below −β^sta,
/// every β_t is 0 and no meta-gradient passes the ReLU (meta-training seed 1 of
/// docs/m2sgd-sparsity.md).
/// `u_beta_sign=positive` flips the draw if h · U_β < 0 for the LSTM's first output on a
/// typical gradient (|g| = e^−5, both signs), so the untrained optimiser moves the weights.
/// γ is the constant 1 unless `learn_gamma=1`.
/// Masking defaults to meta-testing only: masked at ξ from the first meta-training step,
/// every weight can vanish and no meta-gradient flows (ARCHITECTURE.md, "Failure modes").
/// `rate_penalty=λ` (M²SGD only; not in the paper, whose meta-loss is the learner's loss
/// alone) adds λ·mean(β_t) to each meta-training step's loss: an L1 pull of the rates
/// towards 0, where the mask removes the weight. β_t starts near `beta_static` (1e-3), so
/// λ = 100 adds about 0.1 per step while every rate is at its start.
public struct DMSGD: LearnedOptimiser {
    public let shapes: [[Int]]
    public let network: CoordinateLSTM
    public let initialStatic: Float
    /// Bound a of U_β's initial draw U(±a); 0 (the default) starts U_β at zero.
    public let initialUBetaBound: Float
    /// Whether U_β's draw is flipped to start with positive dynamic rates (`u_beta_sign=positive`).
    public let positiveUBeta: Bool
    public let learnGamma: Bool
    public let p: Float
    /// ξ and the phases in which the mask acts; `nil` for plain DMSGD.
    public let mask: (threshold: Float, phases: Set<LearnedPhase>)?
    /// λ of `rate_penalty` (0: none, and always for plain DMSGD).
    public let ratePenalty: Float

    public init(shapes: [[Int]], masked: Bool, config: inout Config) throws {
        guard !shapes.isEmpty else { throw L2LError.invalid("dmsgd: needs the learner's parameter shapes") }
        self.shapes = shapes
        network = try CoordinateLSTM(inputSize: 2, layers: [try config.int("hidden", default: 20, range: 1...4096)])
        initialStatic = try config.float("beta_static", default: 1e-3, range: -10...10)
        initialUBetaBound = try config.float("u_beta_init", default: 0, range: 0...10)
        positiveUBeta = try config.choice("u_beta_sign", default: false, ["random": false, "positive": true])
        learnGamma = try config.bool("learn_gamma", default: false)
        p = try config.float("p", default: 10, range: 1...50)
        if masked {
            let xi = try config.float("xi", default: 0, range: 0...100)
            let phases: Set<LearnedPhase> = try config.choice("mask_during", default: [.metaTesting],
                ["meta_testing": [.metaTesting], "meta_training": [.metaTraining], "both": [.metaTraining, .metaTesting]])
            mask = (xi, phases)
            ratePenalty = try config.float("rate_penalty", default: 0, range: 0...1e9)
        } else {
            mask = nil
            ratePenalty = 0
        }
    }

    public var kind: String { mask == nil ? "dmsgd" : "m2sgd" }
    public var parameterShapes: [[Int]]? { shapes }

    public var options: String {
        var text = "hidden=\(network.layers[0]) beta_static=\(initialStatic) u_beta_init=\(initialUBetaBound) u_beta_sign=\(positiveUBeta ? "positive" : "random") learn_gamma=\(learnGamma ? 1 : 0) p=\(p)"
        if let mask {
            let during = mask.phases.count == 2 ? "both" : mask.phases.first!.rawValue
            text += " xi=\(mask.threshold) mask_during=\(during)" + (ratePenalty > 0 ? " rate_penalty=\(ratePenalty)" : "")
        }
        return text
    }

    public var metaParameterSpecs: [MetaParameterSpec] {
        network.specs + [MetaParameterSpec(name: "u_beta", shape: [network.layers[0], 1])]
            + shapes.enumerated().map { MetaParameterSpec(name: "beta_static\($0.offset)", shape: $0.element) }
            + (learnGamma ? shapes.enumerated().map { MetaParameterSpec(name: "gamma\($0.offset)", shape: $0.element) } : [])
    }

    public func initialMetaParameters(rng: inout RNG) -> [Tensor] {
        let lstm = network.initialParameters(rng: &rng)
        let uShape = [network.layers[0], 1]
        var u = initialUBetaBound == 0 ? Tensor.zeros(uShape)
            : Tensor.uniform(uShape, low: -initialUBetaBound, high: initialUBetaBound, rng: &rng)
        if positiveUBeta {
            // Gradients of ±e^−5.
            let typical = GradientPreprocessing.logAndSign(Tensor(shape: [2, 1], scalars: [0.006737947, -0.006737947]), p: p)
            let h = network(typical, parameters: lstm[...], state: network.initialState(coordinates: 2)).output
            if matmul(h, u).scalars.reduce(0, +) < 0 { u = u * Tensor(-1) }
        }
        return lstm + [u]
            + shapes.map { Tensor(repeating: initialStatic, shape: $0) }
            + (learnGamma ? shapes.map { Tensor.ones($0) } : [])
    }

    /// The LSTM's state (``CoordinateLSTM/initialState(coordinates:)``), then the last rates
    /// β_t `[P, 1]` (for masks and reports; still attached to φ's graph with `rate_penalty`,
    /// which reads them).
    public func initialState(for parameters: [Tensor]) -> [Tensor] {
        let n = parameters.reduce(0) { $0 + $1.count }
        return network.initialState(coordinates: n) + [Tensor(repeating: initialStatic, shape: [n, 1])]
    }

    /// β_t of the last step, `[P, 1]`, from a state this optimiser produced.
    public func rates(in state: [Tensor]) -> Tensor { state[state.count - 1] }

    public func step(meta: [Tensor], parameters: [Tensor], gradients: [Tensor], state: [Tensor],
                     phase: LearnedPhase, inputs: Tensor?) -> (parameters: [Tensor], state: [Tensor]) {
        let lstmCount = 3 * network.layers.count
        let g = coordinates(gradients)
        let next = network.step(GradientPreprocessing.logAndSign(g, p: p), parameters: meta[0..<lstmCount],
                                state: Array(state.prefix(network.layers.count)))
        let dynamic = Tensor.linearHead(next.last!, w: meta[lstmCount]).tanh()             // [P, 1]: h·U_β, h read in place
        let statics = coordinates(Array(meta[(lstmCount + 1)..<(lstmCount + 1 + shapes.count)]))
        let gamma = learnGamma ? coordinates(Array(meta.suffix(shapes.count))) : Tensor(1)
        let beta = (statics + gamma * dynamic).relu()                                       // [P, 1]
        var theta = coordinates(parameters) - beta * g
        if let mask, mask.phases.contains(phase) {
            theta = theta * withoutGraph { beta.mask(greaterThan: mask.threshold) }
        }
        return (split(theta, like: parameters.map(\.shape)), next + [ratePenalty > 0 ? beta : beta.detached()])
    }

    /// λ·mean(β_t) with `rate_penalty=λ`, else `nil`.
    public func metaLossTerm(state: [Tensor]) -> Tensor? {
        ratePenalty > 0 ? rates(in: state).mean() * ratePenalty : nil
    }
}

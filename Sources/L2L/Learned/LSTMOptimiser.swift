/// The coordinate-wise LSTM optimiser of Andrychowicz et al. (2016): every learner
/// coordinate's preprocessed gradient goes through one shared LSTM stack, whose output is
/// the update: θ ← θ + Δ, with Δ = scale · head(h) (or scale · h when the last layer has
/// one unit and there is no head).
///
/// Two documented presets:
/// - `paper`: 2 layers of 20 units and a linear head (as the paper; DeepMind's code has
///   5,141 parameters for this shape). The head starts near zero (U(±0.01), bias 0) and
///   Δ is scaled by 0.1: a randomly initialised head pushes every coordinate the same way
///   and can collapse the learner at chance level (ARCHITECTURE.md, "Failure modes"), so the
///   untrained optimiser starts by taking small steps.
/// - `mtl2l`: the MTL2L authors' baseline (their released code): 20 units then 1 unit, no head,
///   Δ = 0.1·h₂ (so |Δ| < 0.1), forget/input gate biases +1/−1, weights U(±0.5/√H). It has
///   1,928 parameters against the authors' 2,052: one bias per gate block here, where
///   PyTorch keeps two (input and hidden) plus their separate learnable b_F, b_I — the same
///   functions. Meta-trained with the authors' element-wise clamp of the meta-gradient to
///   [−1, 1], it is the preset the docs recommend. What it does past its training horizon
///   depends on the meta-training seed: meta-trained on 60 learners of 100 steps, 4 of 5
///   seeds kept improving to 10× the horizon on Fashion-MNIST and one rose after step 300
///   (docs/past-the-horizon.md; `examples/horizon_stability.py`).
///
/// `init_scales` (one number per layer) overrides the half-width factor of φ's initial draw.
///
/// `rms_decay=β` (0, the default, turns it off; ours, not the paper's) divides each gradient
/// coordinate by its running root mean square before the preprocessing, as Adam divides by
/// √v̂: v_t = β·v_{t−1} + (1 − β)·g², bias-corrected by 1 − β^t, and the network reads
/// pre(g / √(v̂ + 1e-16)). The network then sees the same inputs whatever the scale of the
/// learner's gradients (Wichrowska et al. 2017 normalise their inputs for the same reason:
/// an optimiser that must work on networks it was not trained on). The state gains one
/// `[P, 2]` tensor: the running means of g² and of 1 (= 1 − β^t).
///
/// `inputs=adam` (the default `log_sign` is the paper's preprocessing) feeds the network
/// RNNprop's two features (Lv et al. 2017, "Learning Gradient Descent: Better Generalization
/// and Longer Horizons"): g / (√v̂ + ε) and m̂ / (√v̂ + ε), with m̂, v̂ Adam's bias-corrected
/// running means of g and g² (decays `beta1`, `beta2`, both 0.95 as in the authors' code;
/// ε = 1e-8). Like `rms_decay` it makes the inputs scale-free, and it adds Adam's momentum as
/// a feature. The state gains one `[P, 4]` tensor: the running means of g, g², and of 1 under
/// β₁ and under β₂ (1 − β₁ᵗ, 1 − β₂ᵗ). `squash=1` bounds the output as RNNprop does:
/// Δ = scale · tanh(out). (RNNprop also has a 20-unit ELU layer before its LSTM; here the
/// LSTM's input weights read the two features directly.) With `preset=mtl2l inputs=adam`,
/// meta-trained on the 784-32-10 MLP (60 learners of 100 steps, then 4 of 1 000 by PES), it
/// stayed within 2 points of Adam on a 784-64-64-10 MLP for 5 of 5 seeds and on a convnet
/// for 4 of 5 (docs/past-the-horizon.md; 3 of 10 with the log/sign inputs; 5 of 5 on both
/// with `odd=1` too).
///
/// `odd=1` (ours) makes Δ an odd function of the gradient history, as the updates of SGD,
/// momentum and Adam are: the network also runs on every coordinate's mirror image, the
/// features of −g with a state of its own, and Δ = ½·(Δ(g) − Δ(−g)). A zero gradient then
/// gives a zero step, and no φ can push every weight the same way whatever the gradient's
/// sign — which one meta-trained φ did to a convnet's first steps until its ReLUs died.
/// With `preset=mtl2l inputs=adam odd=1` and the same meta-training, every one of 5 seeds
/// stayed within 2 points of Adam on both other networks, above it on each
/// (docs/past-the-horizon.md, "Odd updates"). The network's state and work double
/// (`[2P, 2H]` per layer, the first P rows for g, the last P for −g).
public struct LSTMOptimiser: LearnedOptimiser {
    /// What the network reads for each coordinate (two features either way).
    public typealias Inputs = GradientInputs

    public let network: CoordinateLSTM
    /// A linear head from the last hidden layer to one output per coordinate.
    public let head: Bool
    /// Δ = scale · output.
    public let scale: Float
    /// The preprocessing's p.
    public let p: Float
    /// Half-width of the head weights' uniform initialisation.
    public let headInit: Float
    /// β of the running mean of g² the gradient is divided by (0: not divided).
    public let rmsDecay: Float
    /// The network's input features.
    public let inputs: Inputs
    /// Decays of the running means of g and g² (used with `inputs == .adam`).
    public let beta1: Float, beta2: Float
    /// Δ = scale · tanh(output) instead of scale · output.
    public let squash: Bool
    /// Δ = ½·(Δ(g) − Δ(−g)), an odd function of the gradients.
    public let odd: Bool
    public let preset: String

    public init(preset: String = "paper", config: inout Config) throws {
        let presets: [String: (layers: [Int], head: Bool, forget: Float, input: Float, scales: [Float]?)] = [
            "paper": ([20, 20], true, 1, 0, nil),
            "mtl2l": ([20, 1], false, 1, -1, [0.5, 0.5]),
        ]
        let name = config.string("preset") ?? preset
        guard let d = presets[name] else { throw L2LError.invalid("lstm: unknown preset '\(name)' (known: paper, mtl2l)") }
        let layers = try config.ints("layers") ?? d.layers
        let head = try config.bool("head", default: d.head)
        guard head || layers.last == 1 else {
            throw L2LError.invalid("lstm: without a head the last layer must have 1 unit, got layers \(layers)")
        }
        network = try CoordinateLSTM(inputSize: 2, layers: layers,
                                     forgetBias: try config.float("forget_bias", default: d.forget, range: -10...10),
                                     inputBias: try config.float("input_bias", default: d.input, range: -10...10),
                                     initScales: try Self.initScales(config.string("init_scales"), layers: layers)
                                        ?? (layers == d.layers ? d.scales : nil))
        self.head = head
        scale = try config.float("scale", default: 0.1, range: 1e-6...100)
        p = try config.float("p", default: 10, range: 1...50)
        headInit = try config.float("head_init", default: 0.01, range: 0...10)
        rmsDecay = try config.float("rms_decay", default: 0, range: 0...0.999_999)
        let inputs = try GradientInputs.parse(&config, key: "inputs", owner: "lstm")
        guard inputs == .logSign || rmsDecay == 0 else {
            throw L2LError.invalid("lstm: rms_decay applies to the log_sign inputs; inputs=adam divides by √v̂ itself")
        }
        self.inputs = inputs
        beta1 = try config.float("beta1", default: 0.95, range: 0...0.999_999)
        beta2 = try config.float("beta2", default: 0.95, range: 0...0.999_999)
        squash = try config.bool("squash", default: false)
        odd = try config.bool("odd", default: false)
        self.preset = name
    }

    /// Parses `init_scales` (one number per layer) if given.
    static func initScales(_ text: String?, layers: [Int]) throws -> [Float]? {
        guard let text else { return nil }
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map(Config.decimal)
        guard values.count == layers.count, values.allSatisfy({ $0 != nil && $0!.isFinite && $0! >= 0 }) else {
            throw L2LError.invalid("lstm: init_scales=\(text) needs \(layers.count) non-negative numbers, one per layer")
        }
        return values.map { $0! }
    }

    public var kind: String { "lstm" }
    public var parameterShapes: [[Int]]? { nil }

    /// The options text that rebuilds this optimiser (`rms_decay`, `inputs=adam`, `squash` and
    /// `odd` only when on, so an optimiser without them keeps the text, and the checkpoints that
    /// store it, it had before).
    public var options: String {
        "preset=\(preset) layers=\(network.layers.map(String.init).joined(separator: ",")) head=\(head ? 1 : 0) scale=\(scale) p=\(p) forget_bias=\(network.forgetBias) input_bias=\(network.inputBias) head_init=\(headInit) init_scales=\(network.initScales.map { "\($0)" }.joined(separator: ","))"
            + (rmsDecay > 0 ? " rms_decay=\(rmsDecay)" : "")
            + (inputs == .adam ? " inputs=adam beta1=\(beta1) beta2=\(beta2)" : "")
            + (squash ? " squash=1" : "")
            + (odd ? " odd=1" : "")
    }

    public var metaParameterSpecs: [MetaParameterSpec] {
        network.specs + (head ? [MetaParameterSpec(name: "head.w", shape: [network.layers.last!, 1]),
                                 MetaParameterSpec(name: "head.b", shape: [1])] : [])
    }

    public func initialMetaParameters(rng: inout RNG) -> [Tensor] {
        network.initialParameters(rng: &rng)
            + (head ? [Tensor.uniform([network.layers.last!, 1], low: -headInit, high: headInit, rng: &rng), Tensor.zeros([1])] : [])
    }

    /// One `[P, 2H]` tensor per layer (`[2P, 2H]` with `odd`: the mirror images' rows after
    /// the coordinates'), then the running means: `[P, 2]` with `rms_decay`, `[P, 4]` with
    /// `inputs=adam`.
    public func initialState(for parameters: [Tensor]) -> [Tensor] {
        let p = parameters.reduce(0) { $0 + $1.count }
        let moments = inputs == .adam ? [Tensor.zeros([p, 4])] : rmsDecay > 0 ? [Tensor.zeros([p, 2])] : []
        return network.initialState(coordinates: odd ? 2 * p : p) + moments
    }

    public func step(meta: [Tensor], parameters: [Tensor], gradients: [Tensor], state: [Tensor],
                     phase: LearnedPhase, inputs: Tensor?) -> (parameters: [Tensor], state: [Tensor]) {
        let layers = network.layers.count
        var g = coordinates(gradients)
        var moments = [Tensor]()
        let x: Tensor
        switch self.inputs {
        case .logSign:
            if rmsDecay > 0 {
                // Column 0: the running mean of g²; column 1: of 1, i.e. 1 − β^t (Adam's bias correction).
                let m = GradientInputs.runningMeans(state[layers], [g * g, Tensor.ones(g.shape)], decays: [rmsDecay, rmsDecay])
                g = g / (m.slice(axis: 1, 0..<1) / m.slice(axis: 1, 1..<2) + 1e-16).sqrt()
                moments = [m]
            }
            x = GradientPreprocessing.logAndSign(g, p: p)
        case .adam:
            let step = GradientInputs.adamStep(g, previous: state[layers], beta1: beta1, beta2: beta2)
            (x, moments) = (step.features, [step.moments])
        }
        let next = network.step(odd ? OddUpdate.withMirrors(x, inputs: self.inputs) : x,
                                parameters: meta[0..<(3 * layers)], state: Array(state[0..<layers]))
        // The head reads h in place from the last layer's [P, 2H] (odd: [2P, 2H]) state.
        var out = head ? Tensor.linearHead(next.last!, w: meta[meta.count - 2], bias: meta[meta.count - 1])
                       : next.last!.slice(axis: 1, 0..<1)
        if squash { out = out.tanh() }
        if odd { out = OddUpdate.halfDifference(out) }
        let delta = split(out * scale, like: parameters.map(\.shape))
        return (zip(parameters, delta).map { $0 + $1 }, next + moments)
    }
}

/// Meta-SGD (Li et al., 2017): θ ← θ − β ⊙ ∇ with one learned rate per learner parameter,
/// so it is tied to one learner architecture. β starts at `lr` everywhere. Nothing keeps
/// β positive: about 1 % of rates went negative in a plain re-implementation
/// (ARCHITECTURE.md, "Failure modes"); the meta-test reports their share.
public struct MetaSGD: LearnedOptimiser {
    public let shapes: [[Int]]
    public let initialRate: Float

    public init(shapes: [[Int]], config: inout Config) throws {
        guard !shapes.isEmpty else { throw L2LError.invalid("meta_sgd: needs the learner's parameter shapes") }
        self.shapes = shapes
        initialRate = try config.float("lr", default: 1e-3, range: -10...10)
    }

    public var kind: String { "meta_sgd" }
    public var parameterShapes: [[Int]]? { shapes }
    public var options: String { "lr=\(initialRate)" }

    public var metaParameterSpecs: [MetaParameterSpec] {
        shapes.enumerated().map { MetaParameterSpec(name: "beta\($0.offset)", shape: $0.element) }
    }

    public func initialMetaParameters(rng: inout RNG) -> [Tensor] {
        shapes.map { Tensor(repeating: initialRate, shape: $0) }
    }

    public func initialState(for parameters: [Tensor]) -> [Tensor] { [] }

    public func step(meta: [Tensor], parameters: [Tensor], gradients: [Tensor], state: [Tensor],
                     phase: LearnedPhase, inputs: Tensor?) -> (parameters: [Tensor], state: [Tensor]) {
        (zip(zip(parameters, gradients), meta).map { pg, beta in pg.0 - beta * pg.1 }, state)
    }
}

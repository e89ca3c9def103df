import Glibc

/// MTL2L, the context-aware neural optimiser of Kuo et al. (*MTL2L: A Context Aware Neural
/// Optimiser*, arXiv:2007.09343): a coordinate-wise two-layer LSTM over every learner
/// coordinate whose synapses are re-made at every step from the learner's input batch X:
///
///     W = Q · diag(N(X)) · Pᵀ                 (Q, P Haar-orthogonal H × H matrices, fixed)
///     E ← 0.9·E + 0.1·mean_batch N(X)         (context vectors, zero at the start of a learner)
///
/// with four hypernetworks N (784 → 32 → ReLU → H or 4): N1x, N1q give the eigenvalues of
/// layer 1's input and recurrent synapses (one Q, P pair per gate and path), N2x, N2q the
/// per-gate scalars of layer 2, whose hidden size is 1 so its "SVD" is rank 1 (the authors'
/// code): pre_G = e3_G·(h₁·w_G) + e4_G·h₂. The input is the preprocessed gradient
/// (log-magnitude and sign, p = 10) through a 2 → H linear map; the update is Δ = 0.1·h₂,
/// θ ← θ + Δ. During meta-training only, the hypernetworks use dropout (0.1 on the input,
/// 0.25 hidden, 0.1 on the output) and θ gets noise after the update,
/// θ ← θ + σ_t ε with σ_t = sg(max|θ|)·(T − t)/T·c, c ∈ {0.025, 0.05} at random, T the
/// `noise_horizon` (100, the trial length) and t the learner's step.
///
/// Presets (paper and code differ; the paper is the default):
/// - `paper`: biases on all four gates of both layers (the paper's equations 9–10), context
///   vectors the plain running average of equation 17;
/// - `code`: the authors' released code: biases on the forget and input gates only
///   (+1 / −1 at the start), a ReLU on E1 and E2's statistic. For a 784-input learner it has
///   the authors' 102,226 trainable meta-parameters.
/// Both draw their initial φ as the code does in effect (PyTorch's default Linear
/// initialisation: its ×0.01 rescaling never runs). Not reproduced: the code's noise clock,
/// which stays at 0 on its Fashion-MNIST trials (here t is the learner's own step).
///
/// The orthogonal matrices are part of φ but fixed (``MetaParameterSpec/trainable`` false):
/// drawn with the rest, saved and loaded with it, never changed by meta-training (unless
/// `bases=learned`) — the authors' code redraws them, so its trained optimisers cannot be
/// reloaded.
///
/// Not the paper's, as for the LSTM optimiser (``LSTMOptimiser``): `gradient_inputs=adam`
/// feeds layer 1 RNNprop's features (``GradientInputs/adam``, decays `beta1`, `beta2`, 0.95
/// each) in place of the log/sign preprocessing, and `odd=1` makes Δ odd in the gradients
/// (``OddUpdate``: layers 1 and 2 also run on every coordinate's mirror image, with the same
/// synapses and a state of their own). (`inputs` here is the learner's input width.) With
/// both, `noise=0`, and 60 learners of 100 steps then 4 of 1 000 by PES, every one of 5
/// meta-training seeds kept improving to 10× the horizon on Fashion-MNIST
/// (docs/past-the-horizon.md; 4 of 5 at best with the log/sign inputs).
///
/// Ablations of the synapse construction (neither paper nor code; for finding where MTL2L
/// trails an LSTM optimiser of its size): `eigenvalues=per_gate` gives each of layer 1's four
/// gates its own eigenvalues (N1x and N1q output 4H, E1 and E2 are `[1, 4H]`) where paper
/// and code share one vector per path across the gates; `bases=learned` meta-trains Q and P
/// (drawn Haar-orthogonal, then free, not kept orthogonal).
///
/// Every step needs the input batch `[B, inputs]` that produced the gradient.
public struct MTL2L: LearnedOptimiser {
    /// H, the hidden size of layer 1 (20).
    public let hidden: Int
    /// The hypernetworks' hidden size (32).
    public let hyperHidden: Int
    /// The learner's input features the hypernetworks read (784).
    public let inputs: Int
    public let preset: String
    /// Biases on all four gates (paper) or on the forget and input gates only (code).
    public let allGateBiases: Bool
    /// A ReLU on E1 and E2's batch statistic (code).
    public let contextReLU: Bool
    /// Hypernetwork dropout while meta-training.
    public let dropout: Bool
    /// Noise on θ while meta-training.
    public let noise: Bool
    /// T of the noise schedule: σ_t reaches 0 at step T.
    public let noiseHorizon: Int
    /// Δ = scale · h₂.
    public let scale: Float
    /// The preprocessing's p.
    public let p: Float
    /// What layer 1 reads per coordinate.
    public let gradientInputs: GradientInputs
    /// Decays of the running means of g and g² (used with `gradientInputs == .adam`).
    public let beta1: Float, beta2: Float
    /// Δ = ½·(Δ(g) − Δ(−g)), an odd function of the gradients.
    public let odd: Bool
    /// Layer 1's eigenvalues per gate (4H per path) instead of one H-vector shared by the gates.
    public let perGateEigenvalues: Bool
    /// Q and P meta-trained instead of fixed.
    public let learnedBases: Bool

    static let gates = ["i", "f", "a", "o"]

    /// Options: `preset` (paper, code), `hidden` (20), `hyper_hidden` (32), `inputs` (the
    /// learner's input features; `defaultInputs` if not given), `gate_biases` (all,
    /// forget_input), `context_relu`, `dropout`, `noise`, `noise_horizon` (100), `scale`
    /// (0.1), `p` (10), `gradient_inputs` (log_sign, adam), `beta1`, `beta2` (0.95), `odd` (0),
    /// `eigenvalues` (shared, per_gate), `bases` (fixed, learned).
    public init(config: inout Config, defaultInputs: Int = 784) throws {
        let name = config.string("preset") ?? "paper"
        guard name == "paper" || name == "code" else { throw L2LError.invalid("mtl2l: unknown preset '\(name)' (known: paper, code)") }
        preset = name
        hidden = try config.int("hidden", default: 20, range: 1...1024)
        hyperHidden = try config.int("hyper_hidden", default: 32, range: 1...4096)
        inputs = try config.int("inputs", default: defaultInputs, range: 1...10_000_000)
        allGateBiases = try config.choice("gate_biases", default: name == "paper", ["all": true, "forget_input": false])
        contextReLU = try config.bool("context_relu", default: name == "code")
        dropout = try config.bool("dropout", default: true)
        noise = try config.bool("noise", default: true)
        noiseHorizon = try config.int("noise_horizon", default: 100, range: 1...10_000_000)
        scale = try config.float("scale", default: 0.1, range: 1e-6...100)
        p = try config.float("p", default: 10, range: 1...50)
        gradientInputs = try GradientInputs.parse(&config, key: "gradient_inputs", owner: "mtl2l")
        beta1 = try config.float("beta1", default: 0.95, range: 0...0.999_999)
        beta2 = try config.float("beta2", default: 0.95, range: 0...0.999_999)
        odd = try config.bool("odd", default: false)
        perGateEigenvalues = try config.choice("eigenvalues", default: false, ["shared": false, "per_gate": true])
        learnedBases = try config.choice("bases", default: false, ["fixed": false, "learned": true])
    }

    public var kind: String { "mtl2l" }
    public var parameterShapes: [[Int]]? { nil }
    public var inputFeatures: Int? { inputs }

    public var options: String {
        "preset=\(preset) hidden=\(hidden) hyper_hidden=\(hyperHidden) inputs=\(inputs) "
            + "gate_biases=\(allGateBiases ? "all" : "forget_input") context_relu=\(contextReLU ? 1 : 0) "
            + "dropout=\(dropout ? 1 : 0) noise=\(noise ? 1 : 0) noise_horizon=\(noiseHorizon) scale=\(scale) p=\(p)"
            + (gradientInputs == .adam ? " gradient_inputs=adam beta1=\(beta1) beta2=\(beta2)" : "")
            + (odd ? " odd=1" : "")
            + (perGateEigenvalues ? " eigenvalues=per_gate" : "")
            + (learnedBases ? " bases=learned" : "")
    }

    /// Layer 1's eigenvalues per path: H, or 4H with `eigenvalues=per_gate`.
    var eigenvalueCount: Int { perGateEigenvalues ? 4 * hidden : hidden }
    /// The hypernetworks' names and output sizes, in φ's order.
    var hypernetworks: [(name: String, outputs: Int)] {
        [("n1x", eigenvalueCount), ("n1q", eigenvalueCount), ("n2x", 4), ("n2q", 4)]
    }
    /// Gate biases per layer: 4 (all) or 2 (forget and input).
    var biasedGates: Int { allGateBiases ? 4 : 2 }
    /// Index of `w_in` in φ (after the hypernetworks' 4 tensors each).
    var trunk: Int { 4 * hypernetworks.count }

    public var metaParameterSpecs: [MetaParameterSpec] {
        var specs = [MetaParameterSpec]()
        for (name, out) in hypernetworks {
            specs += [MetaParameterSpec(name: "\(name).w1", shape: [inputs, hyperHidden]),
                      MetaParameterSpec(name: "\(name).b1", shape: [hyperHidden]),
                      MetaParameterSpec(name: "\(name).w2", shape: [hyperHidden, out]),
                      MetaParameterSpec(name: "\(name).b2", shape: [out])]
        }
        specs += [MetaParameterSpec(name: "w_in", shape: [2, hidden]),
                  MetaParameterSpec(name: "b1", shape: [biasedGates * hidden]),
                  MetaParameterSpec(name: "w2", shape: [hidden, 4]),
                  MetaParameterSpec(name: "b2", shape: [biasedGates])]
        for gate in Self.gates {
            for path in ["x", "q"] {
                specs += ["q", "p"].map {
                    MetaParameterSpec(name: "basis.\(gate)\(path).\($0)", shape: [hidden, hidden], trainable: learnedBases)
                }
            }
        }
        return specs
    }

    public func initialMetaParameters(rng: inout RNG) -> [Tensor] {
        // PyTorch's Linear default: weights and biases U(±1/√fan_in).
        func linear(_ shape: [Int], fanIn: Int) -> Tensor {
            let a = 1 / Float(fanIn).squareRoot()
            return Tensor.uniform(shape, low: -a, high: a, rng: &rng)
        }
        /// Forget +1, input −1 (gate order i, f, a, o), `width` entries per gate.
        func gateBiases(width: Int) -> Tensor {
            Tensor(shape: [biasedGates * width], scalars: (0..<biasedGates).flatMap { g in
                [Float](repeating: g == 0 ? -1 : g == 1 ? 1 : 0, count: width)
            })
        }
        var phi = [Tensor]()
        for (_, out) in hypernetworks {
            phi += [linear([inputs, hyperHidden], fanIn: inputs), linear([hyperHidden], fanIn: inputs),
                    linear([hyperHidden, out], fanIn: hyperHidden), linear([out], fanIn: hyperHidden)]
        }
        phi += [linear([2, hidden], fanIn: hidden), gateBiases(width: hidden),
                Tensor.uniform([hidden, 4], low: -1, high: 1, rng: &rng), gateBiases(width: 1)]
        for _ in 0..<(2 * Self.gates.count) {
            phi += [haarOrthogonal(hidden, rng: &rng), haarOrthogonal(hidden, rng: &rng)]
        }
        return phi
    }

    /// The state's layout version, kept in the clock. Version 2 (h and c of a layer in one
    /// tensor) holds one float more than version 1 (h and c apart, two floats in the clock),
    /// which held the same number of floats otherwise: so an exported state of the old layout
    /// is refused by its size instead of being read into the wrong places.
    static let stateLayout: Float = 2

    /// Layer 1's `[P, 2H]` and layer 2's `[P, 2]` states (h then c, as ``Tensor/lstmLayer``),
    /// the context vectors E1…E4 (`[1, H]` twice, `[1, 4H]` with `eigenvalues=per_gate`, then
    /// `[1, 4]` twice; zero), and the clock `[3]`: the learner's step t, a key drawn from its
    /// initial parameters (the dropout and noise of meta-training are drawn from both, so a
    /// recomputed step draws the same) and ``stateLayout``; with `gradient_inputs=adam` then
    /// the `[P, 4]` running means (``GradientInputs/adamMoments(_:previous:beta1:beta2:)``).
    /// With `odd` the layers' states have 2P rows, the mirror images' after the coordinates'.
    public func initialState(for parameters: [Tensor]) -> [Tensor] {
        let n = parameters.reduce(0) { $0 + $1.count }
        var key: UInt32 = 2_166_136_261
        for t in parameters {
            t.withUnsafeBufferPointer { for v in $0 { key = (key ^ v.bitPattern) &* 16_777_619 } }
        }
        let rows = odd ? 2 * n : n
        return [Tensor.zeros([rows, 2 * hidden]), Tensor.zeros([rows, 2]),
                Tensor.zeros([1, eigenvalueCount]), Tensor.zeros([1, eigenvalueCount]),
                Tensor.zeros([1, 4]), Tensor.zeros([1, 4]),
                Tensor(shape: [3], scalars: [0, Float(key & 0xFF_FFFF), Self.stateLayout])]
            + (gradientInputs == .adam ? [Tensor.zeros([n, 4])] : [])
    }

    public func step(meta: [Tensor], parameters: [Tensor], gradients: [Tensor], state: [Tensor],
                     phase: LearnedPhase, inputs batch: Tensor?) -> (parameters: [Tensor], state: [Tensor]) {
        guard let batch, batch.rank == 2, batch.shape[1] == inputs else { return (parameters, state) }
        let training = phase == .metaTraining
        let clock = state[6].scalars
        let t = Int(clock[0])
        var rng = RNG(seed: UInt64(clock[1]) << 32 | UInt64(t))

        /// Inverted dropout at rate `rate` (meta-training only).
        func dropped(_ x: Tensor, _ rate: Float) -> Tensor {
            guard training && dropout else { return x }
            let keep = withoutGraph { Tensor.uniform(x.shape, low: 0, high: 1, rng: &rng).mask(greaterThan: rate) }
            return x * keep * (1 / (1 - rate))
        }
        /// Hypernetwork `k` on the batch, averaged over it: `[1, outputs]`.
        func hyper(_ k: Int) -> Tensor {
            let h = (matmul(dropped(batch, 0.1), meta[4 * k]) + meta[4 * k + 1]).relu()
            return dropped(matmul(dropped(h, 0.25), meta[4 * k + 2]) + meta[4 * k + 3], 0.1).mean(axis: 0, keepDims: true)
        }
        let stats = (0..<4).map(hyper)
        let e = (0..<4).map { k -> Tensor in
            let s = contextReLU && k < 2 ? stats[k].relu() : stats[k]
            return state[2 + k] * 0.9 + s * 0.1
        }

        // Layer 1: W_G = Q diag(e_G) Pᵀ per gate and path; u·Wᵀ = u·(P diag(e_G) Qᵀ); e_G = e
        // (shared) or gate G's slice of e.
        func synapses(path: Int, eigen: Tensor) -> Tensor {
            Tensor.concatenate((0..<4).map { g in
                let base = trunk + 4 + 4 * g + 2 * path
                let eigenG = perGateEigenvalues ? eigen.slice(axis: 1, g * hidden..<(g + 1) * hidden) : eigen
                return matmul(meta[base + 1] * eigenG, meta[base], transposeB: true)
            }, axis: 1)                                                                  // [H, 4H]
        }
        func bias(_ learned: Tensor, width: Int) -> Tensor {
            allGateBiases ? learned : Tensor.concatenate([learned, Tensor.zeros([2 * width])], axis: 0)
        }
        // The input u = x·w_in reaches the gates only through u·Wᵀ, so layer 1 is one fused LSTM
        // layer on the preprocessed gradient x with input weights w_in·(P diag(e) Qᵀ) [2, 4H].
        let g = coordinates(gradients)
        var x: Tensor                                                                    // [P, 2]
        var moments = [Tensor]()
        switch gradientInputs {
        case .logSign: x = GradientPreprocessing.logAndSign(g, p: p)
        case .adam:
            let step = GradientInputs.adamStep(g, previous: state[7], beta1: beta1, beta2: beta2)
            (x, moments) = (step.features, [step.moments])
        }
        if odd { x = OddUpdate.withMirrors(x, inputs: gradientInputs) }                   // [2P, 2]
        let hc1 = Tensor.lstmLayer(input: x, state: state[0], w: matmul(meta[trunk], synapses(path: 0, eigen: e[0])),
                                   u: synapses(path: 1, eigen: e[1]), bias: bias(meta[trunk + 1], width: hidden))

        // Layer 2 (hidden size 1): pre_G = e3_G·(h₁·w_G) + e4_G·h₂, a fused LSTM layer reading
        // h₁ in place from layer 1's state, with input weights w ⊙ e3 [H, 4] and recurrent e4 [1, 4].
        let hc2 = Tensor.lstmLayer(input: hc1, state: state[1], w: meta[trunk + 2] * e[2], u: e[3],
                                   bias: bias(meta[trunk + 3], width: 1))
        let h2 = odd ? OddUpdate.halfDifference(hc2.slice(axis: 1, 0..<1)) : hc2.slice(axis: 1, 0..<1)

        var theta = coordinates(parameters) + h2 * scale
        if training && noise && t < noiseHorizon {
            let top = theta.withUnsafeBufferPointer { $0.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) } }
            let c: Float = rng.nextUniform() < 0.5 ? 0.025 : 0.05
            let sigma = top * (Float(noiseHorizon - t) / Float(noiseHorizon) * c)
            theta = theta + Tensor.normal(theta.shape, rng: &rng) * sigma
        }
        let next = [hc1, hc2] + e + [Tensor(shape: [3], scalars: [Float(t + 1), clock[1], Self.stateLayout])] + moments
        return (split(theta, like: parameters.map(\.shape)), next)
    }
}

/// A Haar-distributed random orthogonal `n × n` matrix: the Q of a QR factorisation (modified
/// Gram-Schmidt in Float64, R's diagonal positive) of a matrix of standard normal draws.
func haarOrthogonal(_ n: Int, rng: inout RNG) -> Tensor {
    let draws = Tensor.normal([n, n], rng: &rng).scalars.map(Double.init)
    var columns = (0..<n).map { j in (0..<n).map { i in draws[i * n + j] } }
    for j in 0..<n {
        for k in 0..<j {
            let dot = zip(columns[j], columns[k]).map(*).reduce(0, +)
            columns[j] = zip(columns[j], columns[k]).map { $0 - dot * $1 }
        }
        let norm = columns[j].map { $0 * $0 }.reduce(0, +).squareRoot()
        columns[j] = columns[j].map { $0 / norm }
    }
    return Tensor(shape: [n, n], scalars: (0..<(n * n)).map { Float(columns[$0 % n][$0 / n]) })
}

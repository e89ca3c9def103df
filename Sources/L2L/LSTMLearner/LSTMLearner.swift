/// The LSTM learner of Bosc (2016), "Learning to Learn Neural Networks" (arXiv 1610.06072):
/// an LSTM whose **cell state holds the weights** of a one-hidden-layer MLP (the model) and
/// whose gates learn to update them, one sample at a time.
///
/// The model is ``MLP`` `[d, hidden, 1]` (ReLU hidden units, one sigmoid output, biases);
/// its P = d·h + h + h + 1 weights, flattened in ``MLP/parameterSpecs`` order (`fc0.weight`
/// `[d, h]` row-major, `fc0.bias`, `fc1.weight` `[h, 1]`, `fc1.bias`), are the cell state
/// θ `[P]`. At step t, with sample xₜ `[d]`, label yₜ ∈ {0, 1} and flag sₜ (1 on the test part):
///
///     ŷₜ = σ(MLP(θₜ₋₁, xₜ))                                  the prediction comes first
///     uₜ = [xₜ, (1 − sₜ)·yₜ, ŷₜ, sₜ]                          d + 3 inputs
///     [zᵢ, z_f, z_a] = G(uₜ)                                  the gate network, 3P outputs
///     θₜ = σ(z_f) ⊙ θₜ₋₁ + σ(zᵢ) ⊙ tanh(z_a)                 then the weights are updated
///
/// G is ``MLP`` `[d + 3, gateSizes…, 3P]`: ReLU layers (the paper's two), then one linear
/// map to an input gate, a forget gate and a candidate for each of the P weights ("each
/// component of each gate parameter is bound to a specific parameter in the model"). There
/// is no output gate: the model gives the output. The update is the LSTM cell's
/// (``Tensor/lstmCell(gates:cell:bias:)``) with the candidate squashed by tanh, as in a
/// standard LSTM — the paper's formula is lost in our copy, and this is what its text
/// ("an LSTM block … without output gate") implies. On the test part (sₜ = 1) the target
/// is never shown, and with ``TestUpdates/off`` (the default) the flag switches updates
/// off: θₜ = θₜ₋₁ (the gate network then only runs on training steps, where sₜ = 0, so the
/// flag input matters under ``TestUpdates/learned`` only).
///
/// Meta-parameters φ: the prior θ₀ (`prior`, `[P]`) and G's weights (`gates.fc<l>.weight`,
/// `gates.fc<l>.bias`). Meta-training (``fit(iterations:progress:)``) is the paper's:
/// SMORMS3 on one randomly drawn sequence per iteration, backpropagating the mean
/// cross-entropy over **all** samples through every step of the learner and the model;
/// the test-part loss is the evaluation objective (``evaluate(_:count:trainFractions:seed:)``).
///
/// ```swift
/// let learner = try LSTMLearner(config: LSTMLearnerConfig())     // d = 10, 32 hidden units
/// try learner.fit(iterations: 2000)
/// var rng = RNG(seed: 9)
/// let data = try BinaryXORDatasets(noiseScale: 0.5).sample(rng: &rng)
/// let run = try learner.run(LabelledSequence(data, trainCount: 100))
/// print(run.testLoss)
/// ```
public final class LSTMLearner {
    public let config: LSTMLearnerConfig
    /// The model whose weights are the cell state: `[d, hidden, 1]`, ReLU, sigmoid output.
    public let model: MLP
    /// The gate network: `[d + 3, gateSizes…, 3P]`, ReLU between layers, linear output.
    public let gates: MLP
    /// φ, its SMORMS3 meta-optimiser and events: the engine's shared meta-step.
    let metaStep: MetaStep
    /// Draws meta-training sequences; advanced by every ``fit(iterations:progress:)``.
    private var rng: RNG
    /// The meta-training objective (mean cross-entropy over all samples of the drawn
    /// sequence) of every meta-iteration so far.
    public private(set) var history: [Float] = []

    /// A learner with φ drawn from `config.seed`: the prior is the model's fan-in uniform
    /// initialisation (PyTorch's default), G's weights likewise, and G's output biases are
    /// shifted by `inputBias` and `forgetBias` on the input- and forget-gate blocks.
    /// `config.seed` also seeds the sequences of meta-training.
    ///
    /// Throws `.invalidArgument` for sizes whose weights would not fit in a tensor.
    public convenience init(config: LSTMLearnerConfig) throws {
        let (model, gates) = try LSTMLearner.networks(config)
        var rng = RNG(seed: config.seed)
        let prior = LSTMLearner.flatten(model.initialParameters(rng: &rng))
        var net = gates.initialParameters(rng: &rng)
        let p = prior.count
        let offsets = Tensor(shape: [3 * p], scalars: [Float](repeating: config.inputBias, count: p)
                             + [Float](repeating: config.forgetBias, count: p) + [Float](repeating: 0, count: p))
        net[net.count - 1] = net[net.count - 1] + offsets
        try self.init(config: config, meta: [prior] + net, rng: rng)
    }

    /// A learner from given φ (checked against the configuration's shapes), e.g. a saved one.
    init(config: LSTMLearnerConfig, meta: [Tensor], rng: RNG) throws {
        (model, gates) = try LSTMLearner.networks(config)
        let specs = LSTMLearner.metaSpecs(model: model, gates: gates)
        try validateTensors(meta, names: specs.map(\.name), shapes: specs.map(\.shape), owner: "lstm_learner",
                            item: "meta-parameter")
        self.config = config
        self.rng = rng
        metaStep = try MetaStep(meta: meta, optimiser: try Factory.optimiser(kind: "smorms3", options: "lr=\(config.metaLearningRate)"),
                                clip: config.clip, rollbackAfter: config.rollbackAfter)
    }

    /// The model and the gate network the configuration describes.
    static func networks(_ config: LSTMLearnerConfig) throws -> (model: MLP, gates: MLP) {
        let d = config.dimension, h = config.hidden
        let p = d * h + 2 * h + 1
        let model = try MLP(sizes: [d, h, 1], objective: .sigmoidBinaryCrossEntropy)
        let gates = try MLP(sizes: [d + 3] + config.gateSizes + [3 * p])
        return (model, gates)
    }

    /// Names and shapes of φ: `prior` `[P]`, then G's parameters as `gates.<name>`.
    static func metaSpecs(model: MLP, gates: MLP) -> [MetaParameterSpec] {
        let p = model.parameterSpecs.reduce(0) { $0 + Shape.count($1.shape) }
        return [MetaParameterSpec(name: "prior", shape: [p])]
            + gates.parameterSpecs.map { MetaParameterSpec(name: "gates.\($0.name)", shape: $0.shape) }
    }

    /// φ: the prior `[P]`, then the gate network's weights and biases (do not mutate).
    public var meta: [Tensor] { metaStep.meta }
    /// P, the number of model weights in the cell state.
    public var parameterCount: Int { meta[0].count }
    /// The meta-learned prior θ₀ as the model's parameter tensors.
    public var prior: [Tensor] { modelParameters(meta[0]) }
    /// Meta-iterations taken (applied or skipped).
    public var iterations: Int { history.count }
    /// Skips and rollbacks of the meta-step so far.
    public var events: [MetaEvent] { metaStep.events }

    /// θ `[P]` (or `[1, P]`) cut into the model's parameter tensors, in
    /// ``MLP/parameterSpecs`` order (differentiable: slices and reshapes).
    public func modelParameters(_ theta: Tensor) -> [Tensor] {
        let flat = theta.reshaped([theta.count])
        var offset = 0
        return model.parameterSpecs.map { spec in
            let n = Shape.count(spec.shape)
            defer { offset += n }
            return flat.slice(axis: 0, offset..<(offset + n)).reshaped(spec.shape)
        }
    }

    /// The model's parameter tensors as one flat θ `[P]`.
    static func flatten(_ parameters: [Tensor]) -> Tensor {
        Tensor.concatenate(parameters.map { $0.reshaped([$0.count]) }, axis: 0)
    }

    // MARK: Running a sequence

    /// The model's logits `[n, 1]` over `sequence` as the learner updates θ from φ's prior,
    /// and (with `keepWeights`) θ₀…θₙ. Differentiable in `meta` when it is tracked.
    /// `meta` must have φ's shapes and the sequence d columns (unchecked: callers check).
    func unroll(_ meta: [Tensor], _ sequence: LabelledSequence, keepWeights: Bool) -> (logits: Tensor, weights: [Tensor]) {
        let p = meta[0].count, n = sequence.count
        let net = Array(meta.dropFirst())
        // [x, y] rows with the target hidden (0) on the test part, and the flag of each step.
        let shown = Tensor.concatenate([sequence.inputs, sequence.targets.slice(axis: 0, 0..<sequence.trainCount)
                                        .padded(axis: 0, before: 0, after: n - sequence.trainCount)], axis: 1)
        let noBias = Tensor.zeros([4 * p])
        var theta = meta[0].reshaped([1, p])
        var logits = [Tensor](), weights = keepWeights ? [theta.detached()] : []
        for t in 0..<n {
            let logit = model.forward(modelParameters(theta), sequence.inputs.slice(axis: 0, t..<(t + 1)))
            logits.append(logit)
            let test = t >= sequence.trainCount
            if !(test && config.testUpdates == .off) {
                let u = Tensor.concatenate([shown.slice(axis: 0, t..<(t + 1)), logit.sigmoid(), Tensor(shape: [1, 1], scalars: [test ? 1 : 0])],
                                           axis: 1)
                // [i, f, a] and a zero output-gate block: the LSTM cell's c' is the update.
                let z = gates.forward(net, u).padded(axis: 1, before: 0, after: p)
                theta = Tensor.lstmCell(gates: z, cell: theta, bias: noBias).slice(axis: 1, p..<(2 * p))
            }
            if keepWeights { weights.append(theta.detached()) }
        }
        return (Tensor.concatenate(logits, axis: 0), weights)
    }

    /// The paper's meta-training objective at φ = `meta`: the mean cross-entropy of the
    /// model's predictions over all samples of `sequence` (a scalar, differentiable in
    /// `meta` when it is tracked). Shapes are unchecked here (``metaGradient(_:)`` checks).
    public func metaLoss(_ meta: [Tensor], _ sequence: LabelledSequence) -> Tensor {
        Tensor.sigmoidBinaryCrossEntropy(logits: unroll(meta, sequence, keepWeights: false).logits, targets: sequence.targets)
    }

    /// The meta-training objective of `sequence` at the current φ and its gradient, one
    /// tensor per φ tensor. Throws `.shapeMismatch` for a sequence without d columns.
    public func metaGradient(_ sequence: LabelledSequence) throws -> (loss: Float, gradients: [Tensor]) {
        try check(sequence)
        let phi = meta.map { $0.tracked() }
        let loss = metaLoss(phi, sequence)
        return (loss.scalar, gradients(of: loss, wrt: phi))
    }

    /// Runs the learner over `sequence` at the current φ: the predictions, the losses of
    /// both parts and (with `keepWeights`) the cell state over time.
    ///
    /// Throws `.shapeMismatch` for a sequence without d columns, `.nonFinite` if a
    /// prediction is NaN.
    public func run(_ sequence: LabelledSequence, keepWeights: Bool = false) throws -> SequenceRun {
        try check(sequence)
        let (logits, weights) = withoutGraph { unroll(meta, sequence, keepWeights: keepWeights) }
        let k = sequence.trainCount, n = sequence.count
        func loss(_ range: Range<Int>) -> Float {
            range.isEmpty ? 0 : Tensor.sigmoidBinaryCrossEntropy(logits: logits.slice(axis: 0, range),
                                                                 targets: sequence.targets.slice(axis: 0, range)).scalar
        }
        let predictions = withoutGraph { logits.sigmoid() }.scalars
        guard predictions.allSatisfy(\.isFinite) else { throw L2LError(.nonFinite, "lstm_learner: a prediction is NaN") }
        return SequenceRun(predictions: predictions, trainLoss: loss(0..<k), testLoss: loss(k..<n), loss: loss(0..<n),
                           weights: keepWeights ? Tensor.concatenate(weights, axis: 0) : nil)
    }

    private func check(_ sequence: LabelledSequence) throws {
        guard sequence.inputs.shape[1] == config.dimension else {
            throw L2LError.shape("lstm_learner: the model takes \(config.dimension) inputs, the sequence has \(sequence.inputs.shape[1])")
        }
    }

    // MARK: Meta-training

    /// Called after each meta-iteration with (iterations done in this call, iterations of
    /// this call, meta-training objective); return `false` to stop.
    public typealias Progress = (Int, Int, Float) -> Bool

    /// `iterations` meta-iterations, each on one sequence drawn from the learner's seeded
    /// generator: a data set of ``LSTMLearnerConfig/data``, then a training fraction
    /// f ~ U(``LSTMLearnerConfig/trainFractions``), its first ⌊f·n⌉ samples the training
    /// part; then one SMORMS3 meta-step on the mean cross-entropy over all its samples. A
    /// non-finite loss or meta-gradient skips the update (a ``MetaEvent``).
    ///
    /// Throws `.cancelled` if `progress` asks to stop (the iterations done are kept).
    public func fit(iterations: Int, progress: Progress? = nil) throws {
        guard iterations >= 0 else { throw L2LError.invalid("lstm_learner: iterations must be non-negative, got \(iterations)") }
        for i in 0..<iterations {
            let sequence = try draw(config.data, config.trainFractions, &rng)
            let (loss, grads) = try metaGradient(sequence)
            metaStep.apply(grads, loss: loss, trial: history.count, step: 0)
            history.append(loss)
            if let progress, !progress(i + 1, iterations, loss) {
                throw L2LError(.cancelled, "lstm_learner: cancelled by the progress callback after meta-iteration \(i + 1)")
            }
        }
    }

    /// One sequence: a data set of `data`, then its training fraction, from `rng`.
    private func draw(_ data: BinaryXORDatasets, _ fractions: ClosedRange<Float>, _ rng: inout RNG) throws -> LabelledSequence {
        let set = try data.sample(rng: &rng)
        let f = fractions.lowerBound + (fractions.upperBound - fractions.lowerBound) * rng.nextUniform()
        return try LabelledSequence(set, trainCount: config.trainCount(samples: set.count, fraction: f))
    }

    // MARK: Evaluation

    /// The paper's evaluation objective on `count` fresh data sets of `data` (by default the
    /// meta-training family; the paper lowers its noise): the test-part mean cross-entropy of
    /// each, in order. Data set i comes from its own generator (derived from `seed` and i),
    /// which draws the data set, then its training fraction from `trainFractions` (by
    /// default the meta-training range). Neither φ nor the meta-training generator changes.
    ///
    /// Throws `.invalidArgument` for `count` < 1 or data of another dimension than the model's.
    public func evaluate(_ data: BinaryXORDatasets? = nil, count: Int, trainFractions: ClosedRange<Float>? = nil,
                         seed: UInt64) throws -> [Float] {
        let data = data ?? config.data
        guard count >= 1 else { throw L2LError.invalid("lstm_learner: evaluate needs at least one data set, got \(count)") }
        guard data.dimension == config.dimension else {
            throw L2LError.invalid("lstm_learner: evaluation data have dimension \(data.dimension), the model takes \(config.dimension)")
        }
        let fractions = trainFractions ?? config.trainFractions
        guard fractions.lowerBound >= 0, fractions.upperBound <= 1 else {
            throw L2LError.invalid("lstm_learner: training fractions must lie in [0, 1], got \(fractions)")
        }
        return try (0..<count).map { i in
            var rng = RNG(seed: seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            return try run(draw(data, fractions, &rng)).testLoss
        }
    }

    /// ``evaluate(_:count:trainFractions:seed:)`` with the data sets and training fractions
    /// given as options: those of ``BinaryXORDatasets/init(config:defaults:)`` (e.g.
    /// `noise_scale=0.5`), `train_min` and `train_max`; absent keys keep the meta-training
    /// values. Throws `.invalidArgument` for unknown options or values out of range.
    public func evaluate(options: String?, count: Int, seed: UInt64) throws -> [Float] {
        let (data, fractions) = try Factory.build("lstm_learner evaluation", options) { c in
            (try BinaryXORDatasets(config: &c, defaults: config.data),
             try LSTMLearnerConfig.trainFractions(&c, defaults: config.trainFractions))
        }
        return try evaluate(data, count: count, trainFractions: fractions, seed: seed)
    }
}

import Glibc

/// Settings of MLHF meta-training (the paper's §3.1 and the authors' code).
public struct MLHFTrainingConfig: Sendable {
    /// Meta-iterations: each runs `unroll` learner steps and updates φ once.
    public var iterations = 100
    /// T, the BPTT length through the RNN states (the paper: 10).
    public var unroll = 10
    public var metaLearningRate: Float = 1e-3
    public var batchSize = 64
    /// After each meta-iteration the learner restarts from its stored initial weights w₀
    /// (and MLHF's state from zeros) with this probability (the authors' replay: 0.7 for the
    /// convnet), else it keeps training.
    public var resetProbability: Float = 0.7
    /// l_s's weight in RNN_s's meta-gradient (the authors' code: 10).
    public var dampingLossWeight: Float = 10
    /// Clip the meta-gradient to a global norm of ‖φ‖ (the authors' code); off: no clipping.
    public var clipToMetaNorm = true
    /// The meta-optimiser: a gradient optimiser kind of ``Factory/optimiser(kind:options:)``
    /// (`lr` is `metaLearningRate`).
    public var metaOptimiser = "adam"
    /// Consecutive skipped updates after which φ rolls back to its last good value.
    public var rollbackAfter = 3
    public var seed: UInt64 = 0

    public init() {}

    /// A new session of the configured meta-optimiser.
    func metaOptimiserSession() throws -> OptimiserSession {
        try Factory.optimiser(kind: metaOptimiser, options: "lr=\(metaLearningRate)")
    }

    /// Options: `iterations`, `unroll`, `meta_lr`, `meta_optimizer`, `batch`, `reset`,
    /// `ls_weight`, `clip` (`phi` or `none`), `rollback_after`, `seed`.
    public init(config: inout Config) throws {
        iterations = try config.int("iterations", default: 100, range: 1...10_000_000)
        unroll = try config.int("unroll", default: 10, range: 2...10_000)
        metaLearningRate = try config.float("meta_lr", default: 1e-3, range: 0...10)
        batchSize = try config.int("batch", default: 64, range: 1...1_000_000)
        resetProbability = try config.float("reset", default: 0.7, range: 0...1)
        dampingLossWeight = try config.float("ls_weight", default: 10, range: 0...1e6)
        clipToMetaNorm = try config.choice("clip", default: true, ["phi": true, "none": false])
        metaOptimiser = config.string("meta_optimizer") ?? "adam"
        rollbackAfter = try config.int("rollback_after", default: 3, range: 1...1000)
        _ = try metaOptimiserSession()
        seed = UInt64(try config.int("seed", default: 0, range: 0...Int.max))
    }
}

/// One meta-iteration's figures.
public struct MLHFRecord: Sendable {
    /// l_p = mean over the unroll of −⟨d, g⟩/√⟨d, A d⟩ (lower: d closer to the natural gradient).
    public var preconditionLoss: Float
    /// l_s (eqs. 4–5).
    public var dampingLoss: Float
    /// Mean over the unroll of ‖r‖₂ after PCG.
    public var residualNorm: Float
    /// Mean learner training loss over the unroll (before each step).
    public var trainingLoss: Float
    /// Geometric mean of the damping s over coordinates and steps (RNN_s's output scale).
    public var damping: Float
}

/// Meta-trains ``MLHF`` on one learner and data set (the paper's §3.1):
///
/// - every step of a T-step unroll is an MLHF step with the learner's weights, gradient
///   and warm starts as constants; the RNN states are carried through the unroll (BPTT
///   through them only) and cut between meta-iterations;
/// - l_p (mean of the steps' −⟨d, g⟩/√⟨d, A d⟩) trains RNN_p only; l_s = Σ sg(softmax(m))ᵢ mᵢ
///   with mᵢ = ½(L(θᵢ₊₁; Bᵢ) + L(θᵢ₊₁; Bᵢ₊₁)) − sg(L(θᵢ; Bᵢ)) (eq. 4 halved, as the code)
///   trains RNN_s only, weighted by `dampingLossWeight`;
/// - the meta-gradient goes through the shared ``MetaStep``: clipped to a global norm of
///   ‖φ‖, then the meta-optimiser (Adam) updates φ;
/// - the learner keeps training across meta-iterations and restarts from w₀ with
///   `resetProbability`; the step clip and noise of ``MLHF`` act (training mode).
///
/// A non-finite loss or meta-gradient is never applied: the update is skipped, an event is
/// recorded and the learner restarts from w₀; after `rollbackAfter` consecutive skips φ
/// returns to its last good value. Deterministic for a seed.
public final class MLHFTrainer {
    public let mlhf: MLHF
    public let learner: any Learner
    public let dataset: Dataset
    public let config: MLHFTrainingConfig
    /// φ (constants between meta-iterations).
    public var meta: [Tensor] { metaStep.meta }
    public private(set) var history: [MLHFRecord] = []
    public var events: [MetaEvent] { metaStep.events }

    private let kinds: [ParameterKind]
    private var rng: RNG
    private var batches: BatchIterator
    private let initial: LearnerState
    private var current: LearnerState
    private var state: MLHFState
    private let metaStep: MetaStep

    /// A trainer starting from φ = `meta` (`nil`: drawn from the seed, as
    /// ``MLHF/initialMetaParameters(rng:)``). The seed's draws are the same either way, so
    /// the learner's initial weights, batches and noise do not depend on where φ came from.
    public init(_ mlhf: MLHF, learner: some Learner, data: Dataset, config: MLHFTrainingConfig, meta start: [Tensor]? = nil) throws {
        try Training.checkCompatible(learner, data)
        if let start { try mlhf.validate(meta: start) }
        self.mlhf = mlhf
        self.learner = learner
        self.dataset = data
        self.config = config
        kinds = learner.parameterSpecs.map(\.kind)
        rng = RNG(seed: config.seed)
        let drawn = mlhf.initialMetaParameters(rng: &rng)
        let meta = start?.map { $0.detached() } ?? drawn
        batches = try BatchIterator(data, batchSize: config.batchSize, seed: config.seed &+ 1)
        initial = learner.initialState(rng: &rng)
        current = initial
        state = mlhf.initialState(for: initial.parameters, kinds: kinds)
        metaStep = try MetaStep(meta: meta, optimiser: try config.metaOptimiserSession(),
                                clip: config.clipToMetaNorm ? .metaNorm : .none, rollbackAfter: config.rollbackAfter)
    }

    /// MLHF with the current φ, for this trainer's learner.
    public func trained() throws -> TrainedMLHF { try TrainedMLHF(mlhf, meta: meta, kinds: kinds) }

    /// Runs `iterations` meta-iterations (default: the configured number). `progress` gets
    /// the iteration index and its record; returning `false` stops the run (throws `.cancelled`).
    public func run(iterations: Int? = nil, progress: ((Int, MLHFRecord) -> Bool)? = nil) throws {
        for _ in 0..<(iterations ?? config.iterations) {
            let record = metaIteration()
            history.append(record)
            if let progress, !progress(history.count - 1, record) {
                throw L2LError(.cancelled, "mlhf meta-training: cancelled by the progress callback after \(history.count) iterations")
            }
        }
    }

    private func restart() {
        current = initial
        state = mlhf.initialState(for: initial.parameters, kinds: kinds)
    }

    /// One unroll's losses (differentiable in the φ it ran with) and where it left the learner.
    struct Unroll {
        var lp: Tensor, ls: Tensor
        var record: MLHFRecord
        var end: LearnerState
        var state: MLHFState
    }

    /// T MLHF steps from `start` with `phi`; `nil` (and the step) if a loss was not finite.
    func unroll(_ phi: [Tensor], from start: LearnerState, state: MLHFState, batches: inout BatchIterator,
                rng: inout RNG) -> (unroll: Unroll?, failedStep: Int) {
        var current = start
        var stepState = state
        var lp = Tensor(0)
        var before = [Float](), afterSame = [Tensor](), afterNext = [Tensor]()
        var residuals = [Float](), logDamping = 0.0, dampingCount = 0
        var previous: [Tensor]? = nil   // θ_t as a function of φ
        for t in 0..<config.unroll {
            let batch = batches.nextCycling()
            let model = GaussNewton(learner: learner, state: current, inputs: batch.inputs, targets: .labels(batch.labels))
            guard model.loss.isFinite else { return (nil, t) }
            if let previous { afterNext.append(model.loss(at: previous)) }
            before.append(model.loss)
            let step = mlhf.step(meta: phi, parameters: current.parameters, kinds: kinds, model: model, state: stepState,
                                 training: true, rng: &rng)
            lp = lp + step.preconditionLoss
            afterSame.append(model.loss(at: step.parameters))
            residuals.append(step.residualNorm)
            for (sd, p) in zip(step.damping, current.parameters) {
                sd.withUnsafeBufferPointer { b in for v in b { logDamping += Glibc.log(Double(v)) * Double(p.count / b.count) } }
                dampingCount += p.count
            }
            previous = step.parameters
            current = LearnerState(parameters: step.parameters.map { $0.detached() }, buffers: model.buffers)
            stepState = step.state
        }
        lp = lp / Float(config.unroll)
        // mᵢ = ½(L(θᵢ₊₁; Bᵢ) + L(θᵢ₊₁; Bᵢ₊₁)) − sg(L(θᵢ; Bᵢ)), i = 0 … T−2.
        let m = (0..<(config.unroll - 1)).map { i in (afterSame[i] + afterNext[i]) * 0.5 - before[i] }
        let values = m.map(\.scalar)
        let top = values.max() ?? 0
        let e = values.map { Glibc.exp(Double($0 - top)) }
        let total = e.reduce(0, +)
        let ls = zip(m, e).map { $0 * Float($1 / total) }.reduce(Tensor(0), +)
        let record = MLHFRecord(preconditionLoss: lp.scalar, dampingLoss: ls.scalar,
                                residualNorm: residuals.reduce(0, +) / Float(residuals.count),
                                trainingLoss: before.reduce(0, +) / Float(before.count),
                                damping: Float(Glibc.exp(logDamping / Double(max(dampingCount, 1)))))
        return (Unroll(lp: lp, ls: ls, record: record, end: current, state: stepState), config.unroll)
    }

    /// The meta-losses of φ (default: the current one) without training it: `unrolls`
    /// consecutive unrolls of one learner from w₀, on batches and noise drawn from `seed`, so
    /// two φ are compared on the same learner trajectory's data. Means over the unrolls.
    public func evaluate(meta phi: [Tensor]? = nil, unrolls: Int = 4, seed: UInt64 = 1) throws -> MLHFRecord {
        var batches = try BatchIterator(dataset, batchSize: config.batchSize, seed: seed)
        var noise = RNG(seed: seed)
        var at = initial
        var state = mlhf.initialState(for: initial.parameters, kinds: kinds)
        var records = [MLHFRecord]()
        for _ in 0..<unrolls {
            let (u, _) = withoutGraph { unroll(phi ?? meta, from: at, state: state, batches: &batches, rng: &noise) }
            guard let u else { throw L2LError(.nonFinite, "mlhf: the learner's loss stopped being finite during evaluation") }
            records.append(u.record)
            at = u.end
            state = u.state
        }
        func mean(_ f: (MLHFRecord) -> Float) -> Float { records.map(f).reduce(0, +) / Float(records.count) }
        return MLHFRecord(preconditionLoss: mean(\.preconditionLoss), dampingLoss: mean(\.dampingLoss),
                          residualNorm: mean(\.residualNorm), trainingLoss: mean(\.trainingLoss), damping: mean(\.damping))
    }

    private func metaIteration() -> MLHFRecord {
        let iteration = history.count
        let phi = meta.map { $0.tracked() }
        let (result, failedStep) = unroll(phi, from: current, state: state, batches: &batches, rng: &rng)
        guard let u = result else { return failed(.nonFiniteLoss, iteration: iteration, step: failedStep) }
        let (lp, ls, record) = (u.lp, u.ls, u.record)
        guard record.preconditionLoss.isFinite, record.dampingLoss.isFinite else {
            return failed(.nonFiniteLoss, iteration: iteration, step: config.unroll, record: record)
        }

        var grads = meta.map { Tensor.zeros($0.shape) }
        if mlhf.learnedPreconditioner {
            let range = mlhf.metaParameterRange(.preconditioner)
            for (i, g) in zip(range, gradients(of: lp, wrt: Array(phi[range]))) { grads[i] = g }
        }
        if mlhf.constantDamping == nil {
            let range = mlhf.metaParameterRange(.damping)
            for (i, g) in zip(range, gradients(of: ls * config.dampingLossWeight, wrt: Array(phi[range]))) { grads[i] = g }
        }
        guard metaStep.apply(grads, trial: iteration, step: config.unroll) else {
            restart()
            return record
        }
        if rng.nextUniform() < config.resetProbability {
            restart()
        } else {
            current = u.end
            state = u.state.detached()
        }
        return record
    }

    /// Skips the update (an event; a rollback after repeated skips), restarts the learner,
    /// and returns the (possibly partial) record.
    private func failed(_ kind: MetaEvent.Kind, iteration: Int, step: Int, record: MLHFRecord? = nil) -> MLHFRecord {
        metaStep.skip(kind, trial: iteration, step: step)
        restart()
        return record ?? MLHFRecord(preconditionLoss: .nan, dampingLoss: .nan, residualNorm: .nan, trainingLoss: .nan, damping: .nan)
    }
}

import Glibc

/// One kind of problem a learned optimiser is meta-trained (or tested) on.
public enum MetaTask {
    /// A learner trained on mini-batches of a labelled data set.
    case supervised(learner: any Learner, data: Dataset)
    /// Andrychowicz et al.'s quadratics f(θ) = ‖Wθ − y‖², a new W, y every trial, θ₀ ~ N(0, 0.01²)
    /// (DeepMind's code).
    case quadratic(dimension: Int, distribution: QuadraticTask.Distribution)

    /// A supervised task, after checking the data fit the learner.
    public static func checked(learner: any Learner, data: Dataset) throws -> MetaTask {
        try Training.checkCompatible(learner, data)
        return .supervised(learner: learner, data: data)
    }

    /// Parameter shapes of the task's learner (what per-parameter optimisers are built for).
    public var parameterShapes: [[Int]] {
        switch self {
        case .supervised(let learner, _): return learner.parameterSpecs.map(\.shape)
        case .quadratic(let d, _): return [[d]]
        }
    }
}

/// One learner being trained on a task: its parameters and buffers, and the loss of the
/// current batch as a function of the parameters.
struct Episode {
    var state: LearnerState
    private let score: (_ parameters: [Tensor], _ buffers: [Tensor], _ batch: Int) -> (loss: Tensor, buffers: [Tensor])
    private var nextBatch: () -> Void
    /// ln(classes) for a classifier: a learner stuck there with no gradient has collapsed.
    let chance: Float?

    init(_ task: MetaTask, batchSize: Int, rng: inout RNG) throws {
        switch task {
        case .supervised(let learner, let data):
            state = learner.initialState(rng: &rng)
            var batches = try BatchIterator(data, batchSize: batchSize, seed: UInt64(rng.nextUInt32()) << 32 | UInt64(rng.nextUInt32()))
            let box = BatchBox(batches.nextCycling())
            nextBatch = { box.batch = batches.nextCycling() }
            score = { p, b, _ in
                let (out, buffers) = learner.forward(p, box.batch.inputs, buffers: b, training: true)
                return (learner.loss(outputs: out, targets: .labels(box.batch.labels)), buffers)
            }
            chance = learner.objective == .softmaxCrossEntropy ? Float(log(Double(learner.classes))) : nil
        case .quadratic(let d, let distribution):
            let q = try QuadraticTask.sample(dimension: d, distribution: distribution, rng: &rng)
            state = LearnerState(parameters: [Tensor.normal([d], std: 0.01, rng: &rng)])
            nextBatch = {}
            score = { p, b, _ in (q.loss(p[0]), b) }
            chance = nil
        }
    }

    /// The loss of `parameters` on the current batch, and the buffers a training-mode pass left.
    func loss(_ parameters: [Tensor]) -> (loss: Tensor, buffers: [Tensor]) { score(parameters, state.buffers, 0) }

    /// Moves on to the next batch.
    func advance() { nextBatch() }
}

/// Holds the current batch so the episode's closures share it.
private final class BatchBox {
    var batch: (inputs: Tensor, labels: [Int32])
    init(_ batch: (inputs: Tensor, labels: [Int32])) { self.batch = batch }
}

/// Settings of meta-training (Algorithm 1 of the M²SGD paper, after Andrychowicz et al.).
public struct MetaTrainingConfig: Sendable {
    /// How meta-gradients are limited before the meta-optimiser step.
    public enum Clip: Equatable, Sendable {
        case none
        /// Every element clamped to [−c, c] (what the M²SGD/MTL2L authors did, c = 1).
        case value(Float)
        /// All meta-gradients scaled down together if their global L2 norm exceeds c.
        case norm(Float)
    }

    /// Q: learners trained per run, one after another.
    public var trials = 1
    /// S: steps per learner.
    public var steps = 100
    /// Ξ: steps per unroll (one meta-update per unroll).
    public var unroll = 5
    /// Adam's learning rate on φ.
    public var metaLearningRate: Float = 1e-3
    /// Learner mini-batch size.
    public var batchSize = 128
    /// Weight of each unroll step's loss in the meta-loss (`unroll` entries); uniform if nil.
    public var weights: [Float]? = nil
    /// Score the updated learner on the batch that produced its gradient (the authors'
    /// code) instead of the next batch (the default).
    public var sameBatch = false
    public var clip: Clip = .none
    /// Differentiate through the learner's gradient too (second derivatives); the papers
    /// detach it (first order, the default).
    public var secondOrder = false
    /// Choose each trial's task at random instead of cycling through the list.
    public var sampleTasks = false
    /// Consecutive skipped updates after which φ rolls back to its last good value.
    public var rollbackAfter = 3
    /// Before its S meta-training steps, each trial's learner first takes a number of steps
    /// drawn uniformly from 0…`warmup` with the current φ (no meta-gradient), so φ also
    /// learns from learners past the start of training (an l2l option, not in the papers;
    /// 0, the default, starts every trial at initialisation).
    public var warmup = 0
    public var seed: UInt64 = 0

    public init() {}

    /// Options: `trials`, `steps`, `unroll`, `meta_lr`, `batch`, `weights` (comma list),
    /// `same_batch`, `clip=none|value|norm`, `clip_at`, `second_order`, `sample_tasks`,
    /// `rollback_after`, `warmup`, `seed`.
    public init(config: inout Config) throws {
        trials = try config.int("trials", default: 1, range: 1...1_000_000)
        steps = try config.int("steps", default: 100, range: 1...10_000_000)
        unroll = try config.int("unroll", default: 5, range: 1...10_000)
        metaLearningRate = try config.float("meta_lr", default: 1e-3, range: 0...10)
        batchSize = try config.int("batch", default: 128, range: 1...1_000_000)
        if let w = config.string("weights") {
            let parts = w.split(separator: ",").compactMap { Float($0) }
            guard parts.count == unroll, parts.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw L2LError.invalid("meta-training: weights=\(w) needs \(unroll) non-negative numbers (one per unroll step)")
            }
            weights = parts
        }
        sameBatch = try config.bool("same_batch", default: false)
        let at = try config.float("clip_at", default: 1, range: 1e-12...1e12)
        clip = try config.choice("clip", default: Clip.none, ["none": .none, "value": .value(at), "norm": .norm(at)])
        secondOrder = try config.bool("second_order", default: false)
        sampleTasks = try config.bool("sample_tasks", default: false)
        rollbackAfter = try config.int("rollback_after", default: 3, range: 1...1000)
        warmup = try config.int("warmup", default: 0, range: 0...10_000_000)
        seed = UInt64(try config.int("seed", default: 0, range: 0...Int.max))
        guard steps % unroll == 0 else {
            throw L2LError.invalid("meta-training: steps (\(steps)) must be a multiple of unroll (\(unroll))")
        }
    }

    /// The options text that rebuilds this configuration.
    public var options: String {
        var parts = ["trials=\(trials)", "steps=\(steps)", "unroll=\(unroll)", "meta_lr=\(metaLearningRate)", "batch=\(batchSize)"]
        if let weights { parts.append("weights=" + weights.map { "\($0)" }.joined(separator: ",")) }
        parts.append("same_batch=\(sameBatch ? 1 : 0)")
        switch clip {
        case .none: parts.append("clip=none")
        case .value(let c): parts += ["clip=value", "clip_at=\(c)"]
        case .norm(let c): parts += ["clip=norm", "clip_at=\(c)"]
        }
        parts += ["second_order=\(secondOrder ? 1 : 0)", "sample_tasks=\(sampleTasks ? 1 : 0)",
                  "rollback_after=\(rollbackAfter)", "warmup=\(warmup)", "seed=\(seed)"]
        return parts.joined(separator: " ")
    }
}

/// Something that happened during meta-training that the caller should know about.
public struct MetaEvent: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The meta-loss was NaN or infinite: the update was skipped, the learner restarted.
        case nonFiniteLoss = "non_finite_loss"
        /// A meta-gradient was NaN or infinite: the update was skipped.
        case nonFiniteGradient = "non_finite_gradient"
        /// Repeated skips: φ and the meta-optimiser went back to their last good values.
        case rollback
        /// The learner sat at chance level with a vanishing gradient (optimiser collapse,
        /// `pitfalls-measured.md` §1).
        case collapse
    }
    public let kind: Kind
    /// 0-based trial and learner step where it happened.
    public let trial: Int, step: Int
}

/// Meta-trains a learned optimiser: Algorithm 1, written once for every learned optimiser.
///
/// For each of Q trials a fresh learner (from the task list) takes S steps with the
/// learned optimiser; every Ξ steps the meta-loss — the weighted sum of the learner's
/// losses after each update of the unroll — is differentiated with respect to φ and Adam
/// updates φ. The learner's parameters and the optimiser's state are detached at unroll
/// boundaries (truncated backprop through time); the learner's gradient is detached
/// (first order) unless `secondOrder` is set. A non-finite meta-loss or meta-gradient
/// never reaches φ: the update is skipped and an event recorded; after `rollbackAfter`
/// consecutive skips φ returns to its last good value. Deterministic for a seed; a
/// checkpoint taken between trials resumes bit-identically.
public final class MetaTrainer {
    public let optimiser: any LearnedOptimiser
    public let tasks: [MetaTask]
    public let config: MetaTrainingConfig
    /// φ, the meta-parameters being trained.
    public internal(set) var meta: [Tensor]
    /// Meta-loss of every unroll so far.
    public internal(set) var history: [Float] = []
    public internal(set) var events: [MetaEvent] = []
    /// Trials completed (a checkpoint resumes from here).
    public internal(set) var trialsDone = 0
    /// Meta-updates applied.
    public internal(set) var metaSteps = 0

    let adam: Adam
    var adamState: Adam.State
    var rng: RNG
    var lastGood: (meta: [Tensor], adam: Adam.State)
    var consecutiveSkips = 0

    public init(_ optimiser: any LearnedOptimiser, tasks: [MetaTask], config: MetaTrainingConfig,
                meta initialMeta: [Tensor]? = nil) throws {
        guard !tasks.isEmpty else { throw L2LError.invalid("meta-training: no tasks") }
        for task in tasks { try optimiser.check(shapes: task.parameterShapes) }
        self.optimiser = optimiser
        self.tasks = tasks
        self.config = config
        rng = RNG(seed: config.seed)
        var initRNG = RNG(seed: config.seed ^ 0x9E37_79B9_7F4A_7C15)
        meta = initialMeta ?? optimiser.initialMetaParameters(rng: &initRNG)
        try optimiser.validate(meta: meta)
        adam = try Adam(learningRate: config.metaLearningRate)
        adamState = adam.initialState(for: meta)
        lastGood = (meta, adamState)
    }

    /// Called after every unroll with (trial, step within the trial, meta-loss); return
    /// `false` to stop (the run throws `.cancelled`, φ keeps the updates made so far).
    public typealias Progress = (_ trial: Int, _ step: Int, _ metaLoss: Float) -> Bool

    /// Runs the remaining trials (all of them, or those after a restored checkpoint), or
    /// only the next `trials` of them.
    public func run(trials limit: Int? = nil, progress: Progress? = nil) throws {
        let end = min(config.trials, trialsDone + (limit ?? config.trials))
        while trialsDone < end {
            try runTrial(progress: progress)
            trialsDone += 1
        }
    }

    private func runTrial(progress: Progress?) throws {
        let trial = trialsDone
        let task = config.sampleTasks ? tasks[rng.nextInt(below: tasks.count)] : tasks[trial % tasks.count]
        var episode = try Episode(task, batchSize: config.batchSize, rng: &rng)
        var optState = optimiser.initialState(for: episode.state.parameters)
        if config.warmup > 0 { warmUp(&episode, &optState, steps: rng.nextInt(below: config.warmup + 1)) }
        let weights = config.weights ?? [Float](repeating: 1, count: config.unroll)

        var step = 0
        while step < config.steps {
            let phi = meta.map { $0.tracked() }
            let u = unroll(phi, episode: &episode, parameters: episode.state.parameters, state: optState, weights: weights)
            step += config.unroll
            let value = u.metaLoss.scalar
            history.append(value)
            if let chance = episode.chance, abs(u.lastLoss - chance) < 1e-3 * chance && u.lastGradientNorm < 1e-6 {
                events.append(MetaEvent(kind: .collapse, trial: trial, step: step))
            }

            if !value.isFinite {
                skip(.nonFiniteLoss, trial: trial, step: step)
                // The learner is lost: start it afresh.
                episode = try Episode(task, batchSize: config.batchSize, rng: &rng)
                optState = optimiser.initialState(for: episode.state.parameters)
            } else {
                var grads = gradients(of: u.metaLoss, wrt: phi)
                if !grads.allSatisfy(\.isFinite) {
                    skip(.nonFiniteGradient, trial: trial, step: step)
                } else {
                    grads = clip(grads)
                    (meta, adamState) = adam.step(parameters: meta, gradients: grads, state: adamState)
                    meta = meta.map { $0.detached() }
                    metaSteps += 1
                    consecutiveSkips = 0
                    lastGood = (meta, adamState)
                }
                episode.state.parameters = u.parameters.map { $0.detached() }
                optState = u.state.map { $0.detached() }
            }
            if let progress, !progress(trial, step, value) {
                throw L2LError(.cancelled, "meta-training: cancelled by the progress callback at trial \(trial), step \(step)")
            }
        }
    }

    /// `steps` learner steps with the current φ and no meta-gradient (``MetaTrainingConfig/warmup``);
    /// stops early, keeping the last finite parameters, if the loss stops being finite.
    private func warmUp(_ episode: inout Episode, _ state: inout [Tensor], steps: Int) {
        for _ in 0..<steps {
            let point = episode.state.parameters.map { $0.detached().tracked() }
            let (loss, buffers) = episode.loss(point)
            guard loss.scalar.isFinite else { return }
            let g = gradients(of: loss, wrt: point)
            let (next, nextState) = withoutGraph {
                optimiser.step(meta: meta, parameters: episode.state.parameters, gradients: g, state: state, phase: .metaTraining)
            }
            guard next.allSatisfy(\.isFinite) else { return }
            episode.state = LearnerState(parameters: next, buffers: buffers.map { $0.detached() })
            state = nextState
            episode.advance()
        }
    }

    /// One unroll of Ξ learner steps from `parameters` and `state` (detached first) with
    /// meta-parameters `phi`: returns the weighted meta-loss (differentiable in `phi`), the
    /// final parameters and state, and the last step's loss and gradient norm.
    func unroll(_ phi: [Tensor], episode: inout Episode, parameters: [Tensor], state: [Tensor], weights: [Float])
        -> (metaLoss: Tensor, parameters: [Tensor], state: [Tensor], lastLoss: Float, lastGradientNorm: Float)
    {
        var theta = parameters.map { $0.detached() }
        var state = state.map { $0.detached() }
        var metaLoss = Tensor(0)
        var lastLoss: Float = 0, lastGradientNorm: Float = 0
        for tau in 0..<config.unroll {
            // The learner's gradient: detached (first order) unless second order is asked for.
            let point = config.secondOrder ? theta.map { $0.isTracked ? $0 : $0.tracked() } : theta.map { $0.detached().tracked() }
            let (loss, buffers) = episode.loss(point)
            let g = gradients(of: loss, wrt: point, createGraph: config.secondOrder)
            if config.secondOrder { theta = point }
            episode.state.buffers = buffers.map { $0.detached() }
            lastLoss = loss.scalar
            lastGradientNorm = withoutGraph { g.map { ($0 * $0).sum().scalar }.reduce(0, +) }.squareRoot()
            (theta, state) = optimiser.step(meta: phi, parameters: theta, gradients: g, state: state, phase: .metaTraining)
            if !config.sameBatch { episode.advance() }
            metaLoss = metaLoss + episode.loss(theta).loss * weights[tau]
            if config.sameBatch { episode.advance() }
        }
        return (metaLoss, theta, state, lastLoss, lastGradientNorm)
    }

    private func skip(_ kind: MetaEvent.Kind, trial: Int, step: Int) {
        events.append(MetaEvent(kind: kind, trial: trial, step: step))
        consecutiveSkips += 1
        if consecutiveSkips >= config.rollbackAfter {
            (meta, adamState) = lastGood
            events.append(MetaEvent(kind: .rollback, trial: trial, step: step))
            consecutiveSkips = 0
        }
    }

    private func clip(_ grads: [Tensor]) -> [Tensor] {
        switch config.clip {
        case .none: return grads
        case .value(let c): return grads.map { $0.clamped(-c, c) }
        case .norm(let c):
            let norm = grads.map { ($0 * $0).sum().scalar }.reduce(0, +).squareRoot()
            return norm > c ? grads.map { $0 * (c / norm) } : grads
        }
    }
}

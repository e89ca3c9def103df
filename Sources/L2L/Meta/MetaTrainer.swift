/// Meta-trains a learned optimiser: Algorithm 1, written once for every learned optimiser,
/// on the engine's split (ARCHITECTURE.md): task instances → ``Unroll`` → a
/// ``GradientEstimator`` → the shared ``MetaStep``.
///
/// Each of Q trials starts M = `metaBatch` fresh task instances (learners) from the task
/// list and trains them side by side for S steps with the learned optimiser; every Ξ steps
/// each instance's estimator turns the truncation into a meta-gradient (truncated BPTT, ES
/// or PES), the M meta-gradients are averaged in instance order, and the meta-step updates
/// φ. Runs are detached at truncation boundaries. A non-finite meta-loss or meta-gradient
/// never reaches φ: the update is skipped and an event recorded; after `rollbackAfter`
/// consecutive skips φ returns to its last good value. Every random draw (instances,
/// warm-up lengths, perturbations) is taken from the run's generator in instance order
/// before the instances' unrolls run, so results do not depend on the order those run in.
/// Deterministic for a seed; a checkpoint taken between trials resumes bit-identically.
public final class MetaTrainer {
    public let optimiser: any LearnedOptimiser
    public let tasks: [MetaTask]
    public let config: MetaTrainingConfig
    /// φ, the meta-parameters being trained.
    public var meta: [Tensor] { metaStep.meta }
    /// Meta-loss of every truncation so far (the mean over the meta-batch).
    public internal(set) var history: [Float] = []
    public var events: [MetaEvent] { metaStep.events }
    /// Trials completed (a checkpoint resumes from here).
    public internal(set) var trialsDone = 0
    /// Meta-updates applied.
    public var metaSteps: Int { metaStep.applied }

    let metaStep: MetaStep
    /// What one truncation does in this configuration.
    let unroll: Unroll
    let estimator: GradientEstimator
    var rng: RNG
    /// The order the meta-batch members' truncations run in (default: member order); the
    /// results must not depend on it (tests permute it).
    var executionOrder: [Int]? = nil
    /// The trial under way (`nil` between trials).
    var inProgress: TrialInProgress? = nil

    public init(_ optimiser: any LearnedOptimiser, tasks: [MetaTask], config: MetaTrainingConfig,
                meta initialMeta: [Tensor]? = nil) throws {
        guard !tasks.isEmpty else { throw L2LError.invalid("meta-training: no tasks") }
        for task in tasks {
            try optimiser.check(shapes: task.parameterShapes)
            if case .callback = task, config.secondOrder {
                throw L2LError.invalid("meta-training: second_order=1 needs tasks l2l differentiates; a callback task gives first-order gradients")
            }
            if optimiser.inputFeatures != nil {
                guard case .supervised(let learner, _) = task else {
                    throw L2LError.invalid("meta-training: \(optimiser.kind) reads the learner's input batches; quadratic tasks have none")
                }
                try optimiser.check(inputFeatures: learner.inputFeatures)
            }
        }
        self.optimiser = optimiser
        self.tasks = tasks
        self.config = config
        rng = RNG(seed: config.seed)
        var initRNG = RNG(seed: config.seed ^ 0x9E37_79B9_7F4A_7C15)
        let meta = initialMeta ?? optimiser.initialMetaParameters(rng: &initRNG)
        try optimiser.validate(meta: meta)
        metaStep = try MetaStep(meta: meta, optimiser: try config.metaOptimiserSession(), clip: config.clip,
                                rollbackAfter: config.rollbackAfter)
        unroll = Unroll(optimiser: optimiser, steps: config.unroll, weights: config.weights ?? [Float](repeating: 1, count: config.unroll),
                        sameBatch: config.sameBatch, secondOrder: config.secondOrder)
        switch config.estimator {
        case .bptt: estimator = TruncatedBPTT(unroll: unroll, memoryBudget: config.memoryBudget)
        case .es(let std, let pairs): estimator = AntitheticES(unroll: unroll.firstOrder, pairs: pairs, std: std)
        case .pes(let std, let pairs): estimator = PersistentES(unroll: unroll.firstOrder, pairs: pairs, std: std)
        }
    }

    /// Steps per recomputed segment of a memory-budgeted BPTT unroll, once measured (`nil`
    /// before the first unroll, without a budget, or with another estimator).
    public var segmentSteps: Int? { (estimator as? TruncatedBPTT)?.segmentSteps }

    /// Called after every truncation with (trial, step within the trial, meta-loss); return
    /// `false` to stop (the run throws `.cancelled`, φ keeps the updates made so far).
    public typealias Progress = (_ trial: Int, _ step: Int, _ metaLoss: Float) -> Bool

    /// Runs the remaining trials (all of them, or those after a restored checkpoint), or
    /// only the next `trials` of them: every meta-iteration estimates all members here (in
    /// ``executionOrder``) and takes the meta-step (``MetaTrainer+Iteration.swift``).
    public func run(trials limit: Int? = nil, progress: Progress? = nil) throws {
        let end = min(config.trials, trialsDone + (limit ?? config.trials))
        while trialsDone < end {
            let estimates = try estimate(members: executionOrder ?? Array(0..<config.metaBatch)).sorted { $0.member < $1.member }
            let lost = estimates.contains { $0.summary.lost }
            let done = try finishIteration(members: estimates.map(\.summary),
                                           gradient: lost ? nil : try combine(estimates.map { $0.gradient! }))
            if let progress, !progress(done.trial, done.step, done.metaLoss) {
                // As before the split: an interrupted trial is started again from new draws.
                inProgress = nil
                throw L2LError(.cancelled, "meta-training: cancelled by the progress callback at trial \(done.trial), step \(done.step)")
            }
        }
    }

    /// A fresh instance of `task` as a meta-batch member (its random draws taken); its
    /// learner runs are made by ``started(_:)`` where the member is estimated, so a process
    /// holds optimiser states only for its own members.
    func member(of task: MetaTask) throws -> TaskMember {
        TaskMember(instance: try TaskInstance(task, batchSize: config.batchSize, randomScaling: config.randomScaling,
                                                   thetaNoise: config.thetaNoise, noiseHorizon: config.steps, rng: &rng), runs: [])
    }

    /// `member` with its runs at the learner's start if it has none yet.
    func started(_ member: TaskMember) -> TaskMember {
        guard member.runs.isEmpty else { return member }
        let initial = member.instance.initial
        let run = LearnerRun(learner: initial, optimiserState: optimiser.initialState(for: initial.parameters))
        return TaskMember(instance: member.instance, runs: [LearnerRun](repeating: run, count: estimator.runsPerTask))
    }

    /// The meta-loss of φ (default: the current one) without training it: the mean, over
    /// `instances` fresh learners (task i mod the task count, drawn from `seed`) trained for S
    /// steps with φ, of their truncations' meta-losses. Two φ evaluated with the same seed
    /// see the same learners and batches. Non-finite if a learner's loss stops being finite.
    public func evaluate(meta phi: [Tensor]? = nil, instances: Int = 4, seed: UInt64 = 1) throws -> Float {
        let phi = phi ?? meta
        try optimiser.validate(meta: phi)
        guard instances >= 1 else { throw L2LError.invalid("meta-training: evaluate needs at least 1 instance") }
        let forward = unroll.firstOrder
        var draws = RNG(seed: seed)
        var total = 0.0
        for i in 0..<instances {
            let instance = try TaskInstance(tasks[i % tasks.count], batchSize: config.batchSize, rng: &draws)
            var run = LearnerRun(learner: instance.initial, optimiserState: optimiser.initialState(for: instance.initial.parameters))
            for _ in 0..<(config.steps / config.unroll) {
                let u = forward.run(phi, from: run, on: instance, window: instance.window(config.unroll), range: 0..<config.unroll)
                if let failure = instance.failure { throw failure }
                total += Double(u.metaLoss.scalar)
                run = u.end.detached()
            }
        }
        return Float(total / Double(instances * (config.steps / config.unroll)))
    }

    /// `steps` learner steps of every run of `member` with the current φ and no
    /// meta-gradient (``MetaTrainingConfig/warmup``); stops early, keeping the last finite
    /// parameters, if the loss stops being finite.
    func warmUp(_ member: inout TaskMember, steps: Int) {
        var run = member.runs[0]
        for _ in 0..<steps {
            let batch = member.instance.batch
            let point = run.learner.parameters.map { $0.detached().tracked() }
            let (loss, buffers) = member.instance.loss(point, buffers: run.learner.buffers, on: batch)
            guard loss.scalar.isFinite else { break }
            let g = gradients(of: loss, wrt: point)
            let (next, nextState) = withoutGraph {
                optimiser.step(meta: meta, parameters: run.learner.parameters, gradients: g, state: run.optimiserState,
                               phase: .metaTraining, inputs: batch.inputs)
            }
            guard next.allSatisfy(\.isFinite) else { break }
            run = LearnerRun(learner: LearnerState(parameters: next, buffers: buffers.map { $0.detached() }), optimiserState: nextState)
            member.instance.advance()
        }
        member.runs = [LearnerRun](repeating: run, count: member.runs.count)
    }
}

/// A few-shot meta-learner — MAML, first-order MAML or Meta-SGD — over any learner without
/// buffers: it meta-learns an initialisation θ (and, for Meta-SGD, a per-parameter inner
/// learning rate α shaped like θ) from which k gradient steps on a task's few examples
/// adapt well.
///
/// Meta-parameters φ = θ (MAML, FOMAML) or θ followed by α (Meta-SGD), one tensor per
/// learner parameter tensor in ``Learner/parameterSpecs`` order. One meta-iteration draws
/// `metaBatch` tasks, adapts to each task's support set with k steps
/// θᵢ₊₁ = θᵢ − α ⊙ ∇L_support(θᵢ), and takes the engine's ``MetaStep`` (non-finite guard →
/// clip → Adam → detach) on the mean query loss L_query(θ_k).
///
/// ```swift
/// let net = try MLP(sizes: [1, 40, 40, 1], objective: .meanSquaredError)
/// var config = FewShotConfig(); config.method = .metaSGD; config.shots = 5
/// let meta = try FewShotLearner(learner: net, config: config)
/// try meta.fit(SineTaskFamily(), iterations: 1000)
/// let adapted = try meta.adapt(support)          // parameters for one new task
/// ```
public final class FewShotLearner {
    /// The model whose parameters are adapted.
    public let learner: any Learner
    public private(set) var config: FewShotConfig
    /// φ, its meta-optimiser and events: the engine's shared meta-step.
    let metaStep: MetaStep
    /// Draws meta-training tasks; advanced by every ``fit(_:iterations:progress:)``.
    private var rng: RNG
    /// The meta-loss (mean post-adaptation query loss) of every meta-iteration so far.
    public private(set) var history: [Float] = []

    /// A meta-learner starting from θ = `initialisation` (e.g. a pretrained learner's
    /// parameters; by default the learner's own initialisation drawn from `config.seed`) and,
    /// for Meta-SGD, α = `innerLearningRate` everywhere. `config.seed` also seeds the task draws.
    ///
    /// Throws `.invalidArgument` for a learner with buffers (batch norm), `.shapeMismatch` or
    /// `.nonFinite` for an initialisation that does not fit the learner.
    public convenience init(learner: any Learner, config: FewShotConfig, initialisation: [Tensor]? = nil) throws {
        var rng = RNG(seed: config.seed)
        let theta = initialisation ?? learner.initialParameters(rng: &rng)
        let alpha = config.method == .metaSGD ? theta.map { Tensor(repeating: config.innerLearningRate, shape: $0.shape) } : []
        try self.init(learner: learner, config: config, meta: theta + alpha, rng: rng)
    }

    /// A meta-learner from given φ (checked against the learner's shapes), e.g. a saved one.
    init(learner: any Learner, config: FewShotConfig, meta: [Tensor], rng: RNG) throws {
        guard learner.initialBuffers().isEmpty else {
            throw L2LError.invalid("few-shot: learners with buffers (batch norm) are not supported")
        }
        let specs = FewShotLearner.metaSpecs(learner, config.method)
        try validateTensors(meta, names: specs.map(\.name), shapes: specs.map(\.shape), owner: "few-shot learner",
                            item: "meta-parameter")
        self.learner = learner
        self.config = config
        self.rng = rng
        metaStep = try MetaStep(meta: meta, optimiser: try Factory.optimiser(kind: "adam", options: "lr=\(config.metaLearningRate)"),
                                clip: config.clip, rollbackAfter: config.rollbackAfter)
    }

    /// Names and shapes of φ: `init.<parameter>` for θ, then `lr.<parameter>` for Meta-SGD's α.
    static func metaSpecs(_ learner: any Learner, _ method: FewShotMethod) -> [MetaParameterSpec] {
        let specs = learner.parameterSpecs
        let theta = specs.map { MetaParameterSpec(name: "init.\($0.name)", shape: $0.shape) }
        return method == .metaSGD ? theta + specs.map { MetaParameterSpec(name: "lr.\($0.name)", shape: $0.shape) } : theta
    }

    /// φ: θ, then α for Meta-SGD (detached copies' storage is shared; do not mutate).
    public var meta: [Tensor] { metaStep.meta }
    /// The meta-learned initialisation θ, one tensor per learner parameter.
    public var initialisation: [Tensor] { Array(meta.prefix(learner.parameterSpecs.count)) }
    /// Meta-SGD's per-parameter inner learning rates α (shaped like θ); `nil` otherwise.
    public var learningRates: [Tensor]? {
        config.method == .metaSGD ? Array(meta.dropFirst(learner.parameterSpecs.count)) : nil
    }
    /// Meta-iterations taken (applied or skipped).
    public var iterations: Int { history.count }
    /// Skips and rollbacks of the meta-step so far.
    public var events: [MetaEvent] { metaStep.events }

    // MARK: The inner loop

    /// Parameters after `steps` inner gradient steps on `support` from φ's θ with φ's rates
    /// (α for Meta-SGD, `innerLearningRate` otherwise). Differentiable in φ when φ is
    /// tracked: through the inner gradients too when `secondOrder`.
    func adapted(_ meta: [Tensor], on support: FewShotSet, steps: Int, secondOrder: Bool) -> [Tensor] {
        let n = learner.parameterSpecs.count
        let rates = config.method == .metaSGD ? Array(meta[n...]) : Array(repeating: Tensor(config.innerLearningRate), count: n)
        var theta = meta[..<n].map { $0.isTracked ? $0 : $0.tracked() }
        for _ in 0..<steps {
            let loss = learner.loss(outputs: learner.forward(theta, support.inputs), targets: support.targets)
            let g = gradients(of: loss, wrt: theta, createGraph: secondOrder)
            theta = zip(theta, zip(rates, g)).map { descentStep($0, rate: $1.0, direction: $1.1) }
        }
        return theta
    }

    /// The mean post-adaptation query loss of `episodes` at φ = `meta` (k inner steps):
    /// a scalar, differentiable in `meta` when it is tracked (second order for MAML and
    /// Meta-SGD, first order for FOMAML). `meta` must have φ's shapes and the episodes
    /// must fit the learner (unchecked here: ``metaGradient(_:)`` checks them).
    public func metaLoss(_ meta: [Tensor], _ episodes: [FewShotEpisode]) -> Tensor {
        let secondOrder = config.method.secondOrder && meta.contains(where: \.isTracked)
        let losses = episodes.map { e in
            let theta = adapted(meta, on: e.support, steps: config.innerSteps, secondOrder: secondOrder)
            return learner.loss(outputs: learner.forward(theta, e.query.inputs), targets: e.query.targets)
        }
        return losses.dropFirst().reduce(losses[0], +) / Float(losses.count)
    }

    /// The meta-loss of `episodes` at the current φ and its gradient, one tensor per φ tensor.
    ///
    /// Throws `.invalidArgument` for no episodes, or episodes that do not fit the learner.
    public func metaGradient(_ episodes: [FewShotEpisode]) throws -> (loss: Float, gradients: [Tensor]) {
        guard !episodes.isEmpty else { throw L2LError.invalid("few-shot: a meta-batch needs at least one task") }
        for e in episodes { try check(e) }
        let phi = meta.map { $0.tracked() }
        let loss = metaLoss(phi, episodes)
        return (loss.scalar, gradients(of: loss, wrt: phi))
    }

    private func check(_ e: FewShotEpisode) throws {
        try learner.validate(inputs: e.support.inputs, targets: e.support.targets)
        try learner.validate(inputs: e.query.inputs, targets: e.query.targets)
    }

    // MARK: Meta-training

    /// Changes how later meta-iterations draw their episodes: options `meta_batch`,
    /// `shots` and `query` (see ``FewShotConfig/init(config:)``); absent keys keep their
    /// values. Throws `.invalidArgument` for other keys or values out of range (nothing changes).
    public func setEpisodes(options: String?) throws {
        var updated = config
        try Factory.build("fewshot", options) { try updated.readEpisodes(&$0) }
        config = updated
    }

    /// Called after each meta-iteration with (iterations done in this call, iterations of
    /// this call, meta-loss); return `false` to stop.
    public typealias Progress = (Int, Int, Float) -> Bool

    /// `iterations` meta-iterations on tasks of `family`: each draws `metaBatch` episodes
    /// (task, `shots` support and `queryCount ?? shots` query examples, in that order, from
    /// the meta-learner's seeded generator) and applies one meta-step. A non-finite meta-loss
    /// or meta-gradient skips the update (a ``MetaEvent``).
    ///
    /// Throws `.cancelled` if `progress` asks to stop (the iterations done are kept), or the
    /// family's error for tasks that do not fit the learner.
    public func fit<F: FewShotTaskFamily>(_ family: F, iterations: Int, progress: Progress? = nil) throws {
        guard iterations >= 0 else { throw L2LError.invalid("few-shot: iterations must be non-negative, got \(iterations)") }
        for i in 0..<iterations {
            let episodes = try (0..<config.metaBatch).map { _ in
                try family.episode(shots: config.shots, queryCount: config.queryCount ?? config.shots, rng: &rng)
            }
            let (loss, grads) = try metaGradient(episodes)
            metaStep.apply(grads, loss: loss, trial: history.count, step: 0)
            history.append(loss)
            if let progress, !progress(i + 1, iterations, loss) {
                throw L2LError(.cancelled, "few-shot: cancelled by the progress callback after meta-iteration \(i + 1)")
            }
        }
    }

    // MARK: Adaptation and evaluation

    /// The learner's parameters adapted to one task: `steps` (default `innerSteps`) inner
    /// steps on `support` from the meta-learned θ, detached.
    ///
    /// Throws for a support set that does not fit the learner, `.nonFinite` if adaptation
    /// diverges.
    public func adapt(_ support: FewShotSet, steps: Int? = nil) throws -> [Tensor] {
        let steps = steps ?? config.innerSteps
        guard steps >= 0, steps <= 100_000 else { throw L2LError.invalid("few-shot: adaptation steps must be in 0...100000, got \(steps)") }
        try learner.validate(inputs: support.inputs, targets: support.targets)
        let theta = adapted(meta, on: support, steps: steps, secondOrder: false).map { $0.detached() }
        guard theta.allSatisfy(\.isFinite) else { throw L2LError(.nonFinite, "few-shot: adaptation made a parameter NaN or infinite") }
        return theta
    }

    /// Post-adaptation losses on `tasks` fresh tasks of `family`, drawn from `seed` (not the
    /// meta-training generator): task i comes from its own generator (derived from `seed`
    /// and i), which draws the task and then max(`shots`) examples; the K-shot support set is
    /// the first K of them. So a task's score at K does not depend on the other entries of
    /// `shots`, and the scores of different K are paired. Each support set gets `steps`
    /// (default `innerSteps`) adaptation steps, then the loss on the family's evaluation set.
    /// One ``FewShotScore`` per entry of `shots`, in order.
    public func evaluate<F: FewShotTaskFamily>(_ family: F, tasks: Int, shots: [Int], steps: Int? = nil,
                                               seed: UInt64) throws -> [FewShotScore] {
        guard tasks >= 1 else { throw L2LError.invalid("few-shot: evaluate needs at least one task, got \(tasks)") }
        guard let most = shots.max(), shots.allSatisfy({ $0 >= 1 }) else {
            throw L2LError.invalid("few-shot: evaluate needs shot counts of at least 1, got \(shots)")
        }
        var losses = [[Float]](repeating: [], count: shots.count)
        for i in 0..<tasks {
            var rng = RNG(seed: seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            let task = family.sampleTask(rng: &rng)
            let pool = try family.examples(of: task, count: most, rng: &rng)
            let grid = family.evaluationSet(of: task)
            for (j, k) in shots.enumerated() {
                let theta = try adapt(pool.prefix(k), steps: steps)
                let loss = withoutGraph { learner.loss(outputs: learner.forward(theta, grid.inputs), targets: grid.targets) }
                losses[j].append(loss.scalar)
            }
        }
        return zip(shots, losses).map { FewShotScore(shots: $0, losses: $1) }
    }
}

/// Post-adaptation losses of many tasks at one K, with their mean and a 95 % interval.
public struct FewShotScore: Equatable, Sendable {
    /// Support examples per task (K).
    public let shots: Int
    /// One loss per task, in draw order.
    public let losses: [Float]

    public init(shots: Int, losses: [Float]) {
        self.shots = shots
        self.losses = losses
    }

    /// Mean loss over the tasks.
    public var mean: Float { Float(losses.reduce(0.0) { $0 + Double($1) } / Double(losses.count)) }

    /// Half-width of the normal 95 % confidence interval of the mean, 1.96·s/√n (s the sample
    /// standard deviation; 0 for one task).
    public var interval95: Float {
        let n = Double(losses.count)
        guard n > 1 else { return 0 }
        let m = Double(mean)
        let variance = losses.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / (n - 1)
        return Float(1.96 * (variance / n).squareRoot())
    }
}

/// Settings of meta-training (Algorithm 1 of the M²SGD paper, after Andrychowicz et al.),
/// with the estimator, meta-batch, memory budget and meta-optimiser of the engine.
public struct MetaTrainingConfig: Sendable {
    public typealias Clip = MetaGradientClip

    /// How the meta-gradient of a truncation is obtained (see ``GradientEstimator``).
    public enum Estimator: Equatable, Sendable {
        /// Truncated backprop through the unroll (first order, or second with `secondOrder`).
        case bptt
        /// Antithetic evolution strategies over φ: `pairs` pairs of standard deviation `std`.
        case es(std: Float, pairs: Int)
        /// Persistent evolution strategies: as ES, with one learner per particle kept across
        /// the truncations of a trial.
        case pes(std: Float, pairs: Int)
    }

    /// Q: trials, one after another; each trains `metaBatch` fresh learners side by side.
    public var trials = 1
    /// S: steps per learner.
    public var steps = 100
    /// Ξ: steps per unroll (one meta-update per unroll).
    public var unroll = 5
    /// The meta-optimiser's learning rate on φ.
    public var metaLearningRate: Float = 1e-3
    /// The meta-optimiser: a gradient optimiser kind of ``Factory/optimiser(kind:options:)``.
    public var metaOptimiser = "adam"
    /// Its options other than `lr` (an options text, `""` for its defaults).
    public var metaOptimiserOptions = ""
    /// Learner mini-batch size.
    public var batchSize = 128
    /// Weight of each unroll step's loss in the meta-loss (`unroll` entries); uniform if nil.
    public var weights: [Float]? = nil
    /// Score the updated learner on the batch that produced its gradient (the authors'
    /// code) instead of the next batch (the default).
    public var sameBatch = false
    public var clip: Clip = .none
    /// Differentiate through the learner's gradient too (second derivatives); the papers
    /// detach it (first order, the default). BPTT only.
    public var secondOrder = false
    /// Choose each learner's task at random instead of cycling through the list.
    public var sampleTasks = false
    /// Consecutive skipped updates after which φ rolls back to its last good value.
    public var rollbackAfter = 3
    /// Before its S meta-training steps, each learner first takes a number of steps drawn
    /// uniformly from 0…`warmup` with the current φ (no meta-gradient), so φ also learns
    /// from learners past the start of training (an l2l option, not in the papers; 0, the
    /// default, starts every learner at initialisation).
    public var warmup = 0
    /// k > 0: every meta-training learner is trained on a randomly scaled version of its
    /// task, f(c ⊙ θ) from θ₀ / c with cᵢ = exp(U(−k, k)) per coordinate (Lv et al. 2017,
    /// "random scaling"), so φ cannot fit the learner's one set of coordinate scales. Not
    /// applied by `evaluate` or the meta-test. 0 (the default): off.
    public var randomScaling: Float = 0
    /// c > 0: after every update of a meta-training unroll the learner's parameters get
    /// Gaussian noise, θ ← θ + σ_t ε with σ_t = c·max|θ|·(S − t)/S, the max over all the
    /// learner's parameters, at the learner's step t (S = ``steps``; t counts ``warmup``
    /// steps, which get no noise, and starts again at 0 for a learner restarted after a
    /// non-finite loss), as the MTL2L authors' code does for its optimiser (it draws c from
    /// {0.025, 0.05}). The noise, σ included, is a constant of the meta-gradient, drawn per
    /// learner and step, so every particle of an estimator and every recomputed segment
    /// sees the same. Not applied by `evaluate` or the meta-test. 0 (the default): off.
    public var thetaNoise: Float = 0
    public var estimator: Estimator = .bptt
    /// M: learners (tasks) per meta-update; their meta-gradients are averaged.
    public var metaBatch = 1
    /// The most bytes one unroll's recorded graph may hold (BPTT); past it the unroll is
    /// recomputed in segments (gradient checkpointing). `nil`: no limit.
    public var memoryBudget: Int? = nil
    public var seed: UInt64 = 0

    public init() {}

    /// Options: `trials`, `steps`, `unroll`, `meta_lr`, `meta_optimizer`,
    /// `meta_optimizer_options` (the meta-optimiser's options with `:` for `=` and `,`
    /// between them, e.g. `beta1:0.5,eps:1e-6`), `batch`, `weights` (comma list),
    /// `same_batch`, `clip=none|value|norm`, `clip_at`, `second_order`, `sample_tasks`,
    /// `rollback_after`, `warmup`, `random_scaling`, `theta_noise`, `estimator=bptt|es|pes`, `es_std`, `es_pairs`,
    /// `meta_batch`, `memory_budget` (bytes; 0 = none), `seed`.
    public init(config: inout Config) throws {
        trials = try config.int("trials", default: 1, range: 1...1_000_000)
        steps = try config.int("steps", default: 100, range: 1...10_000_000)
        unroll = try config.int("unroll", default: 5, range: 1...10_000)
        metaLearningRate = try config.float("meta_lr", default: 1e-3, range: 0...10)
        metaOptimiser = config.string("meta_optimizer") ?? "adam"
        metaOptimiserOptions = String((config.string("meta_optimizer_options") ?? "").map { $0 == ":" ? "=" : $0 == "," ? " " : $0 })
        batchSize = try config.int("batch", default: 128, range: 1...1_000_000)
        if let w = config.string("weights") {
            let parts = w.split(separator: ",", omittingEmptySubsequences: false).compactMap(Config.decimal)
            guard parts.count == unroll, parts.allSatisfy({ $0 >= 0 }), parts.contains(where: { $0 > 0 }) else {
                throw L2LError.invalid("meta-training: weights=\(w) needs \(unroll) non-negative numbers (one per unroll step), not all zero")
            }
            weights = parts
        }
        sameBatch = try config.bool("same_batch", default: false)
        clip = try MetaGradientClip(config: &config)
        secondOrder = try config.bool("second_order", default: false)
        sampleTasks = try config.bool("sample_tasks", default: false)
        rollbackAfter = try config.int("rollback_after", default: 3, range: 1...1000)
        warmup = try config.int("warmup", default: 0, range: 0...10_000_000)
        randomScaling = try config.float("random_scaling", default: 0, range: 0...20)
        thetaNoise = try config.float("theta_noise", default: 0, range: 0...1)
        let std = try config.float("es_std", default: 0.01, range: 1e-8...1e3)
        let pairs = try config.int("es_pairs", default: 8, range: 1...100_000)
        estimator = try config.choice("estimator", default: Estimator.bptt,
                                      ["bptt": .bptt, "es": .es(std: std, pairs: pairs), "pes": .pes(std: std, pairs: pairs)])
        metaBatch = try config.int("meta_batch", default: 1, range: 1...100_000)
        let budget = try config.int("memory_budget", default: 0, range: 0...Int.max)
        memoryBudget = budget > 0 ? budget : nil
        seed = UInt64(try config.int("seed", default: 0, range: 0...Int.max))
        guard steps % unroll == 0 else {
            throw L2LError.invalid("meta-training: steps (\(steps)) must be a multiple of unroll (\(unroll))")
        }
        if estimator != .bptt && secondOrder {
            throw L2LError.invalid("meta-training: second_order=1 needs estimator=bptt (ES and PES do not differentiate through the unroll)")
        }
        if estimator != .bptt && memoryBudget != nil {
            throw L2LError.invalid("meta-training: memory_budget applies to estimator=bptt only (ES and PES record no graph across steps)")
        }
        _ = try metaOptimiserSession()
    }

    /// A new session of the configured meta-optimiser.
    func metaOptimiserSession() throws -> OptimiserSession {
        try Factory.optimiser(kind: metaOptimiser, options: "lr=\(metaLearningRate) " + metaOptimiserOptions)
    }

    /// The options text that rebuilds this configuration (options at their defaults that
    /// earlier versions lacked are left out, so older checkpoints still match).
    public var options: String {
        var parts = ["trials=\(trials)", "steps=\(steps)", "unroll=\(unroll)", "meta_lr=\(metaLearningRate)", "batch=\(batchSize)"]
        if let weights { parts.append("weights=" + weights.map { "\($0)" }.joined(separator: ",")) }
        parts.append("same_batch=\(sameBatch ? 1 : 0)")
        parts += clip.options
        parts += ["second_order=\(secondOrder ? 1 : 0)", "sample_tasks=\(sampleTasks ? 1 : 0)",
                  "rollback_after=\(rollbackAfter)", "warmup=\(warmup)"]
        if metaOptimiser != "adam" { parts.append("meta_optimizer=\(metaOptimiser)") }
        if !metaOptimiserOptions.isEmpty {
            parts.append("meta_optimizer_options=" + String(metaOptimiserOptions.map { $0 == "=" ? ":" : $0 == " " ? "," : $0 }))
        }
        switch estimator {
        case .bptt: break
        case .es(let std, let pairs): parts += ["estimator=es", "es_std=\(std)", "es_pairs=\(pairs)"]
        case .pes(let std, let pairs): parts += ["estimator=pes", "es_std=\(std)", "es_pairs=\(pairs)"]
        }
        if randomScaling != 0 { parts.append("random_scaling=\(randomScaling)") }
        if thetaNoise != 0 { parts.append("theta_noise=\(thetaNoise)") }
        if metaBatch != 1 { parts.append("meta_batch=\(metaBatch)") }
        if let memoryBudget { parts.append("memory_budget=\(memoryBudget)") }
        parts.append("seed=\(seed)")
        return parts.joined(separator: " ")
    }
}

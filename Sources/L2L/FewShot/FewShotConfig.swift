/// Which few-shot meta-learner: what is meta-learned and how far the meta-gradient
/// differentiates through the inner loop.
public enum FewShotMethod: String, CaseIterable, Sendable {
    /// MAML (Finn et al., 2017): the initialisation θ, differentiated through every inner
    /// step (second order: Hessian-vector terms included).
    case maml
    /// First-order MAML: the initialisation θ; the inner gradients are constants, so the
    /// meta-gradient is the query gradient at the adapted parameters.
    case fomaml
    /// Meta-SGD (Li et al., 2017): θ and a per-parameter inner learning rate α (shaped like
    /// θ), both meta-learned, second order.
    case metaSGD = "meta_sgd"

    /// Whether the inner gradients are differentiated (second order).
    public var secondOrder: Bool { self != .fomaml }
}

/// The settings of a few-shot meta-learner (defaults: the sine experiment of the papers
/// with one inner step, meta-batch 25 and Adam 1e-3).
public struct FewShotConfig: Equatable, Sendable {
    /// MAML, first-order MAML or Meta-SGD.
    public var method: FewShotMethod = .maml
    /// Gradient steps of the inner loop (k ≥ 1), in meta-training and by default in
    /// adaptation and evaluation.
    public var innerSteps = 1
    /// The inner learning rate of MAML/FOMAML, and the initial value of every element of
    /// Meta-SGD's α.
    public var innerLearningRate: Float = 0.01
    /// Tasks per meta-iteration; the meta-loss is their mean post-adaptation query loss.
    public var metaBatch = 25
    /// Support examples per task in meta-training (K).
    public var shots = 10
    /// Query examples per task in meta-training (K by default, as in the papers).
    public var queryCount: Int?
    /// Adam's learning rate on the meta-parameters.
    public var metaLearningRate: Float = 1e-3
    /// How meta-gradients are limited before the Adam step.
    public var clip: MetaGradientClip = .none
    /// Consecutive skipped (non-finite) meta-steps before the meta-parameters roll back.
    public var rollbackAfter = 3
    /// Seeds the initialisation and every task draw of meta-training.
    public var seed: UInt64 = 0

    /// The defaults.
    public init() {}

    /// Options: `method=maml|fomaml|meta_sgd`, `inner_steps`, `inner_lr`, `meta_batch`,
    /// `shots`, `query` (query examples; default `shots`), `meta_lr`, `clip=none|value|norm`,
    /// `clip_at`, `rollback_after`, `seed`.
    public init(config: inout Config) throws {
        method = try config.choice("method", default: FewShotMethod.maml,
                                   Dictionary(uniqueKeysWithValues: FewShotMethod.allCases.map { ($0.rawValue, $0) }))
        innerSteps = try config.int("inner_steps", default: 1, range: 1...1000)
        innerLearningRate = try config.float("inner_lr", default: 0.01, range: 0...100)
        try readEpisodes(&config)
        metaLearningRate = try config.float("meta_lr", default: 1e-3, range: 0...10)
        clip = try MetaGradientClip(config: &config)
        rollbackAfter = try config.int("rollback_after", default: 3, range: 1...1000)
        seed = UInt64(try config.int("seed", default: 0, range: 0...Int.max))
    }

    /// Reads `meta_batch`, `shots` and `query` (0: as many as `shots`), keeping the current
    /// values for keys that are absent.
    mutating func readEpisodes(_ config: inout Config) throws {
        metaBatch = try config.int("meta_batch", default: metaBatch, range: 1...100_000)
        shots = try config.int("shots", default: shots, range: 1...1_000_000)
        let query = try config.int("query", default: queryCount ?? 0, range: 0...1_000_000)
        queryCount = query == 0 ? nil : query
    }

    /// Parses an options text (see ``init(config:)``); unknown keys are errors.
    public init(options: String?) throws {
        self = try Factory.build("fewshot", options) { try FewShotConfig(config: &$0) }
    }

    /// The options text that rebuilds this configuration.
    public var options: String {
        var parts = ["method=\(method.rawValue)", "inner_steps=\(innerSteps)", "inner_lr=\(innerLearningRate)",
                     "meta_batch=\(metaBatch)", "shots=\(shots)", "query=\(queryCount ?? 0)", "meta_lr=\(metaLearningRate)"]
        parts += clip.options
        parts += ["rollback_after=\(rollbackAfter)", "seed=\(seed)"]
        return parts.joined(separator: "; ")
    }
}

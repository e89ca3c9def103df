/// Examples of one few-shot task: inputs `[n, features]` and their targets (real values
/// `[n, outputs]` for regression, labels for classification).
public struct FewShotSet {
    /// `[n, features]`.
    public let inputs: Tensor
    /// n labels, or real values `[n, outputs]`.
    public let targets: Targets

    public init(inputs: Tensor, targets: Targets) {
        self.inputs = inputs
        self.targets = targets
    }

    /// The first `count` examples (all of them if there are fewer).
    public func prefix(_ count: Int) -> FewShotSet {
        let rows = Array(0..<min(count, inputs.shape[0]))[...]
        switch targets {
        case .labels(let l): return FewShotSet(inputs: Dataset.rows(inputs, rows), targets: .labels(Array(l.prefix(rows.count))))
        case .values(let v): return FewShotSet(inputs: Dataset.rows(inputs, rows), targets: .values(Dataset.rows(v, rows)))
        }
    }
}

/// One task of a meta-batch: the support set the inner loop adapts on (K shots) and the
/// query set the post-adaptation loss is measured on.
public struct FewShotEpisode {
    /// What the inner loop adapts on (K examples).
    public let support: FewShotSet
    /// What the adapted parameters are scored on.
    public let query: FewShotSet

    public init(support: FewShotSet, query: FewShotSet) {
        self.support = support
        self.query = query
    }
}

/// A distribution p(T) over few-shot tasks: draws tasks, draws examples of a task, and
/// gives the fixed set a task is scored on at evaluation.
public protocol FewShotTaskFamily {
    associatedtype Task
    /// A new task drawn from `rng`.
    func sampleTask(rng: inout RNG) -> Task
    /// `count` examples of `task` drawn from `rng` (a support or a meta-training query set).
    func examples(of task: Task, count: Int, rng: inout RNG) throws -> FewShotSet
    /// The examples `task` is scored on after adaptation at evaluation.
    func evaluationSet(of task: Task) -> FewShotSet
}

extension FewShotTaskFamily {
    /// A meta-training episode: a new task, then `shots` support and `queryCount` query
    /// examples of it, drawn from `rng` in that order.
    public func episode(shots: Int, queryCount: Int, rng: inout RNG) throws -> FewShotEpisode {
        let task = sampleTask(rng: &rng)
        let support = try examples(of: task, count: shots, rng: &rng)
        return FewShotEpisode(support: support, query: try examples(of: task, count: queryCount, rng: &rng))
    }
}

/// The sine regression tasks of MAML (§5.1) and Meta-SGD (Table 1): y = A·sin(x − φ),
/// A ∈ U[0.1, 5], φ ∈ U[0, π], x ∈ U[−5, 5] (``SineTask``), for a regressor with one input
/// and one output. Evaluation scores a task on `evaluationPoints` evenly spaced points of
/// [−5, 5] (100 in the papers).
public struct SineTaskFamily: FewShotTaskFamily {
    /// Points of the evaluation grid, ends included.
    public let evaluationPoints: Int

    /// Throws `.invalidArgument` unless `evaluationPoints` is in 2...1_000_000.
    public init(evaluationPoints: Int = 100) throws {
        guard (2...1_000_000).contains(evaluationPoints) else {
            throw L2LError.invalid("sine tasks: evaluation_points must be in 2...1000000, got \(evaluationPoints)")
        }
        self.evaluationPoints = evaluationPoints
    }

    /// A task: its amplitude, then its phase, drawn from `rng`.
    public func sampleTask(rng: inout RNG) -> SineTask { SineTask.sample(rng: &rng) }

    /// `count` inputs `[count, 1]` uniform in [−5, 5] and their values `[count, 1]`.
    public func examples(of task: SineTask, count: Int, rng: inout RNG) throws -> FewShotSet {
        let (x, y) = try task.batch(k: count, rng: &rng)
        return FewShotSet(inputs: x, targets: .values(y))
    }

    /// The evenly spaced grid `[evaluationPoints, 1]` and the task's values on it.
    public func evaluationSet(of task: SineTask) -> FewShotSet {
        let r = SineTask.inputRange, n = evaluationPoints
        let x = Tensor(shape: [n, 1], scalars: (0..<n).map { r.lowerBound + (r.upperBound - r.lowerBound) * Float($0) / Float(n - 1) })
        return FewShotSet(inputs: x, targets: .values(task.values(at: x)))
    }
}

extension Factory {
    /// Few-shot task families: `sine` (``SineTaskFamily``; option `evaluation_points`, 100).
    public static let fewShotTaskKinds = ["sine"]

    /// A few-shot task family of `kind` configured by `options`.
    public static func fewShotTasks(kind: String, options: String?) throws -> any FewShotTaskFamily {
        try build(kind, options) { config -> any FewShotTaskFamily in
            switch kind {
            case "sine": return try SineTaskFamily(evaluationPoints: try config.int("evaluation_points", default: 100))
            default: throw L2LError.invalid("unknown few-shot task family '\(kind)' (known: \(fewShotTaskKinds.joined(separator: ", ")))")
            }
        }
    }
}

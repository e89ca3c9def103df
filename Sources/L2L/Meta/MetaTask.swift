import Glibc

/// One kind of problem a learned optimiser is meta-trained (or tested) on: a learner and
/// the data it trains on.
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

/// A mini-batch of a supervised task (`nil` for tasks without data, such as quadratics).
typealias TaskBatch = (inputs: Tensor, labels: [Int32])?

/// One instance of a task being trained: a freshly drawn learner (or quadratic) with its
/// stream of mini-batches. The batches are handed out in windows so that every particle of
/// a gradient estimator replays the same ones; the stream itself is shared.
final class TaskInstance {
    /// The learner's parameters and buffers at initialisation.
    let initial: LearnerState
    /// ln(classes) for a classifier: a learner stuck there with no gradient has collapsed.
    let chance: Float?
    private let score: (_ parameters: [Tensor], _ buffers: [Tensor], _ batch: TaskBatch) -> (loss: Tensor, buffers: [Tensor])
    private let next: () -> TaskBatch
    private var current: TaskBatch

    /// Draws the instance (initial parameters, quadratic, batch order) from `rng`.
    init(_ task: MetaTask, batchSize: Int, rng: inout RNG) throws {
        switch task {
        case .supervised(let learner, let data):
            initial = learner.initialState(rng: &rng)
            var batches = try BatchIterator(data, batchSize: batchSize, seed: UInt64(rng.nextUInt32()) << 32 | UInt64(rng.nextUInt32()))
            next = { batches.nextCycling() }
            score = { p, b, batch in
                let (out, buffers) = learner.forward(p, batch!.inputs, buffers: b, training: true)
                return (learner.loss(outputs: out, targets: .labels(batch!.labels)), buffers)
            }
            chance = learner.objective == .softmaxCrossEntropy ? Float(log(Double(learner.classes))) : nil
        case .quadratic(let d, let distribution):
            let q = try QuadraticTask.sample(dimension: d, distribution: distribution, rng: &rng)
            initial = LearnerState(parameters: [Tensor.normal([d], std: 0.01, rng: &rng)])
            next = { nil }
            score = { p, b, _ in (q.loss(p[0]), b) }
            chance = nil
        }
        current = next()
    }

    /// The batch the next step takes its gradient on.
    var batch: TaskBatch { current }

    /// Moves the stream on by one batch.
    func advance() { current = next() }

    /// The current batch and the `count` after it (`count + 1` in all); the stream moves on
    /// by `count`, so the last batch of a window is the first of the next.
    func window(_ count: Int) -> [TaskBatch] {
        var w = [current]
        for _ in 0..<count {
            advance()
            w.append(current)
        }
        return w
    }

    /// The loss of `parameters` (with `buffers`) on `batch`, and the buffers a training-mode
    /// pass left.
    func loss(_ parameters: [Tensor], buffers: [Tensor], on batch: TaskBatch) -> (loss: Tensor, buffers: [Tensor]) {
        score(parameters, buffers, batch)
    }
}

/// A learner part-way through training with a learned optimiser: what an unroll starts from
/// and hands on.
struct LearnerRun {
    var learner: LearnerState
    var optimiserState: [Tensor]

    /// The same run cut from any graph (truncation boundary).
    func detached() -> LearnerRun {
        LearnerRun(learner: LearnerState(parameters: learner.parameters.map { $0.detached() },
                                         buffers: learner.buffers.map { $0.detached() }),
                   optimiserState: optimiserState.map { $0.detached() })
    }
}

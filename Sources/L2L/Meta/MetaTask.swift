import Glibc

/// One kind of problem a learned optimiser is meta-trained (or tested) on: a learner and
/// the data it trains on.
public enum MetaTask {
    /// A learner trained on mini-batches of a labelled data set.
    case supervised(learner: any Learner, data: Dataset)
    /// Andrychowicz et al.'s quadratics f(θ) = ‖Wθ − y‖², a new W, y every trial, θ₀ ~ N(0, 0.01²)
    /// (DeepMind's code).
    case quadratic(dimension: Int, distribution: QuadraticTask.Distribution)
    /// A model the caller computes (any framework): see ``CallbackTask``.
    case callback(CallbackTask)

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
        case .callback(let task): return task.parameterShapes
        }
    }
}

/// A task defined by the caller's code: parameters of given shapes, how a fresh instance's
/// parameters are drawn, and the loss and its gradient at any parameters and learner step
/// (the step tells the caller which of its batches to use: step t of an instance always
/// means the same batch for every particle). Meta-training differentiates through the
/// learned optimiser with these gradients held constant (first order, as the papers do);
/// second order is refused. A thrown error stops meta-training with that error, φ keeping
/// the updates made before it.
public struct CallbackTask {
    /// Shapes of the parameter tensors.
    public let parameterShapes: [[Int]]
    /// The parameters of a fresh instance, drawn from the generator (shapes as above).
    public let initialise: (_ rng: inout RNG) throws -> [Tensor]
    /// The loss at `parameters` on the batch of learner step `step` (0-based, counted from the
    /// instance's start) and its gradient, one tensor per parameter.
    public let lossAndGradients: (_ parameters: [Tensor], _ step: Int) throws -> (loss: Float, gradients: [Tensor])

    public init(parameterShapes: [[Int]], initialise: @escaping (_ rng: inout RNG) throws -> [Tensor],
                lossAndGradients: @escaping (_ parameters: [Tensor], _ step: Int) throws -> (loss: Float, gradients: [Tensor])) throws {
        guard !parameterShapes.isEmpty, parameterShapes.allSatisfy({ $0.allSatisfy { $0 >= 1 } }) else {
            throw L2LError.invalid("callback task: needs at least one parameter tensor with positive dimensions, got \(parameterShapes)")
        }
        self.parameterShapes = parameterShapes
        self.initialise = initialise
        self.lossAndGradients = lossAndGradients
    }
}

/// Learner step `step`'s batch of a task instance: inputs and labels for a supervised task,
/// nothing for a quadratic, the step alone for a callback task (whose caller holds the data).
struct TaskBatch {
    var step: Int
    var data: (inputs: Tensor, labels: [Int32])?
    var inputs: Tensor? { data?.inputs }
}

/// One instance of a task being trained: a freshly drawn learner (or quadratic) with its
/// stream of mini-batches. The batches are handed out in windows so that every particle of
/// a gradient estimator replays the same ones; the stream itself is shared.
final class TaskInstance {
    /// The learner's parameters and buffers at initialisation.
    let initial: LearnerState
    /// ln(classes) for a classifier: a learner stuck there with no gradient has collapsed.
    let chance: Float?
    private let score: (_ parameters: [Tensor], _ buffers: [Tensor], _ batch: TaskBatch) -> (loss: Tensor, buffers: [Tensor])
    private let next: () -> (inputs: Tensor, labels: [Int32])?
    private var current: TaskBatch
    /// A callback task's evaluations (nil for the other kinds).
    private let callback: CallbackScorer?
    /// θ-noise: its scale c, the step S where it reaches 0 and the key of its draws (nil: off).
    private let thetaNoise: (scale: Float, horizon: Int, key: UInt64)?
    /// The first error a callback task threw (its loss then reads NaN); the trainer rethrows it.
    var failure: Error? { callback?.failure }
    /// Whether runs of this instance may be scored on several threads at once: true unless
    /// its losses come from a callback (whose memo and caller are not thread-safe).
    var scoresConcurrently: Bool { callback == nil }

    /// Draws the instance (initial parameters, quadratic, batch order) from `rng`. With
    /// `randomScaling` k > 0 the instance is Lv et al.'s (2017) random scaling of the task:
    /// a vector c, cᵢ = exp(U(−k, k)) per parameter coordinate (drawn after the rest), and
    /// the loss θ ↦ f(c ⊙ θ) from θ₀ / c, so the optimiser sees gradients c ⊙ ∇f on
    /// coordinates of different scales while the learner follows the same function. With
    /// `thetaNoise` c > 0, ``perturbed(_:after:)`` adds noise that falls to 0 at step
    /// `noiseHorizon` (``MetaTrainingConfig/thetaNoise``; its key drawn last).
    init(_ task: MetaTask, batchSize: Int, randomScaling: Float = 0, thetaNoise: Float = 0, noiseHorizon: Int = 1,
         rng: inout RNG) throws {
        let initial: LearnerState
        let score: (_ parameters: [Tensor], _ buffers: [Tensor], _ batch: TaskBatch) -> (loss: Tensor, buffers: [Tensor])
        switch task {
        case .supervised(let learner, let data):
            initial = learner.initialState(rng: &rng)
            var batches = try BatchIterator(data, batchSize: batchSize, seed: UInt64(rng.nextUInt32()) << 32 | UInt64(rng.nextUInt32()))
            next = { batches.nextCycling() }
            score = { p, b, batch in
                let (out, buffers) = learner.forward(p, batch.data!.inputs, buffers: b, training: true)
                return (learner.loss(outputs: out, targets: .labels(batch.data!.labels)), buffers)
            }
            chance = learner.objective == .softmaxCrossEntropy ? Float(log(Double(learner.classes))) : nil
            callback = nil
        case .quadratic(let d, let distribution):
            let q = try QuadraticTask.sample(dimension: d, distribution: distribution, rng: &rng)
            initial = LearnerState(parameters: [Tensor.normal([d], std: 0.01, rng: &rng)])
            next = { nil }
            score = { p, b, _ in (q.loss(p[0]), b) }
            chance = nil
            callback = nil
        case .callback(let task):
            let parameters = try task.initialise(&rng)
            guard parameters.map(\.shape) == task.parameterShapes, parameters.allSatisfy(\.isFinite) else {
                throw L2LError.shape("callback task: initialise gave shapes \(parameters.map(\.shape)) (or non-finite values), the task has \(task.parameterShapes)")
            }
            initial = LearnerState(parameters: parameters)
            next = { nil }
            chance = nil
            let scorer = CallbackScorer(task)
            callback = scorer
            score = { p, b, batch in (scorer.loss(p, step: batch.step), b) }
        }
        if randomScaling > 0 {
            let c = initial.parameters.map { Tensor.uniform($0.shape, low: -randomScaling, high: randomScaling, rng: &rng).exp() }
            self.initial = LearnerState(parameters: zip(initial.parameters, c).map { $0 / $1 }, buffers: initial.buffers)
            self.score = { p, b, batch in score(zip(p, c).map { $0 * $1 }, b, batch) }
        } else {
            self.initial = initial
            self.score = score
        }
        self.thetaNoise = thetaNoise > 0
            ? (thetaNoise, max(1, noiseHorizon), UInt64(rng.nextUInt32()) << 32 | UInt64(rng.nextUInt32())) : nil
        current = TaskBatch(step: 0, data: next())
    }

    /// The batch the next step takes its gradient on.
    var batch: TaskBatch { current }

    /// Moves the stream on by one batch.
    func advance() { current = TaskBatch(step: current.step + 1, data: next()) }

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

    /// `parameters` after the update made on `batch` (the learner's step t = `batch.step`)
    /// with the instance's θ-noise added: θ + σ_t ε, σ_t = c·max|θ|·(S − t)/S for t < S,
    /// ε ~ N(0, 1) drawn from (key, t) alone, so replays of a step draw the same ε. The
    /// noise is a constant: the result is differentiable in `parameters` with gradient 1.
    /// Unchanged without θ-noise or from step S on.
    func perturbed(_ parameters: [Tensor], after batch: TaskBatch) -> [Tensor] {
        guard let noise = thetaNoise, batch.step < noise.horizon else { return parameters }
        let top = parameters.reduce(Float(0)) { top, p in p.withUnsafeBufferPointer { $0.reduce(top) { Swift.max($0, Swift.abs($1)) } } }
        let sigma = noise.scale * top * Float(noise.horizon - batch.step) / Float(noise.horizon)
        guard sigma > 0, sigma.isFinite else { return parameters }
        var rng = RNG(seed: noise.key &+ UInt64(batch.step) &* 0x9E37_79B9_7F4A_7C15)
        return parameters.map { $0 + Tensor.normal($0.shape, std: sigma, rng: &rng) }
    }

    /// The loss of `parameters` (with `buffers`) on `batch`, and the buffers a training-mode
    /// pass left.
    func loss(_ parameters: [Tensor], buffers: [Tensor], on batch: TaskBatch) -> (loss: Tensor, buffers: [Tensor]) {
        score(parameters, buffers, batch)
    }
}

/// The loss of a callback task as a tensor whose gradient in the parameters is the caller's
/// (held constant). The last evaluation is remembered, since an unroll scores θ_t+1 on batch
/// t+1 and then takes its gradient there; errors are kept, the loss then reads NaN.
final class CallbackScorer {
    let task: CallbackTask
    private(set) var failure: Error?
    private var memo: (step: Int, values: [[Float]], loss: Float, gradients: [Tensor])?

    init(_ task: CallbackTask) { self.task = task }

    func loss(_ parameters: [Tensor], step: Int) -> Tensor {
        let values = parameters.map(\.scalars)
        if memo == nil || memo!.step != step || memo!.values != values {
            do {
                let (loss, grads) = try task.lossAndGradients(parameters.map { $0.detached() }, step)
                guard grads.map(\.shape) == task.parameterShapes else {
                    throw L2LError.shape("callback task: lossAndGradients gave gradient shapes \(grads.map(\.shape)), the task has \(task.parameterShapes)")
                }
                memo = (step, values, loss, grads.map { $0.detached() })
            } catch {
                if failure == nil { failure = error }
                return Tensor(Float.nan)
            }
        }
        let grads = memo!.gradients
        return customOp(inputs: parameters, outputs: [Tensor(memo!.loss)]) { upstream in grads.map { $0 * upstream[0] } }[0]
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

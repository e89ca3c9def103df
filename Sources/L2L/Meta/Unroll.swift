/// What one truncation does: Ξ steps of a learned optimiser with meta-parameters φ on a task
/// instance, from a learner run, over a window of its batches. The result's meta-loss (the
/// weighted sum of the learner's losses after each update) is differentiable in φ when φ is
/// tracked; with untracked φ no graph outlives a step (what the evolution strategies use).
/// An optimiser's ``LearnedOptimiser/metaLossTerm(state:)`` joins each step's loss.
///
/// Step τ takes the learner's gradient on batch τ of the window and scores the updated
/// learner on batch τ + 1 (or on batch τ with `sameBatch`, the authors' code). The
/// learner's gradient is detached (first order, the papers) unless `secondOrder`. After
/// each update the instance's θ-noise, if any, is added (``TaskInstance/perturbed(_:after:)``).
struct Unroll {
    let optimiser: any LearnedOptimiser
    /// Ξ, the steps of one truncation.
    let steps: Int
    /// Each step's weight in the meta-loss (`steps` entries).
    let weights: [Float]
    let sameBatch: Bool
    let secondOrder: Bool

    /// The same unroll without second derivatives: the same values, a graph that does not
    /// reach back through the learner's gradients.
    var firstOrder: Unroll {
        Unroll(optimiser: optimiser, steps: steps, weights: weights, sameBatch: sameBatch, secondOrder: false)
    }

    struct Result {
        /// Σ weights[τ]·(L(θ_τ+1) + the optimiser's meta-loss term) over the steps run (a scalar tensor).
        var metaLoss: Tensor
        /// Where the run ended (still attached to φ's graph if φ was tracked).
        var end: LearnerRun
        /// The last step's training loss and gradient norm (collapse detection).
        var lastLoss: Float, lastGradientNorm: Float
    }

    /// Steps `range` (a part of 0..<steps) from `start` with `phi` on `window` (the
    /// instance's `steps + 1` batches). `start` is detached first unless `attached`: a
    /// recomputed segment of a memory-budgeted unroll passes tracked inputs to differentiate
    /// through.
    func run(_ phi: [Tensor], from start: LearnerRun, on instance: TaskInstance, window: [TaskBatch],
             range: Range<Int>, attached: Bool = false) -> Result {
        let first = attached ? start : start.detached()
        var theta = first.learner.parameters
        var state = first.optimiserState
        var buffers = first.learner.buffers
        var metaLoss = Tensor(0)
        var lastLoss: Float = 0, lastGradientNorm: Float = 0
        for tau in range {
            // The learner's gradient: detached (first order) unless second order is asked for.
            let point = secondOrder ? theta.map { $0.isTracked ? $0 : $0.tracked() } : theta.map { $0.detached().tracked() }
            let (loss, after) = instance.loss(point, buffers: buffers, on: window[tau])
            let g = gradients(of: loss, wrt: point, createGraph: secondOrder)
            if secondOrder { theta = point }
            buffers = after.map { $0.detached() }
            lastLoss = loss.scalar
            lastGradientNorm = ConjugateGradient.norm(g)
            (theta, state) = optimiser.step(meta: phi, parameters: theta, gradients: g, state: state, phase: .metaTraining,
                                            inputs: window[tau].inputs)
            theta = instance.perturbed(theta, after: window[tau])
            var score = instance.loss(theta, buffers: buffers, on: window[sameBatch ? tau : tau + 1]).loss
            if let term = optimiser.metaLossTerm(state: state) { score = score + term }
            metaLoss = metaLoss + score * weights[tau]
        }
        return Result(metaLoss: metaLoss, end: LearnerRun(learner: LearnerState(parameters: theta, buffers: buffers), optimiserState: state),
                      lastLoss: lastLoss, lastGradientNorm: lastGradientNorm)
    }
}

/// Truncated backprop through time: the meta-gradient of one unroll by reverse-mode
/// differentiation through all of its steps (second order if the unroll is).
///
/// With a memory budget the memory of the meta-gradient (the recorded graph and its backward
/// pass) is kept near it by gradient checkpointing: the first unroll measures what its first
/// steps need, the unroll is cut into segments of as many steps as fit the budget, a forward pass without a graph keeps
/// only each segment's starting run, and the backward pass recomputes one segment at a time
/// with its graph, carrying the adjoint of the learner's parameters and optimiser state from
/// segment to segment. Same meta-gradient up to float rounding; peak memory of one segment.
final class TruncatedBPTT: GradientEstimator {
    let unroll: Unroll
    /// The most bytes one unroll's recorded graph may hold (`nil`: no limit).
    let memoryBudget: Int?
    /// Steps per recomputed segment, measured on the first unroll under a budget.
    private(set) var segmentSteps: Int?

    var runsPerTask: Int { 1 }
    var pairs: Int { 0 }
    var std: Float { 0 }
    /// Not under a memory budget: the first unroll measures the segment length (a shared
    /// measurement of the buffer cache's peak), and the budget holds for one unroll at a time.
    var estimatesConcurrently: Bool { memoryBudget == nil }

    init(unroll: Unroll, memoryBudget: Int?) {
        self.unroll = unroll
        self.memoryBudget = memoryBudget
    }

    func estimate(_ meta: [Tensor], member: TaskMember, window: [TaskBatch], perturbations: [[Tensor]]) -> Estimate {
        if let budget = memoryBudget {
            let length = segmentSteps ?? measureSegment(meta, member: member, window: window, budget: budget)
            segmentSteps = length
            if length < unroll.steps { return checkpointed(meta, member: member, window: window, segment: length) }
        }
        let phi = meta.map { $0.tracked() }
        let u = unroll.run(phi, from: member.runs[0], on: member.instance, window: window, range: 0..<unroll.steps)
        let value = u.metaLoss.scalar
        let g = value.isFinite ? gradients(of: u.metaLoss, wrt: phi) : nil
        var next = member
        next.runs = [u.end.detached()]
        return Estimate(metaLoss: value, gradient: g, next: next, lastLoss: u.lastLoss, lastGradientNorm: u.lastGradientNorm)
    }

    /// Steps per segment that keep a segment's meta-gradient under `budget`: the peak bytes
    /// of the meta-gradient of the unroll's first step and of its first two steps, measured,
    /// give a fixed part and a per-step part (the second step's, which — unlike the first —
    /// pays for differentiating through a learner state that depends on φ); as many steps as
    /// fit the budget (at least 1, at most the unroll).
    private func measureSegment(_ meta: [Tensor], member: TaskMember, window: [TaskBatch], budget: Int) -> Int {
        func peak(steps: Int) -> Int {
            BufferCache.measurePeak {
                let phi = meta.map { $0.tracked() }
                let probe = unroll.run(phi, from: member.runs[0], on: member.instance, window: window, range: 0..<steps)
                _ = gradients(of: probe.metaLoss, wrt: phi)
            }.bytes
        }
        let one = peak(steps: 1)
        guard unroll.steps > 1 else { return 1 }
        let perStep = max(peak(steps: 2) - one, 1)
        let fixed = max(one - perStep, 0)
        return max(1, min(unroll.steps, (budget - fixed) / perStep))
    }

    /// The meta-gradient of the unroll computed segment by segment (see the type's notes).
    private func checkpointed(_ meta: [Tensor], member: TaskMember, window: [TaskBatch], segment: Int) -> Estimate {
        let ranges = stride(from: 0, to: unroll.steps, by: segment).map { $0..<min($0 + segment, unroll.steps) }
        // Forward: the values only (first order records nothing across steps with constant φ).
        let forward = unroll.firstOrder
        var starts = [LearnerRun]()
        var run = member.runs[0].detached()
        var value: Float = 0, lastLoss: Float = 0, lastGradientNorm: Float = 0
        for range in ranges {
            starts.append(run)
            let u = forward.run(meta, from: run, on: member.instance, window: window, range: range)
            value += u.metaLoss.scalar
            (lastLoss, lastGradientNorm) = (u.lastLoss, u.lastGradientNorm)
            run = u.end.detached()
        }
        var next = member
        next.runs = [run]
        guard value.isFinite else {
            return Estimate(metaLoss: value, gradient: nil, next: next, lastLoss: lastLoss, lastGradientNorm: lastGradientNorm)
        }
        // Backward: recompute each segment with its graph, last first.
        var total = meta.map { Tensor.zeros($0.shape) }
        var adjoint: [Tensor]? = nil
        for (k, range) in ranges.enumerated().reversed() {
            let phi = meta.map { $0.tracked() }
            var start = starts[k]
            start.learner.parameters = start.learner.parameters.map { $0.tracked() }
            start.optimiserState = start.optimiserState.map { $0.tracked() }
            let u = unroll.run(phi, from: start, on: member.instance, window: window, range: range, attached: true)
            var objective = u.metaLoss
            if let adjoint {
                for (lambda, x) in zip(adjoint, u.end.learner.parameters + u.end.optimiserState) {
                    objective = objective + (lambda * x).sum()
                }
            }
            let g = gradients(of: objective, wrt: phi + start.learner.parameters + start.optimiserState)
            total = zip(total, g.prefix(meta.count)).map { $0 + $1 }
            adjoint = Array(g.dropFirst(meta.count))
        }
        return Estimate(metaLoss: value, gradient: total, next: next, lastLoss: lastLoss, lastGradientNorm: lastGradientNorm)
    }
}

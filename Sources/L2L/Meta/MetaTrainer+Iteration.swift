/// One meta-iteration — a truncation of every meta-batch member, then one meta-step — in
/// two halves, so that different processes can compute different members
/// (`bindings/python/l2l/mpi.py` drives them with MPI; the library never communicates):
///
/// 1. ``estimate(members:)``: the meta-gradients and meta-losses of some members for the
///    current φ (each process its own share);
/// 2. every process gathers all B members' ``MemberSummary`` values and the combined
///    meta-gradient, ``combine(_:)`` of the B gradients in member order, and calls
///    ``finishIteration(members:gradient:)`` with the same values: history, events, learner
///    restarts and the shared ``MetaStep``.
///
/// Every random draw is taken by every process (member by member, as a single process
/// does), so processes that finish the same iterations stay in lockstep, and a run split
/// over any number of processes gives φ bit for bit as ``run(trials:progress:)`` does
/// (which goes through the same two halves with all members). A process that did not
/// estimate a member in an iteration no longer holds that member's learner: it may not
/// estimate it again in the trial (unless the learner restarts).
extension MetaTrainer {
    /// Meta-iterations per trial (steps / unroll).
    public var iterationsPerTrial: Int { config.steps / config.unroll }

    /// Whether a meta-iteration is open: members estimated (or being estimated), not yet
    /// finished.
    public var isIterationOpen: Bool { inProgress?.noise != nil }

    /// Whether every configured trial is done.
    public var isFinished: Bool { trialsDone >= config.trials }

    /// The meta-gradients of meta-batch members `members` (distinct, each in 0..<metaBatch)
    /// for the current φ, in the order given; the first call of a meta-iteration opens it
    /// (and the first of a trial starts the trial). Throws `.invalid` for a bad member list,
    /// a member already estimated in this iteration or one whose learner another process
    /// holds; rethrows a callback task's error (the trial in progress is then abandoned, as
    /// by a failed ``run(trials:progress:)``).
    public func estimate(members ids: [Int]) throws -> [MemberEstimate] {
        guard !isFinished else { throw L2LError.invalid("meta-training: every trial is done (\(trialsDone) of \(config.trials))") }
        guard ids.allSatisfy({ (0..<config.metaBatch).contains($0) }), Set(ids).count == ids.count else {
            throw L2LError.invalid("meta-training: members must be distinct indices in 0..<\(config.metaBatch), got \(ids)")
        }
        if let current = inProgress, let m = ids.first(where: { current.estimated[$0] != nil || current.elsewhere.contains($0) }) {
            throw L2LError.invalid(current.estimated[m] != nil
                ? "meta-training: member \(m) was already estimated in this meta-iteration"
                : "meta-training: member \(m)'s learner is held by another process since an earlier meta-iteration of this trial")
        }
        var trial = try openIteration()
        // Members start, warm up and take their windows in member order (every draw was made
        // when the iteration opened). Their estimates then run side by side where they may;
        // otherwise each runs before the next member starts.
        let (estimator, meta) = (self.estimator, self.meta)
        typealias Job = (member: TaskMember, window: [TaskBatch], noise: [[Tensor]])
        func estimate(_ job: Job) -> Estimate {
            estimator.estimate(meta, member: job.member, window: job.window, perturbations: job.noise)
        }
        let concurrent = estimator.estimatesConcurrently && ids.allSatisfy { trial.members[$0].instance.scoresConcurrently }
        var work = [Job]()
        var estimates = [Estimate]()
        for m in ids {
            trial.members[m] = started(trial.members[m])
            if trial.warmups[m] > 0 {
                warmUp(&trial.members[m], steps: trial.warmups[m])
                trial.warmups[m] = 0
            }
            let member = trial.members[m]
            let job: Job = (member, member.instance.window(config.unroll), trial.noise![m])
            if concurrent { work.append(job) } else { estimates.append(estimate(job)) }
        }
        if concurrent { estimates = Kernels.parallelMap(work.count) { estimate(work[$0]) } }
        var out = [MemberEstimate]()
        for (m, e) in zip(ids, estimates) {
            trial.estimated[m] = e.next
            out.append(MemberEstimate(member: m, summary: MemberSummary(metaLoss: e.metaLoss, lastLoss: e.lastLoss,
                                                                        lastGradientNorm: e.lastGradientNorm, lost: e.gradient == nil),
                                      gradient: e.gradient))
        }
        // A callback task's error stops the run here, before φ is touched.
        if let failure = ids.sorted().lazy.compactMap({ trial.members[$0].instance.failure }).first {
            inProgress = nil
            throw failure
        }
        inProgress = trial
        return out
    }

    /// The meta-batch's meta-gradient from all B members' gradients (member 0 first): their
    /// sum in member order divided by B, as ``run(trials:progress:)`` takes it. Throws
    /// `.shape` unless there are B gradients shaped like φ.
    public func combine(_ gradients: [[Tensor]]) throws -> [Tensor] {
        guard gradients.count == config.metaBatch else {
            throw L2LError.shape("meta-training: combine needs the gradients of all \(config.metaBatch) members, got \(gradients.count)")
        }
        let shapes = meta.map(\.shape)
        if let m = gradients.firstIndex(where: { $0.map(\.shape) != shapes }) {
            throw L2LError.shape("meta-training: member \(m)'s gradient has shapes \(gradients[m].map(\.shape)), φ has \(shapes)")
        }
        var sum = gradients[0]
        for g in gradients.dropFirst() { sum = zip(sum, g).map { $0 + $1 } }
        return config.metaBatch > 1 ? sum.map { $0 / Float(config.metaBatch) } : sum
    }

    /// Closes the open meta-iteration with every member's summary (B of them, member 0
    /// first) and the combined meta-gradient (``combine(_:)``; ignored, and may be nil, if a
    /// member was lost): records the history entry and events, restarts lost learners (new
    /// draws), and applies the meta-step unless a member was lost (a non-finite gradient is
    /// skipped, as always). Returns the trial, its learner steps done and the meta-loss.
    /// Throws `.invalid` if no iteration is open, `.nonFinite` if a member not lost has a non-finite
    /// meta-loss, `.shape` for the wrong number of summaries or a gradient not shaped like φ.
    @discardableResult
    public func finishIteration(members summaries: [MemberSummary], gradient: [Tensor]?) throws -> (trial: Int, step: Int, metaLoss: Float) {
        guard var trial = inProgress, trial.noise != nil else {
            throw L2LError.invalid("meta-training: no meta-iteration is open (estimate members first)")
        }
        guard summaries.count == config.metaBatch else {
            throw L2LError.shape("meta-training: finishing a meta-iteration needs all \(config.metaBatch) members' summaries, got \(summaries.count)")
        }
        if let m = summaries.firstIndex(where: { !$0.lost && !$0.metaLoss.isFinite }) {
            throw L2LError(.nonFinite, "meta-training: member \(m) is not lost but its meta-loss is \(summaries[m].metaLoss)")
        }
        let lost = summaries.contains { $0.lost }
        if !lost {
            guard let gradient, gradient.map(\.shape) == meta.map(\.shape) else {
                throw L2LError.shape("meta-training: the combined meta-gradient must have φ's shapes \(meta.map(\.shape)), got \(gradient.map { $0.map(\.shape) } as Any)")
            }
        }
        let index = trialsDone
        trial.step += config.unroll
        let step = trial.step
        let value = config.metaBatch == 1 ? summaries[0].metaLoss : summaries.map(\.metaLoss).reduce(0, +) / Float(config.metaBatch)
        history.append(value)

        for (m, s) in summaries.enumerated() {
            if let chance = trial.members[m].instance.chance, abs(s.lastLoss - chance) < 1e-3 * chance && s.lastGradientNorm < 1e-6 {
                metaStep.record(MetaEvent(kind: .collapse, trial: index, step: step))
            }
        }
        var restarted = false
        for (m, s) in summaries.enumerated() {
            if s.lost {
                // The learner is lost: start it afresh (here and in every process).
                if restarted { metaStep.record(MetaEvent(kind: .nonFiniteLoss, trial: index, step: step)) }
                else { metaStep.skip(.nonFiniteLoss, trial: index, step: step) }
                restarted = true
                trial.members[m] = try member(of: trial.tasks[m])
                trial.elsewhere.remove(m)
            } else if let next = trial.estimated[m] {
                trial.members[m] = next
            } else {
                trial.elsewhere.insert(m)
            }
        }
        if !lost { metaStep.apply(optimiser.zeroingFixed(gradient!), trial: index, step: step) }
        trial.noise = nil
        trial.estimated = [:]
        if step >= config.steps {
            inProgress = nil
            trialsDone += 1
        } else {
            inProgress = trial
        }
        return (index, step, value)
    }

    /// Sets φ (one tensor per meta-parameter, shaped as now, finite) between meta-iterations,
    /// keeping the meta-optimiser's state and the rollback point: how processes start from
    /// one process's φ. Throws `.invalid` during an open iteration, `.nonFinite` for
    /// non-finite values, `.shape` for other shapes.
    public func setMeta(_ values: [Tensor]) throws {
        guard !isIterationOpen else { throw L2LError.invalid("meta-training: φ cannot change during a meta-iteration") }
        try metaStep.replaceMeta(values)
    }

    /// The open meta-iteration's trial, after starting the trial (members and warm-up
    /// lengths) and drawing the iteration's perturbations if they are not drawn yet.
    private func openIteration() throws -> TrialInProgress {
        var trial: TrialInProgress
        if let current = inProgress {
            trial = current
        } else {
            trial = TrialInProgress()
            for m in 0..<config.metaBatch {
                let task = config.sampleTasks ? tasks[rng.nextInt(below: tasks.count)] : tasks[(trialsDone * config.metaBatch + m) % tasks.count]
                trial.members.append(try member(of: task))
                trial.tasks.append(task)
                trial.warmups.append(config.warmup > 0 ? rng.nextInt(below: config.warmup + 1) : 0)
            }
        }
        if trial.noise == nil {
            trial.noise = trial.members.map { _ in
                drawPerturbations(pairs: estimator.pairs, std: estimator.std, like: meta, rng: &rng).map(optimiser.zeroingFixed)
            }
        }
        inProgress = trial
        return trial
    }
}

/// What the shared meta-step needs from one meta-batch member's truncation besides its
/// meta-gradient (the same values in every process).
public struct MemberSummary: Equatable, Sendable {
    /// The truncation's meta-loss (that of φ itself, or the ES/PES particles' mean).
    public var metaLoss: Float
    /// The learner's last training loss and gradient norm (collapse detection).
    public var lastLoss: Float, lastGradientNorm: Float
    /// A loss was not finite: the member has no meta-gradient and its learner restarts.
    public var lost: Bool

    public init(metaLoss: Float, lastLoss: Float, lastGradientNorm: Float, lost: Bool) {
        self.metaLoss = metaLoss
        self.lastLoss = lastLoss
        self.lastGradientNorm = lastGradientNorm
        self.lost = lost
    }
}

/// One member's outcome of ``MetaTrainer/estimate(members:)``.
public struct MemberEstimate {
    /// The member's index in the meta-batch.
    public let member: Int
    public let summary: MemberSummary
    /// ∂meta-loss/∂φ, one tensor per φ tensor (φ's shapes); `nil` when the member is lost.
    public let gradient: [Tensor]?
}

/// The trial under way: its members, how far it has gone and the open meta-iteration.
struct TrialInProgress {
    var tasks = [MetaTask]()
    var members = [TaskMember]()
    /// Warm-up steps each member still takes before its first truncation (drawn at the
    /// trial's start, taken by the process that estimates the member).
    var warmups = [Int]()
    /// Learner steps done.
    var step = 0
    /// The open iteration's perturbations of every member (`nil`: no iteration open).
    var noise: [[[Tensor]]]? = nil
    /// The members estimated here in the open iteration, as they are after it.
    var estimated = [Int: TaskMember]()
    /// Members whose learners another process holds (not estimated here in an iteration).
    var elsewhere = Set<Int>()
}

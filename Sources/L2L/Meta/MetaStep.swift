/// Something that happened during meta-training that the caller should know about.
public struct MetaEvent: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The meta-loss was NaN or infinite: the update was skipped, the learner restarted.
        case nonFiniteLoss = "non_finite_loss"
        /// A meta-gradient was NaN or infinite: the update was skipped.
        case nonFiniteGradient = "non_finite_gradient"
        /// Repeated skips: φ and the meta-optimiser went back to their last good values.
        case rollback
        /// The learner sat at chance level with a vanishing gradient (optimiser collapse:
        /// ARCHITECTURE.md, "Failure modes").
        case collapse
    }
    public let kind: Kind
    /// 0-based trial (or meta-iteration) and learner step where it happened.
    public let trial: Int, step: Int

    public init(kind: Kind, trial: Int, step: Int) {
        self.kind = kind
        self.trial = trial
        self.step = step
    }
}

/// How meta-gradients are limited before the meta-optimiser step.
public enum MetaGradientClip: Equatable, Sendable {
    case none
    /// Every element clamped to [−c, c] (what the M²SGD/MTL2L authors did, c = 1).
    case value(Float)
    /// All meta-gradients scaled down together if their global L2 norm exceeds c.
    case norm(Float)
    /// All meta-gradients scaled down together if their global L2 norm exceeds ‖φ‖ (the
    /// MLHF authors' clip).
    case metaNorm

    /// Reads the options `clip` (none, value or norm; default none) and `clip_at` (the
    /// limit c; default 1) that every meta-trainer takes.
    init(config: inout Config) throws {
        let at = try config.float("clip_at", default: 1, range: 1e-12...1e12)
        self = try config.choice("clip", default: MetaGradientClip.none, ["none": .none, "value": .value(at), "norm": .norm(at)])
    }

    /// The options that read back as this clip (``metaNorm`` is not an option: it reads as none).
    var options: [String] {
        switch self {
        case .none, .metaNorm: return ["clip=none"]
        case .value(let c): return ["clip=value", "clip_at=\(c)"]
        case .norm(let c): return ["clip=norm", "clip_at=\(c)"]
        }
    }

    /// `gradients` limited as this clip says; `meta` is φ (read by ``metaNorm`` only).
    func apply(_ gradients: [Tensor], meta: [Tensor]) -> [Tensor] {
        func scaled(to limit: Float) -> [Tensor] {
            let norm = ConjugateGradient.norm(gradients)
            return norm > limit ? gradients.map { $0 * (limit / norm) } : gradients
        }
        switch self {
        case .none: return gradients
        case .value(let c): return gradients.map { $0.clamped(-c, c) }
        case .norm(let c): return scaled(to: c)
        case .metaNorm: return scaled(to: ConjugateGradient.norm(meta))
        }
    }
}

/// The one meta-step every meta-trainer takes once it has a meta-gradient:
/// non-finite guard (skip, event, rollback after repeated skips) → clip → meta-optimiser
/// (any hand-crafted l2l optimiser; Adam by default) → detach. It owns φ, the
/// meta-optimiser's state and the last good point, and records the events.
public final class MetaStep {
    /// φ, the meta-parameters being trained (detached between steps).
    public private(set) var meta: [Tensor]
    /// Events so far (skips, rollbacks, and what the trainer reports through ``record(_:)``).
    public private(set) var events: [MetaEvent] = []
    /// Updates applied.
    public private(set) var applied = 0
    /// Skips since the last applied update.
    public private(set) var consecutiveSkips = 0
    let clip: MetaGradientClip
    let rollbackAfter: Int
    /// The meta-optimiser with its state over φ.
    let optimiser: OptimiserSession
    /// φ and the meta-optimiser's state after the last applied update (the rollback point).
    private(set) var lastGood: (meta: [Tensor], slots: [String: [Tensor]], step: Int)

    /// A meta-step from φ = `meta` with `optimiser` (a gradient optimiser kind of
    /// ``Factory/optimiser(kind:options:)``, whose state can be checkpointed).
    public init(meta: [Tensor], optimiser: OptimiserSession, clip: MetaGradientClip, rollbackAfter: Int) throws {
        guard !optimiser.needsCurvature else { throw L2LError.invalid("meta-optimiser: needs a gradient optimiser, not a Hessian-free one") }
        self.meta = meta.map { $0.detached() }
        self.optimiser = optimiser
        self.clip = clip
        self.rollbackAfter = rollbackAfter
        try optimiser.start(for: self.meta)
        lastGood = (self.meta, optimiser.stateSlots, 0)
    }

    /// Records an event the trainer found (a collapse, say).
    public func record(_ event: MetaEvent) { events.append(event) }

    /// Applies one meta-gradient (one tensor per φ tensor): returns `false`, records a
    /// `.nonFiniteGradient` event and counts a skip if any element is NaN or infinite.
    @discardableResult
    public func apply(_ gradients: [Tensor], trial: Int, step: Int) -> Bool {
        guard gradients.allSatisfy(\.isFinite) else {
            skip(.nonFiniteGradient, trial: trial, step: step)
            return false
        }
        var next = meta
        do {
            try optimiser.step(&next, gradients: clip.apply(gradients, meta: meta))
        } catch {
            // The meta-optimiser's step itself went non-finite: nothing changed.
            skip(.nonFiniteGradient, trial: trial, step: step)
            return false
        }
        meta = next.map { $0.detached() }
        applied += 1
        consecutiveSkips = 0
        lastGood = (meta, optimiser.stateSlots, optimiser.stateStepCount)
        return true
    }

    /// Applies the meta-gradient of a meta-loss `loss`, or skips the update (recording
    /// `.nonFiniteLoss`) if `loss` is NaN or infinite: the few-shot and LSTM learners'
    /// one-loss-per-iteration step. Returns whether φ changed.
    @discardableResult
    public func apply(_ gradients: [Tensor], loss: Float, trial: Int, step: Int) -> Bool {
        guard loss.isFinite else {
            skip(.nonFiniteLoss, trial: trial, step: step)
            return false
        }
        return apply(gradients, trial: trial, step: step)
    }

    /// Skips an update: records `kind` and, after ``rollbackAfter`` consecutive skips, puts φ
    /// and the meta-optimiser back to the last good point (and records `.rollback`).
    public func skip(_ kind: MetaEvent.Kind, trial: Int, step: Int) {
        events.append(MetaEvent(kind: kind, trial: trial, step: step))
        consecutiveSkips += 1
        if consecutiveSkips >= rollbackAfter {
            restoreLastGood()
            events.append(MetaEvent(kind: .rollback, trial: trial, step: step))
            consecutiveSkips = 0
        }
    }

    /// Replaces φ by `values` (φ's shapes, finite), keeping the meta-optimiser's state and
    /// the rollback point. Throws `.shape`, or `.nonFinite` for non-finite values.
    public func replaceMeta(_ values: [Tensor]) throws {
        guard values.map(\.shape) == meta.map(\.shape) else {
            throw L2LError.shape("meta-step: φ has shapes \(meta.map(\.shape)), got \(values.map(\.shape))")
        }
        guard values.allSatisfy(\.isFinite) else { throw L2LError(.nonFinite, "meta-step: φ must be finite") }
        meta = values.map { $0.detached() }
    }

    private func restoreLastGood() {
        meta = lastGood.meta
        // The slots came from this optimiser on these shapes: restoring cannot fail.
        try? optimiser.restoreState(for: meta, slots: lastGood.slots, stepCount: lastGood.step)
    }

    // MARK: Checkpoints

    /// Everything a checkpoint needs to resume this meta-step bit-identically.
    struct Saved {
        var meta: [Tensor]
        var slots: [String: [Tensor]]
        var step: Int
        var good: (meta: [Tensor], slots: [String: [Tensor]], step: Int)
        var applied: Int
        var consecutiveSkips: Int
        var events: [MetaEvent]
    }

    var saved: Saved {
        Saved(meta: meta, slots: optimiser.stateSlots, step: optimiser.stateStepCount, good: lastGood,
              applied: applied, consecutiveSkips: consecutiveSkips, events: events)
    }

    /// Restores a ``Saved`` state (shapes checked against the current φ).
    func restore(_ s: Saved) throws {
        guard s.meta.map(\.shape) == meta.map(\.shape), s.good.meta.map(\.shape) == meta.map(\.shape) else {
            throw L2LError.format("meta-step: saved φ has shapes \(s.meta.map(\.shape)), expected \(meta.map(\.shape))")
        }
        // The rollback point's slots are checked by restoring them first.
        try optimiser.restoreState(for: s.meta, slots: s.good.slots, stepCount: s.good.step)
        try optimiser.restoreState(for: s.meta, slots: s.slots, stepCount: s.step)
        meta = s.meta
        lastGood = s.good
        applied = s.applied
        consecutiveSkips = s.consecutiveSkips
        events = s.events
    }
}

/// How ∂meta-loss/∂φ is obtained for one truncation of one task (google/learned_optimization's
/// split: the unroll says what a truncation does, the estimator how its gradient is had).
///
/// - ``TruncatedBPTT``: backprop through the unroll (first or second order), optionally in
///   recomputed segments under a memory budget;
/// - ``AntitheticES``: evolution strategies with antithetic pairs over φ (Salimans et al.
///   2017, arXiv:1703.03864), no backward pass through the unroll;
/// - ``PersistentES``: PES (Vicol, Metz & Sohl-Dickstein, ICML 2021, arXiv:2112.13835), which
///   keeps one learner per particle across truncations and accumulates each particle's
///   perturbations, so the sum of its estimates over a trial is unbiased for the whole
///   horizon where truncated BPTT and truncated ES are not.
protocol GradientEstimator: AnyObject {
    /// Learner runs each task instance keeps (1, or one per ES/PES particle).
    var runsPerTask: Int { get }
    /// Antithetic pairs per truncation (0 if the estimator draws no perturbations).
    var pairs: Int { get }
    /// The standard deviation of the perturbations.
    var std: Float { get }
    /// Whether estimates of different members may be computed on several threads at once
    /// (false if `estimate` changes state of the estimator's own or must run alone).
    var estimatesConcurrently: Bool { get }
    /// The estimate of one truncation of `member` with φ = `meta` over `window`;
    /// `perturbations` holds ``pairs`` draws of ε ~ N(0, std²) shaped like φ.
    func estimate(_ meta: [Tensor], member: TaskMember, window: [TaskBatch], perturbations: [[Tensor]]) -> Estimate
}

/// A task instance in a meta-batch, with the learner runs its estimator keeps and (PES) the
/// perturbations accumulated by each pair since the instance started.
struct TaskMember {
    let instance: TaskInstance
    var runs: [LearnerRun]
    var accumulated: [[Tensor]] = []
}

/// One truncation's outcome for one member.
struct Estimate {
    /// The meta-loss recorded in the history (that of φ itself, or the particles' mean).
    var metaLoss: Float
    /// ∂meta-loss/∂φ, or `nil` if a loss was not finite (the member must then restart).
    var gradient: [Tensor]?
    /// The member after the truncation (detached), for the next one.
    var next: TaskMember
    /// The first run's last training loss and gradient norm (collapse detection).
    var lastLoss: Float, lastGradientNorm: Float
}

/// Draws `pairs` perturbations ε ~ N(0, std²) shaped like `meta`, in a fixed order.
func drawPerturbations(pairs: Int, std: Float, like meta: [Tensor], rng: inout RNG) -> [[Tensor]] {
    (0..<pairs).map { _ in meta.map { Tensor.normal($0.shape, std: std, rng: &rng) } }
}

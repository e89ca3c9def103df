/// Evolution strategies with antithetic pairs over φ (Salimans et al. 2017,
/// arXiv:1703.03864) on one truncation: for each pair, the unroll from the member's run
/// with φ + ε and with φ − ε on the same batches, and
///
///     ĝ = Σⱼ (L(φ + εⱼ) − L(φ − εⱼ)) εⱼ / (2 N σ²),   εⱼ ~ N(0, σ² I), N pairs,
///
/// an unbiased estimate of the gradient of the Gaussian-smoothed truncated meta-loss. No
/// backward pass goes through the unroll (the learner's own gradient is still taken). The
/// member's run is carried on by an unroll with φ itself, whose meta-loss is recorded.
final class AntitheticES: AntitheticPairs, GradientEstimator {
    var runsPerTask: Int { 1 }

    func estimate(_ meta: [Tensor], member: TaskMember, window: [TaskBatch], perturbations: [[Tensor]]) -> Estimate {
        // Run 0 is φ itself, run 2j + 1 is φ + εⱼ and run 2j + 2 is φ − εⱼ, all from the member's run.
        let runs = unrolls(1 + 2 * perturbations.count, of: member, window: window) { r in
            r == 0 ? meta : perturbed(meta, perturbations[(r - 1) / 2], plus: r % 2 == 1)
        } from: { _ in member.runs[0] }
        let central = runs[0]
        var next = member
        next.runs = [central.end.detached()]
        let differences = perturbations.indices.map { j in runs[2 * j + 1].metaLoss.scalar - runs[2 * j + 2].metaLoss.scalar }
        let value = central.metaLoss.scalar
        let finite = value.isFinite && differences.allSatisfy(\.isFinite)
        return Estimate(metaLoss: value, gradient: finite ? antitheticSum(differences, perturbations, std: std) : nil,
                        next: next, lastLoss: central.lastLoss, lastGradientNorm: central.lastGradientNorm)
    }
}

/// Persistent evolution strategies (Vicol, Metz & Sohl-Dickstein, ICML 2021,
/// arXiv:2112.13835) with antithetic pairs: each pair j keeps two learners of its own,
/// trained with φ + εⱼ,ₖ and φ − εⱼ,ₖ in truncation k, and the sum ξⱼ = Σₖ εⱼ,ₖ of its
/// perturbations since the task instance started; then
///
///     ĝ = Σⱼ (L(φ + εⱼ) − L(φ − εⱼ)) ξⱼ / (2 N σ²)
///
/// for the current truncation's losses. Summed over the truncations of an instance this is
/// an unbiased estimate of the gradient of the whole horizon's (smoothed) meta-loss, with no
/// truncation bias. The recorded meta-loss is the particles' mean.
final class PersistentES: AntitheticPairs, GradientEstimator {
    var runsPerTask: Int { 2 * pairs }

    func estimate(_ meta: [Tensor], member: TaskMember, window: [TaskBatch], perturbations: [[Tensor]]) -> Estimate {
        var next = member
        if next.accumulated.isEmpty { next.accumulated = perturbations.map { $0.map { Tensor.zeros($0.shape) } } }
        // Particle 2j runs with φ + εⱼ, particle 2j + 1 with φ − εⱼ, each from its own run.
        let runs = unrolls(2 * perturbations.count, of: member, window: window) { r in
            perturbed(meta, perturbations[r / 2], plus: r % 2 == 0)
        } from: { r in member.runs[r] }
        var differences = [Float](), total: Float = 0
        for (j, eps) in perturbations.enumerated() {
            next.accumulated[j] = zip(next.accumulated[j], eps).map { $0 + $1 }
            let (plus, minus) = (runs[2 * j], runs[2 * j + 1])
            next.runs[2 * j] = plus.end.detached()
            next.runs[2 * j + 1] = minus.end.detached()
            let (p, m) = (plus.metaLoss.scalar, minus.metaLoss.scalar)
            differences.append(p - m)
            total += p + m
        }
        let (lastLoss, lastGradientNorm) = (runs[0].lastLoss, runs[0].lastGradientNorm)
        let value = total / Float(2 * pairs)
        let finite = value.isFinite && differences.allSatisfy(\.isFinite)
        return Estimate(metaLoss: value, gradient: finite ? antitheticSum(differences, next.accumulated, std: std) : nil,
                        next: next, lastLoss: lastLoss, lastGradientNorm: lastGradientNorm)
    }
}

/// What the antithetic estimators share: the unroll, N pairs and σ.
class AntitheticPairs {
    let unroll: Unroll
    let pairs: Int
    let std: Float
    var estimatesConcurrently: Bool { true }

    init(unroll: Unroll, pairs: Int, std: Float) {
        self.unroll = unroll
        self.pairs = pairs
        self.std = std
    }

    /// `count` whole truncations of `member`'s instance over `window`, run r with φ =
    /// `phi(r)` from `start(r)`: side by side on ``Kernels/threads`` threads
    /// (``Kernels/parallelMap(_:_:)``, the same bits as one after another) unless the
    /// instance's losses come from a callback.
    func unrolls(_ count: Int, of member: TaskMember, window: [TaskBatch], phi: (Int) -> [Tensor],
                 from start: (Int) -> LearnerRun) -> [Unroll.Result] {
        let run = { (r: Int) in
            self.unroll.run(phi(r), from: start(r), on: member.instance, window: window, range: 0..<self.unroll.steps)
        }
        return member.instance.scoresConcurrently ? Kernels.parallelMap(count, run) : (0..<count).map(run)
    }
}

/// φ + ε (`plus`) or φ − ε, tensor by tensor.
private func perturbed(_ meta: [Tensor], _ eps: [Tensor], plus: Bool) -> [Tensor] {
    zip(meta, eps).map { plus ? $0 + $1 : $0 - $1 }
}

/// Σⱼ dⱼ·directionsⱼ / (2 N σ²): the antithetic ES/PES gradient from the loss differences
/// dⱼ = L(φ + εⱼ) − L(φ − εⱼ) and each pair's direction (εⱼ for ES, ξⱼ for PES).
private func antitheticSum(_ differences: [Float], _ directions: [[Tensor]], std: Float) -> [Tensor] {
    let scale = 1 / (2 * Float(differences.count) * std * std)
    var sum = directions[0].map { Tensor.zeros($0.shape) }
    for (d, direction) in zip(differences, directions) {
        sum = zip(sum, direction).map { $0 + $1 * (d * scale) }
    }
    return sum
}

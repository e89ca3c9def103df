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
        let all = 0..<unroll.steps
        let central = unroll.run(meta, from: member.runs[0], on: member.instance, window: window, range: all)
        var next = member
        next.runs = [central.end.detached()]
        var differences = [Float]()
        for eps in perturbations {
            let plus = unroll.run(zip(meta, eps).map { $0 + $1 }, from: member.runs[0], on: member.instance, window: window, range: all)
            let minus = unroll.run(zip(meta, eps).map { $0 - $1 }, from: member.runs[0], on: member.instance, window: window, range: all)
            differences.append(plus.metaLoss.scalar - minus.metaLoss.scalar)
        }
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
        let all = 0..<unroll.steps
        var next = member
        if next.accumulated.isEmpty { next.accumulated = perturbations.map { $0.map { Tensor.zeros($0.shape) } } }
        var differences = [Float](), total: Float = 0
        var lastLoss: Float = 0, lastGradientNorm: Float = 0
        for (j, eps) in perturbations.enumerated() {
            next.accumulated[j] = zip(next.accumulated[j], eps).map { $0 + $1 }
            let plus = unroll.run(zip(meta, eps).map { $0 + $1 }, from: member.runs[2 * j], on: member.instance, window: window, range: all)
            let minus = unroll.run(zip(meta, eps).map { $0 - $1 }, from: member.runs[2 * j + 1], on: member.instance, window: window, range: all)
            next.runs[2 * j] = plus.end.detached()
            next.runs[2 * j + 1] = minus.end.detached()
            let (p, m) = (plus.metaLoss.scalar, minus.metaLoss.scalar)
            differences.append(p - m)
            total += p + m
            if j == 0 { (lastLoss, lastGradientNorm) = (plus.lastLoss, plus.lastGradientNorm) }
        }
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

    init(unroll: Unroll, pairs: Int, std: Float) {
        self.unroll = unroll
        self.pairs = pairs
        self.std = std
    }
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

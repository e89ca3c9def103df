/// Batch normalisation over the channel axis 1 of `[n, c]` or `[n, c, h, w]` inputs
/// (Ioffe & Szegedy), as in PyTorch: biased batch variance to normalise, unbiased variance
/// in the running estimate, running statistics updated with `momentum`.
public struct BatchNorm: Sendable {
    public static let epsilon: Float = 1e-5
    public static let momentum: Float = 0.1

    /// Normalises `x` with learnable scale `gamma` `[c]` and shift `beta` `[c]`.
    ///
    /// In training mode it uses the batch's statistics (differentiable through them) and
    /// returns running mean and variance moved towards them; in evaluation mode it uses
    /// `runningMean` and `runningVariance` and returns them unchanged.
    public static func apply(_ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor,
                             runningVariance: Tensor, training: Bool)
        -> (output: Tensor, runningMean: Tensor, runningVariance: Tensor)
    {
        precondition(x.rank == 2 || x.rank == 4, "batchNorm: expected [n, c] or [n, c, h, w], got shape \(x.shape)")
        let (n, c) = (x.shape[0], x.shape[1])
        precondition(gamma.shape == [c] && beta.shape == [c] && runningMean.shape == [c] && runningVariance.shape == [c],
                     "batchNorm: gamma/beta/statistics must be [\(c)]")
        let spatial = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
        let x3 = x.reshaped([n, c, spatial])
        let perChannel = { (t: Tensor) in t.reshaped([1, c, 1]) }
        let mean: Tensor, variance: Tensor
        var newMean = runningMean, newVariance = runningVariance
        if training {
            let count = Float(n * spatial)
            precondition(count > 1, "batchNorm: training mode needs more than one value per channel, got shape \(x.shape)")
            mean = x3.sum(axis: 2).sum(axis: 0) / count
            let centered = x3 - perChannel(mean)
            variance = (centered * centered).sum(axis: 2).sum(axis: 0) / count
            withoutGraph {
                newMean = runningMean * (1 - momentum) + mean.detached() * momentum
                newVariance = runningVariance * (1 - momentum) + variance.detached() * (momentum * count / (count - 1))
            }
        } else {
            mean = runningMean
            variance = runningVariance
        }
        let normalised = (x3 - perChannel(mean)) / (perChannel(variance) + epsilon).sqrt()
        let y = normalised * perChannel(gamma) + perChannel(beta)
        return (y.reshaped(x.shape), newMean, newVariance)
    }
}

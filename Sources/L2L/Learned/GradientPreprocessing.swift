/// The gradient preprocessing of Andrychowicz et al. (Appendix A), used by every
/// coordinate-wise learned optimiser: each gradient coordinate becomes two features,
///
///     (log|g| / p, sign g)   if |g| ≥ e^−p
///     (−1, e^p · g)          otherwise,
///
/// so coordinates of very different magnitudes reach the network on one scale.
/// p = 10 as in the paper and the M²SGD/MTL2L code (DeepMind's configs use a clipped
/// variant with k = 5; as in DeepMind's released code). One fused pass
/// (``Tensor/logMagnitudeAndSign(p:)``), differentiable where the branches are (used by
/// the second-order option).
public enum GradientPreprocessing {
    /// Features `[P, 2]` (columns: log feature, sign feature) of gradients `[P, 1]`.
    public static func logAndSign(_ g: Tensor, p: Float = 10) -> Tensor {
        precondition(g.rank == 2 && g.shape[1] == 1, "logAndSign: expected gradients [P, 1], got \(g.shape)")
        return g.logMagnitudeAndSign(p: p)
    }
}

/// What DMSGD's rates look like after a step: the distribution of β_t, the share M²SGD's
/// mask removes at a threshold, and how much of the dynamic part tanh(h · U_β) is saturated
/// (pitfalls §2: once every tanh term sits at ±1, β_t is a fixed vector and the masks
/// stop changing).
public struct RateSummary: Equatable, Sendable {
    /// β_t's minimum, 10th, 50th and 90th percentiles and maximum.
    public let quantiles: [Float]
    /// The share of coordinates with β_t ≤ `threshold` (those M²SGD's mask sets to zero).
    public let maskedFraction: Double
    /// The threshold `maskedFraction` was counted at.
    public let threshold: Float
    /// The share of coordinates whose |tanh(h · U_β)| exceeds 0.999.
    public let saturatedFraction: Double
}

extension DMSGD {
    /// |tanh| above this counts as saturated in ``RateSummary/saturatedFraction``.
    public static let saturationLevel: Float = 0.999

    /// The dynamic part tanh(h · U_β) `[P, 1]` of the last step, from the LSTM output stored
    /// in `state` (a state this optimiser produced) and the meta-parameters `meta`.
    public func dynamicRates(meta: [Tensor], state: [Tensor]) -> Tensor {
        let last = state[network.layers.count - 1]
        let h = last.slice(axis: 1, 0..<network.layers.last!)
        return withoutGraph { matmul(h, meta[3 * network.layers.count]).tanh() }
    }

    /// The distribution of the last step's rates β_t and of its dynamic part (see ``RateSummary``);
    /// `threshold` defaults to this optimiser's ξ (0 for plain DMSGD).
    public func rateSummary(meta: [Tensor], state: [Tensor], threshold: Float? = nil) -> RateSummary {
        let xi = threshold ?? mask?.threshold ?? 0
        let beta = rates(in: state).scalars.sorted()
        let quantiles = [0, 0.1, 0.5, 0.9, 1].map { beta[min(beta.count - 1, Int($0 * Double(beta.count - 1)))] }
        let masked = beta.reduce(0) { $0 + ($1 <= xi ? 1 : 0) }
        let saturated = dynamicRates(meta: meta, state: state).scalars.reduce(0) { $0 + (abs($1) > Self.saturationLevel ? 1 : 0) }
        return RateSummary(quantiles: quantiles, maskedFraction: Double(masked) / Double(beta.count), threshold: xi,
                           saturatedFraction: Double(saturated) / Double(beta.count))
    }
}

extension TrainedOptimiser {
    /// The distribution of β_t after the last step (``RateSummary``, from `state`, a state this
    /// optimiser produced) when the learned optimiser is DMSGD or M²SGD; `nil` for any other.
    public func rateSummary(state: [Tensor]) -> RateSummary? {
        (learned as? DMSGD)?.rateSummary(meta: meta, state: state)
    }
}

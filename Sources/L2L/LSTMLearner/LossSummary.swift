/// Mean and standard deviation of per-data-set losses: the two rows of the paper's table
/// ("mean and standard deviation of mean cross-entropy losses").
public struct LossSummary: Equatable, Sendable {
    /// Mean over the data sets.
    public let mean: Float
    /// Sample standard deviation over the data sets (n − 1 in the denominator; 0 for one).
    public let std: Float

    /// The summary of `losses` (at least one value), accumulated in Double.
    public init(_ losses: [Float]) {
        let n = Double(losses.count)
        let m = losses.reduce(0.0) { $0 + Double($1) } / n
        let ss = losses.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) }
        mean = Float(m)
        std = n > 1 ? Float((ss / (n - 1)).squareRoot()) : 0
    }
}

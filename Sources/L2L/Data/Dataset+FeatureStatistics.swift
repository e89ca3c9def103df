/// Per-feature (per-column) standardisation, next to the global ``Dataset/statistics()``.
extension Dataset {
    /// Mean and standard deviation of each input column (population std, divisor n),
    /// accumulated in Double.
    ///
    /// Shapes: two arrays of `features` values. An empty data set gives zeros.
    public func featureStatistics() -> (mean: [Float], std: [Float]) {
        let n = count, f = features
        var sum = [Double](repeating: 0, count: f), sum2 = [Double](repeating: 0, count: f)
        inputs.withUnsafeBufferPointer { p in
            for i in 0..<n {
                let row = p.baseAddress! + i * f
                for j in 0..<f {
                    let v = Double(row[j])
                    sum[j] += v
                    sum2[j] += v * v
                }
            }
        }
        let scale = 1 / Double(Swift.max(n, 1))
        var mean = [Float](repeating: 0, count: f), std = [Float](repeating: 0, count: f)
        for j in 0..<f {
            let m = sum[j] * scale
            mean[j] = Float(m)
            std[j] = Float(Swift.max(sum2[j] * scale - m * m, 0).squareRoot())
        }
        return (mean, std)
    }

    /// Each input column mapped to (x − mean[j]) / std[j]; use the training set's
    /// ``featureStatistics()`` for every split. A column whose std is 0 (constant in the
    /// training set, such as MNIST's border pixels) is only centred, as scikit-learn's
    /// `StandardScaler` does, so it stays finite.
    ///
    /// ```swift
    /// let (mean, std) = train.featureStatistics()
    /// let test = try testSet.standardizedPerFeature(mean: mean, std: std)
    /// ```
    ///
    /// Throws `.shapeMismatch` unless both arrays have `features` values, and
    /// `.invalidArgument` for a non-finite mean or a negative or non-finite std.
    public func standardizedPerFeature(mean: [Float], std: [Float]) throws -> Dataset {
        guard mean.count == features, std.count == features else {
            throw L2LError.shape("standardize per feature: need \(features) means and stds, got \(mean.count) and \(std.count)")
        }
        if let j = mean.indices.first(where: { !mean[$0].isFinite || !std[$0].isFinite || std[$0] < 0 }) {
            throw L2LError.invalid("standardize per feature: column \(j) has mean \(mean[j]) and std \(std[j]); need a finite mean and a finite std ≥ 0")
        }
        let inv = std.map { $0 > 0 ? 1 / $0 : 1 }
        let n = count, f = features
        var d = self
        d.inputs.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let row = p.baseAddress! + i * f
                for j in 0..<f { row[j] = (row[j] - mean[j]) * inv[j] }
            }
        }
        return d
    }
}

/// Train/validation/test splits and subsets by index.
extension Dataset {
    /// The examples at `indices` (in that order) as a new data set (of the same kind:
    /// classification or regression).
    ///
    /// Throws `.invalidArgument` when an index is outside `0..<count`.
    public func subset(indices: [Int]) throws -> Dataset {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw L2LError.invalid("subset: index \(bad) is outside 0..<\(count)")
        }
        switch targetBatch(indices[...]) {
        case (let x, .values(let v)): return try Dataset(inputs: x, values: v, exampleShape: exampleShape)
        case (let x, .labels(let y)): return try Dataset(inputs: x, labels: y, classes: classes, exampleShape: exampleShape)
        }
    }

    /// A seeded partition of `0..<total` into parts of `train`, `validation` and `test`
    /// indices: a permutation drawn from `RNG(seed:)` is cut in that order, and each part is
    /// then sorted, so every part keeps the original order of its examples. The parts are
    /// disjoint and together cover every index; the same seed gives the same parts.
    ///
    /// Throws `.invalidArgument` when a count is negative or the counts do not sum to `total`.
    public static func splitIndices(total: Int, train: Int, validation: Int, test: Int, seed: UInt64) throws
        -> (train: [Int], validation: [Int], test: [Int])
    {
        guard total >= 0, train >= 0, validation >= 0, test >= 0 else {
            throw L2LError.invalid("split: counts must not be negative, got train \(train), validation \(validation), test \(test)")
        }
        guard train + validation + test == total else {
            throw L2LError.invalid("split: train \(train) + validation \(validation) + test \(test) must equal the \(total) examples")
        }
        var rng = RNG(seed: seed)
        let order = rng.permutation(total)
        return (order[0..<train].sorted(),
                order[train..<(train + validation)].sorted(),
                order[(train + validation)...].sorted())
    }

    /// The example counts for fractions of `total`: validation and test are rounded to the
    /// nearest integer, train takes the rest (so the counts always sum to `total`).
    ///
    /// Throws `.invalidArgument` unless the fractions are finite, non-negative and sum to 1
    /// (within 1e-6).
    public static func splitCounts(total: Int, train: Double, validation: Double, test: Double) throws
        -> (train: Int, validation: Int, test: Int)
    {
        let fractions = [train, validation, test]
        guard fractions.allSatisfy({ $0.isFinite && $0 >= 0 }), Swift.abs(fractions.reduce(0, +) - 1) <= 1e-6 else {
            throw L2LError.invalid("split: fractions must be non-negative and sum to 1, got train \(train), validation \(validation), test \(test)")
        }
        let v = Swift.min(Int((validation * Double(total)).rounded()), total)
        let t = Swift.min(Int((test * Double(total)).rounded()), total - v)
        return (total - v - t, v, t)
    }

    /// Splits the examples into train, validation and test sets of the given sizes, at
    /// random but deterministically for `seed` (see ``splitIndices(total:train:validation:test:seed:)``):
    /// disjoint, covering, each in the original order. A part may be empty.
    ///
    /// ```swift
    /// let (train, validation, test) = try data.split(train: 800, validation: 100, test: 100, seed: 1)
    /// ```
    public func split(train: Int, validation: Int, test: Int, seed: UInt64) throws
        -> (train: Dataset, validation: Dataset, test: Dataset)
    {
        let parts = try Dataset.splitIndices(total: count, train: train, validation: validation, test: test, seed: seed)
        return (try subset(indices: parts.train), try subset(indices: parts.validation), try subset(indices: parts.test))
    }

    /// Splits by fractions that sum to 1 (see ``splitCounts(total:train:validation:test:)``
    /// for the rounding).
    ///
    /// ```swift
    /// let (train, validation, test) = try data.split(fractions: (0.8, 0.1, 0.1), seed: 1)
    /// ```
    public func split(fractions: (train: Double, validation: Double, test: Double), seed: UInt64) throws
        -> (train: Dataset, validation: Dataset, test: Dataset)
    {
        let c = try Dataset.splitCounts(total: count, train: fractions.train, validation: fractions.validation, test: fractions.test)
        return try split(train: c.train, validation: c.validation, test: c.test, seed: seed)
    }
}

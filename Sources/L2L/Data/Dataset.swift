/// A data set held in memory: `inputs` is `[n, features]`. A classification set has
/// `labels`, `n` class indices in `0..<classes`; a regression set has `values`, real targets
/// `[n, k]` (`classes` is then the target width k and `labels` is empty).
public struct Dataset {
    public var inputs: Tensor
    /// One class index per example; empty for a regression set.
    public let labels: [Int32]
    /// Real targets `[n, k]` of a regression set; `nil` for a classification set.
    public let values: Tensor?
    /// Classes of a classification set, or the target width k of a regression set.
    public let classes: Int
    /// The shape of one example before flattening (e.g. `[28, 28]`), for learners that
    /// care (convolutions); `[features]` when there is none.
    public let exampleShape: [Int]

    public var count: Int { inputs.shape[0] }
    public var features: Int { inputs.shape[1] }
    /// Whether the targets are real values (`values`) rather than class labels.
    public var isRegression: Bool { values != nil }

    /// Checks that the pieces agree: one label per row, labels in range, finite inputs.
    public init(inputs: Tensor, labels: [Int32], classes: Int, exampleShape: [Int]? = nil) throws {
        guard inputs.rank == 2 else { throw L2LError.shape("dataset: inputs must be [n, features], got shape \(inputs.shape)") }
        guard inputs.shape[0] == labels.count else {
            throw L2LError.shape("dataset: \(inputs.shape[0]) input rows but \(labels.count) labels")
        }
        guard classes >= 1 else { throw L2LError.invalid("dataset: classes must be at least 1, got \(classes)") }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw L2LError.invalid("dataset: label \(bad) is outside 0..<\(classes)")
        }
        guard inputs.isFinite else { throw L2LError(.nonFinite, "dataset: inputs contain NaN or infinity") }
        let shape = exampleShape ?? [inputs.shape[1]]
        guard Shape.count(shape) == inputs.shape[1] else {
            throw L2LError.shape("dataset: example shape \(shape) does not hold \(inputs.shape[1]) features")
        }
        self.inputs = inputs.detached()
        self.labels = labels
        self.values = nil
        self.classes = classes
        self.exampleShape = shape
    }

    /// A regression set: inputs `[n, features]` and real targets `values` `[n, k]` (k ≥ 1),
    /// both finite.
    public init(inputs: Tensor, values: Tensor, exampleShape: [Int]? = nil) throws {
        guard inputs.rank == 2 else { throw L2LError.shape("dataset: inputs must be [n, features], got shape \(inputs.shape)") }
        guard values.rank == 2, values.shape[0] == inputs.shape[0], values.shape[1] >= 1 else {
            throw L2LError.shape("dataset: targets must be [\(inputs.shape[0]), k] with k ≥ 1 for \(inputs.shape[0]) input rows, got shape \(values.shape)")
        }
        guard inputs.isFinite else { throw L2LError(.nonFinite, "dataset: inputs contain NaN or infinity") }
        guard values.isFinite else { throw L2LError(.nonFinite, "dataset: targets contain NaN or infinity") }
        let shape = exampleShape ?? [inputs.shape[1]]
        guard Shape.count(shape) == inputs.shape[1] else {
            throw L2LError.shape("dataset: example shape \(shape) does not hold \(inputs.shape[1]) features")
        }
        self.inputs = inputs.detached()
        self.labels = []
        self.values = values.detached()
        self.classes = values.shape[1]
        self.exampleShape = shape
    }

    /// Mean and standard deviation of all input values (one pair for the whole set, as the
    /// papers standardise Fashion-MNIST).
    public func statistics() -> (mean: Float, std: Float) {
        inputs.withUnsafeBufferPointer { p in
            var s: Double = 0, s2: Double = 0
            for v in p { s += Double(v); s2 += Double(v) * Double(v) }
            let n = Double(max(p.count, 1))
            let mean = s / n
            return (Float(mean), Float(max(s2 / n - mean * mean, 0).squareRoot()))
        }
    }

    /// The inputs mapped to (x − mean) / std; use the training set's statistics for every split.
    public func standardized(mean: Float, std: Float) throws -> Dataset {
        guard mean.isFinite, std.isFinite, std >= 1e-12 else {
            throw L2LError.invalid("standardize: need a finite mean and a std of at least 1e-12, got mean \(mean), std \(std)")
        }
        var d = self
        let inv = 1 / std
        d.inputs.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = (p[i] - mean) * inv } }
        return d
    }

    /// The examples at `indices` as a `[indices.count, features]` tensor and their labels
    /// (empty for a regression set: see ``targetBatch(_:)``).
    public func batch(_ indices: ArraySlice<Int>) -> (inputs: Tensor, labels: [Int32]) {
        (Dataset.rows(inputs, indices), labels.isEmpty ? [] : indices.map { labels[$0] })
    }

    /// The examples at `indices` as a `[indices.count, features]` tensor and their targets:
    /// labels, or the `[indices.count, k]` rows of `values` for a regression set.
    public func targetBatch(_ indices: ArraySlice<Int>) -> (inputs: Tensor, targets: Targets) {
        if let values { return (Dataset.rows(inputs, indices), .values(Dataset.rows(values, indices))) }
        let (x, y) = batch(indices)
        return (x, .labels(y))
    }

    /// Rows `indices` of a `[n, width]` tensor, as a new `[indices.count, width]` tensor.
    static func rows(_ source: Tensor, _ indices: ArraySlice<Int>) -> Tensor {
        let width = source.shape[1]
        return source.withUnsafeBufferPointer { p in
            Tensor(shape: [indices.count, width]) { dst, _ in
                for (row, i) in indices.enumerated() {
                    (dst + row * width).update(from: p.baseAddress! + i * width, count: width)
                }
            }
        }
    }

    /// Examples `range` (in order) as a new data set sharing nothing with this one.
    public func subset(_ range: Range<Int>) throws -> Dataset {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw L2LError.invalid("subset: range \(range) is outside 0..<\(count)")
        }
        return try subset(indices: Array(range))
    }
}

/// Seeded mini-batches over a data set: each epoch visits every example once, in an order
/// drawn from the iterator's own ``RNG`` (or in order when `shuffle` is off). A batch size
/// larger than the data set is reduced to its size.
public struct BatchIterator {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffle: Bool
    /// Drop the last, smaller batch of an epoch.
    public let dropLast: Bool
    private var rng: RNG
    private var order: [Int] = []
    private var position = 0
    /// Epochs started so far.
    public private(set) var epoch = 0

    public init(_ dataset: Dataset, batchSize: Int, seed: UInt64, shuffle: Bool = true, dropLast: Bool = false) throws {
        guard batchSize >= 1 else { throw L2LError.invalid("batches: batch size must be at least 1, got \(batchSize)") }
        guard dataset.count >= 1 else { throw L2LError.invalid("batches: the data set is empty") }
        guard !dropLast || batchSize <= dataset.count else {
            throw L2LError.invalid("batches: batch size \(batchSize) exceeds the \(dataset.count) examples and drop_last is on")
        }
        self.dataset = dataset
        self.batchSize = min(batchSize, dataset.count)
        self.shuffle = shuffle
        self.dropLast = dropLast
        rng = RNG(seed: seed)
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The next batch of the current epoch, or `nil` once it is exhausted (the call after
    /// that starts a new epoch in a new order).
    public mutating func next() -> (inputs: Tensor, labels: [Int32])? {
        nextIndices().map { dataset.batch($0) }
    }

    /// The next batch, moving on to a new epoch whenever one ends.
    public mutating func nextCycling() -> (inputs: Tensor, labels: [Int32]) {
        dataset.batch(nextIndicesCycling())
    }

    /// The next batch with its targets (labels or real values), moving on to a new epoch
    /// whenever one ends: what a loop over regression and classification sets alike takes.
    public mutating func nextCyclingTargets() -> (inputs: Tensor, targets: Targets) {
        dataset.targetBatch(nextIndicesCycling())
    }

    private mutating func nextIndices() -> ArraySlice<Int>? {
        if epoch == 0 || position < 0 { startEpoch() }
        let remaining = order.count - position
        if remaining == 0 || (dropLast && remaining < batchSize) {
            position = -1
            return nil
        }
        let end = min(position + batchSize, order.count)
        defer { position = end }
        return order[position..<end]
    }

    private mutating func nextIndicesCycling() -> ArraySlice<Int> {
        if let b = nextIndices() { return b }
        return nextIndices()!
    }

    private mutating func startEpoch() {
        order = shuffle ? rng.permutation(dataset.count) : Array(0..<dataset.count)
        position = 0
        epoch += 1
    }
}

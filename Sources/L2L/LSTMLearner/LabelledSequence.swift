/// One data set shown to an ``LSTMLearner`` as a sequence: its training samples first, then
/// its test samples (the paper's ordering; the separator flag is 1 from `trainCount` on).
public struct LabelledSequence {
    /// Inputs `[n, d]`, one sample per row, in the order they are shown.
    public let inputs: Tensor
    /// Labels 0 or 1, `[n, 1]`.
    public let targets: Tensor
    /// Samples in the training part (the first `trainCount` rows); the rest is the test part.
    public let trainCount: Int

    /// Samples in the sequence.
    public var count: Int { inputs.shape[0] }

    /// A sequence of `inputs` `[n, d]` with `labels` (n values, each 0 or 1) whose first
    /// `trainCount` samples are the training part.
    ///
    /// Throws `.shapeMismatch` for inputs that are not a matrix or labels of another length,
    /// `.nonFinite` for NaN or infinite inputs, `.invalidArgument` for a label other than 0
    /// or 1 or a `trainCount` outside 0...n.
    public init(inputs: Tensor, labels: [Float], trainCount: Int) throws {
        guard inputs.rank == 2, inputs.shape[0] >= 1, inputs.shape[1] >= 1 else {
            throw L2LError.shape("lstm_learner: a sequence's inputs must be a non-empty [n, d] matrix, got \(inputs.shape)")
        }
        let n = inputs.shape[0]
        guard labels.count == n else { throw L2LError.shape("lstm_learner: \(n) inputs but \(labels.count) labels") }
        guard inputs.isFinite else { throw L2LError(.nonFinite, "lstm_learner: the inputs contain NaN or infinity") }
        guard labels.allSatisfy({ $0 == 0 || $0 == 1 }) else { throw L2LError.invalid("lstm_learner: labels must be 0 or 1") }
        guard (0...n).contains(trainCount) else {
            throw L2LError.invalid("lstm_learner: the training part must have 0...\(n) samples, got \(trainCount)")
        }
        self.inputs = inputs
        targets = Tensor(shape: [n, 1], scalars: labels)
        self.trainCount = trainCount
    }

    /// A binary classification data set (labels 0/1) as a sequence, in its own order.
    public init(_ data: Dataset, trainCount: Int) throws {
        guard data.classes == 2, !data.isRegression else {
            throw L2LError.invalid("lstm_learner: needs a data set of 2 classes, got \(data.classes)")
        }
        try self.init(inputs: data.inputs, labels: data.labels.map(Float.init), trainCount: trainCount)
    }
}

/// What running an ``LSTMLearner`` over a ``LabelledSequence`` gives.
public struct SequenceRun {
    /// The model's prediction P(y = 1) for each sample, made before the sample's update, `[n]`.
    public let predictions: [Float]
    /// Mean cross-entropy over the training part (0 if it is empty).
    public let trainLoss: Float
    /// Mean cross-entropy over the test part: the paper's evaluation objective (0 if empty).
    public let testLoss: Float
    /// Mean cross-entropy over all samples: the paper's meta-training objective.
    public let loss: Float
    /// The cell state θ₀, θ₁, …, θₙ (the model's flattened weights before the first sample
    /// and after each one), `[n + 1, P]`; `nil` unless asked for.
    public let weights: Tensor?
}

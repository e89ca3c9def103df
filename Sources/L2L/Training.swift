/// Training and evaluation loops shared by every front door.
public enum Training {
    /// The mean loss on one batch and its gradient with respect to every parameter.
    public static func lossAndGradients(_ learner: some Learner, _ parameters: [Tensor],
                                        _ inputs: Tensor, _ labels: [Int32]) -> (loss: Float, gradients: [Tensor]) {
        let tracked = parameters.map { $0.tracked() }
        let loss = learner.loss(tracked, inputs, labels)
        return (loss.scalar, gradients(of: loss, wrt: tracked))
    }

    /// Mean loss and accuracy over a whole data set, in batches, without recording a graph.
    public static func evaluate(_ learner: some Learner, _ parameters: [Tensor], on data: Dataset,
                                batchSize: Int = 1000) -> (loss: Float, accuracy: Float) {
        withoutGraph {
            var totalLoss: Double = 0
            var correct = 0
            var start = 0
            while start < data.count {
                let end = min(start + batchSize, data.count)
                let (x, y) = data.batch(Array(start..<end)[...])
                let logits = learner.forward(parameters, x)
                totalLoss += Double(Tensor.softmaxCrossEntropy(logits: logits, labels: y).scalar) * Double(end - start)
                for (p, t) in zip(logits.argmaxRows(), y) where p == Int(t) { correct += 1 }
                start = end
            }
            let n = Double(max(data.count, 1))
            return (Float(totalLoss / n), Float(Double(correct) / n))
        }
    }

    /// Called after each step with (step index from 1, total steps, loss of the step);
    /// return `false` to stop.
    public typealias Progress = (Int, Int, Float) -> Bool

    /// Takes `steps` optimiser steps on batches from `batches` (cycling through epochs),
    /// updating `parameters` in place. Returns the loss of every step taken.
    /// Throws `.cancelled` if `progress` asks to stop, `.nonFinite` if the loss diverges.
    @discardableResult
    public static func train(_ learner: some Learner, _ parameters: inout [Tensor],
                             optimiser: OptimiserSession, batches: inout BatchIterator,
                             steps: Int, progress: Progress? = nil) throws -> [Float] {
        guard steps >= 0 else { throw L2LError.invalid("train: steps must be non-negative, got \(steps)") }
        try learner.validate(parameters: parameters)
        guard batches.dataset.features == learner.inputFeatures, batches.dataset.classes <= learner.classes else {
            throw L2LError.shape("train: the data have \(batches.dataset.features) features and \(batches.dataset.classes) classes; the learner takes \(learner.inputFeatures) features and \(learner.classes) classes")
        }
        var losses = [Float]()
        losses.reserveCapacity(steps)
        for s in 0..<steps {
            let (x, y) = batches.nextCycling()
            let (loss, grads) = lossAndGradients(learner, parameters, x, y)
            guard loss.isFinite else {
                throw L2LError(.nonFinite, "train: the loss became \(loss) at step \(s + 1); parameters are kept from the step before")
            }
            try optimiser.step(&parameters, gradients: grads)
            losses.append(loss)
            if let progress, !progress(s + 1, steps, loss) {
                throw L2LError(.cancelled, "train: cancelled by the progress callback after step \(s + 1)")
            }
        }
        return losses
    }
}

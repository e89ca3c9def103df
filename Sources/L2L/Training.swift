/// Training and evaluation loops shared by every front door.
public enum Training {
    /// The mean loss on one batch in training mode, its gradient with respect to every
    /// parameter, and the buffers the training-mode forward pass produced.
    public static func lossAndGradients(_ learner: some Learner, _ state: LearnerState,
                                        _ inputs: Tensor, _ targets: Targets)
        -> (loss: Float, gradients: [Tensor], buffers: [Tensor])
    {
        let tracked = state.parameters.map { $0.tracked() }
        let (outputs, buffers) = learner.forward(tracked, inputs, buffers: state.buffers, training: true)
        let loss = learner.loss(outputs: outputs, targets: targets)
        return (loss.scalar, gradients(of: loss, wrt: tracked), buffers.map { $0.detached() })
    }

    /// Fails unless the data's examples and labels fit the learner.
    public static func checkCompatible(_ learner: some Learner, _ data: Dataset) throws {
        guard data.features == learner.inputFeatures, data.classes <= learner.labelClasses else {
            throw L2LError.shape("the data have \(data.features) features and \(data.classes) classes; the learner takes \(learner.inputFeatures) features and \(learner.labelClasses) classes")
        }
    }

    /// Mean loss and accuracy over a whole data set, in batches, in evaluation mode, without
    /// recording a graph. A single-logit (binary) learner predicts class 1 where its logit
    /// is positive.
    public static func evaluate(_ learner: some Learner, _ state: LearnerState, on data: Dataset,
                                batchSize: Int = 1000) -> (loss: Float, accuracy: Float) {
        precondition(batchSize >= 1, "evaluate: batch size must be at least 1, got \(batchSize)")
        return withoutGraph {
            var totalLoss: Double = 0
            var correct = 0
            var start = 0
            while start < data.count {
                let end = min(start + batchSize, data.count)
                let (x, y) = data.batch(Array(start..<end)[...])
                let logits = learner.forward(state.parameters, x, buffers: state.buffers, training: false).output
                totalLoss += Double(learner.loss(outputs: logits, targets: .labels(y)).scalar) * Double(end - start)
                let predicted = learner.objective == .sigmoidBinaryCrossEntropy
                    ? logits.scalars.map { $0 > 0 ? 1 : 0 } : logits.argmaxRows()
                for (p, t) in zip(predicted, y) where p == Int(t) { correct += 1 }
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
    /// updating `state` in place. Returns the loss of every step taken.
    /// Throws `.cancelled` if `progress` asks to stop, `.nonFinite` if the loss or the
    /// parameters would stop being finite (the state is then that of the last good step).
    @discardableResult
    public static func train(_ learner: some Learner, _ state: inout LearnerState,
                             optimiser: OptimiserSession, batches: inout BatchIterator,
                             steps: Int, progress: Progress? = nil) throws -> [Float] {
        guard steps >= 0 else { throw L2LError.invalid("train: steps must be non-negative, got \(steps)") }
        try learner.validate(parameters: state.parameters)
        try checkCompatible(learner, batches.dataset)
        var losses = [Float]()
        losses.reserveCapacity(min(steps, 1 << 20))
        for s in 0..<steps {
            let (x, y) = batches.nextCycling()
            let loss: Float
            if optimiser.needsCurvature {
                // A Hessian-free optimiser steps from a Gauss-Newton model of the batch.
                let model = GaussNewton(learner: learner, state: state, inputs: x, targets: .labels(y))
                loss = model.loss
                guard loss.isFinite else {
                    throw L2LError(.nonFinite, "train: the loss became \(loss) at step \(s + 1); parameters are kept from the step before")
                }
                try optimiser.step(&state.parameters, model: model)
                state.buffers = model.buffers
            } else {
                let (value, grads, buffers) = lossAndGradients(learner, state, x, .labels(y))
                loss = value
                guard loss.isFinite else {
                    throw L2LError(.nonFinite, "train: the loss became \(loss) at step \(s + 1); parameters are kept from the step before")
                }
                try optimiser.step(&state.parameters, gradients: grads, inputs: x)
                state.buffers = buffers
            }
            losses.append(loss)
            if let progress, !progress(s + 1, steps, loss) {
                throw L2LError(.cancelled, "train: cancelled by the progress callback after step \(s + 1)")
            }
        }
        return losses
    }
}

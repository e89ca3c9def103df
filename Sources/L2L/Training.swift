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

    /// Fails unless the data's examples and targets fit the learner: a classification set
    /// for a classifier (its classes within the learner's), a regression set of the learner's
    /// output width for a mean-squared-error learner. With `regression` false (loops that
    /// only handle labels) a regression set or learner is refused.
    public static func checkCompatible(_ learner: some Learner, _ data: Dataset, regression: Bool = false) throws {
        guard data.features == learner.inputFeatures else {
            throw L2LError.shape("the data have \(data.features) features; the learner takes \(learner.inputFeatures)")
        }
        let regressor = learner.objective == .meanSquaredError
        if !regression && (regressor || data.isRegression) {
            throw L2LError.invalid("this takes classification data and learners only; regression (mean squared error, real-valued targets) is not supported here")
        }
        if data.isRegression {
            guard regressor else {
                throw L2LError.invalid("the data have real-valued targets; the learner's objective \(learner.objective.rawValue) takes integer labels (use objective=mse)")
            }
            guard data.classes == learner.classes else {
                throw L2LError.shape("the data have \(data.classes) targets per example; the learner gives \(learner.classes) outputs")
            }
        } else {
            guard !regressor else {
                throw L2LError.invalid("the learner is a regressor (mean squared error); the data have integer labels, not real-valued targets")
            }
            guard data.classes <= learner.labelClasses else {
                throw L2LError.shape("the data have \(data.classes) classes; the learner takes \(learner.labelClasses)")
            }
        }
    }

    /// Mean loss and accuracy over a whole data set, in batches, in evaluation mode, without
    /// recording a graph. A single-logit (binary) learner predicts class 1 where its logit
    /// is positive. A regression set has no accuracy: it is NaN.
    public static func evaluate(_ learner: some Learner, _ state: LearnerState, on data: Dataset,
                                batchSize: Int = 1000) -> (loss: Float, accuracy: Float) {
        precondition(batchSize >= 1, "evaluate: batch size must be at least 1, got \(batchSize)")
        return withoutGraph {
            var totalLoss: Double = 0
            var correct = 0
            var start = 0
            while start < data.count {
                let end = min(start + batchSize, data.count)
                let (x, targets) = data.targetBatch(Array(start..<end)[...])
                let logits = learner.forward(state.parameters, x, buffers: state.buffers, training: false).output
                totalLoss += Double(learner.loss(outputs: logits, targets: targets).scalar) * Double(end - start)
                guard case .labels(let y) = targets else { start = end; continue }
                let predicted = learner.objective == .sigmoidBinaryCrossEntropy
                    ? logits.scalars.map { $0 > 0 ? 1 : 0 } : logits.argmaxRows()
                for (p, t) in zip(predicted, y) where p == Int(t) { correct += 1 }
                start = end
            }
            let n = Double(max(data.count, 1))
            return (Float(totalLoss / n), data.isRegression ? .nan : Float(Double(correct) / n))
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
        try checkCompatible(learner, batches.dataset, regression: true)
        var losses = [Float]()
        losses.reserveCapacity(min(steps, 1 << 20))
        for s in 0..<steps {
            let (x, targets) = batches.nextCyclingTargets()
            let loss: Float
            if optimiser.needsCurvature {
                // A Hessian-free optimiser steps from a Gauss-Newton model of the batch.
                let model = GaussNewton(learner: learner, state: state, inputs: x, targets: targets)
                loss = model.loss
                guard loss.isFinite else {
                    throw L2LError(.nonFinite, "train: the loss became \(loss) at step \(s + 1); parameters are kept from the step before")
                }
                try optimiser.step(&state.parameters, model: model)
                state.buffers = model.buffers
            } else {
                let (value, grads, buffers) = lossAndGradients(learner, state, x, targets)
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

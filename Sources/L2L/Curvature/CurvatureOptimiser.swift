/// An optimiser that needs more than the gradient: a local model of the loss on the
/// current batch (its value, gradient, curvature products and the loss at other points),
/// given as a ``CurvatureModel``. Hessian-free optimisers (``HessianFreeFixed``,
/// ``HessianFreeLM``) and MLHF have this shape.
///
/// Like ``Optimiser`` it is a pair of pure functions over parameters and a typed state,
/// written in tensor ops. ``OptimiserSession`` wraps one as it wraps any optimiser, so the
/// factory (`hf_fixed`, `hf_lm`), ``Training/train(_:_:optimiser:batches:steps:progress:)``,
/// ``MetaTester`` and the C and Python front doors take it like the others; they build a
/// ``GaussNewton`` model of each batch for it.
///
/// ```swift
/// let hf = try HessianFreeLM(learningRate: 1, damping: 1)
/// var s = hf.initialState(for: params)
/// let model = GaussNewton(learner: mlp, state: state, inputs: x, targets: .labels(y))
/// (params, s) = hf.step(parameters: params, model: model, state: s)
/// ```
public protocol CurvatureOptimiser {
    associatedtype State
    /// The state before the first step, for parameters shaped like `parameters`.
    func initialState(for parameters: [Tensor]) -> State
    /// One update from the model of the loss at `parameters` on the current batch.
    func step(parameters: [Tensor], model: some CurvatureModel, state: State) -> (parameters: [Tensor], state: State)
    /// Fails unless the optimiser can update parameters of these shapes.
    func check(parameters: [Tensor]) throws
}

extension CurvatureOptimiser {
    public func check(parameters: [Tensor]) throws {}
}

extension OptimiserSession {
    /// One training step on a batch, whatever the optimiser: a gradient for a first-order
    /// one, a ``GaussNewton`` model for a ``CurvatureOptimiser``. Updates `state`
    /// (parameters, and the buffers of the training-mode forward pass) in place and returns
    /// the loss before the step.
    ///
    /// Throws `.nonFinite` if the loss is NaN or infinite or the step would make a parameter
    /// so (nothing changes then), and what ``step(_:gradients:)`` throws.
    @discardableResult
    public func step(_ learner: some Learner, _ state: inout LearnerState, inputs: Tensor, targets: Targets) throws -> Float {
        if needsCurvature {
            let model = GaussNewton(learner: learner, state: state, inputs: inputs, targets: targets)
            guard model.loss.isFinite else { throw L2LError(.nonFinite, "the loss is \(model.loss); no step taken") }
            try step(&state.parameters, model: model)
            state.buffers = model.buffers
            return model.loss
        }
        let (loss, grads, buffers) = Training.lossAndGradients(learner, state, inputs, targets)
        guard loss.isFinite else { throw L2LError(.nonFinite, "the loss is \(loss); no step taken") }
        try step(&state.parameters, gradients: grads, inputs: inputs)
        state.buffers = buffers
        return loss
    }
}

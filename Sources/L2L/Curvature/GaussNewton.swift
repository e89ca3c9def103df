/// A local model of a loss on one batch: its value, its gradient and a curvature matrix
/// G (positive semi-definite, symmetric) applied to vectors shaped like the parameters.
/// What Hessian-free optimisers (``HessianFreeFixed``, ``HessianFreeLM``, and MLHF) need.
///
/// ``GaussNewton`` is the model of a learner; tests use small dense ones.
public protocol CurvatureModel {
    /// The parameters θ the model was built at (constants).
    var parameters: [Tensor] { get }
    /// L(θ) on the batch.
    var loss: Float { get }
    /// ∇L(θ), one tensor per parameter (constants).
    var gradients: [Tensor] { get }
    /// G·v for `v` shaped like the parameters. When `v` is tracked and the graph is being
    /// recorded, the result is a differentiable function of `v` whose backward is G applied
    /// to the incoming gradient (G itself is a constant: no gradient reaches θ).
    func product(_ v: [Tensor]) -> [Tensor]
    /// L at other parameters on the same batch (in the same mode as ``loss``), as a scalar
    /// tensor, differentiable in `parameters` when they are tracked.
    func loss(at parameters: [Tensor]) -> Tensor
}

extension CurvatureModel {
    /// (G + diag(s))·v, with the damping `s` given per parameter tensor: each entry either a
    /// scalar (shape `[]`, a λ for that tensor) or shaped like the parameter (a damping per
    /// coordinate, as MLHF's RNN_s produces). Differentiable in `v` and in `s`.
    public func dampedProduct(_ v: [Tensor], damping s: [Tensor]) -> [Tensor] {
        precondition(s.count == v.count && zip(s, v).allSatisfy { $0.shape == [] || $0.shape == $1.shape },
                     "dampedProduct: damping shapes \(s.map(\.shape)) do not fit \(v.map(\.shape)) (each [] or the parameter's)")
        return zip(product(v), zip(s, v)).map { gv, sv in gv + sv.0 * sv.1 }
    }

    /// (G + λI)·v.
    public func dampedProduct(_ v: [Tensor], damping lambda: Float) -> [Tensor] {
        zip(product(v), v).map { gv, x in gv + x * lambda }
    }
}

/// The generalised Gauss-Newton model of a learner's loss on one batch (Schraudolph 2002;
/// Martens 2010): G = Jᵀ H_L J, where J = ∂z/∂θ is the Jacobian of the learner's outputs
/// z (logits) and H_L the Hessian of the loss with respect to z:
///
/// - softmax cross-entropy (mean over N examples): H_L u = (s ⊙ u − s ⟨s, u⟩)/N row by
///   row, s = softmax(z);
/// - sigmoid binary cross-entropy (mean over the M logits): H_L u = σ(1 − σ) ⊙ u / M;
/// - mean squared error (mean over the M outputs): H_L u = 2u / M.
///
/// G is positive semi-definite, so (G + λI) is positive definite for λ > 0 and conjugate
/// gradient applies. For a linear model with one of these losses G is the exact Hessian.
///
/// Built once per (θ, batch): one training-mode forward pass (batch norm uses the batch's
/// statistics and is differentiated through them) and one recorded backward pass against
/// the cotangent ∂L/∂z + u, u a tracked zero: its values are the gradient, its graph the
/// linear map u ↦ Jᵀu. Each product then takes two reverse passes: J·v is the gradient
/// of ⟨Jᵀu, v⟩ with respect to u (the double-vjp trick: it walks only the recorded
/// backward's nodes that lead to u, about a forward pass's work), and G·v = Jᵀ(H_L J v)
/// one ordinary backward pass from z; together about one gradient evaluation on the
/// 784-32-10 MLP (`l2l-bench --only curvature`).
///
/// ```swift
/// let model = GaussNewton(learner: mlp, state: state, inputs: x, targets: .labels(y))
/// let gv = model.product(v)                         // G·v
/// let av = model.dampedProduct(v, damping: 0.1)     // (G + 0.1 I)·v
/// ```
///
/// Not thread-safe: one model is used by one thread at a time.
public final class GaussNewton: CurvatureModel {
    public let parameters: [Tensor]
    public let loss: Float
    public let gradients: [Tensor]
    /// The learner's outputs z on the batch, `[n, classes]` (constants).
    public let outputs: Tensor
    /// The buffers (batch-norm running statistics) the training-mode forward pass produced.
    public let buffers: [Tensor]
    /// Which loss H_L belongs to.
    public let objective: Objective
    /// Products computed so far.
    public private(set) var productCount = 0

    private let tracked: [Tensor]
    private let trackedOutputs: Tensor
    private let cotangent: Tensor
    private let transposedJacobianOfCotangent: [Tensor]
    private let lossAt: ([Tensor]) -> Tensor

    /// The model of `learner`'s loss at `state` on the batch (`inputs` `[n, features]`,
    /// `targets` as for ``Learner/loss(outputs:targets:)``), in training mode. Records its
    /// graphs even when called inside ``withoutGraph(_:)``.
    public init(learner: some Learner, state: LearnerState, inputs: Tensor, targets: Targets) {
        parameters = state.parameters.map { $0.detached() }
        objective = learner.objective
        let buffersIn = state.buffers
        lossAt = { p in
            learner.loss(outputs: learner.forward(p, inputs, buffers: buffersIn, training: true).output, targets: targets)
        }
        let built = withGraph { () -> (tracked: [Tensor], z: Tensor, buffers: [Tensor], loss: Tensor, g: [Tensor], u: Tensor, jtu: [Tensor]) in
            let tracked = state.parameters.map { $0.detached().tracked() }
            let (z, buffers) = learner.forward(tracked, inputs, buffers: state.buffers, training: true)
            // ∂L/∂z on a graph of its own (the loss alone), then one recorded backward pass
            // against the cotangent ∂L/∂z + u with u a tracked zero: its values are the
            // gradient Jᵀ ∂L/∂z, and its graph is the linear map u ↦ Jᵀu (plus a constant).
            let zLeaf = z.detached().tracked()
            let loss = learner.loss(outputs: zLeaf, targets: targets)
            let dz = L2LTensor.gradients(of: loss, wrt: [zLeaf])[0]
            let u = Tensor.zeros(z.shape).tracked()
            let jtu = vectorJacobianProduct(of: z, wrt: tracked, cotangent: dz + u, createGraph: true)
            return (tracked, z, buffers.map { $0.detached() }, loss, jtu.map { $0.detached() }, u, jtu)
        }
        tracked = built.tracked
        trackedOutputs = built.z
        outputs = built.z.detached()
        buffers = built.buffers
        loss = built.loss.scalar
        gradients = built.g
        cotangent = built.u
        transposedJacobianOfCotangent = built.jtu
    }

    public func loss(at parameters: [Tensor]) -> Tensor { lossAt(parameters) }

    /// J·v: the directional derivative of the outputs along `v`, shaped like ``outputs``
    /// (a constant).
    public func jacobianProduct(_ v: [Tensor]) -> Tensor {
        checkShapes(v, "jacobianProduct")
        return vectorJacobianProduct(of: transposedJacobianOfCotangent, wrt: [cotangent], cotangents: v.map { $0.detached() })[0]
    }

    /// Jᵀu for `u` shaped like ``outputs``: one backward pass (constants).
    public func transposedJacobianProduct(_ u: Tensor) -> [Tensor] {
        precondition(u.shape == outputs.shape, "transposedJacobianProduct: u has shape \(u.shape), the outputs \(outputs.shape)")
        return vectorJacobianProduct(of: trackedOutputs, wrt: tracked, cotangent: u.detached())
    }

    /// H_L·u, the loss's Hessian with respect to the outputs applied to `u` (see the type's
    /// documentation for each objective). Constants.
    public func lossHessianProduct(_ u: Tensor) -> Tensor {
        precondition(u.shape == outputs.shape, "lossHessianProduct: u has shape \(u.shape), the outputs \(outputs.shape)")
        return withoutGraph {
            let m = Float(Swift.max(outputs.count, 1))
            switch objective {
            case .softmaxCrossEntropy:
                let n = Float(Swift.max(outputs.shape[0], 1))
                let s = outputs.softmax()
                let su = s * u
                return (su - s * su.sum(axis: -1, keepDims: true)) / n
            case .sigmoidBinaryCrossEntropy:
                let p = outputs.sigmoid()
                return p * (1 - p) * u / m
            case .meanSquaredError:
                return u * (2 / m)
            }
        }
    }

    /// G·v = Jᵀ H_L J v (see ``CurvatureModel/product(_:)``): two reverse passes.
    public func product(_ v: [Tensor]) -> [Tensor] {
        checkShapes(v, "product")
        let values = rawProduct(v)
        guard isRecordingGraph, v.contains(where: \.isTracked) else { return values }
        return customOp(inputs: v, outputs: values) { [self] upstream in self.product(upstream) }
    }

    private func rawProduct(_ v: [Tensor]) -> [Tensor] {
        productCount += 1
        return transposedJacobianProduct(lossHessianProduct(jacobianProduct(v)))
    }

    private func checkShapes(_ v: [Tensor], _ op: String) {
        precondition(v.count == parameters.count && zip(v, parameters).allSatisfy { $0.shape == $1.shape },
                     "GaussNewton.\(op): vector shapes \(v.map(\.shape)) differ from the parameters' \(parameters.map(\.shape))")
    }
}

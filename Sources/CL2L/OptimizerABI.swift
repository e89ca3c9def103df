import L2L

/// The object behind an `l2l_optimizer*`. `requiredShapes` are the learner parameter shapes
/// a learned optimiser with per-parameter meta-parameters was built for, `requiredKinds` the
/// parameter kinds an MLHF optimiser was set up for (nil: any learner); stepping another
/// learner is refused before it reaches the Swift code.
final class OptimizerHandle {
    let session: OptimiserSession
    let requiredShapes: [[Int]]?
    let requiredKinds: [ParameterKind]?
    init(_ session: OptimiserSession, requiredShapes: [[Int]]? = nil, requiredKinds: [ParameterKind]? = nil) {
        self.session = session
        self.requiredShapes = requiredShapes
        self.requiredKinds = requiredKinds
    }

    /// Fails with L2L_ERR_SHAPE if this optimiser cannot step `learner`.
    func check(fits learner: any Learner) throws {
        try checkShapes(requiredShapes, fit: learner, "this learned optimiser")
        if let requiredKinds {
            let kinds = learner.parameterSpecs.map(\.kind)
            guard kinds == requiredKinds else {
                throw ABIError(status: L2L_ERR_SHAPE, message: "this MLHF optimiser was made for a learner with parameter kinds "
                               + "\(requiredKinds.map(\.rawValue)), got \(kinds.map(\.rawValue)); make one for this learner")
            }
        }
    }
}

@_cdecl("l2l_optimizer_create")
public func l2l_optimizer_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ kind: UnsafePointer<CChar>?,
                                 _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        store(OptimizerHandle(try Factory.optimiser(kind: try string(kind, "kind"), options: optionalString(options))), out)
    }
}

@_cdecl("l2l_optimizer_free")
public func l2l_optimizer_free(_ optimizer: OpaquePointer?) { release(optimizer, OptimizerHandle.self) }

@_cdecl("l2l_optimizer_step")
public func l2l_optimizer_step(_ optimizer: OpaquePointer?, _ learner: OpaquePointer?) -> Int32 {
    guarded {
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        let h = try object(learner, LearnerHandle.self, "learner")
        try o.check(fits: h.learner)
        guard let grads = h.gradients else {
            throw ABIError(status: L2L_ERR_STATE, message: "no gradient stored: call l2l_learner_loss_grad first")
        }
        if o.session.needsCurvature {
            // Hessian-free: a Gauss-Newton model of the batch the gradient came from.
            guard let batch = h.batch else {
                throw ABIError(status: L2L_ERR_STATE, message: "no batch stored: call l2l_learner_loss_grad first")
            }
            let model = GaussNewton(learner: h.learner, state: h.state, inputs: batch.inputs, targets: .labels(batch.labels))
            try o.session.step(&h.state.parameters, model: model)
            h.state.buffers = model.buffers
        } else {
            try o.session.step(&h.state.parameters, gradients: grads.parameters, inputs: h.batch?.inputs)
            h.state.buffers = grads.buffers
        }
        h.gradients = nil
        h.batch = nil
    }
}

@_cdecl("l2l_optimizer_reset")
public func l2l_optimizer_reset(_ optimizer: OpaquePointer?) -> Int32 {
    guarded { try object(optimizer, OptimizerHandle.self, "optimizer").session.reset() }
}

import L2L

/// The object behind an `l2l_optimizer*`.
final class OptimizerHandle {
    let session: OptimiserSession
    init(_ session: OptimiserSession) { self.session = session }
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
        guard let grads = h.gradients else {
            throw ABIError(status: L2L_ERR_STATE, message: "no gradient stored: call l2l_learner_loss_grad first")
        }
        try o.session.step(&h.state.parameters, gradients: grads.parameters)
        h.state.buffers = grads.buffers
        h.gradients = nil
    }
}

@_cdecl("l2l_optimizer_reset")
public func l2l_optimizer_reset(_ optimizer: OpaquePointer?) -> Int32 {
    guarded { try object(optimizer, OptimizerHandle.self, "optimizer").session.reset() }
}

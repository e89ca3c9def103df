import Glibc
import L2L

/// The object behind an `l2l_learner*`: a model, its current parameters and buffers, and
/// the gradient (with the buffers it produced) of the last loss it computed.
final class LearnerHandle {
    let learner: any Learner
    var state: LearnerState
    var gradients: (parameters: [Tensor], buffers: [Tensor])?
    /// The batch of the last l2l_learner_loss_grad: a Hessian-free optimiser's
    /// l2l_optimizer_step builds its Gauss-Newton model of it. Kept while `gradients` is.
    var batch: (inputs: Tensor, labels: [Int32])?

    init(_ learner: any Learner, seed: UInt64) {
        self.learner = learner
        var rng = RNG(seed: seed)
        state = learner.initialState(rng: &rng)
    }

    /// A `[count, features]` tensor copied from a caller's buffer, checked against the learner.
    func batch(_ inputs: UnsafePointer<Float>?, _ n: Int64, _ features: Int64) throws -> Tensor {
        let n = try count(n, "count"), f = try count(features, "features")
        guard f == learner.inputFeatures else {
            throw ABIError(status: L2L_ERR_SHAPE, message: "the learner takes \(learner.inputFeatures) features per example, got \(f)")
        }
        guard n >= 1 else { throw ABIError(status: L2L_ERR_SHAPE, message: "count must be at least 1") }
        _ = try matrixCount(n, f)
        let x = Tensor(shape: [n, f], copying: try required(inputs, "inputs"))
        guard x.isFinite else { throw ABIError(status: L2L_ERR_NON_FINITE, message: "inputs contain NaN or infinity") }
        return x
    }
}

@_cdecl("l2l_learner_create")
public func l2l_learner_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ kind: UnsafePointer<CChar>?,
                               _ options: UnsafePointer<CChar>?, _ seed: UInt64) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let learner = try Factory.learner(kind: try string(kind, "kind"), options: optionalString(options))
        store(LearnerHandle(learner, seed: seed), out)
    }
}

@_cdecl("l2l_learner_free")
public func l2l_learner_free(_ learner: OpaquePointer?) { release(learner, LearnerHandle.self) }

@_cdecl("l2l_learner_info")
public func l2l_learner_info(_ learner: OpaquePointer?, _ params: UnsafeMutablePointer<Int64>?,
                             _ tensors: UnsafeMutablePointer<Int64>?, _ features: UnsafeMutablePointer<Int64>?,
                             _ classes: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let l = try object(learner, LearnerHandle.self, "learner").learner
        params?.pointee = Int64(l.parameterCount)
        tensors?.pointee = Int64(l.parameterSpecs.count)
        features?.pointee = Int64(l.inputFeatures)
        classes?.pointee = Int64(l.classes)
    }
}

/// Mirrors `l2l_param_info` of include/l2l.h.
public struct ParamInfoLayout {
    var name: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)  // char[64]
    var kind: Int32
    var rank: Int32
    var shape: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64)
    var offset: Int64
    var count: Int64
}

@_cdecl("l2l_learner_param_info")
public func l2l_learner_param_info(_ learner: OpaquePointer?, _ index: Int64,
                                   _ info: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let specs = try object(learner, LearnerHandle.self, "learner").learner.parameterSpecs
        let info = try required(info, "info").bindMemory(to: ParamInfoLayout.self, capacity: 1)
        guard index >= 0, index < Int64(specs.count) else {
            throw invalid("index \(index) is outside 0..<\(specs.count)")
        }
        let spec = specs[Int(index)]
        var r = ParamInfoLayout(name: (0, 0, 0, 0, 0, 0, 0, 0), kind: spec.kind.code, rank: Int32(spec.shape.count),
                                shape: (0, 0, 0, 0, 0, 0, 0, 0),
                                offset: Int64(specs[..<Int(index)].reduce(0) { $0 + $1.count }), count: Int64(spec.count))
        withUnsafeMutableBytes(of: &r.name) { buf in
            let bytes = Array(spec.name.utf8.prefix(buf.count - 1))
            for (i, b) in bytes.enumerated() { buf[i] = b }
        }
        withUnsafeMutableBytes(of: &r.shape) { buf in
            let dims = buf.bindMemory(to: Int64.self)
            for (i, d) in spec.shape.prefix(dims.count).enumerated() { dims[i] = Int64(d) }
        }
        info.pointee = r
    }
}

@_cdecl("l2l_learner_get_params")
public func l2l_learner_get_params(_ learner: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?,
                                   _ capacity: Int64, _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        try deliver(h.state.parameters, into: out, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_learner_set_params")
public func l2l_learner_set_params(_ learner: OpaquePointer?, _ values: UnsafePointer<Float>?, _ n: Int64) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        let n = try count(n, "count")
        let values = try required(values, "values")
        h.state.parameters = try h.learner.parameters(flat: UnsafeBufferPointer(start: values, count: n))
        h.gradients = nil
        h.batch = nil
    }
}

@_cdecl("l2l_learner_loss_grad")
public func l2l_learner_loss_grad(_ learner: OpaquePointer?, _ inputs: UnsafePointer<Float>?,
                                  _ labels: UnsafePointer<Int32>?, _ n: Int64, _ features: Int64,
                                  _ loss: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        let x = try h.batch(inputs, n, features)
        let y = Array(UnsafeBufferPointer(start: try required(labels, "labels"), count: x.shape[0]))
        try h.learner.validate(inputs: x, labels: y)
        let (value, grads, buffers) = Training.lossAndGradients(h.learner, h.state, x, .labels(y))
        guard value.isFinite else {
            throw ABIError(status: L2L_ERR_NON_FINITE, message: "the loss is \(value); no gradient stored")
        }
        h.gradients = (grads, buffers)
        h.batch = (x, y)
        loss?.pointee = value
    }
}

@_cdecl("l2l_learner_loss_grad_values")
public func l2l_learner_loss_grad_values(_ learner: OpaquePointer?, _ inputs: UnsafePointer<Float>?,
                                         _ targets: UnsafePointer<Float>?, _ n: Int64, _ features: Int64,
                                         _ outputs: Int64, _ loss: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        let x = try h.batch(inputs, n, features)
        let k = try count(outputs, "outputs")
        _ = try matrixCount(x.shape[0], k)
        let y = Tensor(shape: [x.shape[0], k], copying: try required(targets, "targets"))
        try h.learner.validate(inputs: x, targets: .values(y))
        let (value, grads, buffers) = Training.lossAndGradients(h.learner, h.state, x, .values(y))
        guard value.isFinite else {
            throw ABIError(status: L2L_ERR_NON_FINITE, message: "the loss is \(value); no gradient stored")
        }
        h.gradients = (grads, buffers)
        // A Hessian-free step models a labelled batch only (l2l_optimizer_step says so).
        h.batch = nil
        loss?.pointee = value
    }
}

@_cdecl("l2l_learner_get_grads")
public func l2l_learner_get_grads(_ learner: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?,
                                  _ capacity: Int64, _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        guard let grads = h.gradients else {
            throw ABIError(status: L2L_ERR_STATE, message: "no gradient stored: call l2l_learner_loss_grad first")
        }
        try deliver(grads.parameters, into: out, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_learner_forward")
public func l2l_learner_forward(_ learner: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ n: Int64,
                                _ features: Int64, _ logits: UnsafeMutablePointer<Float>?, _ capacity: Int64) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        let x = try h.batch(inputs, n, features)
        let out = try required(logits, "logits")
        let needed = x.shape[0] * h.learner.classes
        guard capacity >= Int64(needed) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "logits buffer holds \(capacity) floats, \(needed) are needed")
        }
        let output = withoutGraph { h.learner.forward(h.state.parameters, x, buffers: h.state.buffers, training: false).output }
        flatten([output], into: out)
    }
}

@_cdecl("l2l_learner_evaluate")
public func l2l_learner_evaluate(_ learner: OpaquePointer?, _ dataset: OpaquePointer?,
                                 _ loss: UnsafeMutablePointer<Float>?, _ accuracy: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        try Training.checkCompatible(h.learner, d, regression: true)
        let (l, a) = Training.evaluate(h.learner, h.state, on: d)
        guard l.isFinite else { throw ABIError(status: L2L_ERR_NON_FINITE, message: "the loss is \(l)") }
        loss?.pointee = l
        accuracy?.pointee = a
    }
}

import L2L

// Optimisers on the caller's own arrays (include/l2l.h, "Optimisers on your own arrays"):
// any l2l optimiser, learned ones included, updating parameters the caller holds.

@_cdecl("l2l_optimizer_fork")
public func l2l_optimizer_fork(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ optimizer: OpaquePointer?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        store(OptimizerHandle(o.session.fresh(), requiredShapes: o.requiredShapes, requiredKinds: o.requiredKinds), out)
    }
}

@_cdecl("l2l_optimizer_update")
public func l2l_optimizer_update(_ optimizer: OpaquePointer?, _ tensors: Int64, _ ranks: UnsafePointer<Int64>?,
                                 _ dims: UnsafePointer<Int64>?, _ parameters: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                                 _ gradients: UnsafePointer<UnsafePointer<Float>?>?, _ inputs: UnsafePointer<Float>?,
                                 _ rows: Int64, _ features: Int64) -> Int32 {
    guarded {
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        let shapes = try tensorShapes(tensors, ranks, dims)
        if let required = o.requiredShapes, required != shapes {
            throw ABIError(status: L2L_ERR_SHAPE, message: "this learned optimiser was built for parameter shapes \(required), got \(shapes)")
        }
        guard o.requiredKinds == nil, !o.session.needsCurvature else {
            throw ABIError(status: L2L_ERR_STATE, message: "a Hessian-free optimiser steps from a model of the loss, not from arrays: use l2l_optimizer_step with a learner")
        }
        let parameters = try required(parameters, "parameters"), gradients = try required(gradients, "gradients")
        var params = try shapes.indices.map { k in Tensor(shape: shapes[k], copying: try required(parameters[k], "parameters[\(k)]")) }
        let grads = try shapes.indices.map { k in Tensor(shape: shapes[k], copying: try required(gradients[k], "gradients[\(k)]")) }
        guard params.allSatisfy(\.isFinite) else { throw ABIError(status: L2L_ERR_NON_FINITE, message: "parameters contain NaN or infinity; nothing changed") }
        guard grads.allSatisfy(\.isFinite) else { throw ABIError(status: L2L_ERR_NON_FINITE, message: "gradients contain NaN or infinity; nothing changed") }
        var batch: Tensor? = nil
        if let inputs {
            let rows = try count(rows, "rows"), features = try count(features, "features")
            _ = try matrixCount(rows, features)
            batch = Tensor(shape: [rows, features], copying: inputs)
        }
        try o.session.step(&params, gradients: grads, inputs: batch)
        for k in shapes.indices {
            params[k].withUnsafeBufferPointer { parameters[k]!.update(from: $0.baseAddress!, count: $0.count) }
        }
    }
}

@_cdecl("l2l_optimizer_parameter_shapes")
public func l2l_optimizer_parameter_shapes(_ optimizer: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                                           _ capacity: Int64, _ length: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        let text = o.requiredShapes.map { "[" + $0.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]" } ?? "null"
        let bytes = Array(text.utf8)
        length?.pointee = Int64(bytes.count + 1)
        guard let buffer else {
            if length == nil { throw invalid("both the buffer and length are NULL") }
            return
        }
        guard capacity > Int64(bytes.count) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "buffer holds \(capacity) bytes, \(bytes.count + 1) are needed")
        }
        for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
        buffer[bytes.count] = 0
    }
}

@_cdecl("l2l_optimizer_get_state")
public func l2l_optimizer_get_state(_ optimizer: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64,
                                    _ n: UnsafeMutablePointer<Int64>?, _ step: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        guard let (values, count) = o.session.exportState() else {
            throw ABIError(status: L2L_ERR_STATE, message: "no state to read: the optimiser has not stepped yet (or its state cannot be exported)")
        }
        step?.pointee = Int64(count)
        try deliver(values.count, into: out, capacity: capacity, count: n) { $0.update(from: values, count: values.count) }
    }
}

@_cdecl("l2l_optimizer_set_state")
public func l2l_optimizer_set_state(_ optimizer: OpaquePointer?, _ tensors: Int64, _ ranks: UnsafePointer<Int64>?,
                                    _ dims: UnsafePointer<Int64>?, _ values: UnsafePointer<Float>?, _ n: Int64,
                                    _ step: Int64) -> Int32 {
    guarded {
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        let shapes = try tensorShapes(tensors, ranks, dims)
        if let required = o.requiredShapes, required != shapes {
            throw ABIError(status: L2L_ERR_SHAPE, message: "this learned optimiser was built for parameter shapes \(required), got \(shapes)")
        }
        let n = try count(n, "n")
        let values = n == 0 ? [] : Array(UnsafeBufferPointer(start: try required(values, "values"), count: n))
        try o.session.importState(values, stepCount: Int(step), for: shapes)
    }
}

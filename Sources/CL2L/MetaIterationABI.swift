import L2L

// One meta-iteration in two halves (include/l2l.h, "Meta-training across processes"):
// members' meta-gradients and summaries out as flat float32 rows, the combined gradient and
// every member's summary in, φ as one flat buffer. The library never communicates; the
// caller's MPI (or anything else) moves the buffers.

/// Floats per member summary: meta-loss, last loss, last gradient norm, lost (0 or 1).
let metaSummarySize = 4

/// The trainer behind a handle (shared by every function of this file).
private func trainer(_ h: OpaquePointer?) throws -> MetaTrainer {
    try object(h, MetaTrainerHandle.self, "trainer").trainer
}

/// φ's tensor shapes, the layout of every flat φ-sized buffer.
private func shapes(_ t: MetaTrainer) -> [[Int]] { t.meta.map(\.shape) }

/// Tensors of `shapes` from consecutive values at `values` (copied; not checked for NaN).
private func unflatten(_ values: UnsafePointer<Float>, shapes: [[Int]]) -> [Tensor] {
    var start = 0
    return shapes.map { shape in
        defer { start += shape.reduce(1, *) }
        return Tensor(shape: shape, copying: values + start)
    }
}

@_cdecl("l2l_meta_trainer_sizes")
public func l2l_meta_trainer_sizes(_ trainer: OpaquePointer?, _ metaBatch: UnsafeMutablePointer<Int64>?,
                                   _ phiCount: UnsafeMutablePointer<Int64>?, _ trials: UnsafeMutablePointer<Int64>?,
                                   _ iterationsPerTrial: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let t = try CL2L.trainer(trainer)
        metaBatch?.pointee = Int64(t.config.metaBatch)
        phiCount?.pointee = Int64(t.optimiser.metaParameterCount)
        trials?.pointee = Int64(t.config.trials)
        iterationsPerTrial?.pointee = Int64(t.iterationsPerTrial)
    }
}

@_cdecl("l2l_meta_trainer_get_phi")
public func l2l_meta_trainer_get_phi(_ trainer: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64,
                                     _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let t = try CL2L.trainer(trainer)
        try deliver(t.meta, into: out, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_meta_trainer_set_phi")
public func l2l_meta_trainer_set_phi(_ trainer: OpaquePointer?, _ values: UnsafePointer<Float>?, _ n: Int64) -> Int32 {
    guarded {
        let t = try CL2L.trainer(trainer)
        guard !t.isIterationOpen else { throw ABIError(status: L2L_ERR_STATE, message: "phi cannot change during a meta-iteration (apply it first)") }
        try t.setMeta(try metaParameters(values, n, specs: t.optimiser.metaParameterSpecs, owner: t.optimiser.kind))
    }
}

@_cdecl("l2l_meta_trainer_estimate")
public func l2l_meta_trainer_estimate(_ trainer: OpaquePointer?, _ members: UnsafePointer<Int64>?, _ count: Int64,
                                      _ gradients: UnsafeMutablePointer<Float>?, _ gradientsCapacity: Int64,
                                      _ summaries: UnsafeMutablePointer<Float>?, _ summariesCapacity: Int64) -> Int32 {
    guarded {
        let t = try CL2L.trainer(trainer)
        let k = try CL2L.count(count, "count")
        let ids = k == 0 ? [] : Array(UnsafeBufferPointer(start: try required(members, "members"), count: k))
        let p = t.optimiser.metaParameterCount
        if k > 0 {
            _ = try required(gradients, "gradients")
            _ = try required(summaries, "summaries")
            guard gradientsCapacity >= Int64(try matrixCount(k, p)), summariesCapacity >= Int64(k * metaSummarySize) else {
                throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL,
                               message: "\(k) members need \(k * p) gradient floats and \(k * metaSummarySize) summary floats, the buffers hold \(gradientsCapacity) and \(summariesCapacity)")
            }
        }
        guard t.trialsDone < t.config.trials else { throw ABIError(status: L2L_ERR_STATE, message: "every trial is done") }
        let estimates = try t.estimate(members: ids.map { Int($0) })
        for (i, e) in estimates.enumerated() {
            if let g = e.gradient { flatten(g, into: gradients! + i * p) }
            else { (gradients! + i * p).update(repeating: .nan, count: p) }
            let s = e.summary
            (summaries! + i * metaSummarySize).update(from: [s.metaLoss, s.lastLoss, s.lastGradientNorm, s.lost ? 1 : 0], count: metaSummarySize)
        }
    }
}

@_cdecl("l2l_meta_trainer_combine")
public func l2l_meta_trainer_combine(_ trainer: OpaquePointer?, _ gradients: UnsafePointer<Float>?, _ count: Int64,
                                     _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64) -> Int32 {
    guarded {
        let t = try CL2L.trainer(trainer)
        let n = try CL2L.count(count, "count"), p = t.optimiser.metaParameterCount, b = t.config.metaBatch
        let gradients = try required(gradients, "gradients"), out = try required(out, "out")
        guard n == b * p else {
            throw ABIError(status: L2L_ERR_SHAPE, message: "gradients must hold meta_batch × phi_count = \(b) × \(p) floats, got \(n)")
        }
        guard capacity >= Int64(p) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "out holds \(capacity) floats, \(p) are needed")
        }
        let rows = (0..<b).map { unflatten(gradients + $0 * p, shapes: shapes(t)) }
        flatten(try t.combine(rows), into: out)
    }
}

@_cdecl("l2l_meta_trainer_apply")
public func l2l_meta_trainer_apply(_ trainer: OpaquePointer?, _ summaries: UnsafePointer<Float>?, _ summariesCount: Int64,
                                   _ gradient: UnsafePointer<Float>?, _ gradientCount: Int64) -> Int32 {
    guarded {
        let t = try CL2L.trainer(trainer)
        let n = try CL2L.count(summariesCount, "summaries_count"), g = try CL2L.count(gradientCount, "gradient_count")
        let summaries = try required(summaries, "summaries")
        guard t.isIterationOpen else { throw ABIError(status: L2L_ERR_STATE, message: "no meta-iteration is open (estimate members first)") }
        guard n == t.config.metaBatch * metaSummarySize else {
            throw ABIError(status: L2L_ERR_SHAPE, message: "summaries must hold meta_batch × \(metaSummarySize) = \(t.config.metaBatch * metaSummarySize) floats, got \(n)")
        }
        let list = try (0..<t.config.metaBatch).map { m -> MemberSummary in
            let row = summaries + m * metaSummarySize
            guard row[3] == 0 || row[3] == 1 else { throw invalid("summaries[\(m)]: lost must be 0 or 1, got \(row[3])") }
            return MemberSummary(metaLoss: row[0], lastLoss: row[1], lastGradientNorm: row[2], lost: row[3] == 1)
        }
        var combined: [Tensor]? = nil
        if let gradient {
            let p = t.optimiser.metaParameterCount
            guard g == p else { throw ABIError(status: L2L_ERR_SHAPE, message: "gradient must hold phi_count = \(p) floats, got \(g)") }
            combined = unflatten(gradient, shapes: shapes(t))
        }
        try t.finishIteration(members: list, gradient: combined)
    }
}

import L2L

public typealias ProgressCallback = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64, Float) -> Int32

@_cdecl("l2l_train")
public func l2l_train(_ learner: OpaquePointer?, _ optimizer: OpaquePointer?, _ batches: OpaquePointer?,
                      _ steps: Int64, _ losses: UnsafeMutablePointer<Float>?,
                      _ progress: ProgressCallback?, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let h = try object(learner, LearnerHandle.self, "learner")
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        let b = try object(batches, BatchesHandle.self, "batches")
        let steps = try count(steps, "steps")
        try Training.checkCompatible(h.learner, b.batches.dataset, regression: true)
        try o.check(fits: h.learner)
        defer { h.gradients = nil; h.batch = nil }
        try Training.train(h.learner, &h.state, optimiser: o.session, batches: &b.batches, steps: steps) { s, total, loss in
            losses?[s - 1] = loss
            guard let progress else { return true }
            return progress(user, Int64(s), Int64(total), loss) == 0
        }
    }
}

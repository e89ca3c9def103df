import L2L

// Few-shot meta-learning (include/l2l.h, "Few-shot meta-learning"): MAML, FOMAML and
// Meta-SGD over a learner's architecture, meta-trained on a task family.

/// The object behind an `l2l_fewshot*`.
final class FewShotHandle {
    let meta: FewShotLearner
    init(_ meta: FewShotLearner) { self.meta = meta }
}

@_cdecl("l2l_fewshot_create")
public func l2l_fewshot_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ learner: OpaquePointer?,
                               _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let h = try object(learner, LearnerHandle.self, "learner")
        let config = try FewShotConfig(options: optionalString(options))
        store(FewShotHandle(try FewShotLearner(learner: h.learner, config: config, initialisation: h.state.parameters)), out)
    }
}

@_cdecl("l2l_fewshot_free")
public func l2l_fewshot_free(_ fewshot: OpaquePointer?) { release(fewshot, FewShotHandle.self) }

@_cdecl("l2l_fewshot_info")
public func l2l_fewshot_info(_ fewshot: OpaquePointer?, _ metaParams: UnsafeMutablePointer<Int64>?,
                             _ iterations: UnsafeMutablePointer<Int64>?, _ events: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let m = try object(fewshot, FewShotHandle.self, "fewshot").meta
        metaParams?.pointee = Int64(m.meta.reduce(0) { $0 + $1.count })
        iterations?.pointee = Int64(m.iterations)
        events?.pointee = Int64(m.events.count)
    }
}

@_cdecl("l2l_fewshot_get_meta")
public func l2l_fewshot_get_meta(_ fewshot: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?,
                                 _ capacity: Int64, _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let meta = try object(fewshot, FewShotHandle.self, "fewshot").meta.meta
        try deliver(meta, into: out, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_fewshot_fit")
public func l2l_fewshot_fit(_ fewshot: OpaquePointer?, _ tasks: UnsafePointer<CChar>?, _ taskOptions: UnsafePointer<CChar>?,
                            _ options: UnsafePointer<CChar>?, _ iterations: Int64, _ losses: UnsafeMutablePointer<Float>?,
                            _ progress: ProgressCallback?, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let m = try object(fewshot, FewShotHandle.self, "fewshot").meta
        let family = try Factory.fewShotTasks(kind: try string(tasks, "tasks"), options: optionalString(taskOptions))
        let iterations = try count(iterations, "iterations")
        try m.setEpisodes(options: optionalString(options))
        try m.fit(family, iterations: iterations) { i, total, loss in
            losses?[i - 1] = loss
            guard let progress else { return true }
            return progress(user, Int64(i), Int64(total), loss) == 0
        }
    }
}

@_cdecl("l2l_fewshot_adapt")
public func l2l_fewshot_adapt(_ fewshot: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?,
                              _ n: Int64, _ features: Int64, _ outputs: Int64, _ steps: Int64,
                              _ into: OpaquePointer?) -> Int32 {
    guarded {
        let m = try object(fewshot, FewShotHandle.self, "fewshot").meta
        let target = try object(into, LearnerHandle.self, "into")
        guard target.learner.parameterSpecs.map(\.shape) == m.learner.parameterSpecs.map(\.shape),
              target.learner.initialBuffers().isEmpty else {
            throw ABIError(status: L2L_ERR_SHAPE, message: "into: the learner's parameter shapes differ from the meta-learner's")
        }
        let x = try target.batch(inputs, n, features)
        let k = try count(outputs, "outputs")
        _ = try matrixCount(x.shape[0], k)
        let y = Tensor(shape: [x.shape[0], k], copying: try required(targets, "targets"))
        let theta = try m.adapt(FewShotSet(inputs: x, targets: .values(y)), steps: steps < 0 ? nil : Int(steps))
        target.state = LearnerState(parameters: theta)
        target.gradients = nil
        target.batch = nil
    }
}

@_cdecl("l2l_fewshot_evaluate")
public func l2l_fewshot_evaluate(_ fewshot: OpaquePointer?, _ tasks: UnsafePointer<CChar>?, _ taskOptions: UnsafePointer<CChar>?,
                                 _ taskCount: Int64, _ shots: UnsafePointer<Int64>?, _ shotCount: Int64, _ steps: Int64,
                                 _ seed: UInt64, _ losses: UnsafeMutablePointer<Float>?, _ means: UnsafeMutablePointer<Float>?,
                                 _ intervals: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let m = try object(fewshot, FewShotHandle.self, "fewshot").meta
        let family = try Factory.fewShotTasks(kind: try string(tasks, "tasks"), options: optionalString(taskOptions))
        let t = try count(taskCount, "task_count"), s = try count(shotCount, "shot_count")
        guard t >= 1, s >= 1 else { throw invalid("task_count and shot_count must be at least 1") }
        _ = try matrixCount(t, s)
        let ks = Array(UnsafeBufferPointer(start: try required(shots, "shots"), count: s))
        guard ks.allSatisfy({ (1...1_000_000).contains($0) }) else { throw invalid("every shot count must be in 1...1000000") }
        let scores = try m.evaluate(family, tasks: t, shots: ks.map { Int($0) }, steps: steps < 0 ? nil : Int(steps), seed: seed)
        for (j, score) in scores.enumerated() {
            if let losses { for (i, l) in score.losses.enumerated() { losses[j * t + i] = l } }
            means?[j] = score.mean
            intervals?[j] = score.interval95
        }
    }
}

@_cdecl("l2l_fewshot_save")
public func l2l_fewshot_save(_ fewshot: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded { try object(fewshot, FewShotHandle.self, "fewshot").meta.save(to: try string(path, "path")) }
}

@_cdecl("l2l_fewshot_load")
public func l2l_fewshot_load(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ path: UnsafePointer<CChar>?,
                             _ learner: OpaquePointer?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let l = try object(learner, LearnerHandle.self, "learner").learner
        store(FewShotHandle(try FewShotLearner.load(from: try string(path, "path"), learner: l)), out)
    }
}

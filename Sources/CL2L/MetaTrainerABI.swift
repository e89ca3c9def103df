import L2L

// Meta-training (include/l2l.h, "Meta-training"): Algorithm 1 over a list of tasks, with a
// cancellable progress callback, history, events and checkpoints.

/// The object behind an `l2l_meta_trainer*`: the engine and the parameter shapes of its
/// tasks' learners (what the trained optimiser is tied to, for per-parameter kinds).
final class MetaTrainerHandle {
    let trainer: MetaTrainer
    let parameterShapes: [[Int]]
    init(_ trainer: MetaTrainer, parameterShapes: [[Int]]) {
        self.trainer = trainer
        self.parameterShapes = parameterShapes
    }
}

public typealias MetaProgressCallback = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64, Float) -> Int32

// Event kinds of include/l2l.h (L2L_EVENT_*).
let eventCodes: [MetaEvent.Kind: Int32] = [.nonFiniteLoss: 0, .nonFiniteGradient: 1, .rollback: 2, .collapse: 3]

/// The tasks of a meta-training run from the caller's arrays of learners and data sets,
/// checked against each other and against the learned optimiser's shapes.
private func metaTasks(_ learned: LearnedHandle, _ learners: UnsafePointer<OpaquePointer?>?,
                       _ datasets: UnsafePointer<OpaquePointer?>?, _ n: Int64) throws -> [MetaTask] {
    let n = try count(n, "tasks")
    guard n >= 1 else { throw invalid("tasks must be at least 1") }
    let learners = try required(learners, "learners"), datasets = try required(datasets, "datasets")
    return try (0..<n).map { i in
        let l = try object(learners[i], LearnerHandle.self, "learners[\(i)]").learner
        let d = try object(datasets[i], DatasetHandle.self, "datasets[\(i)]").dataset
        try checkShapes(learned.requiredShapes, fit: l, "the learned optimiser")
        return try MetaTask.checked(learner: l, data: d)
    }
}

/// Meta-training options as a configuration (unknown keys rejected).
func metaConfig(_ options: UnsafePointer<CChar>?) throws -> MetaTrainingConfig {
    var config = try Config(optionalString(options), context: "meta-training")
    let made = try MetaTrainingConfig(config: &config)
    try config.finish()
    return made
}

@_cdecl("l2l_meta_trainer_create")
public func l2l_meta_trainer_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ learned: OpaquePointer?,
                                    _ learners: UnsafePointer<OpaquePointer?>?, _ datasets: UnsafePointer<OpaquePointer?>?,
                                    _ tasks: Int64, _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let h = try object(learned, LearnedHandle.self, "learned")
        let list = try metaTasks(h, learners, datasets, tasks)
        let trainer = try MetaTrainer(h.optimiser, tasks: list, config: try metaConfig(options), meta: h.meta)
        store(MetaTrainerHandle(trainer, parameterShapes: h.parameterShapes), out)
    }
}

@_cdecl("l2l_meta_trainer_resume")
public func l2l_meta_trainer_resume(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ path: UnsafePointer<CChar>?,
                                    _ learned: OpaquePointer?, _ learners: UnsafePointer<OpaquePointer?>?,
                                    _ datasets: UnsafePointer<OpaquePointer?>?, _ tasks: Int64,
                                    _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let path = try string(path, "checkpoint_path")
        let h = try object(learned, LearnedHandle.self, "learned")
        let list = try metaTasks(h, learners, datasets, tasks)
        let trainer = try MetaTrainer(resuming: path, optimiser: h.optimiser, tasks: list, config: try metaConfig(options))
        store(MetaTrainerHandle(trainer, parameterShapes: h.parameterShapes), out)
    }
}

@_cdecl("l2l_meta_trainer_free")
public func l2l_meta_trainer_free(_ trainer: OpaquePointer?) { release(trainer, MetaTrainerHandle.self) }

@_cdecl("l2l_meta_trainer_run")
public func l2l_meta_trainer_run(_ trainer: OpaquePointer?, _ trials: Int64, _ progress: MetaProgressCallback?,
                                 _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let t = try object(trainer, MetaTrainerHandle.self, "trainer").trainer
        // Clamped here to the configured trials (the header's rule), so a huge count cannot
        // overflow the trainer's arithmetic.
        let limit: Int? = trials < 0 ? nil : Int(min(trials, Int64(t.config.trials)))
        try t.run(trials: limit) { trial, step, loss in
            guard let progress else { return true }
            return progress(user, Int64(trial), Int64(step), loss) == 0
        }
    }
}

@_cdecl("l2l_meta_trainer_info")
public func l2l_meta_trainer_info(_ trainer: OpaquePointer?, _ trialsDone: UnsafeMutablePointer<Int64>?,
                                  _ metaSteps: UnsafeMutablePointer<Int64>?, _ unrolls: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let t = try object(trainer, MetaTrainerHandle.self, "trainer").trainer
        trialsDone?.pointee = Int64(t.trialsDone)
        metaSteps?.pointee = Int64(t.metaSteps)
        unrolls?.pointee = Int64(t.history.count)
    }
}

@_cdecl("l2l_meta_trainer_history")
public func l2l_meta_trainer_history(_ trainer: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64,
                                     _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let history = try object(trainer, MetaTrainerHandle.self, "trainer").trainer.history
        try deliver(history.count, into: out, capacity: capacity, count: n) { $0.update(from: history, count: history.count) }
    }
}

@_cdecl("l2l_meta_trainer_events")
public func l2l_meta_trainer_events(_ trainer: OpaquePointer?, _ kinds: UnsafeMutablePointer<Int32>?,
                                    _ trials: UnsafeMutablePointer<Int64>?, _ steps: UnsafeMutablePointer<Int64>?,
                                    _ capacity: Int64, _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let events = try object(trainer, MetaTrainerHandle.self, "trainer").trainer.events
        try deliver(events, kinds: kinds, trials: trials, steps: steps, capacity: capacity, count: n)
    }
}

/// Copies events into a caller's parallel buffers (each may be NULL) of `capacity`, or
/// reports their number only (all three NULL).
func deliver(_ events: [MetaEvent], kinds: UnsafeMutablePointer<Int32>?, trials: UnsafeMutablePointer<Int64>?,
             steps: UnsafeMutablePointer<Int64>?, capacity: Int64, count n: UnsafeMutablePointer<Int64>?) throws {
    n?.pointee = Int64(events.count)
    if kinds == nil && trials == nil && steps == nil {
        if n == nil { throw invalid("every buffer and count are NULL") }
        return
    }
    guard capacity >= Int64(events.count) else {
        throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "buffers hold \(capacity) events, \(events.count) are needed")
    }
    for (i, e) in events.enumerated() {
        kinds?[i] = eventCodes[e.kind] ?? -1
        trials?[i] = Int64(e.trial)
        steps?[i] = Int64(e.step)
    }
}

@_cdecl("l2l_meta_trainer_evaluate")
public func l2l_meta_trainer_evaluate(_ trainer: OpaquePointer?, _ instances: Int64, _ seed: UInt64,
                                      _ metaLoss: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let t = try object(trainer, MetaTrainerHandle.self, "trainer").trainer
        let out = try required(metaLoss, "meta_loss")
        guard instances >= 1, instances <= 1_000_000 else { throw invalid("instances must be in 1...1000000, got \(instances)") }
        let value = try t.evaluate(instances: Int(instances), seed: seed)
        guard value.isFinite else {
            throw ABIError(status: L2L_ERR_NON_FINITE, message: "a learner's loss stopped being finite (meta-loss \(value))")
        }
        out.pointee = value
    }
}

@_cdecl("l2l_meta_trainer_save_checkpoint")
public func l2l_meta_trainer_save_checkpoint(_ trainer: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let t = try object(trainer, MetaTrainerHandle.self, "trainer").trainer
        try t.saveCheckpoint(to: try string(path, "path"))
    }
}

@_cdecl("l2l_meta_trainer_get_learned")
public func l2l_meta_trainer_get_learned(_ trainer: OpaquePointer?, _ into: OpaquePointer?) -> Int32 {
    guarded {
        let t = try object(trainer, MetaTrainerHandle.self, "trainer")
        let h = try object(into, LearnedHandle.self, "into")
        let source = t.trainer.optimiser, target = h.optimiser
        guard source.kind == target.kind, source.options == target.options else {
            throw invalid("the trainer holds \(source.kind) (\(source.options)), the handle \(target.kind) (\(target.options))")
        }
        guard source.metaParameterSpecs == target.metaParameterSpecs, t.parameterShapes == h.parameterShapes else {
            throw ABIError(status: L2L_ERR_SHAPE, message: "the trainer's optimiser was built for learner shapes \(t.parameterShapes), the handle's for \(h.parameterShapes)")
        }
        h.meta = t.trainer.meta.map { $0.detached() }
    }
}

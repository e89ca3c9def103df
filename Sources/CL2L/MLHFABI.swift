import L2L

// MLHF (include/l2l.h, "MLHF"): meta-learning with Hessian-free — an MLHF with its φ,
// saved and loaded as .safetensors, meta-trained on one learner and data set, and turned
// into an ordinary l2l_optimizer.

/// The object behind an `l2l_mlhf*`: an MLHF and its φ.
final class MLHFHandle {
    let mlhf: MLHF
    var meta: [Tensor]
    init(_ mlhf: MLHF, meta: [Tensor]) throws {
        try mlhf.validate(meta: meta)
        self.mlhf = mlhf
        self.meta = meta.map { $0.detached() }
    }
}

/// The object behind an `l2l_mlhf_trainer*`.
final class MLHFTrainerHandle {
    let trainer: MLHFTrainer
    init(_ trainer: MLHFTrainer) { self.trainer = trainer }
}

/// Mirrors `l2l_mlhf_record` of include/l2l.h.
public struct MLHFRecordLayout {
    var preconditionLoss: Float
    var dampingLoss: Float
    var residualNorm: Float
    var trainingLoss: Float
    var damping: Float

    init(_ r: MLHFRecord) {
        (preconditionLoss, dampingLoss, residualNorm, trainingLoss, damping) =
            (r.preconditionLoss, r.dampingLoss, r.residualNorm, r.trainingLoss, r.damping)
    }
}

public typealias MLHFProgressCallback = @convention(c) (UnsafeMutableRawPointer?, Int64, UnsafeRawPointer?) -> Int32

@_cdecl("l2l_mlhf_create")
public func l2l_mlhf_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ options: UnsafePointer<CChar>?,
                            _ seed: UInt64) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let mlhf = try MLHF(options: optionalString(options))
        var rng = RNG(seed: seed)
        store(try MLHFHandle(mlhf, meta: mlhf.initialMetaParameters(rng: &rng)), out)
    }
}

@_cdecl("l2l_mlhf_free")
public func l2l_mlhf_free(_ mlhf: OpaquePointer?) { release(mlhf, MLHFHandle.self) }

@_cdecl("l2l_mlhf_info")
public func l2l_mlhf_info(_ mlhf: OpaquePointer?, _ params: UnsafeMutablePointer<Int64>?,
                          _ tensors: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let specs = try object(mlhf, MLHFHandle.self, "mlhf").mlhf.metaParameterSpecs
        params?.pointee = Int64(specs.reduce(0) { $0 + $1.count })
        tensors?.pointee = Int64(specs.count)
    }
}

@_cdecl("l2l_mlhf_describe")
public func l2l_mlhf_describe(_ mlhf: OpaquePointer?, _ options: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded {
        let h = try object(mlhf, MLHFHandle.self, "mlhf")
        try copyString(h.mlhf.options, into: try required(options, "options"), capacity: capacity, "options")
    }
}

@_cdecl("l2l_mlhf_get_meta")
public func l2l_mlhf_get_meta(_ mlhf: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64,
                              _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let h = try object(mlhf, MLHFHandle.self, "mlhf")
        try deliver(h.meta, into: out, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_mlhf_set_meta")
public func l2l_mlhf_set_meta(_ mlhf: OpaquePointer?, _ values: UnsafePointer<Float>?, _ n: Int64) -> Int32 {
    guarded {
        let h = try object(mlhf, MLHFHandle.self, "mlhf")
        h.meta = try metaParameters(values, n, specs: h.mlhf.metaParameterSpecs, owner: "mlhf")
    }
}

@_cdecl("l2l_mlhf_save")
public func l2l_mlhf_save(_ mlhf: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let h = try object(mlhf, MLHFHandle.self, "mlhf")
        try MLHFFile(h.mlhf, meta: h.meta).write(to: try string(path, "path"))
    }
}

@_cdecl("l2l_mlhf_load")
public func l2l_mlhf_load(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let file = try MLHFFile.read(try string(path, "path"))
        store(try MLHFHandle(file.mlhf, meta: file.meta), out)
    }
}

@_cdecl("l2l_optimizer_create_mlhf")
public func l2l_optimizer_create_mlhf(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ mlhf: OpaquePointer?,
                                      _ learner: OpaquePointer?, _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let h = try object(mlhf, MLHFHandle.self, "mlhf")
        let kinds = try object(learner, LearnerHandle.self, "learner").learner.parameterSpecs.map(\.kind)
        let config = try Config(optionalString(options), context: "mlhf optimiser")
        try config.finish()
        let trained = try TrainedMLHF(h.mlhf, meta: h.meta, kinds: kinds)
        store(OptimizerHandle(OptimiserSession(trained), requiredKinds: kinds), out)
    }
}

// MARK: Meta-training

@_cdecl("l2l_mlhf_trainer_create")
public func l2l_mlhf_trainer_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ mlhf: OpaquePointer?,
                                    _ learner: OpaquePointer?, _ dataset: OpaquePointer?,
                                    _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let h = try object(mlhf, MLHFHandle.self, "mlhf")
        let l = try object(learner, LearnerHandle.self, "learner").learner
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        var config = try Config(optionalString(options), context: "mlhf meta-training")
        let settings = try MLHFTrainingConfig(config: &config)
        try config.finish()
        store(MLHFTrainerHandle(try MLHFTrainer(h.mlhf, learner: l, data: d, config: settings, meta: h.meta)), out)
    }
}

@_cdecl("l2l_mlhf_trainer_free")
public func l2l_mlhf_trainer_free(_ trainer: OpaquePointer?) { release(trainer, MLHFTrainerHandle.self) }

@_cdecl("l2l_mlhf_trainer_run")
public func l2l_mlhf_trainer_run(_ trainer: OpaquePointer?, _ iterations: Int64, _ progress: MLHFProgressCallback?,
                                 _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let t = try object(trainer, MLHFTrainerHandle.self, "trainer").trainer
        let n = iterations < 0 ? max(0, t.config.iterations - t.history.count) : try count(iterations, "iterations")
        try t.run(iterations: n) { iteration, record in
            guard let progress else { return true }
            var layout = MLHFRecordLayout(record)
            return progress(user, Int64(iteration), &layout) == 0
        }
    }
}

@_cdecl("l2l_mlhf_trainer_info")
public func l2l_mlhf_trainer_info(_ trainer: OpaquePointer?, _ done: UnsafeMutablePointer<Int64>?,
                                  _ configured: UnsafeMutablePointer<Int64>?, _ events: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let t = try object(trainer, MLHFTrainerHandle.self, "trainer").trainer
        done?.pointee = Int64(t.history.count)
        configured?.pointee = Int64(t.config.iterations)
        events?.pointee = Int64(t.events.count)
    }
}

@_cdecl("l2l_mlhf_trainer_history")
public func l2l_mlhf_trainer_history(_ trainer: OpaquePointer?, _ preconditionLoss: UnsafeMutablePointer<Float>?,
                                     _ dampingLoss: UnsafeMutablePointer<Float>?, _ residualNorm: UnsafeMutablePointer<Float>?,
                                     _ trainingLoss: UnsafeMutablePointer<Float>?, _ damping: UnsafeMutablePointer<Float>?,
                                     _ capacity: Int64, _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let history = try object(trainer, MLHFTrainerHandle.self, "trainer").trainer.history
        n?.pointee = Int64(history.count)
        let columns: [(UnsafeMutablePointer<Float>?, KeyPath<MLHFRecord, Float>)] = [
            (preconditionLoss, \.preconditionLoss), (dampingLoss, \.dampingLoss), (residualNorm, \.residualNorm),
            (trainingLoss, \.trainingLoss), (damping, \.damping),
        ]
        if columns.allSatisfy({ $0.0 == nil }) {
            if n == nil { throw invalid("every buffer and count are NULL") }
            return
        }
        guard capacity >= Int64(history.count) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "buffers hold \(capacity) records, \(history.count) are needed")
        }
        for (out, field) in columns {
            guard let out else { continue }
            for (i, r) in history.enumerated() { out[i] = r[keyPath: field] }
        }
    }
}

@_cdecl("l2l_mlhf_trainer_events")
public func l2l_mlhf_trainer_events(_ trainer: OpaquePointer?, _ kinds: UnsafeMutablePointer<Int32>?,
                                    _ iterations: UnsafeMutablePointer<Int64>?, _ steps: UnsafeMutablePointer<Int64>?,
                                    _ capacity: Int64, _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let events = try object(trainer, MLHFTrainerHandle.self, "trainer").trainer.events
        try deliver(events, kinds: kinds, trials: iterations, steps: steps, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_mlhf_trainer_evaluate")
public func l2l_mlhf_trainer_evaluate(_ trainer: OpaquePointer?, _ mlhf: OpaquePointer?, _ unrolls: Int64,
                                      _ seed: UInt64, _ out: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let t = try object(trainer, MLHFTrainerHandle.self, "trainer").trainer
        let out = try required(out, "out")
        guard unrolls >= 1, unrolls <= 1_000_000 else { throw invalid("unrolls must be in 1...1000000, got \(unrolls)") }
        var phi: [Tensor]? = nil
        if let mlhf {
            let h = try object(mlhf, MLHFHandle.self, "mlhf")
            try checkSameMLHF(t.mlhf, h.mlhf)
            phi = h.meta
        }
        let record = try t.evaluate(meta: phi, unrolls: Int(unrolls), seed: seed)
        out.bindMemory(to: MLHFRecordLayout.self, capacity: 1).pointee = MLHFRecordLayout(record)
    }
}

@_cdecl("l2l_mlhf_trainer_get_mlhf")
public func l2l_mlhf_trainer_get_mlhf(_ trainer: OpaquePointer?, _ into: OpaquePointer?) -> Int32 {
    guarded {
        let t = try object(trainer, MLHFTrainerHandle.self, "trainer").trainer
        let h = try object(into, MLHFHandle.self, "into")
        try checkSameMLHF(t.mlhf, h.mlhf)
        h.meta = t.meta.map { $0.detached() }
    }
}

/// Fails with L2L_ERR_INVALID_ARGUMENT unless the handle's MLHF has the trainer's options.
private func checkSameMLHF(_ trainer: MLHF, _ handle: MLHF) throws {
    guard trainer.options == handle.options else {
        throw invalid("the trainer's MLHF has options '\(trainer.options)', the handle's '\(handle.options)'")
    }
}

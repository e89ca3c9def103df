import L2L

// The LSTM learner of Bosc 2016 (include/l2l.h, "LSTM learner"): an LSTM whose cell state
// holds the weights of a d-h-1 MLP, meta-trained on the XOR-of-thresholds data sets.

/// The object behind an `l2l_lstm_learner*`.
final class LSTMLearnerHandle {
    let learner: LSTMLearner
    init(_ learner: LSTMLearner) { self.learner = learner }
}

@_cdecl("l2l_lstm_learner_create")
public func l2l_lstm_learner_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        store(LSTMLearnerHandle(try LSTMLearner(config: LSTMLearnerConfig(options: optionalString(options)))), out)
    }
}

@_cdecl("l2l_lstm_learner_free")
public func l2l_lstm_learner_free(_ learner: OpaquePointer?) { release(learner, LSTMLearnerHandle.self) }

@_cdecl("l2l_lstm_learner_info")
public func l2l_lstm_learner_info(_ learner: OpaquePointer?, _ dimension: UnsafeMutablePointer<Int64>?,
                                  _ parameters: UnsafeMutablePointer<Int64>?, _ metaParams: UnsafeMutablePointer<Int64>?,
                                  _ iterations: UnsafeMutablePointer<Int64>?, _ events: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let l = try object(learner, LSTMLearnerHandle.self, "learner").learner
        dimension?.pointee = Int64(l.config.dimension)
        parameters?.pointee = Int64(l.parameterCount)
        metaParams?.pointee = Int64(l.meta.reduce(0) { $0 + $1.count })
        iterations?.pointee = Int64(l.iterations)
        events?.pointee = Int64(l.events.count)
    }
}

@_cdecl("l2l_lstm_learner_get_meta")
public func l2l_lstm_learner_get_meta(_ learner: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?,
                                      _ capacity: Int64, _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let meta = try object(learner, LSTMLearnerHandle.self, "learner").learner.meta
        try deliver(meta, into: out, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_lstm_learner_fit")
public func l2l_lstm_learner_fit(_ learner: OpaquePointer?, _ iterations: Int64, _ losses: UnsafeMutablePointer<Float>?,
                                 _ progress: ProgressCallback?, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let l = try object(learner, LSTMLearnerHandle.self, "learner").learner
        try l.fit(iterations: try count(iterations, "iterations")) { i, total, loss in
            losses?[i - 1] = loss
            guard let progress else { return true }
            return progress(user, Int64(i), Int64(total), loss) == 0
        }
    }
}

@_cdecl("l2l_lstm_learner_run")
public func l2l_lstm_learner_run(_ learner: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ labels: UnsafePointer<Float>?,
                                 _ n: Int64, _ features: Int64, _ trainCount: Int64, _ predictions: UnsafeMutablePointer<Float>?,
                                 _ weights: UnsafeMutablePointer<Float>?, _ weightsCapacity: Int64,
                                 _ losses: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let l = try object(learner, LSTMLearnerHandle.self, "learner").learner
        let rows = try count(n, "count"), columns = try count(features, "features")
        guard rows >= 1, columns >= 1 else { throw invalid("count and features must be at least 1") }
        _ = try matrixCount(rows, columns)
        let x = Tensor(shape: [rows, columns], copying: try required(inputs, "inputs"))
        let y = Array(UnsafeBufferPointer(start: try required(labels, "labels"), count: rows))
        let sequence = try LabelledSequence(inputs: x, labels: y, trainCount: Int(trainCount))
        if weights != nil {
            let needed = try matrixCount(rows + 1, l.parameterCount)
            guard weightsCapacity >= Int64(needed) else {
                throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "weights holds \(weightsCapacity) floats, \(needed) are needed")
            }
        }
        let run = try l.run(sequence, keepWeights: weights != nil)
        if let predictions { for (i, p) in run.predictions.enumerated() { predictions[i] = p } }
        if let weights, let w = run.weights { flatten([w], into: weights) }
        if let losses {
            losses[0] = run.trainLoss
            losses[1] = run.testLoss
            losses[2] = run.loss
        }
    }
}

@_cdecl("l2l_lstm_learner_evaluate")
public func l2l_lstm_learner_evaluate(_ learner: OpaquePointer?, _ options: UnsafePointer<CChar>?, _ datasets: Int64,
                                      _ seed: UInt64, _ losses: UnsafeMutablePointer<Float>?,
                                      _ mean: UnsafeMutablePointer<Float>?, _ std: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let l = try object(learner, LSTMLearnerHandle.self, "learner").learner
        let scores = try l.evaluate(options: optionalString(options), count: try count(datasets, "datasets"), seed: seed)
        if let losses { for (i, v) in scores.enumerated() { losses[i] = v } }
        let summary = LossSummary(scores)
        mean?.pointee = summary.mean
        std?.pointee = summary.std
    }
}

@_cdecl("l2l_lstm_learner_save")
public func l2l_lstm_learner_save(_ learner: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded { try object(learner, LSTMLearnerHandle.self, "learner").learner.save(to: try string(path, "path")) }
}

@_cdecl("l2l_lstm_learner_load")
public func l2l_lstm_learner_load(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        store(LSTMLearnerHandle(try LSTMLearner.load(from: try string(path, "path"))), out)
    }
}

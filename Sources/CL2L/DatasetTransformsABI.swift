import L2L

// Data-set transforms, splits, per-feature statistics and shapes (include/l2l.h, "Data sets").

@_cdecl("l2l_dataset_grey_crop")
public func l2l_dataset_grey_crop(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ dataset: OpaquePointer?,
                                  _ rows: Int64, _ columns: Int64, _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        let r = try count(rows, "rows"), c = try count(columns, "columns")
        var config = try Config(optionalString(options), context: "grey_crop")
        let weights = try config.choice("weights", default: GreyWeights.mtl2l, GreyWeights.named)
        try config.finish()
        store(DatasetHandle(try d.greyCropped(rows: r, columns: c, weights: weights)), out)
    }
}

@_cdecl("l2l_dataset_split")
public func l2l_dataset_split(_ dataset: OpaquePointer?, _ train: Int64, _ validation: Int64, _ test: Int64,
                              _ seed: UInt64, _ trainOut: UnsafeMutablePointer<OpaquePointer?>?,
                              _ validationOut: UnsafeMutablePointer<OpaquePointer?>?,
                              _ testOut: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        let counts = [try count(train, "train"), try count(validation, "validation"), try count(test, "test")]
        let outs = [trainOut, validationOut, testOut]
        for (i, name) in ["train_out", "validation_out", "test_out"].enumerated() where counts[i] > 0 && outs[i] == nil {
            throw invalid("\(name) is NULL but its count is \(counts[i])")
        }
        let parts = try d.split(train: counts[0], validation: counts[1], test: counts[2], seed: seed)
        for (i, part) in [parts.train, parts.validation, parts.test].enumerated() {
            outs[i]?.pointee = counts[i] > 0 ? handle(DatasetHandle(part)) : nil
        }
    }
}

@_cdecl("l2l_dataset_feature_statistics")
public func l2l_dataset_feature_statistics(_ dataset: OpaquePointer?, _ mean: UnsafeMutablePointer<Float>?,
                                           _ std: UnsafeMutablePointer<Float>?, _ capacity: Int64) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        guard mean != nil || std != nil else { return }
        guard capacity >= Int64(d.features) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL,
                           message: "buffers hold \(capacity) floats, the \(d.features) features need as many")
        }
        let (m, s) = d.featureStatistics()
        if let mean { mean.update(from: m, count: m.count) }
        if let std { std.update(from: s, count: s.count) }
    }
}

@_cdecl("l2l_dataset_standardize_features")
public func l2l_dataset_standardize_features(_ dataset: OpaquePointer?, _ mean: UnsafePointer<Float>?,
                                             _ std: UnsafePointer<Float>?, _ n: Int64) -> Int32 {
    guarded {
        let h = try object(dataset, DatasetHandle.self, "dataset")
        let mean = try required(mean, "mean"), std = try required(std, "std")
        let n = try count(n, "count")
        guard n == h.dataset.features else {
            throw ABIError(status: L2L_ERR_SHAPE, message: "count is \(n) but the data set has \(h.dataset.features) features")
        }
        h.dataset = try h.dataset.standardizedPerFeature(mean: Array(UnsafeBufferPointer(start: mean, count: n)),
                                                         std: Array(UnsafeBufferPointer(start: std, count: n)))
    }
}

@_cdecl("l2l_dataset_example_shape")
public func l2l_dataset_example_shape(_ dataset: OpaquePointer?, _ shape: UnsafeMutablePointer<Int64>?,
                                      _ capacity: Int64, _ rank: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        let rank = try required(rank, "rank")
        let s = d.exampleShape
        rank.pointee = Int64(s.count)
        guard let shape else { return }
        guard capacity >= Int64(s.count) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "shape holds \(capacity) values, the rank is \(s.count)")
        }
        for (i, v) in s.enumerated() { shape[i] = Int64(v) }
    }
}

// MARK: Synthetic data and task samplers

@_cdecl("l2l_dataset_synthetic")
public func l2l_dataset_synthetic(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ family: UnsafePointer<CChar>?,
                                  _ options: UnsafePointer<CChar>?, _ seed: UInt64) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let family = try string(family, "family")
        store(DatasetHandle(try DatasetCatalog.synthetic(family: family, options: optionalString(options), seed: seed)), out)
    }
}

@_cdecl("l2l_sine_tasks")
public func l2l_sine_tasks(_ seed: UInt64, _ tasks: Int64, _ k: Int64, _ x: UnsafeMutablePointer<Float>?,
                           _ y: UnsafeMutablePointer<Float>?, _ amplitude: UnsafeMutablePointer<Float>?,
                           _ phase: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let t = try count(tasks, "tasks"), k = try count(k, "k")
        // Sizes are checked (while sampling) before the pointers, so a size error is
        // reported as such even with NULL buffers.
        let sampled = try SineTask.sample(tasks: t, k: k, seed: seed)
        let x = try required(x, "x"), y = try required(y, "y")
        for (i, s) in sampled.enumerated() {
            if k > 0 {
                s.x.withUnsafeBufferPointer { (x + i * k).update(from: $0.baseAddress!, count: k) }
                s.y.withUnsafeBufferPointer { (y + i * k).update(from: $0.baseAddress!, count: k) }
            }
            amplitude?[i] = s.task.amplitude
            phase?[i] = s.task.phase
        }
    }
}

@_cdecl("l2l_quadratic_tasks")
public func l2l_quadratic_tasks(_ seed: UInt64, _ tasks: Int64, _ dimension: Int64, _ options: UnsafePointer<CChar>?,
                                _ w: UnsafeMutablePointer<Float>?, _ y: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let t = try count(tasks, "tasks"), d = try count(dimension, "dimension")
        var config = try Config(optionalString(options), context: "quadratic")
        let distribution = try config.choice("distribution", default: QuadraticTask.Distribution.normal,
                                             ["normal": .normal, "uniform": .uniform])
        try config.finish()
        let sampled = try QuadraticTask.sample(tasks: t, dimension: d, distribution: distribution, seed: seed)
        let w = try required(w, "w"), y = try required(y, "y")
        for (i, task) in sampled.enumerated() {
            task.w.withUnsafeBufferPointer { (w + i * d * d).update(from: $0.baseAddress!, count: d * d) }
            task.y.withUnsafeBufferPointer { (y + i * d).update(from: $0.baseAddress!, count: d) }
        }
    }
}

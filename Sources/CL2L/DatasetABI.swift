import L2L

/// The object behind an `l2l_dataset*`.
final class DatasetHandle {
    var dataset: Dataset
    init(_ dataset: Dataset) { self.dataset = dataset }
}

@_cdecl("l2l_dataset_load")
public func l2l_dataset_load(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ name: UnsafePointer<CChar>?,
                             _ split: UnsafePointer<CChar>?, _ directory: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let name = try string(name, "name"), splitName = try string(split, "split")
        guard let split = Split(rawValue: splitName) else { throw invalid("split must be \"train\" or \"test\", got \"\(splitName)\"") }
        store(DatasetHandle(try DatasetCatalog.load(name: name, split: split, directory: optionalString(directory))), out)
    }
}

@_cdecl("l2l_dataset_load_idx")
public func l2l_dataset_load_idx(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ images: UnsafePointer<CChar>?,
                                 _ labels: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        store(DatasetHandle(try IDXDataset.load(images: try string(images, "images_path"),
                                                labels: try string(labels, "labels_path"))), out)
    }
}

@_cdecl("l2l_dataset_create")
public func l2l_dataset_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ inputs: UnsafePointer<Float>?,
                               _ labels: UnsafePointer<Int32>?, _ n: Int64, _ features: Int64, _ classes: Int64) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let n = try count(n, "count"), f = try count(features, "features"), c = try count(classes, "classes")
        guard f >= 1 else { throw invalid("features must be at least 1") }
        _ = try matrixCount(n, f)
        let x = n == 0 ? Tensor.zeros([0, f]) : Tensor(shape: [n, f], copying: try required(inputs, "inputs"))
        let y = n == 0 ? [] : Array(UnsafeBufferPointer(start: try required(labels, "labels"), count: n))
        store(DatasetHandle(try Dataset(inputs: x, labels: y, classes: c)), out)
    }
}

@_cdecl("l2l_dataset_free")
public func l2l_dataset_free(_ dataset: OpaquePointer?) { release(dataset, DatasetHandle.self) }

@_cdecl("l2l_dataset_info")
public func l2l_dataset_info(_ dataset: OpaquePointer?, _ n: UnsafeMutablePointer<Int64>?,
                             _ features: UnsafeMutablePointer<Int64>?, _ classes: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        n?.pointee = Int64(d.count)
        features?.pointee = Int64(d.features)
        classes?.pointee = Int64(d.classes)
    }
}

@_cdecl("l2l_dataset_statistics")
public func l2l_dataset_statistics(_ dataset: OpaquePointer?, _ mean: UnsafeMutablePointer<Float>?,
                                   _ std: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        let (m, s) = d.statistics()
        mean?.pointee = m
        std?.pointee = s
    }
}

@_cdecl("l2l_dataset_standardize")
public func l2l_dataset_standardize(_ dataset: OpaquePointer?, _ mean: Float, _ std: Float) -> Int32 {
    guarded {
        let h = try object(dataset, DatasetHandle.self, "dataset")
        h.dataset = try h.dataset.standardized(mean: mean, std: std)
    }
}

@_cdecl("l2l_dataset_read")
public func l2l_dataset_read(_ dataset: OpaquePointer?, _ start: Int64, _ n: Int64,
                             _ inputs: UnsafeMutablePointer<Float>?, _ labels: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        let s = try count(start, "start"), n = try count(n, "count")
        guard s + n <= d.count else { throw ABIError(status: L2L_ERR_SHAPE, message: "examples \(s)..<\(s + n) are outside the \(d.count) examples") }
        let (x, y) = d.batch(Array(s..<(s + n))[...])
        if let inputs { flatten([x], into: inputs) }
        if let labels { for (i, v) in y.enumerated() { labels[i] = v } }
    }
}

// MARK: Regression sets

@_cdecl("l2l_dataset_create_regression")
public func l2l_dataset_create_regression(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ inputs: UnsafePointer<Float>?,
                                          _ targets: UnsafePointer<Float>?, _ n: Int64, _ features: Int64,
                                          _ outputs: Int64) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let n = try count(n, "count"), f = try count(features, "features"), k = try count(outputs, "outputs")
        guard f >= 1, k >= 1 else { throw invalid("features and outputs must be at least 1, got \(f) and \(k)") }
        _ = try matrixCount(n, f)
        _ = try matrixCount(n, k)
        let x = n == 0 ? Tensor.zeros([0, f]) : Tensor(shape: [n, f], copying: try required(inputs, "inputs"))
        let y = n == 0 ? Tensor.zeros([0, k]) : Tensor(shape: [n, k], copying: try required(targets, "targets"))
        store(DatasetHandle(try Dataset(inputs: x, values: y)), out)
    }
}

@_cdecl("l2l_dataset_is_regression")
public func l2l_dataset_is_regression(_ dataset: OpaquePointer?, _ regression: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        try required(regression, "regression").pointee = d.isRegression ? 1 : 0
    }
}

@_cdecl("l2l_dataset_read_values")
public func l2l_dataset_read_values(_ dataset: OpaquePointer?, _ start: Int64, _ n: Int64,
                                    _ values: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded {
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        let s = try count(start, "start"), n = try count(n, "count")
        let out = try required(values, "values")
        guard d.isRegression else { throw ABIError(status: L2L_ERR_STATE, message: "the data set has labels, not real-valued targets") }
        guard s + n <= d.count else { throw ABIError(status: L2L_ERR_SHAPE, message: "examples \(s)..<\(s + n) are outside the \(d.count) examples") }
        guard case .values(let v) = d.targetBatch(Array(s..<(s + n))[...]).targets else { return }
        flatten([v], into: out)
    }
}

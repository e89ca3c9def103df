import L2L

/// The object behind an `l2l_batches*`.
final class BatchesHandle {
    var batches: BatchIterator
    init(_ batches: BatchIterator) { self.batches = batches }
}

@_cdecl("l2l_batches_create")
public func l2l_batches_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ dataset: OpaquePointer?,
                               _ batchSize: Int64, _ seed: UInt64, _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let d = try object(dataset, DatasetHandle.self, "dataset").dataset
        var config = try Config(optionalString(options), context: "batches")
        let shuffle = try config.bool("shuffle", default: true)
        let dropLast = try config.bool("drop_last", default: false)
        try config.finish()
        let size = try count(batchSize, "batch_size")
        store(BatchesHandle(try BatchIterator(d, batchSize: size, seed: seed, shuffle: shuffle, dropLast: dropLast)), out)
    }
}

@_cdecl("l2l_batches_free")
public func l2l_batches_free(_ batches: OpaquePointer?) { release(batches, BatchesHandle.self) }

@_cdecl("l2l_batches_info")
public func l2l_batches_info(_ batches: OpaquePointer?, _ batchSize: UnsafeMutablePointer<Int64>?,
                             _ features: UnsafeMutablePointer<Int64>?, _ perEpoch: UnsafeMutablePointer<Int64>?,
                             _ epochs: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let b = try object(batches, BatchesHandle.self, "batches").batches
        batchSize?.pointee = Int64(b.batchSize)
        features?.pointee = Int64(b.dataset.features)
        perEpoch?.pointee = Int64(b.batchesPerEpoch)
        epochs?.pointee = Int64(b.epoch)
    }
}

@_cdecl("l2l_batches_next")
public func l2l_batches_next(_ batches: OpaquePointer?, _ inputs: UnsafeMutablePointer<Float>?, _ inputsCapacity: Int64,
                             _ labels: UnsafeMutablePointer<Int32>?, _ labelsCapacity: Int64,
                             _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let h = try object(batches, BatchesHandle.self, "batches")
        let inputs = try required(inputs, "inputs"), labels = try required(labels, "labels"), n = try required(n, "count")
        let size = h.batches.batchSize, f = h.batches.dataset.features
        guard !h.batches.dataset.isRegression else {
            throw ABIError(status: L2L_ERR_STATE, message: "the data set has real-valued targets, not labels; its batches serve l2l_train only")
        }
        guard inputsCapacity >= Int64(size * f), labelsCapacity >= Int64(size) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL,
                           message: "a batch needs \(size * f) input floats and \(size) labels; capacities are \(inputsCapacity) and \(labelsCapacity)")
        }
        guard let (x, y) = h.batches.next() else { n.pointee = 0; return }
        flatten([x], into: inputs)
        for (i, v) in y.enumerated() { labels[i] = v }
        n.pointee = Int64(y.count)
    }
}

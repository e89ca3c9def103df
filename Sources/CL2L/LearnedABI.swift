import Glibc
import L2L

// Learned optimisers (include/l2l.h, "Learned optimisers"): a learned optimiser with its
// meta-parameters φ, saved and loaded as .safetensors, and turned into an ordinary
// l2l_optimizer.

/// The object behind an `l2l_learned*`: a learned optimiser, its φ, and the parameter shapes
/// of the learner it was built for (empty when it fits any learner, as the LSTM optimiser).
final class LearnedHandle {
    let optimiser: any LearnedOptimiser
    var meta: [Tensor]
    let parameterShapes: [[Int]]

    init(_ optimiser: any LearnedOptimiser, meta: [Tensor], parameterShapes: [[Int]]) throws {
        try optimiser.validate(meta: meta)
        self.optimiser = optimiser
        self.meta = meta.map { $0.detached() }
        self.parameterShapes = optimiser.parameterShapes == nil ? [] : parameterShapes
    }

    /// The learner shapes this optimiser is tied to, or nil if it fits any learner.
    var requiredShapes: [[Int]]? { parameterShapes.isEmpty ? nil : parameterShapes }
}

/// Whether a learned optimiser can step learners of any shapes (a coordinate-wise network
/// such as the LSTM optimiser) rather than only the learner it was built for: the Swift API
/// has no such query, so the kind and options are rebuilt without learner shapes.

/// Fails with L2L_ERR_SHAPE unless `learner` has the parameter shapes `required` (nil: any).
func checkShapes(_ required: [[Int]]?, fit learner: any Learner, _ what: String) throws {
    guard let required else { return }
    let shapes = learner.parameterSpecs.map(\.shape)
    guard shapes == required else {
        throw ABIError(status: L2L_ERR_SHAPE,
                       message: "\(what) was built for a learner with parameter shapes \(required), got \(shapes)")
    }
}

/// Copies a NUL-terminated string into a caller's buffer of `capacity` bytes (NULL: skipped).
func copyString(_ s: String, into out: UnsafeMutablePointer<CChar>?, capacity: Int64, _ what: String) throws {
    guard let out else { return }
    let bytes = Array(s.utf8)
    guard capacity > Int64(bytes.count) else {
        throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL,
                       message: "\(what) holds \(capacity) bytes, \(bytes.count + 1) are needed (with the terminating NUL)")
    }
    for (i, b) in bytes.enumerated() { out[i] = CChar(bitPattern: b) }
    out[bytes.count] = 0
}

/// φ from a caller's `n` values laid out as `specs` say (tensor after tensor, row-major),
/// copied: L2L_ERR_SHAPE for another count, L2L_ERR_NON_FINITE for NaN or infinity.
func metaParameters(_ values: UnsafePointer<Float>?, _ n: Int64, specs: [MetaParameterSpec], owner: String) throws -> [Tensor] {
    let n = try count(n, "count")
    let values = try required(values, "values")
    let needed = specs.reduce(0) { $0 + $1.count }
    guard n == needed else {
        throw ABIError(status: L2L_ERR_SHAPE, message: "\(owner) has \(needed) meta-parameters, got \(n) values")
    }
    var start = 0
    let meta = specs.map { spec -> Tensor in
        defer { start += spec.count }
        return Tensor(shape: spec.shape, copying: values + start)
    }
    guard meta.allSatisfy(\.isFinite) else {
        throw ABIError(status: L2L_ERR_NON_FINITE, message: "values contain NaN or infinity; nothing changed")
    }
    return meta
}

@_cdecl("l2l_learned_create")
public func l2l_learned_create(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ kind: UnsafePointer<CChar>?,
                               _ options: UnsafePointer<CChar>?, _ learner: OpaquePointer?, _ seed: UInt64) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let kind = try string(kind, "kind")
        let model = try learner.map { try object($0, LearnerHandle.self, "learner").learner }
        let shapes = model?.parameterSpecs.map(\.shape) ?? []
        let optimiser: any LearnedOptimiser
        do {
            optimiser = try Factory.learnedOptimiser(kind: kind, options: optionalString(options), parameterShapes: shapes,
                                                     inputFeatures: model?.inputFeatures)
        } catch let e as L2LError where learner == nil
            && (try? Factory.learnedOptimiser(kind: kind, options: optionalString(options), parameterShapes: [[1]])) != nil {
            // Kind and options are fine: what is missing is the learner.
            throw invalid("learner is NULL, but \"\(kind)\" has meta-parameters per learner parameter and needs the learner (\(e.message))")
        }
        var rng = RNG(seed: seed)
        store(try LearnedHandle(optimiser, meta: optimiser.initialMetaParameters(rng: &rng), parameterShapes: shapes), out)
    }
}

@_cdecl("l2l_learned_free")
public func l2l_learned_free(_ learned: OpaquePointer?) { release(learned, LearnedHandle.self) }

@_cdecl("l2l_learned_info")
public func l2l_learned_info(_ learned: OpaquePointer?, _ params: UnsafeMutablePointer<Int64>?,
                             _ tensors: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let h = try object(learned, LearnedHandle.self, "learned")
        params?.pointee = Int64(h.optimiser.metaParameterCount)
        tensors?.pointee = Int64(h.optimiser.metaParameterSpecs.count)
    }
}

@_cdecl("l2l_learned_describe")
public func l2l_learned_describe(_ learned: OpaquePointer?, _ kind: UnsafeMutablePointer<CChar>?, _ kindCapacity: Int64,
                                 _ options: UnsafeMutablePointer<CChar>?, _ optionsCapacity: Int64) -> Int32 {
    guarded {
        let h = try object(learned, LearnedHandle.self, "learned")
        // Check both capacities before writing either.
        let k = h.optimiser.kind, o = h.optimiser.options
        if kind != nil && kindCapacity <= Int64(k.utf8.count) || options != nil && optionsCapacity <= Int64(o.utf8.count) {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL,
                           message: "kind needs \(k.utf8.count + 1) bytes (capacity \(kindCapacity)), options \(o.utf8.count + 1) (capacity \(optionsCapacity))")
        }
        try copyString(k, into: kind, capacity: kindCapacity, "kind")
        try copyString(o, into: options, capacity: optionsCapacity, "options")
    }
}

@_cdecl("l2l_learned_get_meta")
public func l2l_learned_get_meta(_ learned: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64,
                                 _ n: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let h = try object(learned, LearnedHandle.self, "learned")
        try deliver(h.meta, into: out, capacity: capacity, count: n)
    }
}

@_cdecl("l2l_learned_set_meta")
public func l2l_learned_set_meta(_ learned: OpaquePointer?, _ values: UnsafePointer<Float>?, _ n: Int64) -> Int32 {
    guarded {
        let h = try object(learned, LearnedHandle.self, "learned")
        let meta = try metaParameters(values, n, specs: h.optimiser.metaParameterSpecs, owner: h.optimiser.kind)
        try h.optimiser.validate(meta: meta)
        h.meta = meta
    }
}

@_cdecl("l2l_learned_save")
public func l2l_learned_save(_ learned: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let h = try object(learned, LearnedHandle.self, "learned")
        let path = try string(path, "path")
        try LearnedOptimiserFile(h.optimiser, meta: h.meta).write(to: path, parameterShapes: h.parameterShapes)
    }
}

@_cdecl("l2l_learned_load")
public func l2l_learned_load(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let (file, shapes) = try LearnedOptimiserFile.read(try string(path, "path"))
        store(try LearnedHandle(file.optimiser, meta: file.meta, parameterShapes: shapes), out)
    }
}

@_cdecl("l2l_optimizer_create_learned")
public func l2l_optimizer_create_learned(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ learned: OpaquePointer?,
                                         _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let h = try object(learned, LearnedHandle.self, "learned")
        var config = try Config(optionalString(options), context: "learned optimiser")
        let phase = try config.choice("phase", default: LearnedPhase.metaTesting,
                                      ["meta_testing": .metaTesting, "meta_training": .metaTraining])
        try config.finish()
        let trained = try TrainedOptimiser(h.optimiser, meta: h.meta, phase: phase)
        store(OptimizerHandle(OptimiserSession(trained), requiredShapes: h.requiredShapes), out)
    }
}

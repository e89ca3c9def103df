import L2L

// Tasks defined by the caller's code (include/l2l.h, "Tasks of the caller's model"):
// meta-training on a model l2l does not define, through two callbacks.

/// The object behind an `l2l_task*`.
final class TaskHandle {
    let task: MetaTask
    init(_ task: MetaTask) { self.task = task }
}

public typealias TaskInitCallback = @convention(c) (UnsafeMutableRawPointer?, UInt64, UnsafePointer<UnsafeMutablePointer<Float>?>?) -> Int32
public typealias TaskLossGradCallback = @convention(c) (UnsafeMutableRawPointer?, Int64, UnsafePointer<UnsafePointer<Float>?>?,
                                                        UnsafeMutablePointer<Float>?, UnsafePointer<UnsafeMutablePointer<Float>?>?) -> Int32

/// Tensor shapes from `tensors` ranks and their concatenated dimensions (each rank 1...8,
/// each dimension ≥ 1).
func tensorShapes(_ tensors: Int64, _ ranks: UnsafePointer<Int64>?, _ dims: UnsafePointer<Int64>?) throws -> [[Int]] {
    let n = try count(tensors, "tensors")
    guard n >= 1 else { throw invalid("tensors must be at least 1") }
    let ranks = try required(ranks, "ranks"), dims = try required(dims, "dims")
    var at = 0
    return try (0..<n).map { i in
        guard (1...8).contains(ranks[i]) else { throw invalid("ranks[\(i)] must be 1...8, got \(ranks[i])") }
        let shape = (0..<Int(ranks[i])).map { Int(dims[at + $0]) }
        at += Int(ranks[i])
        guard shape.allSatisfy({ $0 >= 1 }), Shape.checkedCount(shape) != nil else {
            throw ABIError(status: L2L_ERR_SHAPE, message: "tensor \(i) has shape \(shape): dimensions must be positive and the size within limits")
        }
        return shape
    }
}

/// One buffer for tensors of `shapes`, and a pointer to each tensor's place in it: the
/// pointer arrays the callbacks take.
private final class Buffer {
    let shapes: [[Int]]
    let values: UnsafeMutablePointer<Float>
    let pointers: [UnsafeMutablePointer<Float>?]

    init(_ shapes: [[Int]], copying tensors: [Tensor]? = nil) {
        self.shapes = shapes
        let counts = shapes.map { Shape.count($0) }
        let values = UnsafeMutablePointer<Float>.allocate(capacity: max(counts.reduce(0, +), 1))
        values.initialize(repeating: 0, count: max(counts.reduce(0, +), 1))
        var at = 0
        pointers = counts.map { n in
            defer { at += n }
            return values + at
        }
        self.values = values
        for (t, p) in zip(tensors ?? [], pointers) { t.withUnsafeBufferPointer { p!.update(from: $0.baseAddress!, count: $0.count) } }
    }
    deinit { values.deallocate() }

    /// The buffer's values as tensors (copies).
    var tensors: [Tensor] { zip(shapes, pointers).map { Tensor(shape: $0, copying: $1!) } }
}

@_cdecl("l2l_task_create_callback")
public func l2l_task_create_callback(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ tensors: Int64,
                                     _ ranks: UnsafePointer<Int64>?, _ dims: UnsafePointer<Int64>?,
                                     _ initialise: TaskInitCallback?, _ lossGrad: TaskLossGradCallback?,
                                     _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let shapes = try tensorShapes(tensors, ranks, dims)
        let initialise = try required(initialise, "init"), lossGrad = try required(lossGrad, "loss_grad")
        let task = try CallbackTask(parameterShapes: shapes, initialise: { rng in
            let seed = UInt64(rng.nextUInt32()) << 32 | UInt64(rng.nextUInt32())
            let parameters = Buffer(shapes)
            let code = parameters.pointers.withUnsafeBufferPointer { initialise(user, seed, $0.baseAddress) }
            guard code == 0 else { throw ABIError(status: L2L_ERR_CANCELLED, message: "the task's init callback returned \(code)") }
            return parameters.tensors
        }, lossAndGradients: { parameters, step in
            let input = Buffer(shapes, copying: parameters), gradients = Buffer(shapes)
            let readOnly = input.pointers.map { UnsafePointer($0) }
            var loss = Float.nan
            let code = readOnly.withUnsafeBufferPointer { p in
                gradients.pointers.withUnsafeBufferPointer { g in lossGrad(user, Int64(step), p.baseAddress, &loss, g.baseAddress) }
            }
            guard code == 0 else { throw ABIError(status: L2L_ERR_CANCELLED, message: "the task's loss_grad callback returned \(code) at step \(step)") }
            return (loss, gradients.tensors)
        })
        store(TaskHandle(.callback(task)), out)
    }
}

@_cdecl("l2l_task_free")
public func l2l_task_free(_ task: OpaquePointer?) { release(task, TaskHandle.self) }

@_cdecl("l2l_meta_trainer_create_from_tasks")
public func l2l_meta_trainer_create_from_tasks(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ learned: OpaquePointer?,
                                               _ tasks: UnsafePointer<OpaquePointer?>?, _ n: Int64,
                                               _ options: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let h = try object(learned, LearnedHandle.self, "learned")
        let n = try count(n, "n")
        guard n >= 1 else { throw invalid("n must be at least 1") }
        let tasks = try required(tasks, "tasks")
        let list = try (0..<n).map { try object(tasks[$0], TaskHandle.self, "tasks[\($0)]").task }
        let trainer = try MetaTrainer(h.optimiser, tasks: list, config: try metaConfig(options), meta: h.meta)
        store(MetaTrainerHandle(trainer, parameterShapes: h.parameterShapes), out)
    }
}

/// Custom differentiable ops: values computed by any means, with a gradient rule supplied
/// by the caller.
///
/// The use it was made for is an operator whose adjoint is known in closed form and
/// cheaper to apply than differentiating through how its values were computed, e.g. the
/// Gauss-Newton product v ↦ G·v, whose backward is G·ū again (G symmetric, held constant),
/// so meta-gradients through conjugate gradient need no third derivatives.

/// Attaches `outputs` to the graph as the results of one op on `inputs`, whose backward
/// is `backward`.
///
/// - Parameters:
///   - inputs: the tensors the op reads (any shapes). Only tracked ones get gradients.
///   - outputs: the op's values, already computed (any shapes; they are used as constants,
///     whatever graph they may carry is cut).
///   - backward: given one upstream gradient per output (each shaped like that output; zeros
///     for an output the differentiated scalar does not use), returns one gradient per input
///     (shaped like that input) or `nil` where none flows. It runs inside
///     ``gradients(of:wrt:createGraph:)`` (or a vector-Jacobian product), and only when some
///     tensor asked for depends on the op's inputs: with `createGraph` its tensor ops are recorded, so
///     a rule written in differentiable ops (or in custom ops again) can be differentiated
///     once more; without it, it runs with recording off.
/// - Returns: `outputs`, tracked as results of the op when graph recording is on and some
///   input is tracked; otherwise `outputs` unchanged (as constants).
///
/// ```swift
/// // y = A x with a hand-written adjoint.
/// let y = customOp(inputs: [x], outputs: [withoutGraph { matmul(a, x) }]) { g in
///     [matmul(a, g[0], transposeA: true)]
/// }[0]
/// ```
///
/// Several outputs share one graph node: the engine hands `backward` all their upstream
/// gradients at once, so it runs once per backward pass, not once per output. (Internally
/// the outputs are slices of one flat vector, which costs a copy of the outputs forward and
/// one of the gradients backward.)
public func customOp(inputs: [Tensor], outputs: [Tensor],
                     backward: @escaping (_ outputGradients: [Tensor]) -> [Tensor?]) -> [Tensor] {
    let values = outputs.map { $0.detached() }
    guard isRecordingGraph, inputs.contains(where: \.isTracked) else { return values }
    let inputShapes = inputs.map(\.shape)
    func checked(_ grads: [Tensor?]) -> [Tensor?] {
        precondition(grads.count == inputShapes.count,
                     "customOp: backward returned \(grads.count) gradients for \(inputShapes.count) inputs")
        for (g, shape) in zip(grads, inputShapes) {
            if let g { precondition(g.shape == shape, "customOp: backward returned shape \(g.shape) for an input of shape \(shape)") }
        }
        return grads
    }
    if values.count == 1 {
        return [values[0].recorded(inputs) { ctx in checked(backward([ctx.grad])) }]
    }

    // One node for all outputs: a flat vector, sliced and reshaped into the outputs.
    let shapes = values.map(\.shape)
    let counts = values.map(\.count)
    let total = counts.reduce(0, +)
    let flat = Tensor(shape: [total]) { out, _ in
        var at = out
        for v in values {
            v.withUnsafeBufferPointer { at.update(from: $0.baseAddress!, count: $0.count) }
            at += v.count
        }
    }
    let joint = flat.recorded(inputs) { ctx in
        var offset = 0
        var pieces = [Tensor]()
        for (shape, n) in zip(shapes, counts) {
            pieces.append(ctx.grad.slice(axis: 0, offset..<(offset + n)).reshaped(shape))
            offset += n
        }
        return checked(backward(pieces))
    }
    var offset = 0
    return zip(shapes, counts).map { shape, n in
        defer { offset += n }
        return joint.slice(axis: 0, offset..<(offset + n)).reshaped(shape)
    }
}

/// Runs `body` with graph recording on on this thread, even inside ``withoutGraph(_:)``:
/// for code that must build a graph to differentiate internally (a Gauss-Newton model's
/// products) whatever mode its caller is in. Nests; the previous mode is restored.
public func withGraph<R>(_ body: () throws -> R) rethrows -> R {
    try withRecording(true, body)
}

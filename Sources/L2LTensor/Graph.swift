import Synchronization

/// What a gradient rule sees: the upstream gradient, the op's inputs and (when the op
/// saved it) its output, each a ``Tensor`` still attached to the graph, so a rule written
/// in tensor ops is itself differentiable.
struct BackwardContext {
    /// Gradient of the differentiated scalar with respect to the op's output.
    let grad: Tensor
    /// The op's inputs, in order.
    let inputs: [Tensor]
    let savedOutput: Tensor?
    /// First-order backward only (`nil` under `createGraph`): the gradients summed so far
    /// for the op's inputs, which the rule may add its own into in place.
    let pending: PendingGradients?

    /// The op's output; only ops recorded with `savesOutput` may read it.
    var output: Tensor {
        guard let savedOutput else { preconditionFailure("gradient rule read the output of an op recorded without savesOutput") }
        return savedOutput
    }
}

/// The gradients the backward has summed so far for one op's inputs (from the ops that
/// read them and ran earlier), offered to the op's rule: a rule that takes one adds its own
/// gradient into it in place and returns it, which saves a pass over memory and a buffer
/// (the LSTM layer's input gradient, the output head's state gradient). Each element must
/// become `taken + own`, the same bits as the sum the engine would form otherwise.
final class PendingGradients {
    private var slots: [Tensor?]

    init(_ slots: [Tensor?]) { self.slots = slots }

    /// The sum so far for input `i` (shaped like the input), if there is one that nothing
    /// else holds; `nil` otherwise. A rule that takes it must return it, with its own
    /// gradient added, as input `i`'s gradient.
    func take(_ i: Int) -> Tensor? {
        guard i < slots.count, var t = slots[i], t.node == nil else { return nil }
        slots[i] = nil
        if isKnownUniquelyReferenced(&t.storage) { return t }
        slots[i] = t
        return nil
    }

    /// The sums no rule took, by input.
    var untaken: [Tensor?] { slots }
}

/// One recorded op: its inputs and its gradient rule. Nodes are numbered in creation order,
/// so sorting by `id` is a topological order of any graph.
final class GraphNode {
    let id: Int
    private(set) var inputs: [Tensor]
    let outputShape: [Int]
    /// The output's storage, kept only when the rule needs the output (e.g. `exp`).
    let savedOutput: TensorStorage?
    /// The gradient rule: one gradient per input (`nil` = no gradient flows there).
    let rule: ((BackwardContext) -> [Tensor?])?

    init(inputs: [Tensor], outputShape: [Int], savedOutput: TensorStorage?,
         rule: ((BackwardContext) -> [Tensor?])?) {
        self.id = nextNodeID.add(1, ordering: .relaxed).oldValue
        self.inputs = inputs
        self.outputShape = outputShape
        self.savedOutput = savedOutput
        self.rule = rule
    }

    /// Frees a chain of nodes iteratively: a node that is about to die hands its inputs to
    /// this loop instead of releasing them recursively, so a 100 000-op unroll cannot
    /// overflow the stack when it is dropped.
    deinit {
        guard !inputs.isEmpty else { return }
        var pending = inputs
        inputs = []
        while var t = pending.popLast() {
            if t.node != nil, isKnownUniquelyReferenced(&t.node) {
                pending.append(contentsOf: t.node!.inputs)
                t.node!.inputs = []
            }
        }
    }
}

private let nextNodeID = Atomic<Int>(0)

// MARK: Recording mode (per thread: ThreadContext.swift)

/// Whether ops on this thread record the graph (true unless inside ``withoutGraph(_:)``).
public var isRecordingGraph: Bool { ThreadContext.current.isRecording }

/// Runs `body` with graph recording off on this thread: its results are constants and
/// cost no graph memory. Nests; the previous mode is restored afterwards.
public func withoutGraph<R>(_ body: () throws -> R) rethrows -> R {
    try withRecording(false, body)
}

func withRecording<R>(_ on: Bool, _ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    let saved = context.isRecording
    context.isRecording = on
    defer { context.isRecording = saved }
    return try body()
}

// MARK: Attaching ops to the graph

extension Tensor {
    /// This tensor as a new leaf of the graph: gradients can be taken with respect to it.
    /// The storage is shared, not copied.
    public func tracked() -> Tensor {
        Tensor(shape: shape, storage: storage,
               node: GraphNode(inputs: [], outputShape: shape, savedOutput: nil, rule: nil))
    }

    /// The same values, cut from the graph: no gradient flows through the result
    /// (stop-gradient). The storage is shared, not copied.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Wraps a freshly computed `result` of an op on `inputs` with a graph node when
    /// recording is on and some input is tracked; otherwise returns it as a constant.
    func recorded(_ inputs: [Tensor], savesOutput: Bool = false,
                  rule: @escaping (BackwardContext) -> [Tensor?]) -> Tensor {
        guard isRecordingGraph, inputs.contains(where: { $0.node != nil }) else { return self }
        let node = GraphNode(inputs: inputs, outputShape: shape,
                             savedOutput: savesOutput ? storage : nil, rule: rule)
        return Tensor(shape: shape, storage: storage, node: node)
    }
}

// MARK: Gradients

/// Gradients of the scalar `output` with respect to each tensor of `wrt`, by reverse mode.
///
/// - Parameters:
///   - output: a one-element tensor computed from (some of) `wrt`.
///   - wrt: tracked tensors (see ``Tensor/tracked()``). A tensor `output` does not depend on
///     gets zeros of its own shape.
///   - createGraph: record the backward pass itself, so the returned gradients are tracked
///     and can be differentiated again (Hessian-vector products, MAML's second order).
///     Without it the backward runs with recording off and returns constants.
/// - Returns: one gradient per `wrt` entry, each of that entry's shape.
///
/// The walk is iterative (no recursion), so deep graphs such as long unrolls are safe.
public func gradients(of output: Tensor, wrt: [Tensor], createGraph: Bool = false) -> [Tensor] {
    precondition(output.count == 1, "gradients(of:wrt:): output must be a scalar, got shape \(output.shape)")
    return reverseMode(seeds: [(output, Tensor.ones(output.shape))], wrt: wrt, createGraph: createGraph)
}

/// The reverse pass behind ``gradients(of:wrt:createGraph:)`` and
/// ``vectorJacobianProduct(of:wrt:cotangents:createGraph:)``: Σₖ (∂ outputₖ/∂ wrt)ᵀ cotangentₖ,
/// each output's gradient starting as its cotangent (shaped like it; outputs not in the
/// graph contribute nothing). The same bits as the gradient of Σₖ ⟨outputₖ, cotangentₖ⟩,
/// without that sum's ops: an output listed more than once starts from its cotangents
/// summed last first, as that gradient would sum them.
func reverseMode(seeds: [(output: Tensor, cotangent: Tensor)], wrt: [Tensor], createGraph: Bool) -> [Tensor] {
    var grads = [ObjectIdentifier: Tensor]()
    var roots = [GraphNode]()
    for (output, cotangent) in seeds.reversed() {
        guard let node = output.node else { continue }
        let key = ObjectIdentifier(node)
        // Without createGraph the results are constants, so the seeds are too.
        let seed = createGraph ? cotangent : cotangent.detached()
        if let later = grads[key] {
            grads[key] = withRecording(createGraph) { later + seed }
        } else {
            grads[key] = seed
            roots.append(node)
        }
    }
    guard !roots.isEmpty else { return wrt.map { Tensor.zeros($0.shape) } }

    // Every node reachable from the outputs, in reverse creation order (a topological order).
    var seen = Set(roots.map(ObjectIdentifier.init))
    var order = roots
    var stack = roots
    while let node = stack.popLast() {
        for input in node.inputs {
            if let n = input.node, seen.insert(ObjectIdentifier(n)).inserted {
                order.append(n)
                stack.append(n)
            }
        }
    }
    order.sort { $0.id > $1.id }

    let wanted = Set(wrt.compactMap { $0.node.map(ObjectIdentifier.init) })
    // Only nodes from which a `wrt` tensor can be reached pass gradients on: the others'
    // rules would compute gradients nobody reads (G·v's double-vjp walks a graph whose
    // forward half leads only to θ). A node that leads somewhere gets gradient only from
    // consumers that lead there too, so its sum, and the order of its terms, are unchanged.
    var leads = wanted
    for node in order.reversed() where node.inputs.contains(where: { $0.node.map { leads.contains(ObjectIdentifier($0)) } ?? false }) {
        leads.insert(ObjectIdentifier(node))
    }
    withRecording(createGraph) {
        for node in order where leads.contains(ObjectIdentifier(node)) {
            guard let rule = node.rule, let g = grads[ObjectIdentifier(node)] else { continue }
            let out = node.savedOutput.map { Tensor(shape: node.outputShape, storage: $0, node: node) }
            // First order: the inputs' sums so far go to the rule, which may add into them;
            // those it does not take come back before its gradients are added below.
            var pending: PendingGradients?
            var keys = [ObjectIdentifier?]()
            if !createGraph {
                keys = node.inputs.map { $0.node.map(ObjectIdentifier.init) }
                var slots = [Tensor?](repeating: nil, count: keys.count)
                for (i, key) in keys.enumerated() {
                    if let key, !keys[..<i].contains(key) { slots[i] = grads.removeValue(forKey: key) }
                }
                pending = PendingGradients(slots)
            }
            let inputGrads = rule(BackwardContext(grad: g, inputs: node.inputs, savedOutput: out, pending: pending))
            if let pending {
                for (key, sum) in zip(keys, pending.untaken) { if let key, let sum { grads[key] = sum } }
            }
            for (input, ig) in zip(node.inputs, inputGrads) {
                guard let n = input.node, let ig else { continue }
                precondition(ig.shape == input.shape,
                             "gradients: rule produced shape \(ig.shape) for an input of shape \(input.shape)")
                let key = ObjectIdentifier(n)
                if var acc = grads.removeValue(forKey: key) {
                    // A first-order sum nobody else holds is added to in place (no new buffer).
                    if !createGraph && isKnownUniquelyReferenced(&acc.storage) && acc.shape == ig.shape {
                        acc.addInPlace(ig)
                    } else {
                        acc = acc + ig
                    }
                    grads[key] = acc
                } else {
                    grads[key] = ig
                }
            }
            // An interior gradient nobody asked for is no longer needed once passed on.
            if !wanted.contains(ObjectIdentifier(node)) { grads[ObjectIdentifier(node)] = nil }
        }
    }
    return wrt.map { t in
        if let n = t.node, let g = grads[ObjectIdentifier(n)] { return g }
        return Tensor.zeros(t.shape)
    }
}

/// An optimiser is a pair of pure functions over parameters and a typed state:
/// `initialState(for:)` and `step(parameters:gradients:state:)`. Behaviour changes only
/// through the state, and the step is written in tensor ops, so meta-gradients can flow
/// through it (into hyper-parameters or a learned optimiser's meta-parameters).
///
/// The hand-crafted optimisers (``SGD``, ``Adam``, ``RMSprop``, ``Adagrad``, ``SMORMS3``)
/// hold their hyper-parameters as scalar tensors, so a tracked hyper-parameter gets a
/// gradient through any number of steps:
///
/// ```swift
/// let lr = Tensor(0.1).tracked()
/// let sgd = try SGD(learningRate: lr)
/// let (next, _) = sgd.step(parameters: [theta], gradients: [g], state: sgd.initialState(for: [theta]))
/// let dLossDlr = gradients(of: loss(next[0]), wrt: [lr])[0]
/// ```
public protocol Optimiser {
    associatedtype State
    /// The state before the first step, for parameters shaped like `parameters`.
    func initialState(for parameters: [Tensor]) -> State
    /// One update: new parameters and new state from the current ones and the gradients
    /// of the loss (one gradient per parameter, same shapes).
    func step(parameters: [Tensor], gradients: [Tensor], state: State) -> (parameters: [Tensor], state: State)
    /// Fails unless the optimiser can update parameters of these shapes (hand-crafted
    /// optimisers take any; a learned per-parameter one only its learner's).
    func check(parameters: [Tensor]) throws
}

extension Optimiser {
    public func check(parameters: [Tensor]) throws {}
}

/// An optimiser whose step can also read the input batch that produced the gradient (a
/// context-aware learned optimiser such as MTL2L).
public protocol InputAwareOptimiser: Optimiser {
    /// The input features it reads (`nil`: it ignores the batch).
    var inputFeatures: Int? { get }
    /// ``Optimiser/step(parameters:gradients:state:)`` with the batch `inputs` `[B, features]`.
    func step(parameters: [Tensor], gradients: [Tensor], state: State, inputs: Tensor?) -> (parameters: [Tensor], state: State)
}

/// A learned optimiser's state (recurrent states and the like) as one slot, `state`.
extension Array: OptimiserState, RestorableOptimiserState where Element == Tensor {
    public var slots: [String: [Tensor]] { ["state": self] }
    public func restoring(slots: [String: [Tensor]], stepCount: Int) -> [Tensor] { slots["state"] ?? self }
}

/// A state that can list its tensors, for inspection, checkpoints and tests.
public protocol OptimiserState {
    /// The state's tensors by slot name (e.g. `"m"`, `"v"` for Adam), each slot holding one
    /// tensor per parameter, shaped like it. Slots an optimiser does not use (momentum
    /// buffers at momentum 0) are absent.
    var slots: [String: [Tensor]] { get }
    /// Steps taken, for optimisers whose update depends on it (bias corrections); 0 otherwise.
    var stepCount: Int { get }
}

/// A state that can be rebuilt from what ``OptimiserState`` lists: how a checkpoint
/// restores a meta-optimiser, or a caller an optimiser's state (every hand-crafted gradient
/// optimiser's state is one, and so is a learned optimiser's list of tensors).
public protocol RestorableOptimiserState: OptimiserState {
    /// This state with its tensors replaced by `slots` (the same keys and shapes as
    /// ``OptimiserState/slots``, checked by the caller) and its step count by `stepCount`.
    func restoring(slots: [String: [Tensor]], stepCount: Int) -> Self
}

extension OptimiserState {
    public var stepCount: Int { 0 }
}

/// An optimiser bundled with its state for one set of parameters: the object a training
/// loop (or the C ABI) holds. The state is created on the first step.
public final class OptimiserSession {
    private let initialise: ([Tensor]) -> Any
    private let apply: ([Tensor], [Tensor], Tensor?, Any) -> ([Tensor], Any)
    private let make: () -> OptimiserSession
    private let checkShapes: ([Tensor]) throws -> Void
    /// The update of a ``CurvatureOptimiser`` (nil for a first-order optimiser).
    private let applyModel: (([Tensor], any CurvatureModel, Any) -> ([Tensor], Any))?
    /// β_t's distribution from a state, for a trained DMSGD or M²SGD (nil for any other).
    private let summariseRates: ((Any) -> RateSummary?)?
    private var state: Any?
    private var shapes: [[Int]] = []
    /// Steps taken so far.
    public private(set) var steps = 0

    public init<O: Optimiser>(_ optimiser: O) {
        initialise = { optimiser.initialState(for: $0) }
        apply = { p, g, _, s in
            let (np, ns) = optimiser.step(parameters: p, gradients: g, state: s as! O.State)
            return (np, ns)
        }
        make = { OptimiserSession(optimiser) }
        checkShapes = { try optimiser.check(parameters: $0) }
        applyModel = nil
        summariseRates = Self.rateSummariser(of: optimiser)
        inputFeatures = nil
    }

    /// A session of an optimiser that may read the input batch: step it with
    /// ``step(_:gradients:inputs:)`` (``needsInputs`` says whether it must).
    public init<O: InputAwareOptimiser>(_ optimiser: O) {
        initialise = { optimiser.initialState(for: $0) }
        apply = { p, g, x, s in
            let (np, ns) = optimiser.step(parameters: p, gradients: g, state: s as! O.State, inputs: x)
            return (np, ns)
        }
        make = { OptimiserSession(optimiser) }
        checkShapes = { try optimiser.check(parameters: $0) }
        applyModel = nil
        summariseRates = Self.rateSummariser(of: optimiser)
        inputFeatures = optimiser.inputFeatures
    }

    /// β_t's distribution from a session state of `optimiser` if it is a trained DMSGD or
    /// M²SGD (a ``TrainedOptimiser``), whichever initialiser a generic caller reached.
    private static func rateSummariser(of optimiser: Any) -> ((Any) -> RateSummary?)? {
        (optimiser as? TrainedOptimiser).map { trained in
            { state in (state as? [Tensor]).flatMap { trained.rateSummary(state: $0) } }
        }
    }

    /// A session of an optimiser that steps from a model of the loss on the batch (a
    /// Hessian-free one). Step it with ``step(_:model:)`` or
    /// ``step(_:_:inputs:targets:)``; ``step(_:gradients:)`` refuses.
    public init<C: CurvatureOptimiser>(_ optimiser: C) {
        initialise = { optimiser.initialState(for: $0) }
        apply = { p, _, _, s in (p, s) }
        applyModel = { p, model, s in
            let (np, ns) = optimiser.step(parameters: p, model: model, state: s as! C.State)
            return (np, ns)
        }
        make = { OptimiserSession(optimiser) }
        checkShapes = { try optimiser.check(parameters: $0) }
        summariseRates = nil
        inputFeatures = nil
    }

    /// The input features the optimiser reads from each step's batch (`nil`: it ignores
    /// the batch).
    public let inputFeatures: Int?

    /// Whether every step needs the input batch that produced the gradient
    /// (``step(_:gradients:inputs:)``).
    public var needsInputs: Bool { inputFeatures != nil }

    /// Whether the optimiser steps from a ``CurvatureModel`` of the batch rather than from a
    /// gradient (see ``step(_:model:)``).
    public var needsCurvature: Bool { applyModel != nil }

    /// A new session of the same optimiser with no state (for training another learner).
    public func fresh() -> OptimiserSession { make() }

    /// The current state's tensors by slot (see ``OptimiserState/slots``); empty before the
    /// first step and for optimisers whose state does not list its tensors.
    public var stateSlots: [String: [Tensor]] { (state as? OptimiserState)?.slots ?? [:] }

    /// The distribution of the rates β_t after this session's last successful step
    /// (``RateSummary``) for a session of a trained DMSGD or M²SGD; `nil` until a step has
    /// succeeded and for any other optimiser.
    public var rateSummary: RateSummary? { steps > 0 ? state.flatMap { summariseRates?($0) } : nil }

    /// Steps recorded in the state (``OptimiserState/stepCount``): 0 before the first step.
    public var stateStepCount: Int { (state as? OptimiserState)?.stepCount ?? 0 }

    /// The state's tensors flattened, slots in name order, tensors in order within a slot
    /// (the layout ``importState(_:stepCount:for:)`` reads), and its step count; `nil` before
    /// the first step or for a state that cannot be restored.
    public func exportState() -> (values: [Float], stepCount: Int)? {
        guard let state = state as? RestorableOptimiserState else { return nil }
        let values = state.slots.sorted { $0.key < $1.key }.flatMap { $0.value.flatMap(\.scalars) }
        return (values, state.stepCount)
    }

    /// Restores a state exported by ``exportState()`` for parameters shaped like `shapes`:
    /// `.shapeMismatch` if `values` do not fill exactly the state of those shapes,
    /// `.invalidArgument` for an optimiser whose state cannot be restored or a negative step
    /// count, `.nonFinite` for NaN or infinite values; nothing changes on error.
    public func importState(_ values: [Float], stepCount: Int, for shapes: [[Int]]) throws {
        let parameters = shapes.map { Tensor.zeros($0) }
        try checkShapes(parameters)
        guard let initial = initialise(parameters) as? RestorableOptimiserState else {
            throw L2LError.invalid("optimiser: this optimiser's state cannot be restored")
        }
        guard stepCount >= 0 else { throw L2LError.invalid("optimiser: the step count must be non-negative, got \(stepCount)") }
        guard values.allSatisfy(\.isFinite) else { throw L2LError(.nonFinite, "optimiser: the state holds NaN or infinity") }
        let layout = initial.slots.sorted { $0.key < $1.key }
        let needed = layout.reduce(0) { $0 + $1.value.reduce(0) { $0 + $1.count } }
        guard values.count == needed else {
            throw L2LError.shape("optimiser: a state for parameter shapes \(shapes) holds \(needed) values, got \(values.count)")
        }
        var at = 0
        var slots = [String: [Tensor]]()
        for (key, tensors) in layout {
            slots[key] = tensors.map { t in
                defer { at += t.count }
                return Tensor(shape: t.shape, scalars: Array(values[at..<(at + t.count)]))
            }
        }
        try restoreState(for: parameters, slots: slots, stepCount: stepCount)
    }

    /// Starts the state for `parameters` now rather than at the first step (so that
    /// ``stateSlots`` lists the initial tensors); fails as the first step would.
    public func start(for parameters: [Tensor]) throws {
        try checkShapes(parameters)
        state = initialise(parameters)
        shapes = parameters.map(\.shape)
        steps = 0
    }

    /// Replaces the state by the initial state for `parameters` with its tensors and step
    /// count taken from `slots` and `stepCount` (as ``stateSlots`` and ``stateStepCount``
    /// report them): what resuming from a checkpoint does. Fails unless the slots are
    /// exactly the state's, shaped like it.
    public func restoreState(for parameters: [Tensor], slots: [String: [Tensor]], stepCount: Int) throws {
        try checkShapes(parameters)
        guard let initial = initialise(parameters) as? RestorableOptimiserState else {
            throw L2LError.invalid("optimiser: this optimiser's state cannot be restored")
        }
        let expected = initial.slots
        guard Set(expected.keys) == Set(slots.keys), stepCount >= 0,
              expected.allSatisfy({ key, list in slots[key]!.map(\.shape) == list.map(\.shape) })
        else {
            throw L2LError.format("optimiser: the saved state (slots \(slots.keys.sorted())) does not fit this optimiser (slots \(expected.keys.sorted()))")
        }
        state = initial.restoring(slots: slots, stepCount: stepCount)
        shapes = parameters.map(\.shape)
    }

    /// Updates `parameters` in place. The first call fixes the parameter shapes; later calls
    /// with other shapes are rejected (call ``reset()`` to start over on a new learner).
    /// A step that would make any parameter NaN or infinite throws `.nonFinite` and changes
    /// nothing.
    public func step(_ parameters: inout [Tensor], gradients: [Tensor]) throws {
        try step(&parameters, gradients: gradients, inputs: nil)
    }

    /// ``step(_:gradients:)`` with the input batch `inputs` `[B, features]` that produced
    /// the gradient, which an optimiser that ``needsInputs`` reads (others ignore it).
    /// Throws `.invalidArgument` if it needs the batch and `inputs` is nil, `.shapeMismatch`
    /// if the batch has another width.
    public func step(_ parameters: inout [Tensor], gradients: [Tensor], inputs: Tensor?) throws {
        guard !needsCurvature else {
            throw L2LError.invalid("optimiser: this optimiser needs a model of the loss on the batch, not only a gradient (step it with the learner and the batch)")
        }
        guard parameters.count == gradients.count, zip(parameters, gradients).allSatisfy({ $0.shape == $1.shape }) else {
            throw L2LError.shape("optimiser: gradient shapes \(gradients.map(\.shape)) do not match parameter shapes \(parameters.map(\.shape))")
        }
        if let inputFeatures {
            guard let inputs else {
                throw L2LError.invalid("optimiser: this optimiser reads the input batch that produced the gradient; pass it with the step")
            }
            guard inputs.rank == 2, inputs.shape[0] >= 1, inputs.shape[1] == inputFeatures else {
                throw L2LError.shape("optimiser: it reads input batches [B, \(inputFeatures)], got \(inputs.shape)")
            }
        }
        try advance(&parameters) { p, s in withoutGraph { apply(p, gradients, inputs, s) } }
    }

    /// Updates `parameters` in place from `model`, a model of the loss at `parameters` on
    /// the current batch, for an optimiser that ``needsCurvature``. Same rules as
    /// ``step(_:gradients:)`` otherwise.
    public func step(_ parameters: inout [Tensor], model: some CurvatureModel) throws {
        guard let applyModel else {
            throw L2LError.invalid("optimiser: this optimiser steps from a gradient, not from a curvature model")
        }
        guard parameters.count == model.parameters.count,
              zip(parameters, model.parameters).allSatisfy({ $0.shape == $1.shape }) else {
            throw L2LError.shape("optimiser: the model's parameter shapes \(model.parameters.map(\.shape)) do not match \(parameters.map(\.shape))")
        }
        try advance(&parameters) { p, s in withoutGraph { applyModel(p, model, s) } }
    }

    private func advance(_ parameters: inout [Tensor], _ update: ([Tensor], Any) -> ([Tensor], Any)) throws {
        if state == nil {
            try checkShapes(parameters)
            state = initialise(parameters)
            shapes = parameters.map(\.shape)
        } else if parameters.map(\.shape) != shapes {
            throw L2LError.shape("optimiser: its state is for parameter shapes \(shapes), got \(parameters.map(\.shape)); reset it first")
        }
        let (np, ns) = update(parameters, state!)
        guard np.allSatisfy(\.isFinite) else {
            throw L2LError(.nonFinite, "optimiser: the step produced NaN or infinite parameters; parameters and state are unchanged")
        }
        parameters = np
        state = ns
        steps += 1
    }

    /// Forgets the state: the next step starts afresh.
    public func reset() {
        state = nil
        shapes = []
        steps = 0
    }
}

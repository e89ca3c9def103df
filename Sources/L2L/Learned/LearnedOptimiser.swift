/// Whether a learned optimiser is being meta-trained or used (meta-tested). Some behaviour
/// depends on it: M²SGD masks weights in the phases its options name.
public enum LearnedPhase: String, Sendable {
    case metaTraining = "meta_training", metaTesting = "meta_testing"
}

/// Name and shape of one meta-parameter tensor (a part of φ).
public struct MetaParameterSpec: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    /// Whether meta-training changes it; a fixed part of φ (MTL2L's orthogonal bases, by
    /// default) is drawn, saved and loaded with the rest but never updated.
    public let trainable: Bool
    public var count: Int { Shape.count(shape) }

    public init(name: String, shape: [Int], trainable: Bool = true) {
        self.name = name
        self.shape = shape
        self.trainable = trainable
    }
}

/// A learned optimiser: meta-parameters φ in, an ordinary optimiser step out.
///
/// `step` is written in tensor ops, so it is differentiable in φ (and in the learner's
/// parameters), which is what meta-training differentiates. The state is a list of
/// tensors (recurrent states, for instance) so the meta-training engine can detach it at
/// unroll boundaries and save it in checkpoints without knowing what it holds. `step` and
/// `metaLossTerm` must be pure functions of their arguments: meta-training calls them from
/// several threads at once (ES/PES particles, meta-batch members).
public protocol LearnedOptimiser {
    /// The factory kind ("lstm", "meta_sgd", "dmsgd", "m2sgd").
    var kind: String { get }
    /// The options text that rebuilds this optimiser with ``Factory/learnedOptimiser(kind:options:)``.
    var options: String { get }
    /// The meta-parameter tensors, in the order `step` takes them.
    var metaParameterSpecs: [MetaParameterSpec] { get }
    /// The learner parameter shapes this optimiser only works for (per-parameter kinds such
    /// as Meta-SGD), or `nil` if it updates learners of any size (coordinate-wise kinds).
    var parameterShapes: [[Int]]? { get }
    /// φ before meta-training, drawn from `rng`.
    func initialMetaParameters(rng: inout RNG) -> [Tensor]
    /// The state before the first step on a learner with these parameters.
    func initialState(for parameters: [Tensor]) -> [Tensor]
    /// The learner input features this optimiser reads (`inputs` of ``step``), or `nil` if
    /// it ignores the input batch (all but context-aware kinds such as MTL2L).
    var inputFeatures: Int? { get }
    /// One update of the learner's parameters from their gradients; `inputs` `[B, features]`
    /// is the mini-batch that produced them (read only by optimisers with ``inputFeatures``,
    /// which leave the parameters unchanged without it — the front doors refuse that case
    /// with an error first).
    func step(meta: [Tensor], parameters: [Tensor], gradients: [Tensor], state: [Tensor],
              phase: LearnedPhase, inputs: Tensor?) -> (parameters: [Tensor], state: [Tensor])
    /// A term meta-training adds to the meta-loss after each step, with that step's weight,
    /// read from the state the step returned (a scalar, differentiable in φ), or `nil` for
    /// none (every kind but M²SGD with `rate_penalty`).
    func metaLossTerm(state: [Tensor]) -> Tensor?
}

extension LearnedOptimiser {
    public var inputFeatures: Int? { nil }
    public func metaLossTerm(state: [Tensor]) -> Tensor? { nil }

    /// Fails unless the optimiser can read input batches `[B, features]` of this width (a
    /// context-aware optimiser is built for one input width; others take any).
    public func check(inputFeatures features: Int) throws {
        if let own = inputFeatures, own != features {
            throw L2LError.shape("\(kind) reads inputs of \(own) features, the learner takes \(features)")
        }
    }

    /// Fails unless the optimiser can update a learner with parameters of these shapes.
    public func check(shapes: [[Int]]) throws {
        if let own = parameterShapes, own != shapes {
            throw L2LError.shape("\(kind) was built for learner parameter shapes \(own), not \(shapes)")
        }
    }

    /// Total number of meta-parameters (fixed ones included).
    public var metaParameterCount: Int { metaParameterSpecs.reduce(0) { $0 + $1.count } }

    /// Number of meta-parameters meta-training changes.
    public var trainableMetaParameterCount: Int { metaParameterSpecs.filter(\.trainable).reduce(0) { $0 + $1.count } }

    /// `tensors` (one per meta-parameter tensor) with the fixed ones replaced by zeros:
    /// what a meta-gradient or a perturbation of φ must be.
    func zeroingFixed(_ tensors: [Tensor]) -> [Tensor] {
        zip(metaParameterSpecs, tensors).map { $0.trainable ? $1 : Tensor.zeros($1.shape) }
    }

    /// Checks φ against the specs (count, shapes, finiteness).
    public func validate(meta: [Tensor]) throws {
        try validateTensors(meta, names: metaParameterSpecs.map(\.name), shapes: metaParameterSpecs.map(\.shape),
                            owner: kind, item: "\(kind) meta-parameter")
    }
}

/// A learned optimiser with fixed meta-parameters, as an ordinary ``Optimiser``: what
/// meta-testing, the C ABI and the Python module use to train learners with it.
public struct TrainedOptimiser: Optimiser {
    public let learned: any LearnedOptimiser
    public let meta: [Tensor]
    public let phase: LearnedPhase

    public init(_ learned: any LearnedOptimiser, meta: [Tensor], phase: LearnedPhase = .metaTesting) throws {
        try learned.validate(meta: meta)
        self.learned = learned
        self.meta = meta.map { $0.detached() }
        self.phase = phase
    }

    public func initialState(for parameters: [Tensor]) -> [Tensor] { learned.initialState(for: parameters) }

    public func check(parameters: [Tensor]) throws { try learned.check(shapes: parameters.map(\.shape)) }

    public func step(parameters: [Tensor], gradients: [Tensor], state: [Tensor]) -> (parameters: [Tensor], state: [Tensor]) {
        learned.step(meta: meta, parameters: parameters, gradients: gradients, state: state, phase: phase, inputs: nil)
    }
}

extension TrainedOptimiser: InputAwareOptimiser {
    public var inputFeatures: Int? { learned.inputFeatures }

    public func step(parameters: [Tensor], gradients: [Tensor], state: [Tensor], inputs: Tensor?) -> (parameters: [Tensor], state: [Tensor]) {
        learned.step(meta: meta, parameters: parameters, gradients: gradients, state: state, phase: phase, inputs: inputs)
    }
}

// MARK: Coordinates

/// All parameter tensors as one column `[P, 1]` of coordinates, the batch a
/// coordinate-wise network runs over (differentiable).
func coordinates(_ tensors: [Tensor]) -> Tensor {
    Tensor.concatenate(tensors.map { $0.reshaped([-1, 1]) }, axis: 0)
}

/// The inverse of ``coordinates(_:)``: a `[P, 1]` column split back into tensors shaped
/// like `like`.
func split(_ column: Tensor, like shapes: [[Int]]) -> [Tensor] {
    var start = 0
    return shapes.map { shape in
        let n = Shape.count(shape)
        defer { start += n }
        return column.slice(axis: 0, start..<(start + n)).reshaped(shape)
    }
}

/// What a learnable parameter is. The Hessian-free meta-optimiser keeps one small network
/// per kind, so kinds are part of every learner's description.
public enum ParameterKind: String, CaseIterable, Sendable {
    case fcWeight = "fc_weight", fcBias = "fc_bias"
    case convKernel = "conv_kernel", convBias = "conv_bias"
    case batchNormGamma = "bn_gamma", batchNormBeta = "bn_beta"

    /// The code used in the C ABI (`L2L_PARAM_*`).
    public var code: Int32 { Int32(ParameterKind.allCases.firstIndex(of: self)!) }
}

/// Name, kind and shape of one parameter tensor of a learner.
public struct ParameterSpec: Equatable, Sendable {
    public let name: String
    public let kind: ParameterKind
    public let shape: [Int]
    public var count: Int { Shape.count(shape) }
}

/// A learner's trainable parameters and its non-trainable buffers (batch-norm running
/// statistics), in the orders of `parameterSpecs` and `initialBuffers()`.
public struct LearnerState {
    public var parameters: [Tensor]
    public var buffers: [Tensor]

    public init(parameters: [Tensor], buffers: [Tensor] = []) {
        self.parameters = parameters
        self.buffers = buffers
    }
}

/// What a learner's output is scored with.
public enum Objective: String, Sendable {
    /// Logits `[n, classes]` against integer labels: mean softmax cross-entropy.
    case softmaxCrossEntropy = "softmax_cross_entropy"
    /// One logit per example `[n, 1]` against labels 0/1: mean sigmoid binary cross-entropy.
    case sigmoidBinaryCrossEntropy = "sigmoid_binary_cross_entropy"
    /// Predictions `[n, k]` against real targets `[n, k]`: mean squared error.
    case meanSquaredError = "mean_squared_error"
}

/// What a batch's outputs are compared with: class labels or real-valued targets.
public enum Targets {
    /// One class index per example.
    case labels([Int32])
    /// Real targets shaped like the learner's output `[n, k]`.
    case values(Tensor)

    /// Number of examples.
    public var count: Int {
        switch self {
        case .labels(let l): return l.count
        case .values(let v): return v.rank == 0 ? 1 : v.shape[0]
        }
    }
}

/// A functional model: the parameters live outside it, so an optimiser (hand-crafted or
/// learned) can produce new ones and the model just evaluates them.
///
/// Inputs are always a `[n, inputFeatures]` batch (a convolutional learner reshapes rows
/// into images itself). Non-trainable state — batch-norm running statistics — travels as
/// `buffers` beside the parameters, so a forward pass stays a pure function. It must stay
/// one: meta-training calls a learner from several threads at once (ES/PES particles,
/// meta-batch members; ``Kernels/parallelMap(_:_:)``).
public protocol Learner {
    /// The parameter tensors, in the order `forward` takes them.
    var parameterSpecs: [ParameterSpec] { get }
    /// Width of one input example (the `features` of a `[n, features]` batch).
    var inputFeatures: Int { get }
    /// Width of the output per example: the number of classes for a classifier.
    var classes: Int { get }
    /// How the output is scored.
    var objective: Objective { get }
    /// Freshly initialised parameters, drawn from `rng`.
    func initialParameters(rng: inout RNG) -> [Tensor]
    /// The non-trainable state before any training step (empty for most learners).
    func initialBuffers() -> [Tensor]
    /// Outputs `[n, classes]` for inputs `[n, inputFeatures]`. With `training`, layers such
    /// as batch norm use batch statistics and return updated `buffers`; without it they use
    /// `buffers` and return them unchanged.
    func forward(_ parameters: [Tensor], _ inputs: Tensor, buffers: [Tensor], training: Bool)
        -> (output: Tensor, buffers: [Tensor])
}

extension Learner {
    public var objective: Objective { .softmaxCrossEntropy }
    public func initialBuffers() -> [Tensor] { [] }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.count } }

    /// How many distinct labels the learner can be trained on: `classes`, or 2 for a
    /// single sigmoid output.
    public var labelClasses: Int { objective == .sigmoidBinaryCrossEntropy ? 2 : classes }

    /// Fresh parameters drawn from `rng` and the initial buffers.
    public func initialState(rng: inout RNG) -> LearnerState {
        LearnerState(parameters: initialParameters(rng: &rng), buffers: initialBuffers())
    }

    /// Outputs in evaluation mode with the initial buffers: for learners without buffers.
    public func forward(_ parameters: [Tensor], _ inputs: Tensor) -> Tensor {
        forward(parameters, inputs, buffers: initialBuffers(), training: false).output
    }

    /// The objective's mean loss of `outputs` against `targets`.
    public func loss(outputs: Tensor, targets: Targets) -> Tensor {
        switch (objective, targets) {
        case (.softmaxCrossEntropy, .labels(let labels)):
            return Tensor.softmaxCrossEntropy(logits: outputs, labels: labels)
        case (.sigmoidBinaryCrossEntropy, .labels(let labels)):
            let t = Tensor(shape: outputs.shape, scalars: labels.map(Float.init))
            return Tensor.sigmoidBinaryCrossEntropy(logits: outputs, targets: t)
        case (.sigmoidBinaryCrossEntropy, .values(let t)):
            return Tensor.sigmoidBinaryCrossEntropy(logits: outputs, targets: t)
        case (.meanSquaredError, .values(let t)):
            return Tensor.meanSquaredError(outputs, t)
        case (.softmaxCrossEntropy, .values), (.meanSquaredError, .labels):
            // Every front door checks the pairing first (validate(inputs:targets:),
            // Training.checkCompatible): reaching this is a bug in l2l.
            preconditionFailure("loss: \(objective.rawValue) cannot score \(targets)")
        }
    }

    /// Mean loss of a batch in evaluation mode with the initial buffers.
    public func loss(_ parameters: [Tensor], _ inputs: Tensor, _ labels: [Int32]) -> Tensor {
        loss(outputs: forward(parameters, inputs), targets: .labels(labels))
    }

    /// Checks user-supplied parameters (count, shapes, finiteness) before they reach an op.
    public func validate(parameters: [Tensor]) throws {
        try validateTensors(parameters, names: parameterSpecs.map(\.name), shapes: parameterSpecs.map(\.shape),
                            owner: "learner", item: "parameter")
    }

    /// Checks a user-supplied batch (shapes, label range, finiteness) before it reaches an op.
    /// A regression (mean-squared-error) learner takes real targets, not labels: see
    /// ``validate(inputs:targets:)``.
    public func validate(inputs: Tensor, labels: [Int32]) throws {
        try validate(inputs: inputs, targets: .labels(labels))
    }

    /// Checks a user-supplied batch before it reaches an op: inputs `[n, inputFeatures]`
    /// with n ≥ 1; labels (n of them, in `0..<labelClasses`) for a classifier, real targets
    /// `[n, classes]` for a mean-squared-error or sigmoid binary cross-entropy learner; all finite.
    public func validate(inputs: Tensor, targets: Targets) throws {
        guard inputs.rank == 2, inputs.shape[1] == inputFeatures else {
            throw L2LError.shape("learner expects inputs [n, \(inputFeatures)], got shape \(inputs.shape)")
        }
        switch (objective, targets) {
        case (.meanSquaredError, .labels):
            throw L2LError.invalid("a mean-squared-error (regression) learner takes real-valued targets [n, \(classes)], not integer labels")
        case (.softmaxCrossEntropy, .values):
            throw L2LError.invalid("a softmax cross-entropy learner takes integers (class labels), not real-valued targets")
        case (_, .labels(let labels)):
            guard inputs.shape[0] == labels.count else {
                throw L2LError.shape("\(inputs.shape[0]) input rows but \(labels.count) labels")
            }
            if let bad = labels.first(where: { $0 < 0 || Int($0) >= labelClasses }) {
                throw L2LError.invalid("label \(bad) is outside 0..<\(labelClasses)")
            }
        case (_, .values(let values)):
            guard values.shape == [inputs.shape[0], classes] else {
                throw L2LError.shape("\(inputs.shape[0]) input rows need targets of shape [\(inputs.shape[0]), \(classes)], got \(values.shape)")
            }
            guard values.isFinite else { throw L2LError(.nonFinite, "targets contain NaN or infinity") }
        }
        guard inputs.shape[0] > 0 else { throw L2LError.shape("empty batch") }
        guard inputs.isFinite else { throw L2LError(.nonFinite, "inputs contain NaN or infinity") }
    }
}

extension Learner {
    /// Parameters rebuilt from one flat vector laid out tensor after tensor, in
    /// ``parameterSpecs`` order. Fails on a wrong length or a non-finite value.
    public func parameters(flat values: UnsafeBufferPointer<Float>) throws -> [Tensor] {
        guard values.count == parameterCount else {
            throw L2LError.shape("learner has \(parameterCount) parameters, got \(values.count) values")
        }
        guard values.allSatisfy({ $0.isFinite }) else { throw L2LError(.nonFinite, "parameters contain NaN or infinity") }
        var offset = 0
        return parameterSpecs.map { spec in
            defer { offset += spec.count }
            return Tensor(shape: spec.shape, copying: values.baseAddress! + offset)
        }
    }
}

/// Copies tensors one after another into `destination`, which must hold their total count.
public func flatten(_ tensors: [Tensor], into destination: UnsafeMutablePointer<Float>) {
    var offset = 0
    for t in tensors {
        t.withUnsafeBufferPointer { (destination + offset).update(from: $0.baseAddress!, count: $0.count) }
        offset += t.count
    }
}

/// PyTorch's default initialisation, which the papers' code uses: U(±1/√fan_in) for each
/// weight and for the bias that follows it, where fan_in is `in` for a dense weight
/// `[in, out]` and `in·kh·kw` for a convolution kernel `[out, in, kh, kw]`. Draws in the
/// order of `specs`.
func fanInUniformParameters(_ specs: [ParameterSpec], rng: inout RNG) -> [Tensor] {
    var fanIn = 1
    return specs.map { spec in
        switch spec.kind {
        case .convKernel: fanIn = Shape.count(Array(spec.shape.dropFirst()))
        case .fcWeight: fanIn = spec.shape[0]
        case .fcBias, .convBias, .batchNormGamma, .batchNormBeta: break
        }
        return Tensor.fanInUniform(spec.shape, fanIn: fanIn, rng: &rng)
    }
}

/// Checks a list of named tensors against expected shapes and finiteness: the one check
/// behind learners' parameters and learned optimisers' meta-parameters.
/// Messages: "`owner` takes N `item` tensors, got M"; "`item` NAME must have shape …";
/// "`item` NAME contains NaN or infinity".
func validateTensors(_ tensors: [Tensor], names: [String], shapes: [[Int]], owner: String, item: String) throws {
    guard tensors.count == shapes.count else {
        throw L2LError.shape("\(owner) takes \(shapes.count) \(item) tensors, got \(tensors.count)")
    }
    for (t, (name, shape)) in zip(tensors, zip(names, shapes)) {
        guard t.shape == shape else { throw L2LError.shape("\(item) \(name) must have shape \(shape), got \(t.shape)") }
        guard t.isFinite else { throw L2LError(.nonFinite, "\(item) \(name) contains NaN or infinity") }
    }
}

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

/// A functional model: the parameters live outside it, so an optimiser (hand-crafted or
/// learned) can produce new ones and the model just evaluates them.
public protocol Learner {
    /// The parameter tensors, in the order `forward` takes them.
    var parameterSpecs: [ParameterSpec] { get }
    /// Width of one input example (the `features` of a `[n, features]` batch).
    var inputFeatures: Int { get }
    /// Number of classes the head scores.
    var classes: Int { get }
    /// Freshly initialised parameters, drawn from `rng`.
    func initialParameters(rng: inout RNG) -> [Tensor]
    /// Logits `[n, classes]` for inputs `[n, inputFeatures]`.
    func forward(_ parameters: [Tensor], _ inputs: Tensor) -> Tensor
}

extension Learner {
    /// Total number of scalar parameters.
    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.count } }

    /// Mean softmax cross-entropy of the logits against `labels`.
    public func loss(_ parameters: [Tensor], _ inputs: Tensor, _ labels: [Int32]) -> Tensor {
        Tensor.softmaxCrossEntropy(logits: forward(parameters, inputs), labels: labels)
    }

    /// Checks user-supplied parameters (count, shapes, finiteness) before they reach an op.
    public func validate(parameters: [Tensor]) throws {
        let specs = parameterSpecs
        guard parameters.count == specs.count else {
            throw L2LError.shape("learner takes \(specs.count) parameter tensors, got \(parameters.count)")
        }
        for (p, s) in zip(parameters, specs) {
            guard p.shape == s.shape else { throw L2LError.shape("parameter \(s.name) must have shape \(s.shape), got \(p.shape)") }
            guard p.isFinite else { throw L2LError(.nonFinite, "parameter \(s.name) contains NaN or infinity") }
        }
    }

    /// Checks a user-supplied batch (shapes, label range, finiteness) before it reaches an op.
    public func validate(inputs: Tensor, labels: [Int32]) throws {
        guard inputs.rank == 2, inputs.shape[1] == inputFeatures else {
            throw L2LError.shape("learner expects inputs [n, \(inputFeatures)], got shape \(inputs.shape)")
        }
        guard inputs.shape[0] == labels.count else {
            throw L2LError.shape("\(inputs.shape[0]) input rows but \(labels.count) labels")
        }
        guard inputs.shape[0] > 0 else { throw L2LError.shape("empty batch") }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw L2LError.invalid("label \(bad) is outside 0..<\(classes)")
        }
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

/// A multi-layer perceptron: fully-connected layers with an activation between them and
/// raw logits out (the softmax lives in the loss).
///
/// Parameters per layer `l`: `fc{l}.weight` of shape `[in, out]` (so a layer is `x·W + b`)
/// and `fc{l}.bias` of shape `[out]`. `MLP(sizes: [784, 32, 10])` has 25,450 parameters.
public struct MLP: Learner {
    public enum Activation: String, CaseIterable, Sendable {
        case relu, sigmoid, tanh

        /// Every activation by its name, for options.
        public static let byName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

        /// The activation applied element-wise.
        public func apply(_ x: Tensor) -> Tensor {
            switch self {
            case .relu: return x.relu()
            case .sigmoid: return x.sigmoid()
            case .tanh: return x.tanh()
            }
        }
    }

    /// How weights are drawn at initialisation. Biases are zero except under `.fanInUniform`.
    public enum Initialization: String, CaseIterable, Sendable {
        /// U(±1/√fan_in) for weights and biases: PyTorch's default, which the papers' code uses.
        case fanInUniform = "fan_in_uniform"
        /// Glorot/Xavier uniform weights, zero biases.
        case glorot
        /// He/Kaiming normal weights, zero biases.
        case he
    }

    /// Layer widths, input first, outputs last (at least two entries).
    public let sizes: [Int]
    public let activation: Activation
    public let initialization: Initialization
    /// How the output is scored: softmax cross-entropy (classifier), sigmoid binary
    /// cross-entropy (one output: the LSTM-learner paper's `[d, 32, 1]` net) or mean
    /// squared error (regression: the sine tasks' `[1, 40, 40, 1]` net).
    public let objective: Objective

    public init(sizes: [Int], activation: Activation = .relu, initialization: Initialization = .fanInUniform,
                objective: Objective = .softmaxCrossEntropy) throws {
        guard sizes.count >= 2 else { throw L2LError.invalid("mlp: sizes needs at least an input and an output width, got \(sizes)") }
        guard sizes.allSatisfy({ $0 >= 1 && $0 < Shape.maxElements }) else {
            throw L2LError.invalid("mlp: every size must be in 1..<\(Shape.maxElements), got \(sizes)")
        }
        var total = 0
        for l in 0..<(sizes.count - 1) {
            guard let w = Shape.checkedCount([sizes[l] + 1, sizes[l + 1]]), total + w <= Shape.maxElements else {
                throw L2LError.invalid("mlp: sizes \(sizes) need more than \(Shape.maxElements) parameters")
            }
            total += w
        }
        if objective == .sigmoidBinaryCrossEntropy && sizes.last != 1 {
            throw L2LError.invalid("mlp: a sigmoid binary cross-entropy net has one output, got sizes \(sizes)")
        }
        if objective == .softmaxCrossEntropy && sizes.last! < 2 {
            throw L2LError.invalid("mlp: a softmax cross-entropy classifier needs at least 2 classes, got sizes \(sizes) (one output is objective=binary or mse)")
        }
        self.sizes = sizes
        self.activation = activation
        self.initialization = initialization
        self.objective = objective
    }

    /// Builds an MLP from options: `sizes=784,32,10` (required), `activation=relu|sigmoid|tanh`,
    /// `init=fan_in_uniform|glorot|he`, `objective=softmax_cross_entropy|sigmoid_binary_cross_entropy|mean_squared_error`
    /// (short forms `ce`, `bce`, `mse`).
    public init(config: inout Config) throws {
        guard let sizes = try config.ints("sizes") else { throw L2LError.invalid("mlp: option sizes=… is required (e.g. sizes=784,32,10)") }
        let act = try config.choice("activation", default: Activation.relu, Activation.byName)
        let ini = try config.choice("init", default: Initialization.fanInUniform,
                                    Dictionary(uniqueKeysWithValues: Initialization.allCases.map { ($0.rawValue, $0) }))
        let objectives: [String: Objective] = ["ce": .softmaxCrossEntropy, "bce": .sigmoidBinaryCrossEntropy,
                                               "mse": .meanSquaredError, "softmax_cross_entropy": .softmaxCrossEntropy,
                                               "sigmoid_binary_cross_entropy": .sigmoidBinaryCrossEntropy,
                                               "mean_squared_error": .meanSquaredError]
        let objective = try config.choice("objective", default: Objective.softmaxCrossEntropy, objectives)
        try self.init(sizes: sizes, activation: act, initialization: ini, objective: objective)
    }

    public var inputFeatures: Int { sizes[0] }
    public var classes: Int { sizes[sizes.count - 1] }

    public var parameterSpecs: [ParameterSpec] {
        (0..<(sizes.count - 1)).flatMap { l in
            [ParameterSpec(name: "fc\(l).weight", kind: .fcWeight, shape: [sizes[l], sizes[l + 1]]),
             ParameterSpec(name: "fc\(l).bias", kind: .fcBias, shape: [sizes[l + 1]])]
        }
    }

    public func initialParameters(rng: inout RNG) -> [Tensor] {
        let widths = zip(sizes, sizes.dropFirst())
        switch initialization {
        case .fanInUniform:
            return fanInUniformParameters(parameterSpecs, rng: &rng)
        case .glorot:
            return widths.flatMap { i, o in [Tensor.glorotUniform([i, o], fanIn: i, fanOut: o, rng: &rng), Tensor.zeros([o])] }
        case .he:
            return widths.flatMap { i, o in [Tensor.heNormal([i, o], fanIn: i, rng: &rng), Tensor.zeros([o])] }
        }
    }

    public func forward(_ parameters: [Tensor], _ inputs: Tensor, buffers: [Tensor], training: Bool)
        -> (output: Tensor, buffers: [Tensor])
    {
        (layers(parameters, inputs), buffers)
    }

    private func layers(_ parameters: [Tensor], _ inputs: Tensor) -> Tensor {
        var h = inputs
        let layers = sizes.count - 1
        for l in 0..<layers {
            h = matmul(h, parameters[2 * l]) + parameters[2 * l + 1]
            if l < layers - 1 { h = activation.apply(h) }
        }
        return h
    }
}

/// A multi-layer perceptron: fully-connected layers with an activation between them and
/// raw logits out (the softmax lives in the loss).
///
/// Parameters per layer `l`: `fc{l}.weight` of shape `[in, out]` (so a layer is `x·W + b`)
/// and `fc{l}.bias` of shape `[out]`. `MLP(sizes: [784, 32, 10])` has 25,450 parameters.
public struct MLP: Learner {
    public enum Activation: String, CaseIterable, Sendable { case relu, sigmoid, tanh }

    /// How weights are drawn at initialisation. Biases are zero except under `.fanInUniform`.
    public enum Initialization: String, CaseIterable, Sendable {
        /// U(±1/√fan_in) for weights and biases: PyTorch's default, which the papers' code uses.
        case fanInUniform = "fan_in_uniform"
        /// Glorot/Xavier uniform weights, zero biases.
        case glorot
        /// He/Kaiming normal weights, zero biases.
        case he
    }

    /// Layer widths, input first, classes last (at least two entries).
    public let sizes: [Int]
    public let activation: Activation
    public let initialization: Initialization

    public init(sizes: [Int], activation: Activation = .relu, initialization: Initialization = .fanInUniform) throws {
        guard sizes.count >= 2 else { throw L2LError.invalid("mlp: sizes needs at least an input and an output width, got \(sizes)") }
        guard sizes.allSatisfy({ $0 >= 1 }) else { throw L2LError.invalid("mlp: every size must be at least 1, got \(sizes)") }
        var total = 0
        for l in 0..<(sizes.count - 1) {
            guard let w = Shape.checkedCount([sizes[l] + 1, sizes[l + 1]]), total + w <= Shape.maxElements else {
                throw L2LError.invalid("mlp: sizes \(sizes) need more than \(Shape.maxElements) parameters")
            }
            total += w
        }
        self.sizes = sizes
        self.activation = activation
        self.initialization = initialization
    }

    /// Builds an MLP from options: `sizes=784,32,10` (required), `activation=relu|sigmoid|tanh`,
    /// `init=fan_in_uniform|glorot|he`.
    public init(config: inout Config) throws {
        guard let sizes = try config.ints("sizes") else { throw L2LError.invalid("mlp: option sizes=… is required (e.g. sizes=784,32,10)") }
        let act = try config.choice("activation", default: Activation.relu,
                                    Dictionary(uniqueKeysWithValues: Activation.allCases.map { ($0.rawValue, $0) }))
        let ini = try config.choice("init", default: Initialization.fanInUniform,
                                    Dictionary(uniqueKeysWithValues: Initialization.allCases.map { ($0.rawValue, $0) }))
        try self.init(sizes: sizes, activation: act, initialization: ini)
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
        (0..<(sizes.count - 1)).flatMap { l -> [Tensor] in
            let (i, o) = (sizes[l], sizes[l + 1])
            switch initialization {
            case .fanInUniform:
                return [Tensor.fanInUniform([i, o], fanIn: i, rng: &rng), Tensor.fanInUniform([o], fanIn: i, rng: &rng)]
            case .glorot:
                return [Tensor.glorotUniform([i, o], fanIn: i, fanOut: o, rng: &rng), Tensor.zeros([o])]
            case .he:
                return [Tensor.heNormal([i, o], fanIn: i, rng: &rng), Tensor.zeros([o])]
            }
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
            if l < layers - 1 {
                switch activation {
                case .relu: h = h.relu()
                case .sigmoid: h = h.sigmoid()
                case .tanh: h = h.tanh()
                }
            }
        }
        return h
    }
}

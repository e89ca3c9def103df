/// A convolutional network: convolutions (each followed by the activation and max
/// pooling), then fully-connected layers, then the class scores.
///
/// `Convnet(inputShape: [1, 28, 28], channels: [32, 64], hidden: [128])` is the 28×28 net
/// of the acceptance test (5×5 "same" convolutions, 2×2 max pooling); with
/// `inputShape: [3, 32, 32]` it is the CUDA-convnet variant of the Hessian-free paper (no
/// local response normalisation, fully-connected top). Parameters per convolution `i`:
/// `conv{i}.weight` `[out, in, k, k]` and `conv{i}.bias` `[out]`; per dense layer `j`:
/// `fc{j}.weight` `[in, out]` and `fc{j}.bias` `[out]`.
public struct Convnet: Learner {
    /// `[channels, height, width]` of one example.
    public let inputShape: [Int]
    public let channels: [Int]
    public let kernel: Int
    public let pool: Int
    public let hidden: [Int]
    public let classes: Int
    /// The non-linearity after every convolution and hidden dense layer.
    public let activation: MLP.Activation
    /// Max pooling (the papers') or average pooling after each convolution.
    public let averagePooling: Bool

    public init(inputShape: [Int], channels: [Int] = [32, 64], kernel: Int = 5, pool: Int = 2,
                hidden: [Int] = [128], classes: Int = 10, activation: MLP.Activation = .relu,
                averagePooling: Bool = false) throws {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw L2LError.invalid("convnet: input shape must be [channels, height, width], got \(inputShape)")
        }
        guard !channels.isEmpty, channels.allSatisfy({ $0 >= 1 }), hidden.allSatisfy({ $0 >= 1 }), classes >= 1 else {
            throw L2LError.invalid("convnet: channels \(channels), hidden \(hidden) and classes \(classes) must be positive (at least one convolution)")
        }
        guard kernel >= 1, kernel % 2 == 1, pool >= 1 else {
            throw L2LError.invalid("convnet: kernel must be odd (\"same\" padding) and pool positive, got kernel \(kernel), pool \(pool)")
        }
        self.inputShape = inputShape
        self.channels = channels
        self.kernel = kernel
        self.pool = pool
        self.hidden = hidden
        self.classes = classes
        self.activation = activation
        self.averagePooling = averagePooling
        var (h, w) = (inputShape[1], inputShape[2])
        for _ in channels { (h, w) = (h / pool, w / pool) }
        guard h >= 1, w >= 1 else { throw L2LError.invalid("convnet: \(channels.count) poolings of \(pool) shrink \(inputShape) to nothing") }
        guard let total = Shape.checkedCount([parameterSpecs.reduce(0) { $0 + $1.count }]), total < Shape.maxElements else {
            throw L2LError.invalid("convnet: too many parameters")
        }
    }

    /// Options: `input=1,28,28`, `channels=32,64`, `kernel=5`, `pool=2`, `hidden=128`
    /// (`hidden=none` for no hidden layer), `classes=10`, `activation=relu|sigmoid|tanh`,
    /// `pooling=max|avg`.
    public init(config: inout Config) throws {
        try self.init(inputShape: try config.ints("input") ?? [1, 28, 28], channels: try config.ints("channels") ?? [32, 64],
                      kernel: try config.int("kernel", default: 5), pool: try config.int("pool", default: 2),
                      hidden: config.string("hidden") == "none" ? [] : try config.ints("hidden") ?? [128],
                      classes: try config.int("classes", default: 10),
                      activation: try config.choice("activation", default: .relu, MLP.Activation.byName),
                      averagePooling: try config.choice("pooling", default: false, ["max": false, "avg": true]))
    }

    public var inputFeatures: Int { Shape.count(inputShape) }

    /// Width of the flattened features entering the first dense layer.
    private var flatFeatures: Int {
        var (h, w) = (inputShape[1], inputShape[2])
        for _ in channels { (h, w) = (h / pool, w / pool) }
        return channels[channels.count - 1] * h * w
    }

    public var parameterSpecs: [ParameterSpec] {
        var specs = [ParameterSpec]()
        var c = inputShape[0]
        for (i, o) in channels.enumerated() {
            specs.append(ParameterSpec(name: "conv\(i).weight", kind: .convKernel, shape: [o, c, kernel, kernel]))
            specs.append(ParameterSpec(name: "conv\(i).bias", kind: .convBias, shape: [o]))
            c = o
        }
        let widths = [flatFeatures] + hidden + [classes]
        for j in 0..<(widths.count - 1) {
            specs.append(ParameterSpec(name: "fc\(j).weight", kind: .fcWeight, shape: [widths[j], widths[j + 1]]))
            specs.append(ParameterSpec(name: "fc\(j).bias", kind: .fcBias, shape: [widths[j + 1]]))
        }
        return specs
    }

    /// PyTorch's defaults, which the papers' code uses: U(±1/√fan_in) for every weight and
    /// bias, where fan_in is `in·k·k` for a convolution.
    public func initialParameters(rng: inout RNG) -> [Tensor] {
        fanInUniformParameters(parameterSpecs, rng: &rng)
    }

    public func forward(_ parameters: [Tensor], _ inputs: Tensor, buffers: [Tensor], training: Bool)
        -> (output: Tensor, buffers: [Tensor])
    {
        var h = inputs.reshaped([inputs.shape[0]] + inputShape)
        for i in channels.indices {
            h = Tensor.conv2d(h, kernel: parameters[2 * i], bias: parameters[2 * i + 1], padding: kernel / 2)
            let window = Window2D(kernel: pool, stride: pool)
            h = activation.apply(h)
            h = averagePooling ? h.avgPool2d(window) : h.maxPool2d(window)
        }
        h = h.reshaped([h.shape[0], -1])
        let dense = Array(parameters[(2 * channels.count)...])
        for j in 0..<(dense.count / 2) {
            h = matmul(h, dense[2 * j]) + dense[2 * j + 1]
            if j < dense.count / 2 - 1 { h = activation.apply(h) }
        }
        return (h, buffers)
    }
}

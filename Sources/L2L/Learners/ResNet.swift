/// A CIFAR-style residual network (He et al., 2016): a 3×3 stem convolution, stages of
/// basic blocks (two 3×3 convolutions with batch norm), the first block of each later
/// stage halving the resolution, then global average pooling and a dense classifier.
///
/// `ResNet()` is ResNet20 (3 stages × 3 blocks, 16/32/64 channels, 269,722 parameters) with
/// the paper's parameter-free "option A" shortcut (subsample, zero-pad channels).
/// `version: .v2` uses pre-activation blocks (BN–ReLU–conv; He et al., "Identity Mappings"),
/// as the Hessian-free paper's 9-block mini ResNet does. Convolutions have no bias (batch
/// norm follows); batch norm uses batch statistics in training and running statistics in
/// evaluation (the buffers: running mean and variance of every batch norm, in order).
public struct ResNet: Learner {
    public enum Version: String, CaseIterable, Sendable { case v1, v2 }

    /// `[channels, height, width]` of one example.
    public let inputShape: [Int]
    /// Channels of each stage; every stage after the first halves the resolution.
    public let stages: [Int]
    public let blocksPerStage: Int
    public let version: Version
    public let classes: Int
    /// The non-linearity of the blocks (ReLU in the papers).
    public let activation: MLP.Activation

    public init(inputShape: [Int] = [3, 32, 32], stages: [Int] = [16, 32, 64], blocksPerStage: Int = 3,
                version: Version = .v1, classes: Int = 10, activation: MLP.Activation = .relu) throws {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw L2LError.invalid("resnet: input shape must be [channels, height, width], got \(inputShape)")
        }
        guard !stages.isEmpty, stages.allSatisfy({ $0 >= 1 }), blocksPerStage >= 1, classes >= 1 else {
            throw L2LError.invalid("resnet: stages \(stages), blocks \(blocksPerStage) and classes \(classes) must be positive")
        }
        guard zip(stages, stages.dropFirst()).allSatisfy({ $1 >= $0 && ($1 - $0) % 2 == 0 }) else {
            throw L2LError.invalid("resnet: the option-A shortcut pads channels evenly, so each stage needs as many or 2k more channels than the last, got \(stages)")
        }
        let shrink = 1 << (stages.count - 1)
        guard inputShape[1] >= shrink, inputShape[2] >= shrink else {
            throw L2LError.invalid("resnet: \(stages.count - 1) halvings do not fit an input of \(inputShape)")
        }
        // Batch normalisation in training needs more than one value per channel, also for a
        // batch of one example: the last stage's feature map needs at least two positions.
        var (h, w) = (inputShape[1], inputShape[2])
        for _ in stages.dropFirst() { (h, w) = ((h + 1) / 2, (w + 1) / 2) }
        guard h * w >= 2 else {
            throw L2LError.invalid("resnet: an input of \(inputShape) is 1 × 1 in the last stage, where batch normalisation of one example has no variance; use a larger input or fewer stages")
        }
        self.inputShape = inputShape
        self.stages = stages
        self.blocksPerStage = blocksPerStage
        self.version = version
        self.classes = classes
        self.activation = activation
        guard parameterCount < Shape.maxElements else { throw L2LError.invalid("resnet: too many parameters") }
    }

    /// Options: `input=3,32,32`, `stages=16,32,64`, `blocks=3`, `version=v1|v2`, `classes=10`,
    /// `activation=relu|sigmoid|tanh`.
    public init(config: inout Config) throws {
        try self.init(inputShape: try config.ints("input") ?? [3, 32, 32], stages: try config.ints("stages") ?? [16, 32, 64],
                      blocksPerStage: try config.int("blocks", default: 3),
                      version: try config.choice("version", default: .v1, ["v1": .v1, "v2": .v2]),
                      classes: try config.int("classes", default: 10),
                      activation: try config.choice("activation", default: .relu, MLP.Activation.byName))
    }

    public var inputFeatures: Int { Shape.count(inputShape) }

    /// The blocks in order: (input channels, output channels, stride).
    private var blocks: [(input: Int, output: Int, stride: Int)] {
        var result = [(Int, Int, Int)]()
        var c = stages[0]
        for (s, width) in stages.enumerated() {
            for b in 0..<blocksPerStage {
                result.append((c, width, s > 0 && b == 0 ? 2 : 1))
                c = width
            }
        }
        return result
    }

    private func batchNormSpecs(_ name: String, _ c: Int) -> [ParameterSpec] {
        [ParameterSpec(name: name + ".gamma", kind: .batchNormGamma, shape: [c]),
         ParameterSpec(name: name + ".beta", kind: .batchNormBeta, shape: [c])]
    }

    public var parameterSpecs: [ParameterSpec] {
        var specs = [ParameterSpec(name: "stem.weight", kind: .convKernel, shape: [stages[0], inputShape[0], 3, 3])]
        if version == .v1 { specs += batchNormSpecs("stem.bn", stages[0]) }
        for (i, b) in blocks.enumerated() {
            // v1: conv1, bn1, conv2, bn2.  v2: bn1 (on the input), conv1, bn2, conv2.
            let conv1 = ParameterSpec(name: "block\(i).conv1.weight", kind: .convKernel, shape: [b.output, b.input, 3, 3])
            let conv2 = ParameterSpec(name: "block\(i).conv2.weight", kind: .convKernel, shape: [b.output, b.output, 3, 3])
            switch version {
            case .v1: specs += [conv1] + batchNormSpecs("block\(i).bn1", b.output) + [conv2] + batchNormSpecs("block\(i).bn2", b.output)
            case .v2: specs += batchNormSpecs("block\(i).bn1", b.input) + [conv1] + batchNormSpecs("block\(i).bn2", b.output) + [conv2]
            }
        }
        if version == .v2 { specs += batchNormSpecs("final.bn", stages[stages.count - 1]) }
        specs.append(ParameterSpec(name: "fc.weight", kind: .fcWeight, shape: [stages[stages.count - 1], classes]))
        specs.append(ParameterSpec(name: "fc.bias", kind: .fcBias, shape: [classes]))
        return specs
    }

    /// Convolutions: He/Kaiming normal (fan_in), as He et al.; batch norm: γ = 1, β = 0;
    /// the classifier: U(±1/√fan_in).
    public func initialParameters(rng: inout RNG) -> [Tensor] {
        parameterSpecs.map { spec in
            switch spec.kind {
            case .convKernel: return Tensor.heNormal(spec.shape, fanIn: Shape.count(Array(spec.shape.dropFirst())), rng: &rng)
            case .batchNormGamma: return Tensor.ones(spec.shape)
            case .batchNormBeta, .convBias: return Tensor.zeros(spec.shape)
            case .fcWeight, .fcBias: return Tensor.fanInUniform(spec.shape, fanIn: stages[stages.count - 1], rng: &rng)
            }
        }
    }

    /// Running mean 0 and variance 1 for every batch norm, in parameter order.
    public func initialBuffers() -> [Tensor] {
        parameterSpecs.filter { $0.kind == .batchNormGamma }.flatMap { [Tensor.zeros($0.shape), Tensor.ones($0.shape)] }
    }

    public func forward(_ parameters: [Tensor], _ inputs: Tensor, buffers: [Tensor], training: Bool)
        -> (output: Tensor, buffers: [Tensor])
    {
        var p = parameters.makeIterator()
        var statistics = buffers.makeIterator()
        var updated = [Tensor]()
        func next() -> Tensor { p.next()! }
        func bn(_ x: Tensor) -> Tensor {
            let (gamma, beta) = (next(), next())
            let (y, mean, variance) = BatchNorm.apply(x, gamma: gamma, beta: beta, runningMean: statistics.next()!,
                                                      runningVariance: statistics.next()!, training: training)
            updated += [mean, variance]
            return y
        }
        func act(_ x: Tensor) -> Tensor { activation.apply(x) }
        func conv(_ x: Tensor, stride: Int) -> Tensor { Tensor.conv2d(x, kernel: next(), stride: stride, padding: 1) }
        func shortcut(_ x: Tensor, _ b: (input: Int, output: Int, stride: Int)) -> Tensor {
            var s = x
            if b.stride > 1 { s = s.avgPool2d(Window2D(kernel: 1, stride: b.stride)) }   // subsample
            let extra = b.output - b.input
            return extra > 0 ? s.padded(axis: 1, before: extra / 2, after: extra - extra / 2) : s
        }

        var h = inputs.reshaped([inputs.shape[0]] + inputShape)
        h = conv(h, stride: 1)
        if version == .v1 { h = act(bn(h)) }
        for b in blocks {
            switch version {
            case .v1:
                var y = act(bn(conv(h, stride: b.stride)))
                y = bn(conv(y, stride: 1))
                h = act(y + shortcut(h, b))
            case .v2:
                let pre = act(bn(h))
                var y = conv(pre, stride: b.stride)
                y = conv(act(bn(y)), stride: 1)
                h = y + shortcut(h, b)
            }
        }
        if version == .v2 { h = act(bn(h)) }
        let logits = matmul(h.globalAvgPool2d(), next()) + next()
        return (logits, updated)
    }
}

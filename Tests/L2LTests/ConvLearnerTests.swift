import L2L
import L2LTestSupport
import XCTest

/// Convnet, ResNet and batch norm: sizes, shapes, both batch-norm modes, and gradients by
/// finite differences on small inputs.
final class ConvLearnerTests: XCTestCase {
    func testResNet20HasAbout270kParameters() throws {
        let net = try ResNet()
        // He et al. report 0.27 M for ResNet20; the parameter-free option-A shortcut gives:
        // stem 432 + 32, stage 1: 3·(2·2304 + 64), stage 2: 4608 + 9216 + 128 + 2·(2·9216 + 128),
        // stage 3: 18432 + 36864 + 256 + 2·(2·36864 + 256), classifier 650.
        XCTAssertEqual(net.parameterCount, 269_722)
        XCTAssertEqual(Double(net.parameterCount), 270_000, accuracy: 2_700)
        XCTAssertEqual(net.parameterSpecs.filter { $0.kind == .convKernel }.count, 19)
        XCTAssertEqual(net.initialBuffers().count, 2 * 19)
        let v2 = try ResNet(version: .v2)
        XCTAssertEqual(v2.parameterSpecs.filter { $0.kind == .batchNormGamma }.count, 19)
    }

    func testResNetForwardShapesInBothModes() throws {
        let net = try ResNet(inputShape: [3, 16, 16], stages: [4, 8, 16], blocksPerStage: 1)
        var rng = RNG(seed: 0)
        let state = net.initialState(rng: &rng)
        let x = Tensor.normal([5, 3 * 16 * 16], rng: &rng)
        let (train, buffers) = net.forward(state.parameters, x, buffers: state.buffers, training: true)
        XCTAssertEqual(train.shape, [5, 10])
        XCTAssertEqual(buffers.map(\.shape), state.buffers.map(\.shape))
        XCTAssertNotEqual(buffers[0].scalars, state.buffers[0].scalars, "training moves the running mean")
        let (eval, same) = net.forward(state.parameters, x, buffers: buffers, training: false)
        XCTAssertEqual(eval.shape, [5, 10])
        XCTAssertEqual(same.flatMap(\.scalars), buffers.flatMap(\.scalars), "evaluation leaves the statistics alone")
        XCTAssertTrue(train.isFinite && eval.isFinite)
    }

    func testBatchNormTrainingAndEvaluation() {
        let x = randomTensor([4, 3, 2, 2], low: -2, high: 3, seed: 1)
        let gamma = Tensor(shape: [3], scalars: [1, 2, 0.5]), beta = Tensor(shape: [3], scalars: [0, -1, 3])
        let (y, mean, variance) = BatchNorm.apply(x, gamma: gamma, beta: beta, runningMean: Tensor.zeros([3]),
                                                  runningVariance: Tensor.ones([3]), training: true)
        // Per channel, the normalised output has mean β and standard deviation ≈ γ.
        for c in 0..<3 {
            var values = [Float](), inputs = [Double]()
            for n in 0..<4 { for s in 0..<4 {
                values.append(y.scalars[(n * 3 + c) * 4 + s]); inputs.append(Double(x.scalars[(n * 3 + c) * 4 + s]))
            } }
            let m = values.reduce(0, +) / 16
            let sd = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 16).squareRoot()
            XCTAssertEqual(m, beta.scalars[c], accuracy: 1e-5)
            XCTAssertEqual(sd, gamma.scalars[c], accuracy: 1e-3)
            let im = inputs.reduce(0, +) / 16
            let iv = inputs.reduce(0) { $0 + ($1 - im) * ($1 - im) } / 15   // unbiased
            XCTAssertEqual(Double(mean.scalars[c]), 0.1 * im, accuracy: 1e-5)
            XCTAssertEqual(Double(variance.scalars[c]), 0.9 + 0.1 * iv, accuracy: 1e-5)
        }
        let rm = Tensor(shape: [3], scalars: [0.5, -1, 2]), rv = Tensor(shape: [3], scalars: [4, 1, 0.25])
        let (e, m2, v2) = BatchNorm.apply(x, gamma: gamma, beta: beta, runningMean: rm, runningVariance: rv, training: false)
        XCTAssertEqual(m2.scalars, rm.scalars)
        XCTAssertEqual(v2.scalars, rv.scalars)
        let i = (1 * 3 + 2) * 4 + 3   // n = 1, c = 2, last pixel
        XCTAssertEqual(e.scalars[i], (x.scalars[i] - 2) / (0.25 + BatchNorm.epsilon).squareRoot() * 0.5 + 3, accuracy: 1e-4)
    }

    func testBatchNormGradientsInBothModes() {
        let x = randomTensor([3, 2, 2, 2], seed: 2)
        let gamma = randomTensor([2], low: 0.5, high: 1.5, seed: 3), beta = randomTensor([2], seed: 4)
        let rm = randomTensor([2], seed: 5), rv = randomTensor([2], low: 0.5, high: 2, seed: 6)
        for training in [true, false] {
            checkGradients([x, gamma, beta]) {
                BatchNorm.apply($0[0], gamma: $0[1], beta: $0[2], runningMean: rm, runningVariance: rv, training: training).output.tanh()
            }
        }
        checkGradients([randomTensor([5, 3], seed: 7), Tensor.ones([3]), Tensor.zeros([3])]) {
            BatchNorm.apply($0[0], gamma: $0[1], beta: $0[2], runningMean: Tensor.zeros([3]), runningVariance: Tensor.ones([3]), training: true).output.pow(3)
        }
    }

    func testConvnetShapesAndGradients() throws {
        let big = try Convnet(inputShape: [1, 28, 28])
        // 5·5·32 + 32, 5·5·32·64 + 64, 7·7·64·128 + 128, 128·10 + 10
        XCTAssertEqual(big.parameterCount, 832 + 51_264 + 401_536 + 1_290)
        // tanh and average pooling instead of ReLU and max pooling: a finite difference across
        // a kink is meaningless, and among dozens of units some lie within ε of one. (Max
        // pooling's own gradient is checked on well-separated values in ConvolutionTests.)
        let net = try Convnet(inputShape: [2, 8, 8], channels: [3, 4], kernel: 3, hidden: [5], classes: 3,
                              activation: .tanh, averagePooling: true)
        var rng = RNG(seed: 1)
        let params = net.initialParameters(rng: &rng)
        XCTAssertEqual(params.map(\.shape), net.parameterSpecs.map(\.shape))
        let x = Tensor.normal([2, 2 * 8 * 8], rng: &rng)
        XCTAssertEqual(net.forward(params, x).shape, [2, 3])
        checkGradients(params) { net.loss($0, x, [0, 2]) }
        assertThrows(.invalidArgument) { try Convnet(inputShape: [1, 4, 4], channels: [2, 2, 2]) }
        assertThrows(.invalidArgument) { try Convnet(inputShape: [1, 28, 28], kernel: 4) }
    }

    func testResNetGradientsBothVersionsBothModes() throws {
        for version in ResNet.Version.allCases {
            let net = try ResNet(inputShape: [2, 4, 4], stages: [2, 4], blocksPerStage: 1, version: version, classes: 3,
                                 activation: .tanh)   // smooth, so finite differences are meaningful
            var rng = RNG(seed: 3)
            let state = net.initialState(rng: &rng)
            let x = Tensor.normal([3, 2 * 4 * 4], rng: &rng)
            let labels: [Int32] = [0, 2, 1]
            for training in [true, false] {
                checkGradients(state.parameters) {
                    let out = net.forward($0, x, buffers: state.buffers, training: training).output
                    return net.loss(outputs: out, targets: .labels(labels))
                }
            }
        }
    }

    func testMLPObjectives() throws {
        let binary = try MLP(sizes: [4, 32, 1], activation: .tanh, objective: .sigmoidBinaryCrossEntropy)
        XCTAssertEqual(binary.labelClasses, 2)
        assertThrows(.invalidArgument) { try MLP(sizes: [4, 2], objective: .sigmoidBinaryCrossEntropy) }
        var rng = RNG(seed: 4)
        let p = binary.initialParameters(rng: &rng)
        let x = Tensor.normal([6, 4], rng: &rng)
        checkGradients(p) { binary.loss($0, x, [0, 1, 1, 0, 1, 0]) }
        let sine = try MLP(sizes: [1, 40, 40, 1], objective: .meanSquaredError)
        XCTAssertEqual(sine.parameterCount, 40 + 40 + 1600 + 40 + 40 + 1)
        let xs = Tensor.uniform([5, 1], low: -5, high: 5, rng: &rng), ys = xs.sin()
        let ps = sine.initialParameters(rng: &rng)
        let mse = sine.loss(outputs: sine.forward(ps, xs), targets: .values(ys)).scalar
        let predictions = sine.forward(ps, xs).scalars
        var direct: Float = 0
        for (p, y) in zip(predictions, ys.scalars) { direct += (p - y) * (p - y) / 5 }
        XCTAssertEqual(mse, direct, accuracy: 1e-5)
        let small = try MLP(sizes: [1, 6, 6, 1], activation: .tanh, objective: .meanSquaredError)
        let sp = small.initialParameters(rng: &rng)
        checkGradients(sp) { small.loss(outputs: small.forward($0, xs), targets: .values(ys)) }
    }
}

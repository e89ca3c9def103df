import Glibc
import L2L
import L2LTestSupport
import XCTest

final class MLPTests: XCTestCase {
    func testPapersArchitectureHas25450Parameters() throws {
        let mlp = try MLP(sizes: [784, 32, 10])
        XCTAssertEqual(mlp.parameterCount, 25_450)
        XCTAssertEqual(mlp.parameterSpecs.map(\.name), ["fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"])
        XCTAssertEqual(mlp.parameterSpecs.map(\.kind), [.fcWeight, .fcBias, .fcWeight, .fcBias])
        XCTAssertEqual(mlp.parameterSpecs.map(\.shape), [[784, 32], [32], [32, 10], [10]])
        var rng = RNG(seed: 0)
        let p = mlp.initialParameters(rng: &rng)
        XCTAssertEqual(p.map(\.shape), mlp.parameterSpecs.map(\.shape))
        // PyTorch's default: U(±1/√fan_in) for weights and biases.
        XCTAssertTrue(p[0].scalars.allSatisfy { abs($0) <= 1 / Float(784).squareRoot() })
        XCTAssertTrue(p[3].scalars.allSatisfy { abs($0) <= 1 / Float(32).squareRoot() })
        XCTAssertTrue(p[1].scalars.contains { $0 != 0 })
        assertThrows(.invalidArgument) { try MLP(sizes: [784]) }
        assertThrows(.invalidArgument) { try MLP(sizes: [784, 0, 10]) }
    }

    func testSameSeedSameParameters() throws {
        let mlp = try MLP(sizes: [6, 5, 3], initialization: .glorot)
        var a = RNG(seed: 3), b = RNG(seed: 3), c = RNG(seed: 4)
        let pa = mlp.initialParameters(rng: &a).flatMap(\.scalars)
        XCTAssertEqual(pa, mlp.initialParameters(rng: &b).flatMap(\.scalars))
        XCTAssertNotEqual(pa, mlp.initialParameters(rng: &c).flatMap(\.scalars))
    }

    func testForwardMatchesAHandWrittenNetwork() throws {
        for activation in MLP.Activation.allCases {
            let mlp = try MLP(sizes: [3, 2, 2], activation: activation)
            let w0: [Float] = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6], b0: [Float] = [0.05, -0.05]
            let w1: [Float] = [1, -1, 0.5, 2], b1: [Float] = [0.1, 0.2]
            let params = [Tensor(shape: [3, 2], scalars: w0), Tensor(shape: [2], scalars: b0),
                          Tensor(shape: [2, 2], scalars: w1), Tensor(shape: [2], scalars: b1)]
            let x: [Float] = [1, 2, -1]
            let act: (Float) -> Float = {
                switch activation {
                case .relu: return { max($0, 0) }
                case .sigmoid: return { 1 / (1 + expf(-$0)) }
                case .tanh: return { tanhf($0) }
                }
            }()
            let h = (0..<2).map { j in act((0..<3).reduce(b0[j]) { $0 + x[$1] * w0[$1 * 2 + j] }) }
            let out = (0..<2).map { j in (0..<2).reduce(b1[j]) { $0 + h[$1] * w1[$1 * 2 + j] } }
            assertClose(mlp.forward(params, Tensor(shape: [1, 3], scalars: x)).scalars, out, atol: 1e-6, "\(activation)")
        }
    }

    func testLossGradientsAgainstFiniteDifferences() throws {
        for activation in MLP.Activation.allCases {
            let mlp = try MLP(sizes: [4, 5, 3], activation: activation)
            var rng = RNG(seed: 2)
            let params = mlp.initialParameters(rng: &rng)
            let x = randomTensor([6, 4], seed: 3)
            let labels: [Int32] = [0, 1, 2, 2, 1, 0]
            // ReLU's kink: a hidden pre-activation within ε of 0 would spoil the difference;
            // with these seeds none is closer than 1e-2.
            checkGradients(params) { mlp.loss($0, x, labels) }
        }
    }

    func testValidationNamesTheProblem() throws {
        let mlp = try MLP(sizes: [4, 3])
        var rng = RNG(seed: 0)
        let p = mlp.initialParameters(rng: &rng)
        assertThrows(.shapeMismatch, containing: "[n, 4]") { try mlp.validate(inputs: Tensor.zeros([2, 5]), labels: [0, 1]) }
        assertThrows(.shapeMismatch, containing: "labels") { try mlp.validate(inputs: Tensor.zeros([2, 4]), labels: [0]) }
        assertThrows(.invalidArgument, containing: "label 3") { try mlp.validate(inputs: Tensor.zeros([1, 4]), labels: [3]) }
        assertThrows(.nonFinite) { try mlp.validate(inputs: Tensor(shape: [1, 4], scalars: [0, .nan, 0, 0]), labels: [0]) }
        assertThrows(.shapeMismatch, containing: "fc0.weight") { try mlp.validate(parameters: [Tensor.zeros([3, 4]), p[1]]) }
        assertThrows(.nonFinite) { try mlp.validate(parameters: [p[0] * Float.infinity, p[1]]) }
        let flat = p.flatMap(\.scalars)
        XCTAssertEqual(try flat.withUnsafeBufferPointer { try mlp.parameters(flat: $0) }.flatMap(\.scalars), flat)
        assertThrows(.shapeMismatch) { try Array(flat.dropLast()).withUnsafeBufferPointer { try mlp.parameters(flat: $0) } }
    }
}

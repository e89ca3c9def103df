import Foundation
import L2L
import L2LTestSupport
import XCTest

/// Gauss-Newton products of learners against Jᵀ H_L J built explicitly (issue 5, acceptance 1).
final class CurvatureTests: XCTestCase {
    /// G = Jᵀ H_L J as a dense matrix [P][P], with J built row by row (one ordinary
    /// gradient per output element) and H_L written out per objective.
    func explicitGaussNewton(_ learner: some Learner, _ state: LearnerState, _ x: Tensor, _ targets: Targets) -> [[Double]] {
        let tracked = state.parameters.map { $0.tracked() }
        let z = learner.forward(tracked, x, buffers: state.buffers, training: true).output
        let m = z.count
        var jacobian = [[Double]]()
        for k in 0..<m {
            let pick = Tensor(shape: z.shape, scalars: (0..<m).map { $0 == k ? 1 : 0 })
            jacobian.append(gradients(of: (z * pick).sum(), wrt: tracked).flatMap(\.scalars).map(Double.init))
        }
        let zs = z.scalars.map(Double.init)
        var h = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        switch learner.objective {
        case .softmaxCrossEntropy:
            let (n, c) = (z.shape[0], z.shape[1])
            for i in 0..<n {
                let row = zs[(i * c)..<(i * c + c)]
                let top = row.max()!
                let e = row.map { Foundation.exp($0 - top) }
                let s = e.map { $0 / e.reduce(0, +) }
                for a in 0..<c { for b in 0..<c { h[i * c + a][i * c + b] = ((a == b ? s[a] : 0) - s[a] * s[b]) / Double(n) } }
            }
        case .sigmoidBinaryCrossEntropy:
            for k in 0..<m { let p = 1 / (1 + Foundation.exp(-zs[k])); h[k][k] = p * (1 - p) / Double(m) }
        case .meanSquaredError:
            for k in 0..<m { h[k][k] = 2 / Double(m) }
        }
        let p = jacobian[0].count
        // G = Jᵀ (H J)
        let hj = (0..<m).map { a in (0..<p).map { col in (0..<m).reduce(0.0) { $0 + h[a][$1] * jacobian[$1][col] } } }
        return (0..<p).map { r in (0..<p).map { col in (0..<m).reduce(0.0) { $0 + jacobian[$1][r] * hj[$1][col] } } }
    }

    func randomVector(_ specs: [ParameterSpec], seed: UInt64) -> [Tensor] {
        specs.enumerated().map { randomTensor($0.element.shape, seed: seed + UInt64($0.offset)) }
    }

    /// Checks `GaussNewton(...).product(v)` and the damped product against the explicit G.
    func checkProducts(_ learner: some Learner, batch n: Int, targets: Targets? = nil, seed: UInt64,
                       file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        let state = learner.initialState(rng: &rng)
        let x = Tensor.normal([n, learner.inputFeatures], rng: &rng)
        let t = targets ?? .labels((0..<n).map { Int32($0 % learner.labelClasses) })
        let model = GaussNewton(learner: learner, state: state, inputs: x, targets: t)
        let g = explicitGaussNewton(learner, state, x, t)
        // Symmetric positive semi-definite, as a Gauss-Newton matrix must be.
        for i in g.indices { for j in g.indices { XCTAssertEqual(g[i][j], g[j][i], accuracy: 1e-5, file: file, line: line) } }
        let scale = g.map { $0.map(Swift.abs).max()! }.max()!
        for trial in 0..<2 {
            let v = randomVector(learner.parameterSpecs, seed: seed * 10 + UInt64(trial))
            let vf = v.flatMap(\.scalars).map(Double.init)
            let expected = g.map { row in Float(zip(row, vf).reduce(0) { $0 + $1.0 * $1.1 }) }
            assertClose(model.product(v).flatMap(\.scalars), expected, atol: Float(scale) * 2e-4, rtol: 1e-3,
                        "G·v", file: file, line: line)
            let damped = model.dampedProduct(v, damping: 0.3).flatMap(\.scalars)
            assertClose(damped, zip(expected, vf).map { $0 + 0.3 * Float($1) }, atol: Float(scale) * 2e-4, rtol: 1e-3,
                        "(G + 0.3 I)·v", file: file, line: line)
            let s = randomVector(learner.parameterSpecs, seed: 77).map { $0.abs() }
            let perCoordinate = model.dampedProduct(v, damping: s).flatMap(\.scalars)
            let sf = s.flatMap(\.scalars)
            assertClose(perCoordinate, (0..<vf.count).map { expected[$0] + sf[$0] * Float(vf[$0]) },
                        atol: Float(scale) * 2e-4, rtol: 1e-3, "(G + diag s)·v", file: file, line: line)
        }
        // The model's loss and gradient are those of the training-mode forward pass.
        let (loss, grads, _) = Training.lossAndGradients(learner, state, x, t)
        XCTAssertEqual(model.loss, loss, accuracy: 1e-6, file: file, line: line)
        assertClose(model.gradients.flatMap(\.scalars), grads.flatMap(\.scalars), atol: 1e-6, rtol: 1e-5,
                    "gradient", file: file, line: line)
        XCTAssertEqual(model.loss(at: state.parameters).scalar, loss, accuracy: 1e-6, file: file, line: line)
    }

    func testTinyMLPWithEveryObjective() throws {
        checkProducts(try MLP(sizes: [3, 4, 3], activation: .tanh), batch: 5, seed: 1)
        checkProducts(try MLP(sizes: [3, 5, 3]), batch: 4, seed: 2)   // ReLU
        checkProducts(try MLP(sizes: [3, 4, 1], activation: .tanh, objective: .sigmoidBinaryCrossEntropy), batch: 6, seed: 3)
        checkProducts(try MLP(sizes: [3, 4, 2], activation: .tanh, objective: .meanSquaredError), batch: 5,
                      targets: .values(randomTensor([5, 2], seed: 9)), seed: 4)
    }

    func testTinyConvnet() throws {
        let net = try Convnet(inputShape: [1, 6, 6], channels: [2], kernel: 3, pool: 2, hidden: [4], classes: 3)
        checkProducts(net, batch: 3, seed: 5)
    }

    func testBatchNormInTrainingMode() throws {
        let net = try ResNet(inputShape: [1, 4, 4], stages: [2], blocksPerStage: 1, classes: 3)
        XCTAssertTrue(net.parameterSpecs.contains { $0.kind == .batchNormGamma })
        checkProducts(net, batch: 4, seed: 6)
        // The model hands back the buffers of the training-mode pass (moved running statistics).
        var rng = RNG(seed: 6)
        let state = net.initialState(rng: &rng)
        let x = Tensor.normal([4, 16], rng: &rng)
        let model = GaussNewton(learner: net, state: state, inputs: x, targets: .labels([0, 1, 2, 0]))
        XCTAssertNotEqual(model.buffers.flatMap(\.scalars), state.buffers.flatMap(\.scalars))
    }

    /// For a linear model with softmax cross-entropy, J is constant, so G is the Hessian.
    func testLinearSoftmaxModelGivesTheExactHessian() throws {
        let net = try MLP(sizes: [4, 3])
        var rng = RNG(seed: 8)
        let state = net.initialState(rng: &rng)
        let x = Tensor.normal([6, 4], rng: &rng)
        let labels: [Int32] = [0, 1, 2, 2, 1, 0]
        let model = GaussNewton(learner: net, state: state, inputs: x, targets: .labels(labels))
        let tracked = state.parameters.map { $0.tracked() }
        let loss = net.loss(outputs: net.forward(tracked, x, buffers: [], training: true).output, targets: .labels(labels))
        for seed in [UInt64(20), 30] {
            let v = randomVector(net.parameterSpecs, seed: seed)
            let hv = hessianVectorProduct(of: loss, wrt: tracked, vectors: v)
            assertClose(model.product(v).flatMap(\.scalars), hv.flatMap(\.scalars), atol: 1e-6, rtol: 1e-4, "G·v = H·v")
        }
    }

    /// A 3-4-3 tanh MLP and its Gauss-Newton model on a batch of 5.
    func tinyModel(seed: UInt64) throws -> (MLP, GaussNewton) {
        let net = try MLP(sizes: [3, 4, 3], activation: .tanh)
        var rng = RNG(seed: seed)
        let state = net.initialState(rng: &rng)
        let x = Tensor.normal([5, 3], rng: &rng)
        return (net, GaussNewton(learner: net, state: state, inputs: x, targets: .labels([0, 1, 2, 1, 0])))
    }

    /// MLHF's path: PCG on (G + diag s) with preconditioner P, warm-started; the solution and
    /// the final residual are differentiated in s and P (through the custom op's backward)
    /// and checked against finite differences.
    func testPCGOnGaussNewtonIsDifferentiableInDampingAndPreconditioner() throws {
        let (net, model) = try tinyModel(seed: 21)
        let specs = net.parameterSpecs
        let s = randomVector(specs, seed: 60).map { $0.abs() * 0.5 + 0.1 }
        let p = randomVector(specs, seed: 70).map { $0.abs() + 0.5 }
        let x0 = randomVector(specs, seed: 80).map { $0 * 0.1 }
        let k = specs.count
        checkGradients(s + p, eps: 1e-3, atol: 3e-3, rtol: 2e-2, secondOrder: false) { sp in
            let (damping, m) = (Array(sp[0..<k]), Array(sp[k...]))
            let r = ConjugateGradient.solve({ model.dampedProduct($0, damping: damping) }, rhs: model.gradients,
                                            initialGuess: x0, preconditioner: .multiply(m), maxIterations: 4)
            return Tensor.concatenate((r.solution + r.residual).map { $0.reshaped([-1]) }, axis: 0)
        }
    }

    /// v ↦ G·v recorded as one op whose backward is G·ū: checked against finite differences
    /// in v (first order; the second order of a linear map is zero, which is checked too).
    func testProductIsDifferentiableWithBackwardG() throws {
        let (net, model) = try tinyModel(seed: 12)
        let v = randomVector(net.parameterSpecs, seed: 40)
        checkGradients(v, eps: 1e-2) { vs in
            Tensor.concatenate(model.product(vs).map { $0.reshaped([-1]) }, axis: 0)
        }
        // The backward is G itself: ∂⟨w, G v⟩/∂v = G w, with no gradient into θ.
        let w = randomVector(net.parameterSpecs, seed: 50)
        let vt = v.map { $0.tracked() }
        let back = gradients(of: ConjugateGradient.dot(w, model.product(vt)), wrt: vt)
        assertClose(back.flatMap(\.scalars), model.product(w).flatMap(\.scalars), atol: 1e-6, rtol: 1e-5, "Gᵀw = G w")
        // Off the graph (constants in) the product is a constant.
        XCTAssertFalse(model.product(v)[0].isTracked)
    }
}

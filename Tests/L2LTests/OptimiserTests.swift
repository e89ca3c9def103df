import L2L
import L2LTestSupport
import XCTest

final class OptimiserTests: XCTestCase {
    /// Three SGD steps on f(θ) = ½‖θ‖², whose gradient is θ: θ_t = (1 − lr)^t θ_0.
    func testSGDMatchesHandComputedSteps() throws {
        let sgd = try SGD(learningRate: 0.25)
        var params = [Tensor(shape: [2], scalars: [1, -2]), Tensor(shape: [1], scalars: [4])]
        var state = sgd.initialState(for: params)
        for _ in 0..<3 { (params, state) = sgd.step(parameters: params, gradients: params, state: state) }
        XCTAssertEqual(params[0].scalars, [0.421875, -0.84375])   // 0.75³ = 0.421875
        XCTAssertEqual(params[1].scalars, [1.6875])
        // A hand-written gradient, not tied to the parameters.
        let (p, _) = sgd.step(parameters: [Tensor(shape: [3], scalars: [1, 2, 3])],
                              gradients: [Tensor(shape: [3], scalars: [0.4, -0.8, 0])], state: state)
        XCTAssertEqual(p[0].scalars, [0.9, 2.2, 3])
    }

    func testSGDIsDifferentiableThroughItsStep() throws {
        // d/dθ of L(θ − lr·∇L(θ)) with L = Σθ³/3, ∇L = θ²: the meta-gradient path MAML needs.
        let sgd = try SGD(learningRate: 0.1)
        let theta = Tensor(shape: [2], scalars: [0.5, -1]).tracked()
        let g = gradients(of: (theta.pow(3) / 3).sum(), wrt: [theta], createGraph: true)[0]
        let next = sgd.step(parameters: [theta], gradients: [g], state: sgd.initialState(for: [theta])).parameters[0]
        let meta = gradients(of: (next.pow(3) / 3).sum(), wrt: [theta])[0].scalars
        let expected = [Float(0.5), -1].map { t -> Float in let n = t - 0.1 * t * t; return n * n * (1 - 0.2 * t) }
        assertClose(meta, expected, atol: 1e-6)
    }

    func testSessionRejectsMismatchedShapesAndResets() throws {
        let session = OptimiserSession(try SGD(learningRate: 1))
        var p = [Tensor.ones([2])]
        assertThrows(.shapeMismatch) { try session.step(&p, gradients: [Tensor.ones([3])]) }
        try session.step(&p, gradients: [Tensor.ones([2])])
        XCTAssertEqual(p[0].scalars, [0, 0])
        var q = [Tensor.ones([5])]
        assertThrows(.shapeMismatch, containing: "reset") { try session.step(&q, gradients: [Tensor.ones([5])]) }
        session.reset()
        XCTAssertNoThrow(try session.step(&q, gradients: [Tensor.ones([5])]))
        XCTAssertEqual(session.steps, 1)
    }

    func testSessionRefusesAStepThatOverflows() throws {
        let session = OptimiserSession(try SGD(learningRate: 1e38))
        var p = [Tensor(shape: [2], scalars: [1, 2])]
        assertThrows(.nonFinite, containing: "unchanged") { try session.step(&p, gradients: [Tensor(shape: [2], scalars: [10, 0])]) }
        XCTAssertEqual(p[0].scalars, [1, 2])
        XCTAssertEqual(session.steps, 0)
    }
}

import L2L
import L2LTestSupport
import XCTest

/// HF(Fixed) and HF(LM) on cases computed by hand, and through every Swift door.
final class HessianFreeTests: XCTestCase {
    /// f(θ) = ½ θᵀAθ − bᵀθ over PCGTests' two-tensor layout: G = A exactly.
    struct Quadratic: CurvatureModel {
        let a: [[Double]], b: [Double]
        let parameters: [Tensor]

        func value(_ theta: [Double]) -> Double {
            var f = 0.0
            for i in 0..<7 {
                f -= b[i] * theta[i]
                for j in 0..<7 { f += 0.5 * theta[i] * a[i][j] * theta[j] }
            }
            return f
        }
        func gradientValues(_ theta: [Double]) -> [Double] {
            (0..<7).map { i in (0..<7).reduce(-b[i]) { $0 + a[i][$1] * theta[$1] } }
        }
        var theta: [Double] { parameters.flatMap(\.scalars).map(Double.init) }
        var loss: Float { Float(value(theta)) }
        var gradients: [Tensor] { PCGTests.split(gradientValues(theta)) }
        func product(_ v: [Tensor]) -> [Tensor] { PCGTests.dense(a)(v) }
        func loss(at parameters: [Tensor]) -> Tensor { Tensor(Float(value(parameters.flatMap(\.scalars).map(Double.init)))) }
    }

    func quadratic(seed: UInt64) -> Quadratic {
        Quadratic(a: PCGTests.spd(seed: seed, shift: 0.3), b: randomTensor([7], seed: seed + 50).scalars.map(Double.init),
                  parameters: PCGTests.split(randomTensor([7], seed: seed + 60).scalars.map(Double.init)))
    }

    /// One step by hand, in Double: d = (A + λI)⁻¹ g, θ' = θ − lr·d, and LM's ρ.
    func handStep(_ q: Quadratic, lr: Double, lambda: Double) -> (theta: [Double], rho: Double) {
        var damped = q.a
        for i in 0..<7 { damped[i][i] += lambda }
        let g = q.gradientValues(q.theta)
        let d = PCGTests.denseSolve(damped, g)
        let next = zip(q.theta, d).map { $0 - lr * $1 }
        let ad = (0..<7).map { i in (0..<7).reduce(0.0) { $0 + damped[i][$1] * d[$1] } }
        let gd = zip(g, d).reduce(0.0) { $0 + $1.0 * $1.1 }
        let dad = zip(d, ad).reduce(0.0) { $0 + $1.0 * $1.1 }
        let predicted = -lr * gd + lr * lr / 2 * dad
        return (next, (q.value(next) - q.value(q.theta)) / predicted)
    }

    func testFixedStepMatchesTheHandComputedOne() throws {
        let q = quadratic(seed: 1)
        let hf = try HessianFreeFixed(settings: HessianFreeSettings(learningRate: 0.5, cgIterations: 30, tolerance: 1e-6, warmStart: 0),
                                      damping: 0.1)
        let (next, state) = hf.step(parameters: q.parameters, model: q, state: hf.initialState(for: q.parameters))
        assertClose(next.flatMap(\.scalars), handStep(q, lr: 0.5, lambda: 0.1).theta.map(Float.init), atol: 1e-4, rtol: 1e-3)
        XCTAssertEqual(state.damping, 0.1)
        XCTAssertEqual(state.direction.map(\.shape), PCGTests.shapes)
        XCTAssertLessThan(state.residualNorm, 1e-5)
        XCTAssertTrue(state.reductionRatio.isNaN, "HF(Fixed) does not measure ρ")

        // Warm start from the previous solution (ζ = 1) on the same model: already solved.
        let warm = try HessianFreeFixed(settings: HessianFreeSettings(learningRate: 0.5, cgIterations: 30, tolerance: 1e-4, warmStart: 1),
                                        damping: 0.1)
        let again = warm.step(parameters: q.parameters, model: q, state: state).state
        XCTAssertEqual(again.iterations, 0, "ζ = 1 starts at the previous solution")
        // A cap of n iterations is honoured.
        let capped = try HessianFreeFixed(settings: HessianFreeSettings(cgIterations: 2, tolerance: 0, warmStart: 0), damping: 0.1)
        XCTAssertEqual(capped.step(parameters: q.parameters, model: q, state: capped.initialState(for: q.parameters)).state.iterations, 2)
    }

    func testLMStepMeasuresTheReductionRatioAndAdaptsDamping() throws {
        let q = quadratic(seed: 2)
        for (lr, lambda) in [(1.0, 0.5), (1.8, 0.05), (0.3, 1.0)] {
            let settings = try HessianFreeSettings(learningRate: Float(lr), cgIterations: 30, tolerance: 1e-6, warmStart: 0)
            let hand = handStep(q, lr: lr, lambda: lambda)
            let expected = HessianFreeLM.updatedDamping(Float(lambda), reductionRatio: Float(hand.rho), decay: 0.5, range: 1e-3 ... 10)
            // ρ on the same batch: measured right after the step.
            let same = try HessianFreeLM(settings: settings, damping: Float(lambda), decay: 0.5, dampingRange: 1e-3 ... 10,
                                         ratioBatch: .same)
            let (next, state) = same.step(parameters: q.parameters, model: q, state: same.initialState(for: q.parameters))
            assertClose(next.flatMap(\.scalars), hand.theta.map(Float.init), atol: 1e-4, rtol: 1e-3, "lr \(lr), λ \(lambda)")
            XCTAssertEqual(Double(state.reductionRatio), hand.rho, accuracy: 1e-3, "ρ at lr \(lr), λ \(lambda)")
            XCTAssertEqual(state.damping, expected, accuracy: 1e-6)
            print("HF(LM) on a quadratic: lr \(lr), λ \(lambda): ρ = \(state.reductionRatio) (by hand \(hand.rho)), next λ \(state.damping)")

            // ρ on the next batch (here the same quadratic again): measured at the next step,
            // before its solve, which then uses the updated λ.
            let later = try HessianFreeLM(settings: settings, damping: Float(lambda), decay: 0.5, dampingRange: 1e-3 ... 10)
            XCTAssertEqual(later.ratioBatch, .next)
            let first = later.step(parameters: q.parameters, model: q, state: later.initialState(for: q.parameters))
            assertClose(first.parameters.flatMap(\.scalars), hand.theta.map(Float.init), atol: 1e-4, rtol: 1e-3)
            XCTAssertTrue(first.state.reductionRatio.isNaN, "nothing measured yet")
            XCTAssertEqual(first.state.damping, Float(lambda))
            let moved = Quadratic(a: q.a, b: q.b, parameters: first.parameters)
            let second = later.step(parameters: first.parameters, model: moved, state: first.state)
            XCTAssertEqual(Double(second.state.reductionRatio), hand.rho, accuracy: 1e-3, "next-batch ρ at lr \(lr), λ \(lambda)")
            XCTAssertEqual(second.state.damping, expected, accuracy: 1e-6)
            let secondHand = handStep(moved, lr: lr, lambda: Double(expected))
            assertClose(second.parameters.flatMap(\.scalars), secondHand.theta.map(Float.init), atol: 1e-4, rtol: 1e-3,
                        "the second step solves with the updated λ")
        }
    }

    func testLevenbergMarquardtRuleOnHandMadeRatios() {
        let range: ClosedRange<Float> = 1e-3 ... 1
        let cases: [(lambda: Float, rho: Float, expected: Float)] = [
            (0.1, -3, 0.2), (0.1, 0, 0.2), (0.1, 0.2499, 0.2), (0.1, .nan, 0.2), (0.1, -.infinity, 0.2),
            (0.1, 0.25, 0.1), (0.1, 0.5, 0.1), (0.1, 0.75, 0.1),
            (0.1, 0.7501, 0.05), (0.1, 1, 0.05), (0.1, 7, 0.05),
            (0.8, 0.1, 1), (1, 0.1, 1),                 // clipped above
            (0.0015, 1, 1e-3), (1e-3, 1, 1e-3),         // clipped below
        ]
        for c in cases {
            XCTAssertEqual(HessianFreeLM.updatedDamping(c.lambda, reductionRatio: c.rho, decay: 0.5, range: range), c.expected,
                           accuracy: 1e-7, "λ \(c.lambda), ρ \(c.rho)")
        }
        XCTAssertEqual(HessianFreeLM.updatedDamping(0.5, reductionRatio: 0, decay: 2.0 / 3, range: range), 0.75, accuracy: 1e-6)
    }

    /// Linear least squares: G is the exact Hessian, so one undamped-enough step with
    /// enough CG iterations lands on the solution of the normal equations.
    func testOneStepSolvesLinearLeastSquares() throws {
        let net = try MLP(sizes: [3, 2], objective: .meanSquaredError)
        var rng = RNG(seed: 3)
        let state = net.initialState(rng: &rng)
        let x = Tensor.normal([12, 3], rng: &rng)
        let y = Tensor.normal([12, 2], rng: &rng)
        // Normal equations per output column: [X 1]ᵀ[X 1] w = [X 1]ᵀ y.
        let xs = x.scalars.map(Double.init), ys = y.scalars.map(Double.init)
        let design: [[Double]] = (0..<12).map { (i: Int) -> [Double] in [xs[i * 3], xs[i * 3 + 1], xs[i * 3 + 2], 1.0] }
        var solution = [[Double]]()   // [output][4]
        for o in 0..<2 {
            var gram = [[Double]](repeating: [0, 0, 0, 0], count: 4), rhs: [Double] = [0, 0, 0, 0]
            for row in 0..<12 {
                for a in 0..<4 {
                    rhs[a] += design[row][a] * ys[row * 2 + o]
                    for b in 0..<4 { gram[a][b] += design[row][a] * design[row][b] }
                }
            }
            solution.append(PCGTests.denseSolve(gram, rhs))
        }
        let expectedWeight = (0..<3).flatMap { i in (0..<2).map { o in Float(solution[o][i]) } }   // [in, out]
        let expectedBias = (0..<2).map { Float(solution[$0][3]) }

        for kind in ["hf_fixed", "hf_lm"] {
            let options = "lr=1 lambda=1e-6 cg_iters=20 tol=0 warm_start=0" + (kind == "hf_lm" ? " lambda_min=1e-7" : "")
            let session = try Factory.optimiser(kind: kind, options: options)
            var s = state
            let before = try session.step(net, &s, inputs: x, targets: .values(y))
            XCTAssertGreaterThan(before, 0)
            assertClose(s.parameters[0].scalars, expectedWeight, atol: 2e-3, rtol: 2e-3, "\(kind): weights")
            assertClose(s.parameters[1].scalars, expectedBias, atol: 2e-3, rtol: 2e-3, "\(kind): bias")
            let (_, g, _) = Training.lossAndGradients(net, s, x, .values(y))
            XCTAssertLessThan(ConjugateGradient.norm(g), 1e-3, kind)
        }
    }

    func testFactoryTrainingLoopAndMetaTester() throws {
        let data = try gaussianBlobs(120, seed: 4)
        let net = try MLP(sizes: [6, 8, 3])
        for kind in Factory.curvatureOptimiserKinds {
            let session = try Factory.optimiser(kind: kind, options: nil)
            XCTAssertTrue(session.needsCurvature)
            var rng = RNG(seed: 5)
            var state = net.initialState(rng: &rng)
            var batches = try BatchIterator(data, batchSize: 40, seed: 6)
            let losses = try Training.train(net, &state, optimiser: session, batches: &batches, steps: 15)
            XCTAssertEqual(session.steps, 15)
            XCTAssertLessThan(losses.suffix(3).reduce(0, +) / 3, 0.5 * losses[0], "\(kind): \(losses)")
            XCTAssertEqual(session.stateSlots["direction"]?.map(\.shape), net.parameterSpecs.map(\.shape))
            // A gradient alone is not enough for it.
            assertThrows(.invalidArgument, containing: "needs a model") {
                try session.step(&state.parameters, gradients: state.parameters)
            }
            let result = try MetaTester.run({ try Factory.optimiser(kind: kind, options: "cg_iters=5") }, learner: net,
                                            train: data, test: data, learners: 2, steps: 10, batchSize: 40,
                                            evaluationSteps: [0, 10], seed: 7)
            XCTAssertEqual(result.trainingLoss.map(\.count), [10, 10])
            XCTAssertGreaterThan(result.testAccuracy[0][1], result.testAccuracy[0][0], kind)
        }
        // And a first-order session refuses a curvature model.
        let sgd = try Factory.optimiser(kind: "sgd", options: nil)
        XCTAssertFalse(sgd.needsCurvature)
        var rng = RNG(seed: 8)
        var state = net.initialState(rng: &rng)
        let (x, y) = data.batch(Array(0..<10)[...])
        let model = GaussNewton(learner: net, state: state, inputs: x, targets: .labels(y))
        assertThrows(.invalidArgument) { try sgd.step(&state.parameters, model: model) }
        // The batch-level step works for both kinds of session.
        XCTAssertEqual(try sgd.step(net, &state, inputs: x, targets: .labels(y)), model.loss, accuracy: 1e-6)
    }

    func testOptionsAreChecked() {
        let rejected: [(String, String, String)] = [
            ("hf_fixed", "bogus=1", "unknown option bogus"),
            ("hf_fixed", "lambda=0", "lambda=0.0 must be positive"),
            ("hf_fixed", "lr=0", "lr=0.0 must be positive"),
            ("hf_fixed", "lr=inf", "not a finite number"),
            ("hf_fixed", "cg_iters=0", "cg_iters=0 is outside"),
            ("hf_fixed", "tol=-1", "tol=-1 is outside"),
            ("hf_fixed", "warm_start=2", "warm_start=2 is outside"),
            ("hf_fixed", "decay=0.5", "unknown option decay"),
            ("hf_lm", "decay=1", "decay=1.0 is outside (0, 1)"),
            ("hf_lm", "lambda=2", "lambda=2.0 is outside [lambda_min, lambda_max]"),
            ("hf_lm", "lambda_min=0.5 lambda_max=0.1", "exceeds lambda_max"),
            ("hf_lm", "lambda_min=0", "must be positive"),
            ("hf_lm", "cg_iters=x", "not an integer"),
            ("hf_lm", "rho=later", "rho=later is not one of next, same"),
        ]
        for (kind, options, message) in rejected {
            assertThrows(.invalidArgument, containing: message) { try Factory.optimiser(kind: kind, options: options) }
        }
        XCTAssertNoThrow(try Factory.optimiser(kind: "hf_lm", options: "lr=0.5 lambda=0.1 decay=0.9 lambda_min=0.01 lambda_max=2 rho=same cg_iters=4 tol=0 warm_start=1"))
    }
}

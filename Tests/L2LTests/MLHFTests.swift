import L2L
import L2LTestSupport
import XCTest

/// MLHF: its shape against the authors' counts, its step against a dense solve, its
/// meta-gradient against finite differences, and meta-training end to end.
final class MLHFTests: XCTestCase {
    func testMetaParametersMatchTheAuthorsCounts() throws {
        let mlhf = try MLHF()
        // The authors' count: 277 per RNN per parameter group; two RNNs, six groups.
        XCTAssertEqual(mlhf.metaParameterSpecs.reduce(0) { $0 + $1.count }, 2 * 6 * 277)
        XCTAssertEqual(Set(mlhf.metaParameterSpecs.map(\.name)).count, mlhf.metaParameterSpecs.count)
        XCTAssertEqual(mlhf.metaParameterRange(.damping).count + mlhf.metaParameterRange(.preconditioner).count,
                       mlhf.metaParameterSpecs.count)
        XCTAssertEqual(mlhf.cgIterations, 4)
        XCTAssertEqual(try MLHF(options: mlhf.options).options, mlhf.options)
        assertThrows(.invalidArgument, containing: "unknown option") { _ = try MLHF(options: "bogus=1") }
        assertThrows(.invalidArgument, containing: "damping") { _ = try MLHF(options: "damping=-1") }
        assertThrows(.invalidArgument) { _ = try MLHF(options: "preconditioner=maybe") }
    }

    /// With a constant damping, no preconditioner and as many CG iterations as unknowns,
    /// the step is θ − lr·(G + λI)⁻¹g exactly; G is built column by column and solved in Double.
    func testStepWithConstantDampingIsTheDampedNewtonStep() throws {
        let net = try MLP(sizes: [4, 3])   // 15 parameters, linear: G is the exact Hessian
        let data = try gaussianBlobs(12, seed: 1, spread: 0.7, separation: 1.5)
        let (x6, y) = data.batch(Array(0..<12)[...])
        let x = x6.slice(axis: 1, 0..<4)
        var rng = RNG(seed: 2)
        let state = net.initialState(rng: &rng)
        let model = GaussNewton(learner: net, state: state, inputs: x, targets: .labels(y))
        let mlhf = try MLHF(options: "damping=0.3 preconditioner=none cg_iters=15 cg_floor=0 lr=0.5")
        var stepRNG = RNG(seed: 3)
        let step = mlhf.step(meta: mlhf.initialMetaParameters(rng: &rng), parameters: state.parameters,
                             kinds: net.parameterSpecs.map(\.kind), model: model,
                             state: mlhf.initialState(for: state.parameters, kinds: net.parameterSpecs.map(\.kind)),
                             training: false, rng: &stepRNG)

        let shapes = state.parameters.map(\.shape), n = 15
        func unit(_ i: Int) -> [Tensor] {
            var flat = [Float](repeating: 0, count: n); flat[i] = 1
            var at = 0
            return shapes.map { s in defer { at += Shape.count(s) }; return Tensor(shape: s, scalars: Array(flat[at..<(at + Shape.count(s))])) }
        }
        var a = (0..<n).map { i in model.product(unit(i)).flatMap(\.scalars).map(Double.init) }
        for i in 0..<n { a[i][i] += 0.3 + 2e-5 }
        let g = model.gradients.flatMap(\.scalars).map(Double.init)
        let d = PCGTests.denseSolve(a, g)
        let expected = zip(state.parameters.flatMap(\.scalars), d).map { Float(Double($0) - 0.5 * $1) }
        assertClose(step.parameters.flatMap(\.scalars), expected, atol: 1e-4, rtol: 1e-3)
        XCTAssertEqual(step.iterations, 15)
        // The stored warm start is d.
        assertClose(step.state.solution.flatMap(\.scalars), d.map(Float.init), atol: 1e-4, rtol: 1e-3)
    }

    /// The meta-gradient of one step (parameters after it, and l_p's term) with respect to
    /// RNN_s's and RNN_p's fc weights, against central differences: it flows through the
    /// damping, the preconditioner and every PCG iteration (G·v's backward is G·ū).
    func testMetaGradientMatchesFiniteDifferences() throws {
        let net = try MLP(sizes: [6, 3])
        let data = try gaussianBlobs(20, seed: 4, spread: 0.7, separation: 1.5)
        let (x, y) = data.batch(Array(0..<20)[...])
        var rng = RNG(seed: 5)
        let learner = net.initialState(rng: &rng)
        let kinds = net.parameterSpecs.map(\.kind)
        let mlhf = try MLHF(options: "cg_iters=3")
        let meta = mlhf.initialMetaParameters(rng: &rng)
        // A warm state: one step taken already, so every RNN input is non-zero.
        var stepRNG = RNG(seed: 6)
        let model0 = GaussNewton(learner: net, state: learner, inputs: x, targets: .labels(y))
        let first = mlhf.step(meta: meta, parameters: learner.parameters, kinds: kinds, model: model0,
                              state: mlhf.initialState(for: learner.parameters, kinds: kinds), training: false, rng: &stepRNG)
        let theta = first.parameters.map { $0.detached() }
        let model = GaussNewton(learner: net, state: LearnerState(parameters: theta), inputs: x, targets: .labels(y))
        let warm = first.state.detached()
        // A warm-started step costs 1 + n products: r₀ = g − A x₀ is computed once, for
        // RNN_p's input and for PCG.
        var countRNG = RNG(seed: 8)
        let counted = GaussNewton(learner: net, state: LearnerState(parameters: theta), inputs: x, targets: .labels(y))
        _ = mlhf.step(meta: meta, parameters: theta, kinds: kinds, model: counted, state: warm, training: false, rng: &countRNG)
        XCTAssertEqual(counted.productCount, 1 + 3)

        let specs = mlhf.metaParameterSpecs
        let checked = specs.indices.filter { specs[$0].name.contains(".fc_") }
        XCTAssertEqual(checked.count, 2 * 2 * (mlhf.metaParameterSpecs.count / 12))
        checkGradients(checked.map { meta[$0] }, eps: 2e-3, atol: 2e-3, rtol: 2e-2, secondOrder: false) { part in
            var phi = meta
            for (i, t) in zip(checked, part) { phi[i] = t }
            var r = RNG(seed: 7)
            let s = mlhf.step(meta: phi, parameters: theta, kinds: kinds, model: model, state: warm, training: false, rng: &r)
            return Tensor.concatenate(s.parameters.map { $0.reshaped([-1]) } + [s.preconditionLoss.reshaped([1]) * 0.1], axis: 0)
        }
    }

    /// Meta-training lowers l_p and l_s, and the trained MLHF trains a fresh learner better
    /// than its untrained self.
    func testMetaTrainingLowersBothLossesAndTheTrainedMLHFTrains() throws {
        let data = try gaussianBlobs(128, seed: 8, spread: 0.7, separation: 1.5)
        let net = try MLP(sizes: [6, 12, 3])
        var config = MLHFTrainingConfig()
        config.iterations = 60
        config.batchSize = 128
        config.metaLearningRate = 1e-2
        config.seed = 9
        config.resetProbability = 0.2
        let trainer = try MLHFTrainer(try MLHF(), learner: net, data: data, config: config)
        let untrained = try trainer.trained()
        let initialLosses = try trainer.evaluate()
        try trainer.run()
        XCTAssertTrue(trainer.events.isEmpty, "\(trainer.events)")
        for (k, r) in trainer.history.enumerated() where k % 10 == 0 {
            print(String(format: "iteration %3d: l_p %.4f  l_s %.4f  ‖r‖ %.4f  loss %.4f  s %.2e", k, r.preconditionLoss,
                         r.dampingLoss, r.residualNorm, r.trainingLoss, r.damping))
        }
        // Both meta-losses, on the same held-out learner trajectory's data, before and after.
        let finalLosses = try trainer.evaluate()
        print("evaluated before:", initialLosses, "after:", finalLosses)
        XCTAssertLessThan(finalLosses.preconditionLoss, initialLosses.preconditionLoss)
        XCTAssertLessThan(finalLosses.dampingLoss, initialLosses.dampingLoss)

        func curve(_ mlhf: TrainedMLHF) throws -> MetaTestResult {
            try MetaTester.run({ OptimiserSession(mlhf) }, learner: net, train: data, test: data, learners: 3,
                               steps: 40, batchSize: 128, evaluationSteps: [10, 20, 40], seed: 10)
        }
        let before = try curve(untrained), after = try curve(try trainer.trained())
        print("training loss (mean of 3 learners) every 5 steps, untrained:", before.meanTrainingLoss.enumerated().filter { $0.offset % 5 == 0 }.map(\.element))
        print("training loss (mean of 3 learners) every 5 steps, trained:  ", after.meanTrainingLoss.enumerated().filter { $0.offset % 5 == 0 }.map(\.element))
        print("test loss at 10/20/40, untrained:", before.testLoss, "trained:", after.testLoss)
        XCTAssertLessThan(after.meanTrainingLoss.reduce(0, +), before.meanTrainingLoss.reduce(0, +))
    }

    func testTrainedMLHFChecksTheLearner() throws {
        let mlhf = try MLHF()
        var rng = RNG(seed: 1)
        let meta = mlhf.initialMetaParameters(rng: &rng)
        let trained = try TrainedMLHF(mlhf, meta: meta, kinds: [.fcWeight, .fcBias])
        assertThrows(.shapeMismatch) { try trained.check(parameters: [Tensor.zeros([2, 2])]) }
        var bad = meta
        bad[0] = Tensor.zeros([1])
        assertThrows(.shapeMismatch) { _ = try TrainedMLHF(mlhf, meta: bad, kinds: [.fcWeight]) }
    }
}

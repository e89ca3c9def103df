import L2L
import L2LTestSupport
import XCTest

/// MAML, first-order MAML and Meta-SGD: meta-gradients against finite differences, the
/// Hessian term that separates MAML from FOMAML, meta-training on sine tasks, files.
final class FewShotTests: XCTestCase {
    /// A small smooth regressor (tanh, so finite differences see no kinks) and sine episodes.
    private func setup(_ method: FewShotMethod, innerSteps: Int, innerLR: Float = 0.3, tasks: Int = 2,
                       seed: UInt64 = 1) throws -> (FewShotLearner, [FewShotEpisode]) {
        let net = try MLP(sizes: [1, 6, 1], activation: .tanh, objective: .meanSquaredError)
        var config = FewShotConfig()
        config.method = method
        config.innerSteps = innerSteps
        config.innerLearningRate = innerLR
        config.seed = seed
        let meta = try FewShotLearner(learner: net, config: config)
        var rng = RNG(seed: 11)
        let family = try SineTaskFamily()
        let episodes = try (0..<tasks).map { _ in try family.episode(shots: 5, queryCount: 5, rng: &rng) }
        return (meta, episodes)
    }

    /// Central differences of the meta-loss in every element of φ (each evaluation is the
    /// full k-step adaptation then the query loss).
    private func finiteDifferences(_ meta: FewShotLearner, _ episodes: [FewShotEpisode], eps: Float = 4e-3) -> [[Float]] {
        let phi = meta.meta
        return phi.indices.map { t in
            (0..<phi[t].count).map { i in
                func value(_ delta: Float) -> Double {
                    var p = phi.map { Tensor(shape: $0.shape, scalars: $0.scalars) }
                    p[t].withUnsafeMutableBufferPointer { $0[i] += delta }
                    return Double(meta.metaLoss(p, episodes).scalar)
                }
                return Float((value(eps) - value(-eps)) / (2 * Double(eps)))
            }
        }
    }

    func testMAMLMetaGradientEqualsFiniteDifferencesThroughTwoInnerSteps() throws {
        let (maml, episodes) = try setup(.maml, innerSteps: 2)
        let (_, analytic) = try maml.metaGradient(episodes)
        let numeric = finiteDifferences(maml, episodes)
        for (a, n) in zip(analytic, numeric) { assertClose(a.scalars, n, atol: 3e-3, rtol: 2e-2) }
    }

    func testFOMAMLDiffersFromMAMLByTheHessianTerm() throws {
        // One inner step: g_MAML = (I − α H_s(θ)) ∇L_q(θ′) and g_FOMAML = ∇L_q(θ′), so
        // g_MAML − g_FOMAML = −α H_s(θ) g_FOMAML. H_s·v comes from central differences of
        // the support gradient (Training.lossAndGradients), independent of the meta-learner.
        let alpha: Float = 0.3
        let (maml, episodes) = try setup(.maml, innerSteps: 1, innerLR: alpha, tasks: 1)
        let (fomaml, _) = try setup(.fomaml, innerSteps: 1, innerLR: alpha, tasks: 1)
        XCTAssertEqual(maml.meta.map(\.scalars), fomaml.meta.map(\.scalars), "same seed, same θ")
        let gMAML = try maml.metaGradient(episodes).gradients
        let gFO = try fomaml.metaGradient(episodes).gradients
        let net = maml.learner, theta = maml.initialisation, s = episodes[0].support
        func supportGradient(_ p: [Tensor]) -> [Tensor] {
            Training.lossAndGradients(net, LearnerState(parameters: p), s.inputs, s.targets).gradients
        }
        let eps: Float = 1e-2
        let plus = supportGradient(zip(theta, gFO).map { $0 + $1 * eps })
        let minus = supportGradient(zip(theta, gFO).map { $0 - $1 * eps })
        var termNorm: Float = 0
        for t in theta.indices {
            let hv = zip(plus[t].scalars, minus[t].scalars).map { ($0 - $1) / (2 * eps) }
            let expected = zip(gFO[t].scalars, hv).map { $0 - alpha * $1 }
            assertClose(gMAML[t].scalars, expected, atol: 2e-3, rtol: 2e-2, "tensor \(t)")
            termNorm += hv.reduce(0) { $0 + $1 * $1 } * alpha * alpha
        }
        XCTAssertGreaterThan(termNorm.squareRoot(), 0.05, "the Hessian term must be non-zero for this case to separate the two")
        // FOMAML's gradient is therefore not the derivative of the post-adaptation loss.
        let numeric = finiteDifferences(fomaml, episodes)
        let gap = zip(gFO, numeric).map { a, n in zip(a.scalars, n).map { abs($0 - $1) }.max()! }.max()!
        XCTAssertGreaterThan(gap, 0.02)
    }

    func testMetaSGDGradientInTheRatesAndTheInitialisationEqualsFiniteDifferences() throws {
        let (metaSGD, episodes) = try setup(.metaSGD, innerSteps: 2, innerLR: 0.2)
        XCTAssertEqual(metaSGD.meta.count, 8, "θ and α for 4 parameter tensors")
        XCTAssertEqual(metaSGD.learningRates?.map(\.shape), metaSGD.initialisation.map(\.shape))
        let (_, analytic) = try metaSGD.metaGradient(episodes)
        let numeric = finiteDifferences(metaSGD, episodes)
        for (t, (a, n)) in zip(analytic, numeric).enumerated() {
            assertClose(a.scalars, n, atol: 3e-3, rtol: 2e-2, "φ tensor \(t)")
        }
        let alphaGradient = analytic[4...].flatMap(\.scalars)
        XCTAssertGreaterThan(alphaGradient.map(abs).max()!, 1e-2, "α receives a real gradient")
    }

    func testShortMetaTrainingLowersThePostAdaptationLossOnHeldOutTasks() throws {
        let net = try MLP(sizes: [1, 40, 40, 1], objective: .meanSquaredError)
        let family = try SineTaskFamily()
        for method in FewShotMethod.allCases {
            var config = FewShotConfig()
            config.method = method
            config.shots = 10
            config.metaBatch = 5
            config.metaLearningRate = 1e-2
            let meta = try FewShotLearner(learner: net, config: config)
            let before = try meta.evaluate(family, tasks: 40, shots: [10], seed: 99)[0].mean
            try meta.fit(family, iterations: 300)
            let after = try meta.evaluate(family, tasks: 40, shots: [10], seed: 99)[0].mean
            XCTAssertLessThan(after, 0.7 * before, "\(method): held-out 10-shot MSE \(before) → \(after)")
        }
    }

    func testMetaTrainingIsDeterministicForASeed() throws {
        func run(_ seed: UInt64) throws -> [[Float]] {
            let (m, _) = try setup(.metaSGD, innerSteps: 1, seed: seed)
            try m.fit(try SineTaskFamily(), iterations: 3)
            XCTAssertEqual(m.iterations, 3)
            return m.meta.map(\.scalars)
        }
        XCTAssertEqual(try run(5), try run(5))
        XCTAssertNotEqual(try run(5), try run(6))
    }

    func testProgressCanCancelAndKeepsTheIterationsDone() throws {
        let (m, _) = try setup(.maml, innerSteps: 1)
        assertThrows(.cancelled) { try m.fit(try SineTaskFamily(), iterations: 10) { i, _, _ in i < 2 } }
        XCTAssertEqual(m.iterations, 2)
    }

    func testAFileRoundTripsAndRejectsAlteredOrForeignFiles() throws {
        let (m, episodes) = try setup(.metaSGD, innerSteps: 2)
        try m.fit(try SineTaskFamily(), iterations: 2)
        let path = temporaryDirectory() + "/fewshot.safetensors"
        try m.save(to: path)
        let back = try FewShotLearner.load(from: path, learner: m.learner)
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.meta.map(\.scalars), m.meta.map(\.scalars))
        XCTAssertEqual(try back.adapt(episodes[0].support).map(\.scalars), try m.adapt(episodes[0].support).map(\.scalars))
        assertThrows(.format, containing: "shape") { try FewShotLearner.load(from: path, learner: try MLP(sizes: [1, 7, 1], objective: .meanSquaredError)) }
        var bytes = try SafetensorsFile(contentsOf: path).serialized()
        bytes[bytes.count - 3] ^= 0x40
        let altered = temporaryDirectory() + "/altered.safetensors"
        writeFile(altered, bytes)
        assertThrows(.format, containing: "checksum") { try FewShotLearner.load(from: altered, learner: m.learner) }
        assertThrows(.io) { try FewShotLearner.load(from: path + ".missing", learner: m.learner) }
    }

    func testBadLearnersTasksAndOptionsAreErrors() throws {
        let classifier = try MLP(sizes: [1, 4, 3])
        let meta = try FewShotLearner(learner: classifier, config: FewShotConfig())
        assertThrows(.invalidArgument, containing: "integers") { try meta.fit(try SineTaskFamily(), iterations: 1) }
        assertThrows(.invalidArgument, containing: "buffers") {
            try FewShotLearner(learner: try ResNet(inputShape: [1, 8, 8], stages: [2], blocksPerStage: 1, classes: 2), config: FewShotConfig())
        }
        assertThrows(.invalidArgument, containing: "inner_steps") { try FewShotConfig(options: "inner_steps=0") }
        assertThrows(.invalidArgument, containing: "bogus") { try FewShotConfig(options: "bogus=1") }
        assertThrows(.invalidArgument) { try FewShotConfig(options: "method=reptile") }
        let c = try FewShotConfig(options: "method=meta_sgd; inner_steps=3; inner_lr=0.05; shots=5; clip=norm; clip_at=2")
        XCTAssertEqual(try FewShotConfig(options: c.options), c)
        XCTAssertEqual(c.clip, .norm(2))
    }

    func testAGivenInitialisationIsTheStartingPoint() throws {
        let net = try MLP(sizes: [1, 3, 1], objective: .meanSquaredError)
        let theta = [randomTensor([1, 3], seed: 1), randomTensor([3], seed: 2), randomTensor([3, 1], seed: 3), randomTensor([1], seed: 4)]
        let meta = try FewShotLearner(learner: net, config: FewShotConfig(), initialisation: theta)
        XCTAssertEqual(meta.initialisation.map(\.scalars), theta.map(\.scalars))
        assertThrows(.shapeMismatch) { try FewShotLearner(learner: net, config: FewShotConfig(), initialisation: Array(theta.prefix(3))) }
        var bad = theta
        bad[1] = Tensor(shape: [3], scalars: [0, .nan, 0])
        assertThrows(.nonFinite) { try FewShotLearner(learner: net, config: FewShotConfig(), initialisation: bad) }
    }

    func testTheScoreIntervalIsTheNormal95PercentIntervalOfTheMean() {
        let s = FewShotScore(shots: 5, losses: [1, 2, 3, 4])
        XCTAssertEqual(s.mean, 2.5)
        XCTAssertEqual(s.interval95, Float(1.96 * (5.0 / 3.0).squareRoot() / 2), accuracy: 1e-6)
        XCTAssertEqual(FewShotScore(shots: 5, losses: [3]).interval95, 0)
    }

    func testTheSineEvaluationGridIsEvenlySpacedOverTheInputRange() throws {
        let set = try SineTaskFamily(evaluationPoints: 5).evaluationSet(of: SineTask(amplitude: 2, phase: 0.5))
        XCTAssertEqual(set.inputs.scalars, [-5, -2.5, 0, 2.5, 5])
        guard case .values(let y) = set.targets else { return XCTFail("regression targets expected") }
        assertClose(y.scalars, [-5, -2.5, 0, 2.5, 5].map { Float(2 * sin(Double($0) - 0.5)) })
    }
}

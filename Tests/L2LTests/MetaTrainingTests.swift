import Glibc
@testable import L2L
import L2LTestSupport
import XCTest

/// The meta-training engine end to end: it learns, it is reproducible and resumable, it
/// survives NaN, and what it learns can be saved and loaded.
final class MetaTrainingTests: XCTestCase {
    /// Mean loss after 100 steps on `problems` fresh 10-d quadratics.
    func quadraticFinalLoss(problems: Int = 30, _ step: ([Tensor], [Tensor], [Tensor]) -> ([Tensor], [Tensor]),
                            initialState: ([Tensor]) -> [Tensor]) throws -> Double {
        var rng = RNG(seed: 12_345)
        var total = 0.0
        for _ in 0..<problems {
            let q = try QuadraticTask.sample(dimension: 10, distribution: .normal, rng: &rng)
            var theta = [Tensor.normal([10], std: 0.01, rng: &rng)]
            var state = initialState(theta)
            for _ in 0..<100 {
                let t = theta.map { $0.tracked() }
                let g = gradients(of: q.loss(t[0]), wrt: t)
                (theta, state) = withoutGraph { step(theta, g, state) }
            }
            total += Double(q.loss(theta[0]).scalar)
        }
        return total / Double(problems)
    }

    /// Andrychowicz et al.'s experiment: an LSTM optimiser meta-trained on 10-d quadratics
    /// beats its untrained self and SGD at its best rate after 100 steps on fresh ones.
    func testLSTMOptimiserLearnsQuadratics() throws {
        let task = MetaTask.quadratic(dimension: 10, distribution: .normal)
        let opt = try Factory.learnedOptimiser(kind: "lstm", options: "preset=paper", parameterShapes: task.parameterShapes)
        var config = MetaTrainingConfig()
        config.trials = 100
        config.unroll = 20
        let trainer = try MetaTrainer(opt, tasks: [task], config: config)
        let untrained = trainer.meta
        try trainer.run()
        let h = trainer.history
        XCTAssertLessThan(h.suffix(50).reduce(0, +), 0.5 * h.prefix(50).reduce(0, +), "the meta-loss falls")
        let trained = try quadraticFinalLoss({ opt.step(meta: trainer.meta, parameters: $0, gradients: $1, state: $2, phase: .metaTesting, inputs: nil) },
                                             initialState: opt.initialState)
        let before = try quadraticFinalLoss({ opt.step(meta: untrained, parameters: $0, gradients: $1, state: $2, phase: .metaTesting, inputs: nil) },
                                            initialState: opt.initialState)
        var bestSGD = Double.infinity, bestAdam = Double.infinity
        for lr: Float in [0.001, 0.003, 0.01, 0.03, 0.1, 0.3] {
            let sgd = try SGD(learningRate: lr)
            let s = try quadraticFinalLoss({ p, g, st in (sgd.step(parameters: p, gradients: g, state: sgd.initialState(for: p)).parameters, st) },
                                           initialState: { _ in [] })
            if s.isFinite { bestSGD = min(bestSGD, s) }
            let adam = try Adam(learningRate: lr)
            var adamState: Adam.State?
            let a = try quadraticFinalLoss({ p, g, st in
                if adamState == nil || adamState!.step == 100 { adamState = adam.initialState(for: p) }
                let r = adam.step(parameters: p, gradients: g, state: adamState!)
                adamState = r.state
                return (r.parameters, st)
            }, initialState: { _ in [] })
            if a.isFinite { bestAdam = min(bestAdam, a) }
        }
        print("quadratics, loss after 100 steps: trained LSTM \(trained), untrained \(before), best SGD \(bestSGD), best Adam \(bestAdam)")
        XCTAssertLessThan(trained, before)
        XCTAssertLessThan(trained, bestSGD)
    }

    /// A small classification task for quick runs.
    func tinyTask(badExample: Bool = false) throws -> MetaTask {
        var rng = RNG(seed: 21)
        var x = Tensor.normal([32, 5], rng: &rng)
        let labels = (0..<32).map { Int32($0 % 3) }
        x.withUnsafeMutableBufferPointer { p in
            for i in 0..<32 { p[i * 5 + Int(labels[i])] += 2 }
            if badExample { p[0] = 3e38 }   // finite, but overflows the logits
        }
        return try MetaTask.checked(learner: try MLP(sizes: [5, 8, 3]), data: try Dataset(inputs: x, labels: labels, classes: 3))
    }

    func config(trials: Int, seed: UInt64 = 1) -> MetaTrainingConfig {
        var c = MetaTrainingConfig()
        c.trials = trials
        c.steps = 20
        c.unroll = 5
        c.batchSize = 8
        c.metaLearningRate = 0.01
        c.seed = seed
        return c
    }

    func testMetaTrainingIsDeterministicAndResumesBitIdentically() throws {
        let task = try tinyTask()
        let path = temporaryDirectory() + "/checkpoint.safetensors"
        for kind in ["lstm", "dmsgd"] {
            let opt = try Factory.learnedOptimiser(kind: kind, options: kind == "lstm" ? "layers=4 head_init=0.1" : "hidden=4",
                                                   parameterShapes: task.parameterShapes)
            let whole = try MetaTrainer(opt, tasks: [task], config: config(trials: 4))
            try whole.run()
            let again = try MetaTrainer(opt, tasks: [task], config: config(trials: 4))
            try again.run()
            XCTAssertEqual(again.meta.flatMap(\.scalars), whole.meta.flatMap(\.scalars), "\(kind): same seed, same φ")

            let first = try MetaTrainer(opt, tasks: [task], config: config(trials: 4))
            try first.run(trials: 2)
            try first.saveCheckpoint(to: path)
            let resumed = try MetaTrainer(resuming: path, optimiser: opt, tasks: [task], config: config(trials: 4))
            XCTAssertEqual(resumed.trialsDone, 2)
            try resumed.run()
            XCTAssertEqual(resumed.meta.flatMap(\.scalars), whole.meta.flatMap(\.scalars), "\(kind): resumed φ is bit-identical")
            XCTAssertEqual(resumed.history, whole.history)
            XCTAssertEqual(resumed.metaSteps, whole.metaSteps)
            assertThrows(.invalidArgument) { try MetaTrainer(resuming: path, optimiser: opt, tasks: [task], config: self.config(trials: 5)) }
        }
    }

    /// `warmup` trains each trial's learner first with the current φ: the unrolls then start
    /// from trained learners (lower meta-losses), deterministically and resumably.
    func testWarmupStartsTrialsFromTrainedLearners() throws {
        let task = try tinyTask()
        let opt = try Factory.learnedOptimiser(kind: "meta_sgd", options: "lr=0.1", parameterShapes: task.parameterShapes)
        var warm = config(trials: 4)
        warm.warmup = 60
        var parsed = try Config(warm.options, context: "meta-training")
        XCTAssertEqual(try MetaTrainingConfig(config: &parsed).options, warm.options)
        let cold = try MetaTrainer(opt, tasks: [task], config: config(trials: 4))
        try cold.run()
        let warmed = try MetaTrainer(opt, tasks: [task], config: warm)
        try warmed.run()
        let mean = { (h: [Float]) in h.reduce(0, +) / Float(h.count) }
        XCTAssertLessThan(mean(warmed.history), 0.8 * mean(cold.history), "warm \(warmed.history) cold \(cold.history)")

        let path = temporaryDirectory() + "/warm-checkpoint.safetensors"
        let first = try MetaTrainer(opt, tasks: [task], config: warm)
        try first.run(trials: 2)
        try first.saveCheckpoint(to: path)
        let resumed = try MetaTrainer(resuming: path, optimiser: opt, tasks: [task], config: warm)
        try resumed.run()
        XCTAssertEqual(resumed.meta.flatMap(\.scalars), warmed.meta.flatMap(\.scalars))
        XCTAssertEqual(resumed.history, warmed.history)
    }

    /// `random_scaling` k (Lv et al. 2017) trains on f(c ⊙ θ) from θ₀ / c: a scaled instance
    /// starts at the loss of the same instance unscaled, its gradient is c ⊙ ∇f with every cᵢ
    /// in [e^−k, e^k] and spread across that range; the option round-trips and meta-training
    /// with it is reproducible.
    func testRandomScalingTrainsOnTheScaledTask() throws {
        let task = try tinyTask()
        let k: Float = 1.5
        var a = RNG(seed: 3), b = RNG(seed: 3)
        let plain = try TaskInstance(task, batchSize: 8, rng: &a)
        let scaled = try TaskInstance(task, batchSize: 8, randomScaling: k, rng: &b)
        let p0 = plain.initial.parameters.map { $0.tracked() }, s0 = scaled.initial.parameters.map { $0.tracked() }
        let lp = plain.loss(p0, buffers: plain.initial.buffers, on: plain.batch).loss
        let ls = scaled.loss(s0, buffers: scaled.initial.buffers, on: scaled.batch).loss
        XCTAssertEqual(ls.scalar, lp.scalar, accuracy: 1e-5 * abs(lp.scalar))
        let gp = gradients(of: lp, wrt: p0), gs = gradients(of: ls, wrt: s0)
        var factors = [Float]()
        for t in p0.indices {
            let theta = p0[t].scalars, shrunk = s0[t].scalars, g = gp[t].scalars, h = gs[t].scalars
            for i in theta.indices where abs(shrunk[i]) > 1e-4 {
                let c = theta[i] / shrunk[i]
                factors.append(c)
                XCTAssertEqual(h[i], c * g[i], accuracy: 1e-4 * abs(c * g[i]) + 1e-6, "tensor \(t) coordinate \(i)")
            }
        }
        XCTAssertGreaterThan(factors.count, 20)
        XCTAssert(factors.allSatisfy { $0 > 0.999 * exp(-k) && $0 < 1.001 * exp(k) }, "\(factors.min()!)…\(factors.max()!)")
        XCTAssertGreaterThan(factors.max()! / factors.min()!, exp(k), "the factors spread over the range")

        try assertOptionRoundTripsAndIsReproducible(task, \.randomScaling, k, "the scaled learners are other learners")
    }

    /// Meta-training with `option` set to `value` (3 trials of the LSTM optimiser on `task`):
    /// the options text parses back to `value`, two runs give the same φ, and the learners'
    /// history differs from a run without it (`difference` says why it must).
    func assertOptionRoundTripsAndIsReproducible(_ task: MetaTask, _ option: WritableKeyPath<MetaTrainingConfig, Float>,
                                                 _ value: Float, _ difference: String) throws {
        var settings = config(trials: 3)
        settings[keyPath: option] = value
        var parsed = try Config(settings.options, context: "meta-training")
        XCTAssertEqual(try MetaTrainingConfig(config: &parsed)[keyPath: option], value)
        let opt = try Factory.learnedOptimiser(kind: "lstm", options: "preset=mtl2l", parameterShapes: task.parameterShapes)
        let runs = try (0..<2).map { _ in try MetaTrainer(opt, tasks: [task], config: settings) }
        for run in runs { try run.run() }
        let without = try MetaTrainer(opt, tasks: [task], config: config(trials: 3))
        try without.run()
        XCTAssertEqual(runs[0].meta.flatMap(\.scalars), runs[1].meta.flatMap(\.scalars))
        XCTAssertNotEqual(runs[0].history, without.history, difference)
    }

    /// `theta_noise` c adds θ ← θ + σ_t ε after each meta-training update, σ_t = c·max|θ|·(S − t)/S:
    /// the spread of the added noise matches σ_t, it is 0 from step S on, a replay of a step
    /// draws the same ε, the gradient passes through unchanged, and meta-training with it is
    /// reproducible and differs from training without it.
    func testThetaNoiseFollowsTheMTL2LSchedule() throws {
        let task = try tinyTask()
        let c: Float = 0.05, horizon = 10
        var draws = RNG(seed: 5)
        let noisy = try TaskInstance(task, batchSize: 8, thetaNoise: c, noiseHorizon: horizon, rng: &draws)
        let theta = noisy.initial.parameters.map { $0.tracked() }
        let top = theta.flatMap(\.scalars).map(abs).max()!
        let count = theta.reduce(0) { $0 + $1.count }
        for step in [0, 4, 9] {
            let batch = TaskBatch(step: step, data: nil)
            let moved = noisy.perturbed(theta, after: batch)
            let delta = zip(moved, theta).flatMap { zip($0.scalars, $1.scalars).map { $0 - $1 } }
            let std = (delta.map { $0 * $0 }.reduce(0, +) / Float(count)).squareRoot()
            let sigma = c * top * Float(horizon - step) / Float(horizon)
            XCTAssertEqual(std, sigma, accuracy: 0.2 * sigma, "step \(step): \(count) draws")
            XCTAssertEqual(noisy.perturbed(theta, after: batch).flatMap(\.scalars), moved.flatMap(\.scalars), "a replay draws the same")
            let g = gradients(of: moved.map { $0.sum() }.reduce(Tensor(0), +), wrt: theta)
            XCTAssert(g.allSatisfy { $0.scalars.allSatisfy { $0 == 1 } }, "the noise is a constant")
        }
        XCTAssertEqual(noisy.perturbed(theta, after: TaskBatch(step: horizon, data: nil)).flatMap(\.scalars), theta.flatMap(\.scalars))
        var plainDraws = RNG(seed: 5)
        let plain = try TaskInstance(task, batchSize: 8, rng: &plainDraws)
        XCTAssertEqual(plain.perturbed(theta, after: plain.batch).flatMap(\.scalars), theta.flatMap(\.scalars))
        XCTAssertEqual(plain.initial.parameters.flatMap(\.scalars), noisy.initial.parameters.flatMap(\.scalars),
                       "the noise's key is drawn after the learner")

        try assertOptionRoundTripsAndIsReproducible(task, \.thetaNoise, c, "the noise moves the learners")
    }

    /// An MLP whose outputs turn NaN on the forward passes `poisoned` selects.
    struct PoisonedLearner: Learner {
        final class Counter { var calls = 0 }
        let base: MLP
        let counter = Counter()
        let poisoned: (Int) -> Bool
        var parameterSpecs: [ParameterSpec] { base.parameterSpecs }
        var inputFeatures: Int { base.inputFeatures }
        var classes: Int { base.classes }
        func initialParameters(rng: inout RNG) -> [Tensor] { base.initialParameters(rng: &rng) }
        func forward(_ parameters: [Tensor], _ inputs: Tensor, buffers: [Tensor], training: Bool) -> (output: Tensor, buffers: [Tensor]) {
            counter.calls += 1
            let out = base.forward(parameters, inputs)
            return (poisoned(counter.calls) ? out * Float.nan : out, buffers)
        }
    }

    func testNonFiniteMetaLossNeverReachesPhiAndIsReported() throws {
        let clean = try tinyTask()
        guard case .supervised(_, let data) = clean else { return XCTFail() }
        let opt = try Factory.learnedOptimiser(kind: "meta_sgd", options: "lr=0.01", parameterShapes: clean.parameterShapes)
        // Always NaN: nothing is ever applied; φ rolls back and stays as it started.
        let always = MetaTask.supervised(learner: PoisonedLearner(base: try MLP(sizes: [5, 8, 3]), poisoned: { _ in true }), data: data)
        let trainer = try MetaTrainer(opt, tasks: [always], config: config(trials: 2))
        let before = trainer.meta.flatMap(\.scalars)
        try trainer.run()
        XCTAssertEqual(trainer.meta.flatMap(\.scalars), before, "no update was applied")
        XCTAssertEqual(trainer.metaSteps, 0)
        XCTAssertEqual(trainer.events.filter { $0.kind == .nonFiniteLoss }.count, 8)
        XCTAssertTrue(trainer.events.contains { $0.kind == .rollback })
        // Now and then NaN: the good unrolls train φ, the bad ones are skipped and reported.
        let sometimes = MetaTask.supervised(learner: PoisonedLearner(base: try MLP(sizes: [5, 8, 3]), poisoned: { $0 % 23 == 0 }), data: data)
        let mixed = try MetaTrainer(opt, tasks: [sometimes], config: config(trials: 4))
        try mixed.run()
        XCTAssertTrue(mixed.meta.allSatisfy(\.isFinite))
        XCTAssertGreaterThan(mixed.metaSteps, 0)
        XCTAssertFalse(mixed.events.isEmpty)
        XCTAssertEqual(mixed.metaSteps + mixed.events.filter { $0.kind != .rollback && $0.kind != .collapse }.count, mixed.history.count)
    }

    func testSaveAndLoadGiveIdenticalStepsAndRejectDamage() throws {
        let task = try tinyTask()
        let dir = temporaryDirectory()
        for (kind, options) in [("lstm", "preset=mtl2l"), ("meta_sgd", ""), ("dmsgd", "hidden=4"), ("m2sgd", "hidden=4 xi=0.001")] {
            let opt = try Factory.learnedOptimiser(kind: kind, options: options, parameterShapes: task.parameterShapes)
            let trainer = try MetaTrainer(opt, tasks: [task], config: config(trials: 1))
            try trainer.run()
            let path = dir + "/\(kind).safetensors"
            try LearnedOptimiserFile(opt, meta: trainer.meta).write(to: path, parameterShapes: task.parameterShapes)
            let (loaded, shapes) = try LearnedOptimiserFile.read(path)
            XCTAssertEqual(shapes, task.parameterShapes)
            XCTAssertEqual(loaded.optimiser.kind, kind)
            XCTAssertEqual(loaded.optimiser.options, opt.options)
            // The same steps from the same start.
            var rng = RNG(seed: 5)
            let params = try MLP(sizes: [5, 8, 3]).initialParameters(rng: &rng)
            let grads = params.map { Tensor.normal($0.shape, rng: &rng) }
            let a = opt.step(meta: trainer.meta, parameters: params, gradients: grads, state: opt.initialState(for: params), phase: .metaTesting, inputs: nil)
            let b = loaded.optimiser.step(meta: loaded.meta, parameters: params, gradients: grads,
                                          state: loaded.optimiser.initialState(for: params), phase: .metaTesting, inputs: nil)
            XCTAssertEqual(a.parameters.flatMap(\.scalars), b.parameters.flatMap(\.scalars), kind)

            // Damage: truncation, a changed value, a changed option.
            let bytes = try SafetensorsFile(contentsOf: path).serialized()
            writeFile(dir + "/cut", Array(bytes.prefix(bytes.count - 3)))
            assertThrows(.format) { try LearnedOptimiserFile.read(dir + "/cut") }
            var altered = bytes
            altered[altered.count - 2] ^= 0x40
            writeFile(dir + "/altered", altered)
            assertThrows(.format, containing: "checksum") { try LearnedOptimiserFile.read(dir + "/altered") }
        }
        assertThrows(.io) { try LearnedOptimiserFile.read(dir + "/missing.safetensors") }
    }
}

extension MetaTrainingTests {
    /// A per-parameter optimiser refuses a learner of other shapes with an error, in the
    /// engine, in an optimiser session and so in meta-testing, instead of trapping.
    func testPerParameterOptimisersRefuseOtherLearners() throws {
        let task = try tinyTask()
        let opt = try Factory.learnedOptimiser(kind: "meta_sgd", options: nil, parameterShapes: task.parameterShapes)
        XCTAssertEqual(opt.parameterShapes, task.parameterShapes)
        XCTAssertNil(try Factory.learnedOptimiser(kind: "lstm", options: nil, parameterShapes: []).parameterShapes)
        let other = MetaTask.quadratic(dimension: 10, distribution: .normal)
        assertThrows(.shapeMismatch, containing: "built for") { try MetaTrainer(opt, tasks: [other], config: self.config(trials: 1)) }
        var rng = RNG(seed: 0)
        let session = OptimiserSession(try TrainedOptimiser(opt, meta: opt.initialMetaParameters(rng: &rng)))
        var wrong = [Tensor.zeros([10])]
        assertThrows(.shapeMismatch) { try session.step(&wrong, gradients: [Tensor.zeros([10])]) }
    }
}

@testable import L2L
import L2LTestSupport
import XCTest

/// The gradient estimators of the meta-training engine against exact meta-gradients, PES
/// against the whole horizon, meta-batches, and memory-budgeted unrolls.
final class EstimatorTests: XCTestCase {
    func cosine(_ a: [Float], _ b: [Float]) -> Double {
        let dot = zip(a, b).map { Double($0) * Double($1) }.reduce(0, +)
        let na = a.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        let nb = b.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        return dot / (na * nb)
    }

    func relativeError(_ a: [Float], _ exact: [Float]) -> Double {
        let d = zip(a, exact).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
        return d / exact.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
    }

    /// Meta-SGD (φ = one rate per coordinate, 0.01 to start) on a fresh `d`-dimensional quadratic.
    func quadraticSetup(d: Int, seed: UInt64) throws -> (opt: any LearnedOptimiser, meta: [Tensor], member: TaskMember) {
        let task = MetaTask.quadratic(dimension: d, distribution: .normal)
        let opt = try Factory.learnedOptimiser(kind: "meta_sgd", options: "lr=0.01", parameterShapes: task.parameterShapes)
        var rng = RNG(seed: seed)
        let meta = opt.initialMetaParameters(rng: &rng)
        let instance = try TaskInstance(task, batchSize: 1, rng: &rng)
        let run = LearnerRun(learner: instance.initial, optimiserState: opt.initialState(for: instance.initial.parameters))
        return (opt, meta, TaskMember(instance: instance, runs: [run]))
    }

    func unroll(_ opt: any LearnedOptimiser, steps: Int, secondOrder: Bool = false) -> Unroll {
        Unroll(optimiser: opt, steps: steps, weights: [Float](repeating: 1, count: steps), sameBatch: false, secondOrder: secondOrder)
    }

    /// On one truncation, ES and PES (whose first truncation is ES with the same draws)
    /// point where the exact meta-gradient does: cosine ≥ 0.9 at 256 pairs over 8
    /// meta-parameters.
    func testESAndPESAgreeWithTheExactMetaGradient() throws {
        let (opt, meta, member) = try quadraticSetup(d: 8, seed: 4)
        let u = unroll(opt, steps: 5)
        let window = member.instance.window(5)
        // Exact: second order, since a perturbation of φ also moves the learner's later gradients.
        let exact = TruncatedBPTT(unroll: unroll(opt, steps: 5, secondOrder: true), memoryBudget: nil)
            .estimate(meta, member: member, window: window, perturbations: [])
        var rng = RNG(seed: 9)
        let pairs = 256
        let eps = drawPerturbations(pairs: pairs, std: 1e-3, like: meta, rng: &rng)
        let es = AntitheticES(unroll: u, pairs: pairs, std: 1e-3).estimate(meta, member: member, window: window, perturbations: eps)
        var particles = member
        particles.runs = [LearnerRun](repeating: member.runs[0], count: 2 * pairs)
        let pes = PersistentES(unroll: u, pairs: pairs, std: 1e-3).estimate(meta, member: particles, window: window, perturbations: eps)
        let g = exact.gradient!.flatMap(\.scalars)
        XCTAssertGreaterThan(cosine(es.gradient!.flatMap(\.scalars), g), 0.9)
        XCTAssertGreaterThan(cosine(pes.gradient!.flatMap(\.scalars), g), 0.9)
        XCTAssertEqual(es.metaLoss, exact.metaLoss, accuracy: 1e-5 * abs(exact.metaLoss), "ES records the meta-loss of φ itself")
        // A wrong sign or scale would show: the estimate's size is the gradient's.
        XCTAssertLessThan(relativeError(es.gradient!.flatMap(\.scalars), g), 0.3)
    }

    /// Over a 20-step horizon cut into 5 truncations of 4 steps, the sum of PES's estimates
    /// matches the gradient of the whole horizon's meta-loss (second-order BPTT through all
    /// 20 steps: a perturbation of φ moves the learner's later gradients too, which PES
    /// sees), while the sum of truncated BPTT's gradients — which ignore each rate's effect
    /// on later truncations — does not (measured: PES 0.036 relative error at 500 pairs,
    /// truncated BPTT 0.61).
    func testPESIsUnbiasedForTheWholeHorizonWhereTruncatedBPTTIsNot() throws {
        let (opt, meta, member) = try quadraticSetup(d: 2, seed: 6)
        let truncations = 5, xi = 4
        // The whole horizon, exactly.
        let whole = unroll(opt, steps: truncations * xi, secondOrder: true)
        var once = member
        let full = TruncatedBPTT(unroll: whole, memoryBudget: nil)
            .estimate(meta, member: once, window: once.instance.window(truncations * xi), perturbations: []).gradient!.flatMap(\.scalars)
        // Truncated BPTT and PES over the same batches (a quadratic has none) and φ.
        let short = unroll(opt, steps: xi)
        let bptt = TruncatedBPTT(unroll: unroll(opt, steps: xi, secondOrder: true), memoryBudget: nil)
        let pairs = 500
        let std: Float = 1e-3
        let pes = PersistentES(unroll: short, pairs: pairs, std: std)
        var truncated = [Float](repeating: 0, count: full.count), persistent = truncated
        once = member
        var particles = member
        particles.runs = [LearnerRun](repeating: member.runs[0], count: 2 * pairs)
        var rng = RNG(seed: 3)
        for _ in 0..<truncations {
            let window = once.instance.window(xi)
            let b = bptt.estimate(meta, member: once, window: window, perturbations: [])
            once = b.next
            let p = pes.estimate(meta, member: particles, window: window,
                                 perturbations: drawPerturbations(pairs: pairs, std: std, like: meta, rng: &rng))
            particles = p.next
            truncated = zip(truncated, b.gradient!.flatMap(\.scalars)).map { $0 + $1 }
            persistent = zip(persistent, p.gradient!.flatMap(\.scalars)).map { $0 + $1 }
        }
        let pesError = relativeError(persistent, full), bpttError = relativeError(truncated, full)
        print("whole-horizon gradient: PES relative error \(pesError), truncated BPTT \(bpttError)")
        XCTAssertLessThan(pesError, 0.15)
        XCTAssertGreaterThan(bpttError, 0.4)
    }

    /// A tiny classification task for quick runs.
    func tinyTask(seed: UInt64 = 21) throws -> MetaTask {
        try MetaTask.checked(learner: try MLP(sizes: [6, 8, 3]), data: try gaussianBlobs(48, seed: seed))
    }

    func trainer(_ kind: String, options: String, _ extra: String, tasks: [MetaTask]? = nil) throws -> MetaTrainer {
        let tasks = try tasks ?? [try tinyTask()]
        var settings = ["trials": "4", "steps": "20", "unroll": "5", "batch": "8", "meta_lr": "0.01", "seed": "2"]
        for pair in extra.split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            settings[kv[0]] = kv[1]
        }
        var config = try Config(settings.sorted(by: { $0.key < $1.key }).map { "\($0)=\($1)" }.joined(separator: " "), context: "test")
        let made = try MetaTrainingConfig(config: &config)
        try config.finish()
        let opt = try Factory.learnedOptimiser(kind: kind, options: options, parameterShapes: tasks[0].parameterShapes)
        return try MetaTrainer(opt, tasks: tasks, config: made)
    }

    /// Meta-batches: the same seed gives the same φ whatever order the members' truncations
    /// run in, for every estimator; and a checkpoint resumes them bit-identically.
    func testMetaBatchesAreIndependentOfExecutionOrderAndResume() throws {
        let tasks = [try tinyTask(seed: 1), try tinyTask(seed: 2), try tinyTask(seed: 3)]
        let path = temporaryDirectory() + "/meta-batch.safetensors"
        for extra in ["meta_batch=3", "meta_batch=3 estimator=es es_pairs=2", "meta_batch=2 estimator=pes es_pairs=2"] {
            let forward = try trainer("dmsgd", options: "hidden=4", extra, tasks: tasks)
            try forward.run()
            let backward = try trainer("dmsgd", options: "hidden=4", extra, tasks: tasks)
            backward.executionOrder = Array((0..<backward.config.metaBatch).reversed())
            try backward.run()
            XCTAssertEqual(forward.meta.flatMap(\.scalars), backward.meta.flatMap(\.scalars), extra)
            XCTAssertEqual(forward.history, backward.history, extra)
            XCTAssertEqual(forward.metaSteps, 4 * 4, extra)

            let first = try trainer("dmsgd", options: "hidden=4", extra, tasks: tasks)
            try first.run(trials: 2)
            try first.saveCheckpoint(to: path)
            let resumed = try MetaTrainer(resuming: path, optimiser: first.optimiser, tasks: tasks, config: first.config)
            try resumed.run()
            XCTAssertEqual(resumed.meta.flatMap(\.scalars), forward.meta.flatMap(\.scalars), "\(extra): resumed")
        }
        // Counters no run of this configuration can reach are an altered file.
        var file = try SafetensorsFile(contentsOf: path)
        for counters in ["9 0 0 0 0", "1 99 0 0 0", "1 2 5 0 0", "1 2 2 0 3"] {
            file.metadata["counters"] = counters
            try file.write(to: path)
            let config = try trainer("dmsgd", options: "hidden=4", "meta_batch=2 estimator=pes es_pairs=2", tasks: tasks).config
            assertThrows(.format, containing: "impossible") {
                try MetaTrainer(resuming: path, optimiser: try Factory.learnedOptimiser(kind: "dmsgd", options: "hidden=4", parameterShapes: tasks[0].parameterShapes),
                                tasks: tasks, config: config)
            }
        }
    }

    /// A meta-batch averages its members' meta-gradients: the first update of M = 2 with SGD
    /// as meta-optimiser (an update linear in the gradient) is φ − lr·(g₁ + g₂)/2, with gᵢ
    /// the meta-gradient of member i's truncation alone.
    func testMetaBatchAveragesTheMembersGradients() throws {
        let tasks = [try tinyTask(seed: 1), try tinyTask(seed: 2)]
        let both = try trainer("meta_sgd", options: "lr=0.05", "trials=1 steps=5 meta_optimizer=sgd meta_batch=2", tasks: tasks)
        let phi = both.meta
        try both.run()
        // The members alone: the same instance draws, in member order, from the same seed.
        var rng = RNG(seed: both.config.seed)
        let instances = try tasks.map { try TaskInstance($0, batchSize: 8, rng: &rng) }
        let u = unroll(both.optimiser, steps: 5)
        let grads = instances.map { instance -> [Float] in
            let run = LearnerRun(learner: instance.initial, optimiserState: both.optimiser.initialState(for: instance.initial.parameters))
            return TruncatedBPTT(unroll: u, memoryBudget: nil)
                .estimate(phi, member: TaskMember(instance: instance, runs: [run]), window: instance.window(5), perturbations: [])
                .gradient!.flatMap(\.scalars)
        }
        let start = phi.flatMap(\.scalars)
        let expected = start.indices.map { start[$0] - 0.01 * (grads[0][$0] + grads[1][$0]) / 2 }
        XCTAssertGreaterThan(relativeError(grads[0], grads[1]), 0.1, "the members differ")
        assertClose(both.meta.flatMap(\.scalars), expected, atol: 1e-6, rtol: 1e-5)
    }

    /// A memory budget gives the same meta-gradient (first and second order) from recomputed
    /// segments, with a peak of live tensor memory near the budget (measured 1.1–1.2× a
    /// quarter of the unbudgeted peak).
    func testMemoryBudgetGivesTheSameMetaGradientWithLessMemory() throws {
        let task = try MetaTask.checked(learner: try MLP(sizes: [6, 16, 3], activation: .tanh), data: try gaussianBlobs(48, seed: 5))
        let opt = try Factory.learnedOptimiser(kind: "lstm", options: "layers=6 head_init=0.1", parameterShapes: task.parameterShapes)
        var rng = RNG(seed: 8)
        let meta = opt.initialMetaParameters(rng: &rng)
        for secondOrder in [false, true] {
            let u = Unroll(optimiser: opt, steps: 12, weights: [Float](repeating: 1, count: 12), sameBatch: false, secondOrder: secondOrder)
            func estimate(budget: Int?) throws -> (gradient: [Float], loss: Float, peak: Int, segment: Int?) {
                var draws = RNG(seed: 3)
                let instance = try TaskInstance(task, batchSize: 8, rng: &draws)
                let run = LearnerRun(learner: instance.initial, optimiserState: opt.initialState(for: instance.initial.parameters))
                let window = instance.window(12)
                let estimator = TruncatedBPTT(unroll: u, memoryBudget: budget)
                BufferCache.resetPeak()
                let before = BufferCache.liveBytes
                let e = estimator.estimate(meta, member: TaskMember(instance: instance, runs: [run]), window: window, perturbations: [])
                return (e.gradient!.flatMap(\.scalars), e.metaLoss, BufferCache.peakLiveBytes - before, estimator.segmentSteps)
            }
            let plain = try estimate(budget: nil)
            let budgeted = try estimate(budget: plain.peak / 4)
            XCTAssertNotNil(budgeted.segment)
            XCTAssertLessThan(budgeted.segment!, 12, "the budget cuts the unroll")
            assertClose(budgeted.gradient, plain.gradient, atol: 1e-6, rtol: 1e-4)
            XCTAssertEqual(budgeted.loss, plain.loss, accuracy: 1e-5 * abs(plain.loss))
            print("memory budget \(plain.peak / 4) B, second order \(secondOrder): peak \(budgeted.peak) B in segments of \(budgeted.segment!) steps, \(plain.peak) B without")
            XCTAssertLessThan(budgeted.peak, plain.peak / 2, "second order \(secondOrder)")
            XCTAssertLessThan(budgeted.peak, 2 * (plain.peak / 4), "second order \(secondOrder): the peak stays near the budget")
            // A budget the whole unroll fits leaves it whole.
            let roomy = try estimate(budget: plain.peak * 100)
            XCTAssertEqual(roomy.segment, 12)
            XCTAssertEqual(roomy.gradient, plain.gradient)
        }
    }

    /// ES and PES meta-training lower the meta-loss of Meta-SGD and of the LSTM optimiser
    /// (evaluated on the same fresh learners before and after).
    func testESAndPESMetaTrainingLowerTheMetaLoss() throws {
        for (kind, options, settings) in [("meta_sgd", "lr=0.01", "trials=10 meta_lr=0.01 es_pairs=8"),
                                          ("lstm", "preset=mtl2l", "trials=6 meta_lr=0.003 es_pairs=4")] {
            for estimator in ["es", "pes"] {
                let t = try trainer(kind, options: options, settings + " estimator=\(estimator) es_std=0.01")
                let before = try t.evaluate(instances: 4, seed: 11)
                try t.run()
                let after = try t.evaluate(instances: 4, seed: 11)
                print("\(kind) \(estimator): meta-loss \(before) → \(after)")
                XCTAssertLessThan(after, 0.95 * before, "\(kind) \(estimator)")
                XCTAssertTrue(t.events.isEmpty, "\(t.events)")
            }
        }
    }

    func testEstimatorOptionsAreChecked() throws {
        assertThrows(.invalidArgument, containing: "bptt") { try self.trainer("meta_sgd", options: "", "estimator=es second_order=1") }
        assertThrows(.invalidArgument, containing: "bptt") { try self.trainer("meta_sgd", options: "", "estimator=pes memory_budget=1000") }
        assertThrows(.invalidArgument) { try self.trainer("meta_sgd", options: "", "estimator=spsa") }
        assertThrows(.invalidArgument) { try self.trainer("meta_sgd", options: "", "es_pairs=0") }
        assertThrows(.invalidArgument) { try self.trainer("meta_sgd", options: "", "meta_batch=0") }
        assertThrows(.invalidArgument, containing: "unknown optimiser kind") { try self.trainer("meta_sgd", options: "", "meta_optimizer=lbfgs") }
        assertThrows(.invalidArgument) { try self.trainer("meta_sgd", options: "", "meta_optimizer=hf_lm") }
        var config = try Config("estimator=pes es_pairs=3 es_std=0.02 meta_batch=2 memory_budget=0 meta_optimizer=momentum meta_optimizer_options=momentum:0.5", context: "test")
        let parsed = try MetaTrainingConfig(config: &config)
        var again = try Config(parsed.options, context: "test")
        XCTAssertEqual(try MetaTrainingConfig(config: &again).options, parsed.options)
        XCTAssertEqual(parsed.estimator, .pes(std: 0.02, pairs: 3))
        XCTAssertEqual(parsed.metaOptimiserOptions, "momentum=0.5")
    }
}

@testable import L2L
import L2LTestSupport
import XCTest

/// M²SGD's mask (issue 15): exactly the weights whose β_t ≤ ξ are removed and the others
/// take DMSGD's update; and β_t's distribution, with the saturation of its dynamic part,
/// is reported and moves under meta-training.
final class M2SGDMaskTests: XCTestCase {
    func optimiser(_ options: String, masked: Bool, shapes: [[Int]]) throws -> DMSGD {
        var config = try Config(options, context: "test")
        let opt = try DMSGD(shapes: shapes, masked: masked, config: &config)
        try config.finish()
        return opt
    }

    func testMaskRemovesExactlyTheWeightsAtOrBelowXi() throws {
        let shapes = [[40], [10]]
        let plain = try optimiser("hidden=4 u_beta_init=0.5", masked: false, shapes: shapes)
        let masked = try optimiser("hidden=4 u_beta_init=0.5 xi=0.001", masked: true, shapes: shapes)
        var rng = RNG(seed: 3)
        let meta = masked.initialMetaParameters(rng: &rng)
        let theta = shapes.map { Tensor.normal($0, rng: &rng) }
        let grads = shapes.map { Tensor.normal($0, rng: &rng) }
        let (kept, _) = plain.step(meta: meta, parameters: theta, gradients: grads, state: plain.initialState(for: theta),
                                   phase: .metaTesting, inputs: nil)
        let (cut, state) = masked.step(meta: meta, parameters: theta, gradients: grads, state: masked.initialState(for: theta),
                                       phase: .metaTesting, inputs: nil)
        let beta = masked.rates(in: state).scalars
        let (a, b) = (kept.flatMap(\.scalars), cut.flatMap(\.scalars))
        let removed = beta.filter { $0 <= 0.001 }.count
        XCTAssertGreaterThan(removed, 0, "the draw must put some rates at or below ξ")
        XCTAssertLessThan(removed, beta.count, "the draw must keep some rates above ξ")
        for i in beta.indices {
            XCTAssertEqual(b[i], beta[i] <= 0.001 ? 0 : a[i], "coordinate \(i), β = \(beta[i])")
        }
        XCTAssertEqual(masked.rateSummary(meta: meta, state: state).maskedFraction, Double(removed) / Double(beta.count))
        // Outside the phases `mask_during` names, M²SGD is DMSGD.
        let (unmasked, _) = masked.step(meta: meta, parameters: theta, gradients: grads, state: masked.initialState(for: theta),
                                        phase: .metaTraining, inputs: nil)
        XCTAssertEqual(unmasked.flatMap(\.scalars), a)
    }

    /// `rate_penalty=λ` adds λ·mean(β_t) to each step's meta-loss (the learner's update is
    /// unchanged); M²SGD without it and DMSGD add nothing, and DMSGD refuses the option.
    func testRatePenaltyAddsLambdaTimesTheMeanRateToTheMetaLoss() throws {
        var rng = RNG(seed: 4)
        let x = Tensor.normal([12, 4], rng: &rng)
        let data = try Dataset(inputs: x, labels: (0..<12).map { Int32($0 % 3) }, classes: 3)
        let task = try MetaTask.checked(learner: try MLP(sizes: [4, 5, 3]), data: data)
        let shapes = task.parameterShapes
        let base = "hidden=3 u_beta_init=0.5 xi=0 mask_during=both"
        let penalised = try optimiser(base + " rate_penalty=40", masked: true, shapes: shapes)
        let plain = try optimiser(base, masked: true, shapes: shapes)
        let meta = penalised.initialMetaParameters(rng: &rng)
        func oneStep(_ opt: DMSGD) throws -> Unroll.Result {
            var instanceRNG = RNG(seed: 3)
            let instance = try TaskInstance(task, batchSize: 6, rng: &instanceRNG)
            let start = LearnerRun(learner: instance.initial, optimiserState: opt.initialState(for: instance.initial.parameters))
            return Unroll(optimiser: opt, steps: 1, weights: [0.5], sameBatch: false, secondOrder: false)
                .run(meta, from: start, on: instance, window: instance.window(1), range: 0..<1)
        }
        let (with, without) = (try oneStep(penalised), try oneStep(plain))
        XCTAssertEqual(with.end.learner.parameters.flatMap(\.scalars), without.end.learner.parameters.flatMap(\.scalars))
        let beta = penalised.rates(in: with.end.optimiserState).scalars.map(Double.init)
        let meanRate = beta.reduce(0, +) / Double(beta.count)
        XCTAssertGreaterThan(meanRate, 0)
        XCTAssertEqual(Double(with.metaLoss.scalar - without.metaLoss.scalar), 0.5 * 40 * meanRate, accuracy: 1e-5)
        XCTAssertNil(plain.metaLossTerm(state: without.end.optimiserState))
        XCTAssertTrue(penalised.options.contains("rate_penalty=40"), penalised.options)
        XCTAssertThrowsError(try optimiser("hidden=3 rate_penalty=1", masked: false, shapes: shapes))
    }

    /// With U_β = 0, β_t = ReLU(β^sta) exactly: a rate equal to ξ is removed, one just above
    /// is kept, and a removed weight stays at zero step after step while the kept ones move.
    func testRemovedWeightsStayAtZeroAndTheBoundaryIsInclusive() throws {
        let masked = try optimiser("hidden=3 xi=0.05", masked: true, shapes: [[4]])
        var rng = RNG(seed: 1)
        var meta = masked.initialMetaParameters(rng: &rng)
        meta[4] = Tensor(shape: [4], scalars: [0.05, 0.0500001, -0.3, 0.2])
        var theta = [Tensor(shape: [4], scalars: [1, 2, 3, 4])]
        var state = masked.initialState(for: theta)
        for _ in 0..<3 {
            (theta, state) = masked.step(meta: meta, parameters: theta, gradients: [Tensor(shape: [4], scalars: [1, 1, 1, 1])],
                                         state: state, phase: .metaTesting, inputs: nil)
            XCTAssertEqual(theta[0].scalars[0], 0)
            XCTAssertEqual(theta[0].scalars[2], 0)
        }
        XCTAssertEqual(theta[0].scalars[1], 2 - 3 * 0.0500001, accuracy: 1e-6)
        XCTAssertEqual(theta[0].scalars[3], 4 - 3 * 0.2, accuracy: 1e-6)
    }

    /// With a random U_β, some draws put every first-step rate at 0 (nothing would ever move);
    /// `u_beta_sign=positive` flips those draws (and only flips them), so none starts dead.
    func testPositiveUBetaSignAvoidsADeadStart() throws {
        let shapes = [[64]]
        var rng = RNG(seed: 7)
        let theta = [Tensor.normal([64], std: 0.1, rng: &rng)]
        let grads = [Tensor.normal([64], std: 0.01, rng: &rng)]
        var dead = 0
        for seed in 0..<12 {
            var fractions: [Double] = []
            var draws: [[Float]] = []
            for sign in ["random", "positive"] {
                let opt = try optimiser("u_beta_init=0.05 u_beta_sign=\(sign)", masked: false, shapes: shapes)
                var r = RNG(seed: UInt64(seed))
                let meta = opt.initialMetaParameters(rng: &r)
                let (_, state) = opt.step(meta: meta, parameters: theta, gradients: grads, state: opt.initialState(for: theta),
                                          phase: .metaTesting, inputs: nil)
                fractions.append(opt.rateSummary(meta: meta, state: state).maskedFraction)
                draws.append(meta[3].scalars)
            }
            XCTAssertTrue(draws[1] == draws[0] || draws[1] == draws[0].map { -$0 }, "seed \(seed): only the sign may change")
            XCTAssertLessThan(fractions[1], 1, "seed \(seed): every rate is 0 after the first step")
            dead += fractions[0] == 1 ? 1 : 0
        }
        XCTAssertGreaterThan(dead, 0, "no random draw started dead: the test shows nothing")
    }

    /// The rates of a fresh learner after `steps` full-batch steps under `meta`.
    func rates(_ opt: DMSGD, meta: [Tensor], learner: MLP, data: Dataset, steps: Int) -> RateSummary {
        var rng = RNG(seed: 9)
        var params = learner.initialParameters(rng: &rng)
        var state = opt.initialState(for: params)
        for _ in 0..<steps {
            let (_, g, _) = Training.lossAndGradients(learner, LearnerState(parameters: params, buffers: []),
                                                      data.inputs, .labels(data.labels))
            (params, state) = withoutGraph { opt.step(meta: meta, parameters: params, gradients: g, state: state, phase: .metaTesting, inputs: nil) }
        }
        return opt.rateSummary(meta: meta, state: state)
    }

    /// A short meta-training moves β_t's distribution; a U_β large enough to saturate tanh is
    /// reported as saturated, and U_β = 0 as not.
    func testRateDistributionMovesUnderMetaTrainingAndSaturationIsDetected() throws {
        let learner = try MLP(sizes: [6, 8, 3])
        let data = try gaussianBlobs(48, seed: 4)
        let task = try MetaTask.checked(learner: learner, data: data)
        let opt = try optimiser("hidden=4 u_beta_init=0.2236", masked: false, shapes: task.parameterShapes)
        var parsed = try Config("trials=4 steps=20 unroll=5 batch=8 meta_lr=0.01 seed=2", context: "test")
        let trainer = try MetaTrainer(opt, tasks: [task], config: try MetaTrainingConfig(config: &parsed))
        let before = rates(opt, meta: trainer.meta, learner: learner, data: data, steps: 20)
        try trainer.run()
        let after = rates(opt, meta: trainer.meta, learner: learner, data: data, steps: 20)
        XCTAssertGreaterThan(abs(after.quantiles[3] - before.quantiles[3]), 1e-3, "β_t's 90th percentile: \(before) → \(after)")
        XCTAssertLessThan(after.saturatedFraction, 0.5, "\(after)")

        var saturating = trainer.meta
        saturating[3] = saturating[3] * Tensor(1e4)
        XCTAssertGreaterThan(rates(opt, meta: saturating, learner: learner, data: data, steps: 5).saturatedFraction, 0.9)
        var flat = trainer.meta
        flat[3] = Tensor.zeros(flat[3].shape)
        XCTAssertEqual(rates(opt, meta: flat, learner: learner, data: data, steps: 5).saturatedFraction, 0)
    }

    /// A meta-test reports β_t's distribution at each evaluation step for a trained M²SGD
    /// (none at step 0, before any rate exists), and its masked share is the share of weights
    /// the mask left at zero; for Adam it reports none.
    func testMetaTestReportsTheRatesAtEachEvaluationStep() throws {
        let learner = try MLP(sizes: [6, 8, 3])
        let data = try gaussianBlobs(48, seed: 4)
        let opt = try optimiser("hidden=4 u_beta_init=0.5 xi=0.001", masked: true,
                                shapes: learner.parameterSpecs.map(\.shape))
        var rng = RNG(seed: 3)
        let session = OptimiserSession(try TrainedOptimiser(opt, meta: opt.initialMetaParameters(rng: &rng)))
        let result = try MetaTester.run({ session.fresh() }, learner: learner, train: data, test: data, learners: 2,
                                        steps: 6, batchSize: 16, evaluationSteps: [0, 3, 6], seed: 1)
        XCTAssertTrue(result.hasRates)
        XCTAssertEqual(result.rates.count, 2)
        for row in result.rates {
            XCTAssertEqual(row.count, 3)
            XCTAssertNil(row[0])
            for summary in row.dropFirst() {
                XCTAssertEqual(try XCTUnwrap(summary).threshold, 0.001)
            }
        }
        XCTAssertGreaterThan(result.sparsity, 0, "the draw must mask some weights")
        XCTAssertLessThan(result.sparsity, 1, "the draw must keep some weights")
        let masked = result.rates.map { $0.last!!.maskedFraction }.reduce(0, +) / 2
        XCTAssertEqual(masked, result.sparsity, accuracy: 1e-12)
        let json = try JSONValue.parse(Array(result.json().utf8))
        guard case .object(let fields) = json, case .array(let rows)? = fields.first(where: { $0.key == "rates" })?.value else {
            return XCTFail("no rates array in \(result.json().prefix(200))")
        }
        XCTAssertEqual(rows.count, 2)
        guard case .array(let first) = rows[0], case .object(let last)? = first.last else { return XCTFail("\(rows[0])") }
        XCTAssertEqual(first.first, .null)
        guard case .number(let share)? = last.first(where: { $0.key == "masked_fraction" })?.value else {
            return XCTFail("\(last)")
        }
        XCTAssertEqual(share, try XCTUnwrap(result.rates[0][2]).maskedFraction, accuracy: 1e-12)

        // A caller generic over Optimiser alone reaches the plain initialiser: the rates must
        // survive it.
        func plainSession<O: Optimiser>(_ optimiser: O) -> OptimiserSession { OptimiserSession(optimiser) }
        let plain = plainSession(try TrainedOptimiser(opt, meta: opt.initialMetaParameters(rng: &rng)))
        XCTAssertNil(plain.rateSummary, "no rates before a step")
        var parameters = learner.initialParameters(rng: &rng)
        try plain.step(&parameters, gradients: parameters.map { Tensor.ones($0.shape) })
        XCTAssertEqual(try XCTUnwrap(plain.rateSummary).threshold, 0.001)

        let adam = try MetaTester.run({ OptimiserSession(try Adam()) }, learner: learner, train: data,
                                      test: data, learners: 1, steps: 3, evaluationSteps: [3], seed: 1)
        XCTAssertFalse(adam.hasRates)
        XCTAssertTrue(adam.json().contains(#""rates":null"#))
    }
}

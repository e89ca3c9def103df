@testable import L2L
import L2LTestSupport
import XCTest

/// One meta-iteration in two halves, as processes split it (`MetaTrainer+Iteration.swift`):
/// any split of the members over any number of processes gives φ, history and events bit
/// for bit as one `run`; bad calls are refused without changing anything.
final class MetaIterationTests: XCTestCase {
    /// A blobs task (`gaussianBlobs`) whose learner's outputs turn NaN on the batches whose
    /// first input falls in a 5 % band: a property of the data, so every process (and the
    /// single run) loses the same members at the same unrolls.
    func task(poisoned: Bool = false) throws -> MetaTask {
        let mlp = try MLP(sizes: [6, 8, 3])
        let learner: any Learner = poisoned ? NaNOnSomeBatches(base: mlp) : mlp
        return try MetaTask.checked(learner: learner, data: try gaussianBlobs(48, seed: 4))
    }

    struct NaNOnSomeBatches: Learner {
        let base: MLP
        var parameterSpecs: [ParameterSpec] { base.parameterSpecs }
        var inputFeatures: Int { base.inputFeatures }
        var classes: Int { base.classes }
        func initialParameters(rng: inout RNG) -> [Tensor] { base.initialParameters(rng: &rng) }
        func forward(_ parameters: [Tensor], _ inputs: Tensor, buffers: [Tensor], training: Bool) -> (output: Tensor, buffers: [Tensor]) {
            let out = base.forward(parameters, inputs)
            return (Int(abs(inputs.scalars[0]) * 10_000) % 20 == 0 ? out * Float.nan : out, buffers)
        }
    }

    func trainer(_ options: String, poisoned: Bool = false) throws -> MetaTrainer {
        var config = try Config("trials=2 steps=10 unroll=5 batch=8 meta_lr=0.01 seed=7 " + options, context: "test")
        let made = try MetaTrainingConfig(config: &config)
        try config.finish()
        let t = try task(poisoned: poisoned)
        let opt = try Factory.learnedOptimiser(kind: "dmsgd", options: "hidden=4", parameterShapes: t.parameterShapes)
        return try MetaTrainer(opt, tasks: [t], config: made)
    }

    /// `n` trainers in lockstep, trainer r estimating members r, r+n, …, the rows exchanged
    /// in memory as MPI would exchange them.
    func splitRun(_ make: () throws -> MetaTrainer, processes n: Int) throws -> [MetaTrainer] {
        let trainers = try (0..<n).map { _ in try make() }
        let b = trainers[0].config.metaBatch
        while !trainers[0].isFinished {
            var rows = [MemberEstimate?](repeating: nil, count: b)
            for (r, t) in trainers.enumerated() {
                for e in try t.estimate(members: Array(stride(from: r, to: b, by: n))) { rows[e.member] = e }
            }
            let all = rows.map { $0! }
            let lost = all.contains { $0.summary.lost }
            for t in trainers {
                try t.finishIteration(members: all.map(\.summary), gradient: lost ? nil : try t.combine(all.map { $0.gradient! }))
            }
        }
        return trainers
    }

    func testAnySplitOverProcessesMatchesOneRunBitForBit() throws {
        for (options, poisoned) in [("meta_batch=4 warmup=4", false), ("meta_batch=3 estimator=es es_pairs=2", false),
                                    ("meta_batch=4 estimator=pes es_pairs=2", false), ("meta_batch=4", true)] {
            let one = try trainer(options, poisoned: poisoned)
            try one.run()
            if poisoned {
                XCTAssertTrue(one.events.contains { $0.kind == .nonFiniteLoss }, "the poisoned task loses members")
                XCTAssertGreaterThan(one.metaSteps, 0)
            }
            for n in [1, 2, 3] {
                for t in try splitRun({ try trainer(options, poisoned: poisoned) }, processes: n) {
                    XCTAssertEqual(t.meta.flatMap(\.scalars).map(\.bitPattern), one.meta.flatMap(\.scalars).map(\.bitPattern), "\(options), \(n) processes")
                    XCTAssertEqual(t.history.map(\.bitPattern), one.history.map(\.bitPattern), "\(options), \(n) processes")
                    XCTAssertEqual(t.events, one.events, "\(options), \(n) processes")
                    XCTAssertEqual(t.trialsDone, 2)
                }
            }
        }
    }

    func testBadCallsAreRefusedAndChangeNothing() throws {
        let t = try trainer("meta_batch=3")
        let phi = t.meta
        assertThrows(.invalidArgument) { try t.finishIteration(members: [], gradient: nil) }
        assertThrows(.invalidArgument) { _ = try t.estimate(members: [0, 0]) }
        assertThrows(.invalidArgument) { _ = try t.estimate(members: [3]) }
        assertThrows(.shapeMismatch) { _ = try t.combine([phi, phi]) }
        assertThrows(.shapeMismatch) { try t.setMeta(Array(phi.dropLast())) }
        assertThrows(.nonFinite) { try t.setMeta(phi.map { $0 * Float.nan }) }

        let mine = try t.estimate(members: [0, 2])
        XCTAssertTrue(t.isIterationOpen)
        assertThrows(.invalidArgument) { _ = try t.estimate(members: [2]) }
        assertThrows(.invalidArgument) { try t.setMeta(phi) }
        let other = try trainer("meta_batch=3").estimate(members: [1])
        let all = [mine[0], other[0], mine[1]]
        let summaries = all.map(\.summary)
        let combined = try t.combine(all.map { $0.gradient! })
        let g = all.map { $0.gradient!.flatMap(\.scalars) }
        // (the tensor division multiplies by the reciprocal)
        let byHand = (0..<g[0].count).map { i in (g[0][i] + g[1][i] + g[2][i]) * (1 / Float(3)) }
        XCTAssertEqual(combined.flatMap(\.scalars).map(\.bitPattern), byHand.map(\.bitPattern), "the sum in member order, over B")
        assertThrows(.shapeMismatch) { try t.finishIteration(members: Array(summaries.prefix(2)), gradient: combined) }
        assertThrows(.shapeMismatch) { try t.finishIteration(members: summaries, gradient: nil) }
        var lying = summaries
        lying[1].metaLoss = .nan
        assertThrows(.nonFinite) { try t.finishIteration(members: lying, gradient: combined) }
        XCTAssertEqual(t.history, [], "nothing recorded by the refused calls")

        // A NaN combined gradient is skipped and reported, as in one process.
        try t.finishIteration(members: summaries, gradient: combined.map { $0 * Float.nan })
        XCTAssertEqual(t.meta.flatMap(\.scalars), phi.flatMap(\.scalars))
        XCTAssertEqual(t.events.map(\.kind), [.nonFiniteGradient])
        XCTAssertFalse(t.isIterationOpen)
        // Member 1's learner is another process's now; it stays so for the trial.
        assertThrows(.invalidArgument) { _ = try t.estimate(members: [1]) }
    }
}

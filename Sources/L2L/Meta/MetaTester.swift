import Glibc

/// Results of training fresh learners with one optimiser (a meta-test).
public struct MetaTestResult: Sendable {
    /// Training loss of every step, one row per learner: `[learners][steps]`.
    public var trainingLoss: [[Float]]
    /// The steps at which the test set was scored (after that many updates).
    public var evaluationSteps: [Int]
    /// Test loss and accuracy at `evaluationSteps`, one row per learner.
    public var testLoss: [[Float]], testAccuracy: [[Float]]
    /// Parameters exactly zero at the end, per parameter tensor, averaged over learners,
    /// and the parameter count of each tensor.
    public var zeroWeights: [Double], tensorSizes: [Int], tensorNames: [String]
    /// Mean wall time of one learner step (gradient and update), seconds.
    public var secondsPerStep: Double
    /// The distribution of DMSGD's or M²SGD's rates β_t at `evaluationSteps`, one row per
    /// learner (``OptimiserSession/rateSummary``); `nil` before any step has succeeded and for
    /// every other optimiser.
    public var rates: [[RateSummary?]] = []

    /// Whether the run recorded rates β_t: a trained DMSGD or M²SGD, evaluated after a step.
    public var hasRates: Bool { rates.contains { $0.contains { $0 != nil } } }

    /// Fraction of all parameters that ended at zero (mean over learners).
    public var sparsity: Double {
        zeroWeights.reduce(0, +) / Double(max(tensorSizes.reduce(0, +), 1))
    }

    /// Mean and standard deviation over learners of the final test accuracy.
    public var finalAccuracy: (mean: Double, std: Double) { meanAndStd(testAccuracy.compactMap(\.last)) }

    /// Mean training-loss curve over learners.
    public var meanTrainingLoss: [Float] {
        guard let n = trainingLoss.first?.count else { return [] }
        return (0..<n).map { t in trainingLoss.reduce(Float(0)) { $0 + $1[t] } / Float(trainingLoss.count) }
    }

    /// JSON with every field (curves as arrays of numbers; non-finite values as null).
    public func json() -> String {
        func num(_ v: Double) -> JSONValue { v.isFinite ? .number(v) : .null }
        func nums<T: BinaryFloatingPoint>(_ a: [T]) -> JSONValue { .array(a.map { num(Double($0)) }) }
        func rate(_ summary: RateSummary?) -> JSONValue {
            guard let summary else { return .null }
            return .object([("quantiles", nums(summary.quantiles)), ("masked_fraction", num(summary.maskedFraction)),
                            ("threshold", num(Double(summary.threshold))), ("saturated_fraction", num(summary.saturatedFraction))])
        }
        let object: [(key: String, value: JSONValue)] = [
            ("training_loss", .array(trainingLoss.map { nums($0) })),
            ("evaluation_steps", .array(evaluationSteps.map { .integer($0) })),
            ("test_loss", .array(testLoss.map { nums($0) })),
            ("test_accuracy", .array(testAccuracy.map { nums($0) })),
            ("zero_weights", nums(zeroWeights)),
            ("tensor_sizes", .array(tensorSizes.map { .integer($0) })),
            ("tensor_names", .array(tensorNames.map { .string($0) })),
            ("sparsity", num(sparsity)),
            ("seconds_per_step", num(secondsPerStep)),
            ("rates", hasRates ? .array(rates.map { .array($0.map(rate)) }) : .null),
        ]
        return String(decoding: JSONValue.object(object).serialized(), as: UTF8.self)
    }

    /// CSV: `learner,step,train_loss,test_loss,test_accuracy` (test columns empty between evaluations).
    public func csv() -> String {
        var out = "learner,step,train_loss,test_loss,test_accuracy\n"
        for (k, curve) in trainingLoss.enumerated() {
            for (t, loss) in curve.enumerated() {
                let step = t + 1
                if let e = evaluationSteps.firstIndex(of: step) {
                    out += "\(k),\(step),\(loss),\(testLoss[k][e]),\(testAccuracy[k][e])\n"
                } else {
                    out += "\(k),\(step),\(loss),,\n"
                }
            }
        }
        return out
    }
}

func meanAndStd(_ values: [Float]) -> (mean: Double, std: Double) {
    guard !values.isEmpty else { return (.nan, .nan) }
    let m = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    let v = values.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(values.count)
    return (m, v.squareRoot())
}

/// Meta-testing: trains `learners` fresh learners for `steps` steps with an optimiser
/// (hand-crafted, or a learned one through ``TrainedOptimiser``) and records their
/// training-loss curves, test scores at `evaluationSteps`, sparsity and step time. The
/// horizon is free: 10× or 100× the meta-training horizon is one argument.
public enum MetaTester {
    public static func run(_ makeOptimiser: () throws -> OptimiserSession, learner: some Learner,
                           train: Dataset, test: Dataset, learners: Int, steps: Int, batchSize: Int = 128,
                           evaluationSteps: [Int], seed: UInt64,
                           progress: ((_ learner: Int, _ step: Int) -> Bool)? = nil) throws -> MetaTestResult {
        guard learners >= 1, steps >= 1 else { throw L2LError.invalid("meta-test: learners and steps must be at least 1") }
        guard evaluationSteps.allSatisfy({ (0...steps).contains($0) }) else {
            throw L2LError.invalid("meta-test: evaluation steps \(evaluationSteps) must lie in 0...\(steps)")
        }
        try Training.checkCompatible(learner, train)
        try Training.checkCompatible(learner, test)
        var rng = RNG(seed: seed)
        let specs = learner.parameterSpecs
        var result = MetaTestResult(trainingLoss: [], evaluationSteps: Array(Set(evaluationSteps)).sorted(), testLoss: [], testAccuracy: [],
                                    zeroWeights: [Double](repeating: 0, count: specs.count), tensorSizes: specs.map(\.count),
                                    tensorNames: specs.map(\.name), secondsPerStep: 0)
        var totalSeconds = 0.0
        for k in 0..<learners {
            var state = learner.initialState(rng: &rng)
            var batches = try BatchIterator(train, batchSize: batchSize, seed: UInt64(rng.nextUInt32()))
            let optimiser = try makeOptimiser()
            var curve = [Float](), losses = [Float](), accuracies = [Float](), rates = [RateSummary?]()
            curve.reserveCapacity(steps)
            func evaluate() {
                let (l, a) = Training.evaluate(learner, state, on: test)
                losses.append(l)
                accuracies.append(a)
                rates.append(optimiser.rateSummary)
            }
            if result.evaluationSteps.first == 0 { evaluate() }
            for s in 1...steps {
                let t0 = monotonicSeconds()
                let (x, y) = batches.nextCycling()
                if optimiser.needsCurvature {
                    // A Hessian-free optimiser steps from a Gauss-Newton model of the batch.
                    let model = GaussNewton(learner: learner, state: state, inputs: x, targets: .labels(y))
                    curve.append(model.loss)
                    if model.loss.isFinite {
                        do {
                            try optimiser.step(&state.parameters, model: model)
                            state.buffers = model.buffers
                        } catch let e as L2LError where e.kind == .nonFinite {}
                    }
                } else {
                    let (loss, grads, buffers) = Training.lossAndGradients(learner, state, x, .labels(y))
                    curve.append(loss)
                    if loss.isFinite {
                        // A step that would leave non-finite parameters is refused; the learner
                        // then stays where it is and the curve shows the divergence.
                        do {
                            try optimiser.step(&state.parameters, gradients: grads, inputs: x)
                            state.buffers = buffers
                        } catch let e as L2LError where e.kind == .nonFinite {}
                    }
                }
                totalSeconds += monotonicSeconds() - t0
                if result.evaluationSteps.contains(s) { evaluate() }
                if let progress, !progress(k, s) {
                    throw L2LError(.cancelled, "meta-test: cancelled by the progress callback at learner \(k), step \(s)")
                }
            }
            result.trainingLoss.append(curve)
            result.testLoss.append(losses)
            result.testAccuracy.append(accuracies)
            result.rates.append(rates)
            for (i, p) in state.parameters.enumerated() {
                result.zeroWeights[i] += Double(p.scalars.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }) / Double(learners)
            }
        }
        result.secondsPerStep = totalSeconds / Double(learners * steps)
        return result
    }
}

/// Seconds on a monotonic clock.
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

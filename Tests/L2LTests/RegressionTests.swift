import L2L
import L2LTestSupport
import XCTest

/// Regression as a first-class citizen: real-valued targets, mean squared error, regression
/// data sets, and clear errors (never a trap) when labels and targets are mixed up.
final class RegressionTests: XCTestCase {
    /// A linear regressor y = x·W + b with known weights, and a batch of 4 examples.
    private func linearCase() throws -> (MLP, [Tensor], Tensor, Tensor) {
        let net = try MLP(sizes: [2, 1], objective: .meanSquaredError)
        let params = [Tensor(shape: [2, 1], scalars: [0.3, -0.7]), Tensor(shape: [1], scalars: [0.1])]
        let x = Tensor(shape: [4, 2], scalars: [1, 2, -1, 0.5, 3, -2, 0.25, 1])
        let y = Tensor(shape: [4, 1], scalars: [0.5, -1, 2, 0])
        return (net, params, x, y)
    }

    func testMeanSquaredErrorAndGradientMatchAHandComputation() throws {
        let (net, params, x, y) = try linearCase()
        let xs = x.scalars, ys = y.scalars
        var want = 0.0, gw = [0.0, 0.0], gb = 0.0
        for i in 0..<4 {
            let r = 0.3 * Double(xs[2 * i]) - 0.7 * Double(xs[2 * i + 1]) + 0.1 - Double(ys[i])
            want += r * r / 4
            gw[0] += 2 * r * Double(xs[2 * i]) / 4
            gw[1] += 2 * r * Double(xs[2 * i + 1]) / 4
            gb += 2 * r / 4
        }
        try net.validate(inputs: x, targets: .values(y))
        let (loss, grads, _) = Training.lossAndGradients(net, LearnerState(parameters: params), x, .values(y))
        XCTAssertEqual(Double(loss), want, accuracy: 1e-5)
        assertClose(grads[0].scalars, gw.map(Float.init))
        assertClose(grads[1].scalars, [Float(gb)])
    }

    func testTheMeanSquaredErrorOfADeepRegressorPassesAGradientCheck() throws {
        let net = try MLP(sizes: [1, 5, 5, 1], activation: .tanh, objective: .meanSquaredError)
        var rng = RNG(seed: 3)
        let params = net.initialParameters(rng: &rng)
        let x = randomTensor([6, 1], seed: 4), y = randomTensor([6, 1], seed: 5)
        checkGradients(params) { p in net.loss(outputs: net.forward(p, x), targets: .values(y)) }
    }

    func testLabelsForARegressorAndTargetsForAClassifierAreErrorsNotTraps() throws {
        let (net, _, x, y) = try linearCase()
        assertThrows(.invalidArgument, containing: "real-valued targets") { try net.validate(inputs: x, labels: [0, 0, 0, 0]) }
        let classifier = try MLP(sizes: [2, 3])
        assertThrows(.invalidArgument, containing: "integers (class labels)") {
            try classifier.validate(inputs: x, targets: .values(Tensor.zeros([4, 3])))
        }
        assertThrows(.shapeMismatch, containing: "targets of shape") { try net.validate(inputs: x, targets: .values(Tensor.zeros([4, 2]))) }
        assertThrows(.shapeMismatch, containing: "targets of shape") { try net.validate(inputs: x, targets: .values(Tensor.zeros([3, 1]))) }
        var bad = y
        bad.withUnsafeMutableBufferPointer { $0[1] = .nan }
        assertThrows(.nonFinite) { try net.validate(inputs: x, targets: .values(bad)) }
        let labelled = try Dataset(inputs: x, labels: [0, 0, 0, 0], classes: 1)
        let regression = try Dataset(inputs: x, values: y)
        assertThrows(.invalidArgument, containing: "integer labels") { try Training.checkCompatible(net, labelled, regression: true) }
        assertThrows(.invalidArgument, containing: "objective=mse") { try Training.checkCompatible(classifier, regression, regression: true) }
        assertThrows(.invalidArgument, containing: "not supported here") { try Training.checkCompatible(net, regression) }
        let wide = try MLP(sizes: [2, 2], objective: .meanSquaredError)
        assertThrows(.shapeMismatch, containing: "targets per example") { try Training.checkCompatible(wide, regression, regression: true) }
    }

    func testARegressionSetKeepsItsTargetsThroughBatchesSubsetsAndEvaluation() throws {
        let (net, params, x, y) = try linearCase()
        let d = try Dataset(inputs: x, values: y)
        XCTAssertTrue(d.isRegression)
        XCTAssertEqual(d.count, 4)
        XCTAssertEqual(d.classes, 1)
        let sub = try d.subset(indices: [3, 1])
        XCTAssertEqual(sub.values?.scalars, [y.scalars[3], y.scalars[1]])
        XCTAssertEqual(sub.inputs.scalars, Array(x.scalars[6..<8]) + Array(x.scalars[2..<4]))
        let (loss, accuracy) = Training.evaluate(net, LearnerState(parameters: params), on: d, batchSize: 3)
        let direct = Training.lossAndGradients(net, LearnerState(parameters: params), x, .values(y)).loss
        XCTAssertEqual(loss, direct, accuracy: 1e-6)
        XCTAssertTrue(accuracy.isNaN)
        assertThrows(.shapeMismatch) { try Dataset(inputs: x, values: Tensor.zeros([3, 1])) }
        var bad = y
        bad.withUnsafeMutableBufferPointer { $0[0] = .infinity }
        assertThrows(.nonFinite) { try Dataset(inputs: x, values: bad) }
    }

    func testTrainingARegressorOnARegressionSetLowersItsLoss() throws {
        let (net, params, x, y) = try linearCase()
        var state = LearnerState(parameters: params)
        var batches = try BatchIterator(try Dataset(inputs: x, values: y), batchSize: 4, seed: 0, shuffle: false)
        let losses = try Training.train(net, &state, optimiser: try Factory.optimiser(kind: "sgd", options: "lr=0.05"),
                                        batches: &batches, steps: 50)
        XCTAssertLessThan(losses[49], 0.5 * losses[0])
    }
}

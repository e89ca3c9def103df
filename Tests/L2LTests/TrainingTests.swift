import L2L
import L2LTestSupport
import XCTest

final class TrainingTests: XCTestCase {
    func testBatchesVisitEveryExampleOncePerEpochInASeededOrder() throws {
        let d = try Dataset(inputs: Tensor(shape: [10, 1], scalars: (0..<10).map(Float.init)),
                            labels: [Int32](repeating: 0, count: 10), classes: 1)
        func epoch(_ it: inout BatchIterator) -> [Float] {
            var seen = [Float]()
            while let (x, _) = it.next() { seen += x.scalars }
            return seen
        }
        var a = try BatchIterator(d, batchSize: 3, seed: 5), b = try BatchIterator(d, batchSize: 3, seed: 5)
        let first = epoch(&a)
        XCTAssertEqual(first.sorted(), (0..<10).map(Float.init))
        XCTAssertEqual(first, epoch(&b))
        XCTAssertNotEqual(first, epoch(&a), "a new epoch draws a new order")
        XCTAssertEqual(a.epoch, 2)
        var ordered = try BatchIterator(d, batchSize: 4, seed: 0, shuffle: false, dropLast: true)
        XCTAssertEqual(ordered.batchesPerEpoch, 2)
        XCTAssertEqual(epoch(&ordered), (0..<8).map(Float.init))
        XCTAssertEqual(try BatchIterator(d, batchSize: 25, seed: 0).batchSize, 10, "reduced to the data set")
        assertThrows(.invalidArgument) { try BatchIterator(d, batchSize: 0, seed: 0) }
        assertThrows(.invalidArgument) { try BatchIterator(d, batchSize: 11, seed: 0, dropLast: true) }
    }

    func testStandardizationUsesGivenStatistics() throws {
        let d = try Dataset(inputs: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), labels: [0, 1], classes: 2)
        let (mean, std) = d.statistics()
        XCTAssertEqual(mean, 2.5)
        XCTAssertEqual(std, Float(1.25).squareRoot(), accuracy: 1e-6)
        let s = try d.standardized(mean: mean, std: std)
        assertClose(s.inputs.scalars, [Float(1), 2, 3, 4].map { ($0 - 2.5) / Float(1.25).squareRoot() })
        XCTAssertEqual(d.inputs.scalars, [1, 2, 3, 4], "the original is unchanged")
        assertThrows(.invalidArgument) { try d.standardized(mean: 0, std: 0) }
        assertThrows(.shapeMismatch) { try Dataset(inputs: Tensor.zeros([2, 2]), labels: [0], classes: 2) }
        assertThrows(.invalidArgument) { try Dataset(inputs: Tensor.zeros([1, 2]), labels: [2], classes: 2) }
        assertThrows(.nonFinite) { try Dataset(inputs: Tensor(shape: [1, 1], scalars: [.nan]), labels: [0], classes: 1) }
    }

    func testTrainingLowersTheLossAndIsReproducible() throws {
        let train = try gaussianBlobs(600, seed: 1), test = try gaussianBlobs(300, seed: 2)
        let mlp = try MLP(sizes: [6, 16, 3])
        func run() throws -> ([Float], [Tensor]) {
            var rng = RNG(seed: 0)
            var state = mlp.initialState(rng: &rng)
            var batches = try BatchIterator(train, batchSize: 32, seed: 1)
            let losses = try Training.train(mlp, &state, optimiser: OptimiserSession(try SGD(learningRate: 0.1)),
                                            batches: &batches, steps: 200)
            return (losses, state.parameters)
        }
        let (losses, params) = try run()
        let before = losses.prefix(10).reduce(0, +) / 10, after = losses.suffix(10).reduce(0, +) / 10
        XCTAssertLessThan(after, 0.3 * before)
        XCTAssertGreaterThan(Training.evaluate(mlp, LearnerState(parameters: params), on: test).accuracy, 0.9)
        XCTAssertEqual(try run().1.flatMap(\.scalars), params.flatMap(\.scalars), "same seeds, same parameters")
    }

    func testProgressCanCancelAndDivergenceIsReported() throws {
        let train = try gaussianBlobs(64, seed: 3)
        let mlp = try MLP(sizes: [6, 4, 3])
        var rng = RNG(seed: 0)
        var state = mlp.initialState(rng: &rng)
        var batches = try BatchIterator(train, batchSize: 16, seed: 1)
        var calls = 0
        assertThrows(.cancelled, containing: "step 3") {
            try Training.train(mlp, &state, optimiser: OptimiserSession(try SGD(learningRate: 0.1)), batches: &batches,
                               steps: 10) { step, total, _ in calls += 1; XCTAssertEqual(total, 10); return step < 3 }
        }
        XCTAssertEqual(calls, 3)
        let kept = state.parameters.flatMap(\.scalars)
        assertThrows(.nonFinite, containing: "loss became") {
            try Training.train(mlp, &state, optimiser: OptimiserSession(try SGD(learningRate: 1e30)), batches: &batches, steps: 50)
        }
        XCTAssertTrue(state.parameters.allSatisfy(\.isFinite), "parameters from before the diverging step are kept")
        XCTAssertNotEqual(state.parameters.flatMap(\.scalars), kept)
    }
}

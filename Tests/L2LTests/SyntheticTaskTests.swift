import Glibc
import L2L
import L2LTestSupport
import XCTest

final class SyntheticTaskTests: XCTestCase {
    // MARK: Quadratics

    func testQuadraticSamplingIsSeededAndStandardNormal() throws {
        var a = RNG(seed: 11), b = RNG(seed: 11), c = RNG(seed: 12)
        let t1 = try QuadraticTask.sample(rng: &a), t2 = try QuadraticTask.sample(rng: &b), t3 = try QuadraticTask.sample(rng: &c)
        XCTAssertEqual(t1.w.shape, [10, 10])
        XCTAssertEqual(t1.y.shape, [10])
        XCTAssertEqual(t1.dimension, 10)
        XCTAssertEqual(t1.w.scalars, t2.w.scalars)
        XCTAssertEqual(t1.y.scalars, t2.y.scalars)
        XCTAssertNotEqual(t1.w.scalars, t3.w.scalars)
        let next = try QuadraticTask.sample(rng: &a)
        XCTAssertNotEqual(t1.y.scalars, next.y.scalars, "consecutive tasks differ")

        // 400 tasks: 44,000 values of W and y, mean ≈ 0 and variance ≈ 1 (±4.5 standard errors).
        var values = [Double]()
        var rng = RNG(seed: 13)
        for _ in 0..<400 {
            let t = try QuadraticTask.sample(rng: &rng)
            values += (t.w.scalars + t.y.scalars).map(Double.init)
        }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        XCTAssertEqual(mean, 0, accuracy: 4.5 / n.squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 4.5 * (2 / n).squareRoot())

        let u = try QuadraticTask.sample(dimension: 30, distribution: .uniform, rng: &rng)
        XCTAssertEqual(u.w.shape, [30, 30])
        XCTAssertTrue((u.w.scalars + u.y.scalars).allSatisfy { $0 >= 0 && $0 < 1 })

        assertThrows(.invalidArgument) { try QuadraticTask.sample(dimension: 0, rng: &rng) }
        assertThrows(.shapeMismatch) { try QuadraticTask(w: Tensor.zeros([2, 3]), y: Tensor.zeros([2])) }
        assertThrows(.nonFinite) { try QuadraticTask(w: Tensor(repeating: .nan, shape: [1, 1]), y: Tensor.zeros([1])) }
    }

    func testQuadraticLossAndGradientAgreeWithDoubleReference() throws {
        var rng = RNG(seed: 21)
        for d in [1, 3, 10] {
            let task = try QuadraticTask.sample(dimension: d, rng: &rng)
            let theta = Tensor.normal([d], rng: &rng).tracked()
            let loss = task.loss(theta)
            XCTAssertEqual(loss.shape, [])

            let w = task.w.scalars.map(Double.init), y = task.y.scalars.map(Double.init), th = theta.scalars.map(Double.init)
            let residual = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + w[i * d + $1] * th[$1] } - y[i] }
            let expectedLoss = residual.reduce(0.0) { $0 + $1 * $1 }
            XCTAssertEqual(Double(loss.scalar), expectedLoss, accuracy: 1e-5 * Swift.max(1, expectedLoss))

            // ∇f = 2 Wᵀ (Wθ − y).
            let expectedGradient = (0..<d).map { j in Float(2 * (0..<d).reduce(0.0) { $0 + w[$1 * d + j] * residual[$1] }) }
            let g = gradients(of: loss, wrt: [theta])[0]
            XCTAssertEqual(g.shape, [d])
            assertClose(g.scalars, expectedGradient, atol: 1e-4, rtol: 1e-4, "d = \(d)")
        }
        // Finite differences, first and second order (the Hessian is 2WᵀW).
        let task = try QuadraticTask.sample(dimension: 4, rng: &rng)
        checkGradients([Tensor.normal([4], std: 0.5, rng: &rng)]) { task.loss($0[0]) }
    }

    // MARK: Sine regression

    func testSineTasksAreSeededInRangeAndMatchTheFormula() throws {
        var a = RNG(seed: 31), b = RNG(seed: 31), c = RNG(seed: 32)
        XCTAssertEqual(SineTask.sample(rng: &a), SineTask.sample(rng: &b))
        XCTAssertEqual(try SineTask.sample(rng: &a).batch(k: 5, rng: &a).x.scalars,
                       try SineTask.sample(rng: &b).batch(k: 5, rng: &b).x.scalars)
        XCTAssertNotEqual(SineTask.sample(rng: &a), SineTask.sample(rng: &c))

        var rng = RNG(seed: 33)
        let tasks = (0..<4000).map { _ in SineTask.sample(rng: &rng) }
        let amplitudes = tasks.map(\.amplitude), phases = tasks.map(\.phase)
        XCTAssertTrue(amplitudes.allSatisfy { $0 >= 0.1 && $0 <= 5 })
        XCTAssertTrue(phases.allSatisfy { $0 >= 0 && $0 <= .pi })
        XCTAssertLessThan(amplitudes.min()!, 0.11)
        XCTAssertGreaterThan(amplitudes.max()!, 4.99)
        XCTAssertLessThan(phases.min()!, 0.01)
        XCTAssertGreaterThan(phases.max()!, 3.13)
        // Uniform: mean (0.1 + 5)/2 = 2.55 (sd of the mean 1.41/√4000 = 0.022), π/2 (0.014).
        XCTAssertEqual(amplitudes.reduce(0, +) / 4000, 2.55, accuracy: 0.1)
        XCTAssertEqual(phases.reduce(0, +) / 4000, .pi / 2, accuracy: 0.07)

        let task = SineTask(amplitude: 2.5, phase: 1.2)
        let (x, y) = try task.batch(k: 500, rng: &rng)
        XCTAssertEqual(x.shape, [500, 1])
        XCTAssertEqual(y.shape, [500, 1])
        XCTAssertTrue(x.scalars.allSatisfy { $0 >= -5 && $0 <= 5 })
        XCTAssertLessThan(x.scalars.min()!, -4.9)
        XCTAssertGreaterThan(x.scalars.max()!, 4.9)
        assertClose(y.scalars, x.scalars.map { Float(2.5 * Glibc.sin(Double($0) - 1.2)) }, atol: 1e-6, rtol: 1e-6)
        XCTAssertEqual(task(Float.pi / 2 + 1.2), 2.5, accuracy: 1e-6, "A·sin(x − φ), a phase, not a frequency")
        XCTAssertEqual(task(1.2), 0, accuracy: 1e-6)
    }

    func testSineSupportAndQuerySets() throws {
        var rng = RNG(seed: 41)
        let task = SineTask.sample(rng: &rng)
        let (support, query) = try task.supportAndQuery(k: 10, rng: &rng)
        XCTAssertEqual(support.x.shape, [10, 1])
        XCTAssertEqual(query.x.shape, [10, 1])
        XCTAssertNotEqual(support.x.scalars, query.x.scalars, "independent points")
        assertClose(query.y.scalars, query.x.scalars.map { task($0) })
        let (s5, q20) = try task.supportAndQuery(k: 5, queryCount: 20, rng: &rng)
        XCTAssertEqual(s5.y.shape, [5, 1])
        XCTAssertEqual(q20.y.shape, [20, 1])
        XCTAssertEqual(try task.batch(k: 0, rng: &rng).x.shape, [0, 1])
        assertThrows(.invalidArgument) { try task.batch(k: -1, rng: &rng) }
    }

    // MARK: The LSTM-learner paper's binary data sets

    func testBinaryXORDatasetsAreBalancedStandardisedAndSeeded() throws {
        let family = BinaryXORDatasets()
        XCTAssertEqual(family.dimension, 10)
        XCTAssertEqual(family.samples, 200)
        var rng = RNG(seed: 51)
        let sets = try family.sample(count: 30, rng: &rng)
        for d in sets {
            XCTAssertEqual(d.inputs.shape, [200, 10])
            XCTAssertEqual(d.classes, 2)
            XCTAssertEqual(d.exampleShape, [10])
            XCTAssertTrue(d.labels.allSatisfy { $0 == 0 || $0 == 1 })
            let ones = d.labels.filter { $0 == 1 }.count
            XCTAssertGreaterThanOrEqual(Float(min(ones, 200 - ones)) / 200, 0.15)
            let (mean, std) = d.featureStatistics()
            assertClose(mean, [Float](repeating: 0, count: 10), atol: 1e-5, rtol: 0, "per-feature mean")
            assertClose(std, [Float](repeating: 1, count: 10), atol: 1e-4, rtol: 0, "per-feature std")
        }
        XCTAssertNotEqual(sets[0].inputs.scalars, sets[1].inputs.scalars)

        var again = RNG(seed: 51), other = RNG(seed: 52)
        let first = try family.sample(rng: &again)
        XCTAssertEqual(first.inputs.scalars, sets[0].inputs.scalars)
        XCTAssertEqual(first.labels, sets[0].labels)
        XCTAssertNotEqual(try family.sample(rng: &other).inputs.scalars, first.inputs.scalars)

        // The inputs are correlated (a random covariance A Aᵀ, not the identity).
        let x = first.inputs.scalars
        var largest: Float = 0
        for j in 0..<10 {
            for k in 0..<j {
                let r = (0..<200).reduce(Float(0)) { $0 + x[$1 * 10 + j] * x[$1 * 10 + k] } / 200
                largest = max(largest, abs(r))
            }
        }
        XCTAssertGreaterThan(largest, 0.3)
    }

    func testBinaryXORDatasetsRejectUnbalancedDrawsAndBadSettings() throws {
        var rng = RNG(seed: 61)
        // Half-and-half is demanded: every accepted set has exactly 10 of each class.
        let strict = BinaryXORDatasets(dimension: 3, samples: 20, minimumBalance: 0.5)
        for d in try strict.sample(count: 5, rng: &rng) { XCTAssertEqual(d.labels.filter { $0 == 1 }.count, 10) }
        // Three samples can never be balanced to 0.5.
        assertThrows(.invalidArgument, containing: "balance") {
            try BinaryXORDatasets(samples: 3, minimumBalance: 0.5, maximumAttempts: 50).sample(rng: &rng)
        }
        assertThrows(.invalidArgument) { try BinaryXORDatasets(dimension: 0).sample(rng: &rng) }
        assertThrows(.invalidArgument) { try BinaryXORDatasets(samples: 1).sample(rng: &rng) }
        assertThrows(.invalidArgument) { try BinaryXORDatasets(noiseScale: -1).sample(rng: &rng) }
        assertThrows(.invalidArgument) { try BinaryXORDatasets(minimumBalance: 0.6).sample(rng: &rng) }
        // Off-centre thresholds make unbalanced draws common (about 6 % for spread 1), and
        // the filter removes them.
        func balance(_ d: Dataset) -> Float {
            let ones = d.labels.filter { $0 == 1 }.count
            return Float(min(ones, d.count - ones)) / Float(d.count)
        }
        let unfiltered = try BinaryXORDatasets(minimumBalance: 0, thresholdSpread: 1).sample(count: 300, rng: &rng)
        XCTAssertGreaterThan(unfiltered.filter { balance($0) < 0.15 }.count, 3)
        let filtered = try BinaryXORDatasets(thresholdSpread: 1).sample(count: 100, rng: &rng)
        XCTAssertTrue(filtered.allSatisfy { balance($0) >= 0.15 })
        assertThrows(.invalidArgument) { try BinaryXORDatasets(thresholdSpread: -1).sample(rng: &rng) }
        // Without noise and with λ = 0 the draw is still finite and standardised.
        let quiet = try BinaryXORDatasets(noiseScale: 0).sample(rng: &rng)
        XCTAssertTrue(quiet.inputs.isFinite)
    }
}

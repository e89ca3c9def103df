import L2L
import L2LTestSupport
import XCTest

/// The LSTM learner (Bosc 2016): the cell-state MLP against a hand-written MLP, the flag,
/// meta-gradients against finite differences, meta-training on fresh data sets, files and
/// bad input.
final class LSTMLearnerTests: XCTestCase {
    /// A small learner: d inputs, `hidden` model units, gate layers of 4 and 3.
    private func learner(_ options: String = "", dimension: Int = 3, hidden: Int = 5, seed: Int = 3) throws -> LSTMLearner {
        try LSTMLearner(config: LSTMLearnerConfig(options: "dimension=\(dimension); hidden=\(hidden); gate_sizes=4,3; seed=\(seed); \(options)"))
    }

    /// `n` samples of the XOR family with `d` features, the first `train` the training part.
    private func sequence(_ n: Int, train: Int, dimension d: Int = 3, seed: UInt64 = 5) throws -> LabelledSequence {
        var rng = RNG(seed: seed)
        return try LabelledSequence(BinaryXORDatasets(dimension: d, samples: n).sample(rng: &rng), trainCount: train)
    }

    /// P(y = 1) of the d-h-1 ReLU/sigmoid MLP whose weights are flattened in `theta`
    /// (W₁ `[d, h]` row-major, b₁, W₂ `[h]`, b₂), written out in Double.
    private func referenceMLP(_ theta: [Float], _ x: [Float], hidden h: Int) -> Float {
        let d = x.count
        var out = Double(theta[d * h + 2 * h])
        for j in 0..<h {
            var a = Double(theta[d * h + j])
            for i in 0..<d { a += Double(x[i]) * Double(theta[i * h + j]) }
            out += max(a, 0) * Double(theta[d * h + h + j])
        }
        return Float(1 / (1 + exp(-out)))
    }

    func testPredictionsAreTheCellStateMLPBeforeEachUpdate() throws {
        let m = try learner()
        let s = try sequence(12, train: 8)
        let run = try m.run(s, keepWeights: true)
        let weights = try XCTUnwrap(run.weights)
        XCTAssertEqual(weights.shape, [13, m.parameterCount])
        XCTAssertEqual(m.parameterCount, 3 * 5 + 5 + 5 + 1)
        XCTAssertEqual(weights.slice(axis: 0, 0..<1).scalars, m.meta[0].scalars, "θ₀ is the prior")
        for t in 0..<s.count {
            // Step t predicts with θₜ₋₁, the weights before its own update.
            let theta = weights.slice(axis: 0, t..<(t + 1)).scalars
            let x = s.inputs.slice(axis: 0, t..<(t + 1)).scalars
            XCTAssertEqual(run.predictions[t], referenceMLP(theta, x, hidden: 5), accuracy: 1e-5, "step \(t)")
        }
        // The prior as the model's parameter tensors is what an ordinary MLP takes.
        XCTAssertEqual(m.prior.map(\.shape), [[3, 5], [5], [5, 1], [1]])
        let ordinary = try MLP(sizes: [3, 5, 1], objective: .sigmoidBinaryCrossEntropy).forward(m.prior, s.inputs).sigmoid()
        let test = try m.run(LabelledSequence(inputs: s.inputs, labels: s.targets.scalars, trainCount: 0))
        assertClose(test.predictions, ordinary.scalars, atol: 1e-6, "no training part: the prior's predictions")
    }

    func testTheFlagStopsUpdatesAndTestTargetsAreNeverSeen() throws {
        let s = try sequence(10, train: 6)
        for mode in ["off", "learned"] {
            let m = try learner("test_updates=\(mode)")
            let w = try XCTUnwrap(m.run(s, keepWeights: true).weights)
            let rows = (0...10).map { w.slice(axis: 0, $0..<($0 + 1)).scalars }
            for t in 1...6 { XCTAssertNotEqual(rows[t], rows[t - 1], "\(mode): step \(t) of the training part updates") }
            if mode == "off" {
                for t in 7...10 { XCTAssertEqual(rows[t], rows[6], "the flag stops updates at test step \(t)") }
            } else {
                XCTAssertNotEqual(rows[10], rows[6], "with test_updates=learned the learner may update on the test part")
            }
            // Flipping every test label changes no prediction and no weight.
            var labels = s.targets.scalars
            for t in 6..<10 { labels[t] = 1 - labels[t] }
            let flipped = try m.run(LabelledSequence(inputs: s.inputs, labels: labels, trainCount: 6), keepWeights: true)
            XCTAssertEqual(flipped.weights?.scalars, w.scalars, "\(mode): test targets leaked into the weights")
        }
    }

    func testMetaGradientEqualsFiniteDifferencesThroughASequence() throws {
        // Both modes: with `learned` the gate network also runs on the test steps.
        for mode in ["off", "learned"] {
            let m = try learner("test_updates=\(mode); forget_bias=1; input_bias=0", dimension: 2, hidden: 3)
            let s = try sequence(5, train: 3, dimension: 2)
            let (loss, analytic) = try m.metaGradient(s)
            XCTAssertEqual(loss, m.metaLoss(m.meta, s).scalar, accuracy: 1e-6)
            var worst: Float = 0
            for (k, phi) in m.meta.enumerated() {
                for i in 0..<phi.count {
                    func value(_ delta: Float) -> Double {
                        var p = m.meta.map { Tensor(shape: $0.shape, scalars: $0.scalars) }
                        p[k].withUnsafeMutableBufferPointer { $0[i] += delta }
                        return Double(m.metaLoss(p, s).scalar)
                    }
                    let numeric = Float((value(1e-3) - value(-1e-3)) / 2e-3)
                    let a = analytic[k].scalars[i]
                    XCTAssertEqual(a, numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(mode): ∂/∂\(k)[\(i)]")
                    worst = max(worst, abs(a))
                }
            }
            XCTAssertGreaterThan(worst, 1e-3, "\(mode): the gradient is not trivially zero")
        }
    }

    func testMetaTrainingLowersTheTestLossOnFreshDataSets() throws {
        let m = try learner("samples=40; meta_lr=0.01", dimension: 2, hidden: 4)
        let fresh = BinaryXORDatasets(dimension: 2, samples: 60, noiseScale: 0.5)
        let before = LossSummary(try m.evaluate(fresh, count: 40, seed: 77)).mean
        try m.fit(iterations: 300)
        let after = LossSummary(try m.evaluate(fresh, count: 40, seed: 77)).mean
        XCTAssertLessThan(after, before - 0.03, "test-part loss \(before) → \(after)")
        XCTAssertEqual(m.iterations, 300)
        XCTAssertTrue(m.events.isEmpty, "\(m.events)")
    }

    func testTheSameSeedGivesTheSameNumbers() throws {
        let a = try learner("samples=20"), b = try learner("samples=20")
        try a.fit(iterations: 3)
        try b.fit(iterations: 3)
        XCTAssertEqual(a.history, b.history)
        XCTAssertEqual(a.meta.map(\.scalars), b.meta.map(\.scalars))
        XCTAssertEqual(try a.evaluate(count: 2, seed: 4), try b.evaluate(count: 2, seed: 4))
        let c = try learner("samples=20", seed: 4)
        try c.fit(iterations: 3)
        XCTAssertNotEqual(c.history, a.history)
        assertThrows(.cancelled) { try a.fit(iterations: 5) { i, _, _ in i < 2 } }
        XCTAssertEqual(a.iterations, 5)
    }

    func testAFileRoundTripsBitExactAndRejectsAlteredTruncatedOrForeignFiles() throws {
        let m = try learner("test_updates=learned; samples=20")
        try m.fit(iterations: 2)
        let dir = temporaryDirectory()
        let path = dir + "/learner.safetensors"
        try m.save(to: path)
        let back = try LSTMLearner.load(from: path)
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.meta.map(\.scalars), m.meta.map(\.scalars))
        let s = try sequence(9, train: 5)
        XCTAssertEqual(try back.run(s).predictions, try m.run(s).predictions)

        let bytes = try SafetensorsFile(contentsOf: path).serialized()
        var altered = bytes
        altered[altered.count - 3] ^= 0x40
        writeFile(dir + "/altered.safetensors", altered)
        assertThrows(.format, containing: "checksum") { try LSTMLearner.load(from: dir + "/altered.safetensors") }
        writeFile(dir + "/truncated.safetensors", Array(bytes.prefix(bytes.count - 10)))
        assertThrows(.format) { try LSTMLearner.load(from: dir + "/truncated.safetensors") }
        let meta = try FewShotLearner(learner: try MLP(sizes: [1, 4, 1], objective: .meanSquaredError), config: FewShotConfig())
        try meta.save(to: dir + "/fewshot.safetensors")
        assertThrows(.format, containing: "not an LSTM learner") { try LSTMLearner.load(from: dir + "/fewshot.safetensors") }
        assertThrows(.io) { try LSTMLearner.load(from: dir + "/missing.safetensors") }
    }

    func testBadInputsAreErrors() throws {
        let m = try learner()
        let x = Tensor(shape: [4, 3], scalars: (0..<12).map(Float.init))
        assertThrows(.shapeMismatch) { try m.run(LabelledSequence(inputs: Tensor(shape: [4, 2], scalars: Array(repeating: 0, count: 8)),
                                                                  labels: [0, 1, 0, 1], trainCount: 2)) }
        assertThrows(.shapeMismatch) { try LabelledSequence(inputs: x, labels: [0, 1], trainCount: 1) }
        assertThrows(.shapeMismatch) { try LabelledSequence(inputs: Tensor.zeros([12]), labels: [0], trainCount: 0) }
        var nan = x.scalars
        nan[5] = .nan
        assertThrows(.nonFinite) { try LabelledSequence(inputs: Tensor(shape: [4, 3], scalars: nan), labels: [0, 1, 0, 1], trainCount: 2) }
        assertThrows(.invalidArgument, containing: "0 or 1") { try LabelledSequence(inputs: x, labels: [0, 2, 0, 1], trainCount: 2) }
        assertThrows(.invalidArgument) { try LabelledSequence(inputs: x, labels: [0, 1, 0, 1], trainCount: 5) }
        assertThrows(.invalidArgument) { try m.evaluate(count: 0, seed: 1) }
        assertThrows(.invalidArgument) { try m.evaluate(BinaryXORDatasets(dimension: 4), count: 1, seed: 1) }
        assertThrows(.invalidArgument) { try m.fit(iterations: -1) }
        for bad in ["gate_sizes=0", "gate_sizes=", "train_min=0.9; train_max=0.1", "hidden=0", "test_updates=maybe",
                    "meta_lr=nan", "dimension=0", "unknown=1"] {
            assertThrows(.invalidArgument) { try LSTMLearnerConfig(options: bad) }
        }
        XCTAssertEqual(try LSTMLearnerConfig(options: LSTMLearnerConfig().options), LSTMLearnerConfig())
    }
}

import Glibc
@testable import L2L
import L2LTestSupport
import XCTest

/// The learned optimisers' steps against Float64 references written here, and the
/// meta-gradient of one unroll against finite differences in φ.
final class LearnedOptimiserTests: XCTestCase {
    /// Check values of the preprocessing for p = 10. DeepMind's code's 1e-3 → −0.69068 comes
    /// from its ln(|g| + 1e-6); the paper's formula (ours) gives ln(1e-3)/10 = −0.69078.
    func testPreprocessingCheckValues() {
        let g = Tensor(shape: [6, 1], scalars: [0, 1e-5, -3e-5, 1e-3, -0.5, 2])
        let f = GradientPreprocessing.logAndSign(g).scalars
        let expected: [(Float, Float)] = [(-1, 0), (-1, 0.22026), (-1, -0.66079), (-0.69078, 1), (-0.06931, -1), (0.06931, 1)]
        for (i, e) in expected.enumerated() {
            XCTAssertEqual(f[2 * i], e.0, accuracy: 1e-4, "log feature of \(g.scalars[i])")
            XCTAssertEqual(f[2 * i + 1], e.1, accuracy: 1e-4, "sign feature of \(g.scalars[i])")
        }
        // Exactly at the threshold e^-p the log branch applies.
        let edge = GradientPreprocessing.logAndSign(Tensor(shape: [1, 1], scalars: [expf(-10)])).scalars
        XCTAssertEqual(edge[0], -1, accuracy: 1e-5)
        XCTAssertEqual(edge[1], 1)
    }

    func testMetaSGDStep() throws {
        var c = try Config("lr=0.5", context: "t")
        let opt = try MetaSGD(shapes: [[2], [1]], config: &c)
        var rng = RNG(seed: 0)
        var meta = opt.initialMetaParameters(rng: &rng)
        XCTAssertEqual(meta.map(\.scalars), [[0.5, 0.5], [0.5]])
        meta[0] = Tensor(shape: [2], scalars: [0.1, -0.2])
        let (p, _) = opt.step(meta: meta, parameters: [Tensor(shape: [2], scalars: [1, 2]), Tensor(shape: [1], scalars: [3])],
                              gradients: [Tensor(shape: [2], scalars: [10, 5]), Tensor(shape: [1], scalars: [-2])], state: [], phase: .metaTesting, inputs: nil)
        XCTAssertEqual(p[0].scalars, [0, 3])
        XCTAssertEqual(p[1].scalars, [4])
    }

    /// One LSTM layer of `h` units on preprocessed gradients, in Double.
    func referenceLSTM(x: [[Double]], w: [Double], u: [Double], b: [Double], h0: [[Double]], c0: [[Double]], hidden h: Int)
        -> (h: [[Double]], c: [[Double]])
    {
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Glibc.exp(-v)) }
        var hs = [[Double]](), cs = [[Double]]()
        for (r, xr) in x.enumerated() {
            var gates = b
            for k in 0..<(4 * h) {
                for j in 0..<xr.count { gates[k] += xr[j] * w[j * 4 * h + k] }
                for j in 0..<h { gates[k] += h0[r][j] * u[j * 4 * h + k] }
            }
            var c = [Double](), hh = [Double]()
            for j in 0..<h {
                let cj = sigmoid(gates[h + j]) * c0[r][j] + sigmoid(gates[j]) * Glibc.tanh(gates[2 * h + j])
                c.append(cj)
                hh.append(sigmoid(gates[3 * h + j]) * Glibc.tanh(cj))
            }
            hs.append(hh)
            cs.append(c)
        }
        return (hs, cs)
    }

    func preprocess(_ g: Double) -> [Double] {
        abs(g) >= Glibc.exp(-10) ? [Glibc.log(abs(g)) / 10, g > 0 ? 1 : (g < 0 ? -1 : 0)] : [-1, Glibc.exp(10) * g]
    }

    func testLSTMOptimiserStepsAgainstFloat64() throws {
        try checkLSTMOptimiserSteps(rmsDecay: 0)
    }

    /// With `rms_decay` the network reads pre(g / √v̂), v̂ Adam's bias-corrected running mean of g².
    func testLSTMOptimiserWithRMSDecayStepsAgainstFloat64() throws {
        try checkLSTMOptimiserSteps(rmsDecay: 0.9)
    }

    /// With `inputs=adam squash=1` the network reads RNNprop's g / (√v̂ + ε) and m̂ / (√v̂ + ε)
    /// (β₁ = 0.9, β₂ = 0.8 here, so that the two decays cannot be swapped unnoticed) and
    /// Δ = scale · tanh(out).
    func testLSTMOptimiserWithAdamInputsStepsAgainstFloat64() throws {
        try checkLSTMOptimiserSteps(rmsDecay: 0, adam: (0.9, 0.8))
    }

    func checkLSTMOptimiserSteps(rmsDecay beta: Double, adam: (Double, Double)? = nil) throws {
        let options = adam.map { "inputs=adam beta1=\($0.0) beta2=\($0.1) squash=1" } ?? "rms_decay=\(beta)"
        var c = try Config("layers=3 scale=0.5 head_init=0.5 " + options, context: "t")
        let opt = try LSTMOptimiser(config: &c)
        var rng = RNG(seed: 4)
        let meta = opt.initialMetaParameters(rng: &rng)
        XCTAssertEqual(opt.metaParameterSpecs.map(\.shape), [[2, 12], [3, 12], [12], [3, 1], [1]])
        var params = [Tensor(shape: [2], scalars: [0.3, -0.1]), Tensor(shape: [1], scalars: [2])]
        var state = opt.initialState(for: params)
        XCTAssertEqual(state.map(\.shape), [[3, 6]] + (beta > 0 ? [[3, 2]] : adam != nil ? [[3, 4]] : []))
        var h = [[Double]](repeating: [0, 0, 0], count: 3), cs = h
        var theta = params.flatMap(\.scalars).map(Double.init)
        var meanSquare = [Double](repeating: 0, count: 3), mean = meanSquare, t = 0.0
        let m = meta.map { $0.scalars.map(Double.init) }
        for grads in [[0.5, -2e-5, 3.0], [-0.01, 0.2, 0], [0.04, 1e-3, -6]] {
            let g = [Tensor(shape: [2], scalars: [Float(grads[0]), Float(grads[1])]), Tensor(shape: [1], scalars: [Float(grads[2])])]
            (params, state) = opt.step(meta: meta, parameters: params, gradients: g, state: state, phase: .metaTesting, inputs: nil)
            var features = grads.map(preprocess)
            t += 1
            if beta > 0 {
                meanSquare = zip(meanSquare, grads).map { beta * $0 + (1 - beta) * $1 * $1 }
                features = (0..<3).map { preprocess(grads[$0] / (meanSquare[$0] / (1 - Glibc.pow(beta, t)) + 1e-16).squareRoot()) }
                assertClose(state[1].scalars, zip(meanSquare, [Double](repeating: 1 - Glibc.pow(beta, t), count: 3)).flatMap { [Float($0), Float($1)] },
                            atol: 1e-7, rtol: 1e-5, "running means after step \(Int(t))")
            }
            if let (b1, b2) = adam {
                mean = zip(mean, grads).map { b1 * $0 + (1 - b1) * $1 }
                meanSquare = zip(meanSquare, grads).map { b2 * $0 + (1 - b2) * $1 * $1 }
                let (c1, c2) = (1 - Glibc.pow(b1, t), 1 - Glibc.pow(b2, t))
                features = (0..<3).map { r in
                    let rms = (meanSquare[r] / c2).squareRoot() + 1e-8
                    return [grads[r] / rms, mean[r] / c1 / rms]
                }
                assertClose(state[1].scalars, (0..<3).flatMap { r in [mean[r], meanSquare[r], c1, c2].map(Float.init) },
                            atol: 1e-7, rtol: 1e-5, "running means after step \(Int(t))")
            }
            (h, cs) = referenceLSTM(x: features, w: m[0], u: m[1], b: m[2], h0: h, c0: cs, hidden: 3)
            for r in 0..<3 {
                let out = (0..<3).reduce(m[4][0]) { $0 + h[r][$1] * m[3][$1] }
                theta[r] += 0.5 * (adam != nil ? Glibc.tanh(out) : out)
            }
            assertClose(params.flatMap(\.scalars), theta.map(Float.init), atol: 1e-6, rtol: 1e-5, "θ after a step")
        }
        XCTAssertGreaterThan(m[2][3], 0.4)   // forget-gate bias (index H..2H) starts near +1
    }

    /// `init_scales` sets each layer's U(±scale/√H) draw, and survives the options text.
    func testLSTMInitScalesOption() throws {
        var c = try Config("preset=mtl2l init_scales=0.5,0.01", context: "t")
        let opt = try LSTMOptimiser(config: &c)
        var rng = RNG(seed: 5)
        let meta = opt.initialMetaParameters(rng: &rng)
        // Layer 1 has one unit: its weights lie within ±0.01/√1 (gate biases −1/+1 added).
        XCTAssertLessThanOrEqual(meta[3].scalars.map(abs).max()!, 0.01)
        XCTAssertGreaterThan(meta[0].scalars.map(abs).max()!, 0.05)
        var again = try Config(opt.options, context: "t")
        XCTAssertEqual(try LSTMOptimiser(config: &again).network.initScales, [0.5, 0.01])
        for bad in ["init_scales=1", "init_scales=1,x", "init_scales=-1,1"] {
            assertThrows(.invalidArgument, containing: "init_scales") {
                var c = try Config("preset=mtl2l " + bad, context: "t")
                _ = try LSTMOptimiser(config: &c)
            }
        }
    }

    /// With `rms_decay` or `inputs=adam` the steps do not depend on the scale of the gradients
    /// (the reason for the options); without them they do. The options survive the options
    /// text; β ≥ 1, an unknown `inputs` and `rms_decay` with `inputs=adam` are refused.
    func testLSTMRMSDecayAndAdamInputsMakeStepsScaleInvariant() throws {
        for (options, adam) in [("", false), ("rms_decay=0.999", false), ("inputs=adam beta1=0.9 squash=1", true)] {
            var c = try Config("preset=mtl2l " + options, context: "t")
            let opt = try LSTMOptimiser(config: &c)
            var again = try Config(opt.options, context: "t")
            let rebuilt = try LSTMOptimiser(config: &again)
            XCTAssertEqual(rebuilt.options, opt.options)
            XCTAssertEqual(rebuilt.rmsDecay, options.contains("rms_decay") ? 0.999 : 0)
            XCTAssertEqual([rebuilt.inputs == .adam, rebuilt.squash], [adam, adam])
            XCTAssertEqual(rebuilt.beta1, adam ? 0.9 : 0.95)
            // Checkpoints compare the options text: an optimiser without the options keeps its old text.
            XCTAssertEqual(opt.options.contains("rms_decay"), options.contains("rms_decay"))
            XCTAssertEqual(opt.options.contains("inputs") || opt.options.contains("squash"), adam)
            var rng = RNG(seed: 8)
            let meta = opt.initialMetaParameters(rng: &rng)
            let gradients = (0..<4).map { _ in Tensor.normal([50], std: 0.01, rng: &rng) }
            func steps(scale: Float) -> [Float] {
                var params = [Tensor.zeros([50])]
                var state = opt.initialState(for: params)
                for g in gradients {
                    (params, state) = opt.step(meta: meta, parameters: params, gradients: [g * scale], state: state, phase: .metaTesting, inputs: nil)
                }
                return params[0].scalars
            }
            let (small, large) = (steps(scale: 1), steps(scale: 1000))
            let gap = zip(small, large).map { abs($0 - $1) }.max()!
            if !options.isEmpty {
                XCTAssertLessThan(gap, 1e-5, "\(options): θ after 4 steps should not depend on the gradient scale")
            } else {
                XCTAssertGreaterThan(gap, 1e-4, "without rms_decay the gradient scale should matter")
            }
        }
        for (bad, message) in [("rms_decay=1", "rms_decay"), ("inputs=adam beta2=1", "beta2"), ("inputs=rms", "unknown inputs"),
                               ("inputs=adam rms_decay=0.9", "rms_decay applies")] {
            assertThrows(.invalidArgument, containing: message) {
                var c = try Config(bad, context: "t")
                _ = try LSTMOptimiser(config: &c)
            }
        }
    }

    /// With `odd=1` every step is ½·(Δ(g) − Δ(−g)), Δ the same optimiser without the option
    /// run on the gradient sequence and on its negation (each with its own state): so Δ is odd
    /// in the gradients and a zero gradient moves nothing, for either inputs, with a head or
    /// without. Without the option the steps for −g are not the negated steps for g.
    func testLSTMOddOptionStepsAreHalfTheDifferenceOfMirroredRuns() throws {
        for options in ["layers=3 head_init=0.5", "preset=mtl2l inputs=adam beta1=0.9 squash=1"] {
            var c = try Config(options + " odd=1", context: "t")
            let opt = try LSTMOptimiser(config: &c)
            var plainConfig = try Config(options, context: "t")
            let plain = try LSTMOptimiser(config: &plainConfig)
            var again = try Config(opt.options, context: "t")
            XCTAssertTrue(try LSTMOptimiser(config: &again).odd)
            XCTAssertTrue(opt.options.hasSuffix(" odd=1"))
            XCTAssertFalse(plain.options.contains("odd"))
            var rng = RNG(seed: 9)
            let meta = opt.initialMetaParameters(rng: &rng)
            let gradients = (0..<4).map { _ in Tensor.normal([7], std: 0.1, rng: &rng) }
            func run(_ o: LSTMOptimiser, sign: Float) -> [[Float]] {
                var params = [Tensor.zeros([7])]
                var state = o.initialState(for: params)
                var steps = [[Float]]()
                for g in gradients {
                    let before = params[0].scalars
                    (params, state) = o.step(meta: meta, parameters: params, gradients: [g * sign], state: state,
                                             phase: .metaTesting, inputs: nil)
                    steps.append(zip(params[0].scalars, before).map { $0 - $1 })
                }
                return steps
            }
            XCTAssertEqual(opt.initialState(for: [Tensor.zeros([7])])[0].shape[0], 14, "mirror rows after the coordinates'")
            let (up, down) = (run(plain, sign: 1), run(plain, sign: -1))
            let asymmetry = zip(up, down).flatMap { zip($0, $1).map { abs($0 + $1) } }.max()!
            XCTAssertGreaterThan(asymmetry, 1e-4, "\(options): without odd the steps should not be odd in g")
            for (k, step) in run(opt, sign: 1).enumerated() {
                assertClose(step, zip(up[k], down[k]).map { ($0 - $1) / 2 }, atol: 1e-6, rtol: 1e-4, "\(options), step \(k)")
            }
            let negated = run(opt, sign: -1), straight = run(opt, sign: 1)
            XCTAssertEqual(negated.flatMap { $0 }, straight.flatMap { $0.map { -$0 } }, "\(options): Δ(−g) = −Δ(g) exactly")
            var params = [Tensor.zeros([7])]
            var state = opt.initialState(for: params)
            for _ in 0..<3 {
                (params, state) = opt.step(meta: meta, parameters: params, gradients: [Tensor.zeros([7])], state: state,
                                           phase: .metaTesting, inputs: nil)
            }
            XCTAssertEqual(params[0].scalars, [Float](repeating: 0, count: 7), "\(options): zero gradients, zero steps")
        }
    }

    func testDMSGDAndM2SGDStepsAgainstFloat64() throws {
        for masked in [false, true] {
            var c = try Config(masked ? "hidden=2 xi=0.002" : "hidden=2", context: "t")
            let opt = try DMSGD(shapes: [[3]], masked: masked, config: &c)
            var rng = RNG(seed: 6)
            var meta = opt.initialMetaParameters(rng: &rng)
            XCTAssertEqual(meta[3].scalars, [0, 0], "U_β starts at zero")
            meta[3] = Tensor(shape: [2, 1], scalars: [0.5, -0.8])
            meta[4] = Tensor(shape: [3], scalars: [0.01, 0.001, -0.02])
            let params = [Tensor(shape: [3], scalars: [1, -1, 0.5])]
            let grads: [Double] = [0.3, -1e-6, 2]
            let g = [Tensor(shape: [3], scalars: grads.map(Float.init))]
            let m = meta.map { $0.scalars.map(Double.init) }
            let (h, _) = referenceLSTM(x: grads.map(preprocess), w: m[0], u: m[1], b: m[2], h0: [[0, 0], [0, 0], [0, 0]],
                                       c0: [[0, 0], [0, 0], [0, 0]], hidden: 2)
            let beta = (0..<3).map { r in max(0, m[4][r] + Glibc.tanh(h[r][0] * 0.5 - h[r][1] * 0.8)) }
            for phase in [LearnedPhase.metaTraining, .metaTesting] {
                let (p, state) = opt.step(meta: meta, parameters: params, gradients: g, state: opt.initialState(for: params), phase: phase, inputs: nil)
                var expected = (0..<3).map { Double(params[0].scalars[$0]) - beta[$0] * grads[$0] }
                if masked && phase == .metaTesting { expected = expected.enumerated().map { beta[$0.offset] > 0.002 ? $0.element : 0 } }
                assertClose(p[0].scalars, expected.map(Float.init), atol: 1e-6, rtol: 1e-5, "masked \(masked), \(phase)")
                assertClose(opt.rates(in: state).scalars, beta.map(Float.init), atol: 1e-7, rtol: 1e-5, "β_t")
            }
        }
    }

    /// The meta-gradient of one unroll of a tiny MLP by autodiff, against central differences
    /// of the meta-loss in φ. Finite differences see every path from φ to the loss, including
    /// through the learner's gradients at later steps, so they match the exact (second-order)
    /// meta-gradient over 3 steps, and the first-order one over a 1-step unroll (where the
    /// only gradient is taken before φ acts); M²SGD's with `rate_penalty`, whose term reads
    /// β_t from the state. Float32 meta-loss of order 1, ε = 1e-3:
    /// rounding ≈ 1e-4, truncation ≈ 1e-6, so 2e-3 + 2 % separates noise from a wrong gradient.
    func testMetaGradientOfOneUnrollMatchesFiniteDifferences() throws {
        for (unroll, secondOrder) in [(3, true), (1, false)] {
            try checkUnrollMetaGradient(unroll: unroll, secondOrder: secondOrder)
        }
    }

    func checkUnrollMetaGradient(unroll: Int, secondOrder: Bool) throws {
        var rng = RNG(seed: 11)
        let x = Tensor.normal([12, 4], rng: &rng)
        let data = try Dataset(inputs: x, labels: (0..<12).map { Int32($0 % 3) }, classes: 3)
        let learner = try MLP(sizes: [4, 5, 3], activation: .tanh)
        let task = try MetaTask.checked(learner: learner, data: data)
        for (kind, options) in [("lstm", "layers=4 head_init=0.3 scale=0.5"), ("lstm", "layers=4 head_init=0.3 scale=0.5 rms_decay=0.9"),
                                ("meta_sgd", "lr=0.05"), ("dmsgd", "hidden=3 beta_static=0.05"),
                                ("m2sgd", "hidden=3 beta_static=0.05 xi=0 mask_during=both rate_penalty=5"),
                                ("lstm", "layers=4 head_init=0.3 scale=0.5 inputs=adam squash=1"),
                                ("lstm", "layers=4 head_init=0.3 scale=0.5 inputs=adam odd=1")] {
            let opt = try Factory.learnedOptimiser(kind: kind, options: options, parameterShapes: task.parameterShapes)
            var meta = opt.initialMetaParameters(rng: &rng)
            if kind == "dmsgd" || kind == "m2sgd" { meta[3] = Tensor.normal([3, 1], std: 0.5, rng: &rng) }   // exercise U_β
            let run = Unroll(optimiser: opt, steps: unroll, weights: [Float](repeating: 1, count: unroll), sameBatch: false,
                             secondOrder: secondOrder)
            func metaLoss(_ phi: [Tensor], tracked: Bool) throws -> (Tensor, [Tensor]) {
                var instanceRNG = RNG(seed: 3)
                let instance = try TaskInstance(task, batchSize: 6, rng: &instanceRNG)
                let p = tracked ? phi.map { $0.tracked() } : phi
                let start = LearnerRun(learner: instance.initial, optimiserState: opt.initialState(for: instance.initial.parameters))
                let u = run.run(p, from: start, on: instance, window: instance.window(unroll), range: 0..<unroll)
                return (u.metaLoss, p)
            }
            let (loss, tracked) = try metaLoss(meta, tracked: true)
            let analytic = gradients(of: loss, wrt: tracked)
            var pick = RNG(seed: 2)
            for _ in 0..<12 {
                let k = pick.nextInt(below: meta.count), i = pick.nextInt(below: meta[k].count)
                func value(_ d: Float) throws -> Double {
                    var m = meta
                    m[k].withUnsafeMutableBufferPointer { $0[i] += d }
                    return Double(try metaLoss(m, tracked: false).0.scalar)   // (the unroll needs the graph for the learner gradient)
                }
                let numeric = Float((try value(1e-3) - value(-1e-3)) / 2e-3)
                let a = analytic[k].scalars[i]
                XCTAssertEqual(a, numeric, accuracy: 2e-3 + 0.02 * abs(numeric), "\(kind), unroll \(unroll): ∂L/∂\(opt.metaParameterSpecs[k].name)[\(i)]")
            }
        }
    }
}

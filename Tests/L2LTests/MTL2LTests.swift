@testable import L2L
import L2LTestSupport
import XCTest

/// MTL2L: its size, its fixed orthogonal bases (and the two ablations of its synapses),
/// finite-difference checks of the SVD synapses, the recurrent states and the context update,
/// meta-training, and the batch it needs.
final class MTL2LTests: XCTestCase {
    func mtl2l(_ options: String) throws -> MTL2L {
        try Factory.learnedOptimiser(kind: "mtl2l", options: options, parameterShapes: []) as! MTL2L
    }

    /// φ, a learner `[rows, 3]`, its gradient, a batch `[4, 3]` and a state part-way through
    /// training (non-zero h, c and context vectors), all drawn from `seed` (an MTL2L of 3 inputs).
    func partWay(_ opt: MTL2L, seed: UInt64, rows: Int)
        -> (meta: [Tensor], params: [Tensor], grads: [Tensor], batch: Tensor, state: [Tensor]) {
        var rng = RNG(seed: seed)
        let meta = opt.initialMetaParameters(rng: &rng)
        let params = [Tensor.normal([rows, 3], rng: &rng)]
        let grads = [Tensor.normal([rows, 3], std: 0.3, rng: &rng)]
        let batch = Tensor.normal([4, 3], rng: &rng)
        var state = opt.initialState(for: params)
        for k in 0..<6 { state[k] = Tensor.normal(state[k].shape, std: 0.5, rng: &rng) }
        // With gradient_inputs=adam: running means of g and g² (positive) and bias corrections in (0, 1).
        if state.count > 7 { state[7] = Tensor.uniform(state[7].shape, low: 0.05, high: 0.9, rng: &rng) * Tensor(shape: [1, 4], scalars: [0.1, 1, 1, 1]) }
        return (meta, params, grads, batch, state)
    }

    /// The authors' configuration on the 784-32-10 MLP: 102,226 trainable meta-parameters;
    /// the paper's adds the A and O gate biases of both layers (2 × 20 + 2).
    func testMetaParameterCounts() throws {
        XCTAssertEqual(try mtl2l("preset=code").trainableMetaParameterCount, 102_226)
        XCTAssertEqual(try mtl2l("preset=paper").trainableMetaParameterCount, 102_226 + 42)
        XCTAssertEqual(try mtl2l("preset=code").metaParameterCount - 102_226, 16 * 20 * 20, "16 fixed 20×20 bases")
        assertThrows(.invalidArgument) { try self.mtl2l("preset=iclr") }
    }

    /// The bases are orthogonal, differ from one another, and survive a save and load bit
    /// for bit; meta-training leaves them exactly as drawn.
    func testBasesAreOrthogonalFixedAndSaved() throws {
        let opt = try mtl2l("preset=code inputs=6 hidden=5 hyper_hidden=4")
        var rng = RNG(seed: 3)
        let meta = opt.initialMetaParameters(rng: &rng)
        let bases = zip(opt.metaParameterSpecs, meta).filter { !$0.0.trainable }.map(\.1)
        XCTAssertEqual(bases.count, 16)
        for q in bases {
            let identity = Tensor(shape: [5, 5], scalars: (0..<25).map { $0 % 6 == 0 ? 1 : 0 })
            assertClose(matmul(q, q, transposeA: true), identity, atol: 1e-5, rtol: 0)
        }
        XCTAssertNotEqual(bases[0].scalars, bases[1].scalars)

        let path = temporaryDirectory() + "/mtl2l.safetensors"
        try LearnedOptimiserFile(opt, meta: meta).write(to: path, parameterShapes: [])
        let (loaded, _) = try LearnedOptimiserFile.read(path)
        XCTAssertEqual(loaded.optimiser.options, opt.options)
        XCTAssertEqual(loaded.meta.map(\.scalars), meta.map(\.scalars))

        let trained = try shortlyMetaTrained(opt, meta: meta)
        for (spec, (before, after)) in zip(opt.metaParameterSpecs, zip(meta, trained)) {
            if spec.trainable { continue }
            XCTAssertEqual(before.scalars, after.scalars, spec.name)
        }
        XCTAssertNotEqual(meta[0].scalars, trained[0].scalars, "the hypernetworks learn")
    }

    /// φ after two 10-step trials of meta-training from `meta` on a 6-input MLP.
    func shortlyMetaTrained(_ opt: MTL2L, meta: [Tensor]) throws -> [Tensor] {
        let task = try MetaTask.checked(learner: try MLP(sizes: [6, 8, 3]), data: try gaussianBlobs(48, seed: 2))
        var config = MetaTrainingConfig()
        (config.trials, config.steps, config.batchSize, config.metaLearningRate) = (2, 10, 8, 0.01)
        let trainer = try MetaTrainer(opt, tasks: [task], config: config, meta: meta)
        try trainer.run()
        XCTAssertGreaterThan(trainer.metaSteps, 0)
        return trainer.meta
    }

    /// `bases=learned` (an ablation): the 16 bases become trainable, as many meta-parameters in
    /// all, and meta-training changes every one of them; unknown values are refused.
    func testLearnedBasesAreMetaTrained() throws {
        let options = "preset=code inputs=6 hidden=5 hyper_hidden=4"
        let (fixed, opt) = (try mtl2l(options), try mtl2l(options + " bases=learned"))
        XCTAssertEqual(opt.trainableMetaParameterCount, fixed.trainableMetaParameterCount + 16 * 5 * 5)
        XCTAssertEqual(opt.metaParameterCount, fixed.metaParameterCount)
        XCTAssertEqual(try mtl2l(opt.options).options, opt.options)
        XCTAssertFalse(fixed.options.contains("bases"), "the default keeps the old options text")
        var rng = RNG(seed: 3)
        let meta = opt.initialMetaParameters(rng: &rng)
        let trained = try shortlyMetaTrained(opt, meta: meta)
        let bases = zip(opt.metaParameterSpecs, zip(meta, trained)).filter { $0.0.name.hasPrefix("basis.") }
        XCTAssertEqual(bases.count, 16)
        for (spec, (before, after)) in bases { XCTAssertNotEqual(before.scalars, after.scalars, spec.name) }
        assertThrows(.invalidArgument, containing: "bases") { try self.mtl2l("bases=random") }
    }

    /// `eigenvalues=per_gate` (an ablation) with the four gates' eigenvalues equal — N1x's and
    /// N1q's output layers and E1, E2 tiled four times — steps as the shared construction.
    /// Changing gate o's eigenvalues changes layer 1's h but not its c (the output gate does
    /// not reach the cell), gate f's changes c: each slice drives its own gate. 90 more
    /// trainable meta-parameters here: two output layers of 3 × 3 more outputs, each with 4
    /// weights and a bias.
    func testPerGateEigenvaluesReduceToSharedOnesWhenEqual() throws {
        let options = "preset=paper inputs=3 hidden=3 hyper_hidden=4 scale=1"
        let (shared, perGate) = (try mtl2l(options), try mtl2l(options + " eigenvalues=per_gate"))
        XCTAssertEqual(perGate.trainableMetaParameterCount - shared.trainableMetaParameterCount, 90)
        XCTAssertEqual(try mtl2l(perGate.options).options, perGate.options)
        XCTAssertFalse(shared.options.contains("eigenvalues"), "the default keeps the old options text")
        let (meta, params, grads, batch, state) = partWay(shared, seed: 10, rows: 2)
        func tiled(_ t: Tensor) -> Tensor { Tensor.concatenate(Array(repeating: t, count: 4), axis: t.rank - 1) }
        var (tiledMeta, tiledState) = (meta, state)
        for k in [2, 3, 6, 7] { tiledMeta[k] = tiled(meta[k]) }                       // n1x, n1q: w2, b2
        for k in [2, 3] { tiledState[k] = tiled(state[k]) }                           // E1, E2
        XCTAssertEqual(tiledMeta.map(\.shape), perGate.metaParameterSpecs.map(\.shape))
        XCTAssertEqual(tiledState.map(\.shape), perGate.initialState(for: params).map(\.shape))

        let reference = shared.step(meta: meta, parameters: params, gradients: grads, state: state, phase: .metaTesting, inputs: batch)
        let equal = perGate.step(meta: tiledMeta, parameters: params, gradients: grads, state: tiledState, phase: .metaTesting, inputs: batch)
        assertClose(equal.parameters[0], reference.parameters[0], atol: 1e-6, rtol: 1e-5)
        assertClose(equal.state[0], reference.state[0], atol: 1e-6, rtol: 1e-5)
        assertClose(equal.state[2], tiled(reference.state[2]), atol: 1e-6, rtol: 1e-5)

        /// Layer 1's h and c from its `[rows, 2H]` state.
        func split(_ layer1: Tensor) -> (h: [Float], c: [Float]) {
            (layer1.slice(axis: 1, 0..<3).scalars, layer1.slice(axis: 1, 3..<6).scalars)
        }
        /// Layer 1's h and c after the step with gate `gate`'s n1x output bias raised by 0.5.
        func layer1(changing gate: Int) -> (h: [Float], c: [Float]) {
            var changed = tiledMeta
            changed[3] = tiledMeta[3] + Tensor(shape: [12], scalars: (0..<12).map { $0 / 3 == gate ? 0.5 : 0 })
            return split(perGate.step(meta: changed, parameters: params, gradients: grads, state: tiledState,
                                      phase: .metaTesting, inputs: batch).state[0])
        }
        let (h, c) = split(reference.state[0])
        func moved(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max()! }
        let (output, forget) = (layer1(changing: 3), layer1(changing: 1))
        XCTAssertGreaterThan(moved(output.h, h), 1e-4)
        XCTAssertLessThan(moved(output.c, c), 1e-6, "gate o's eigenvalues do not reach the cell")
        XCTAssertGreaterThan(moved(forget.c, c), 1e-4)
        assertThrows(.invalidArgument, containing: "eigenvalues") { try self.mtl2l("eigenvalues=per_path") }
    }

    /// ∂(step)/∂φ by finite differences, with and without the code's context ReLU: the
    /// hypernetworks through Q·diag(N)·Pᵀ, the layer-2 scalars, the input map, the gate
    /// biases and two bases (trained with `bases=learned`), also with per-gate eigenvalues;
    /// and ∂/∂E (the running average carried in the state).
    func testStepGradientsMatchFiniteDifferences() throws {
        for options in ["preset=paper", "preset=code", "preset=paper gradient_inputs=adam odd=1",
                        "preset=code eigenvalues=per_gate bases=learned"] {
            let opt = try mtl2l("\(options) inputs=3 hidden=3 hyper_hidden=4 scale=1")
            // Seed 10 leaves every hypernetwork pre-activation at least 0.038 from the ReLU's
            // kink (seed 5 had one at 0.0008, where the finite differences straddle it).
            let (meta, params, grads, batch, state) = partWay(opt, seed: 10, rows: 2)
            let checked = [0, 1, 2, 3, 4, 8, 12, opt.trunk, opt.trunk + 1, opt.trunk + 2, opt.trunk + 3,
                           opt.trunk + 4, opt.trunk + 15]                                  // bases ix.q, aq.p
            checkGradients(checked.map { meta[$0] }, secondOrder: false) { xs in
                var phi = meta
                for (i, k) in checked.enumerated() { phi[k] = xs[i] }
                let (p, next) = opt.step(meta: phi, parameters: params, gradients: grads, state: state, phase: .metaTesting, inputs: batch)
                // Layer 1's state is both layer 2's input and the next state: both paths in the loss.
                return Tensor.concatenate([p[0].reshaped([-1]), next[0].reshaped([-1]), next[1].reshaped([-1]),
                                           next[2].reshaped([-1]), next[4].reshaped([-1])], axis: 0)
            }
            checkGradients(Array(state[0..<2]), secondOrder: false) { xs in
                var s = state
                s[0] = xs[0]; s[1] = xs[1]
                let (p, next) = opt.step(meta: meta, parameters: params, gradients: grads, state: s, phase: .metaTesting, inputs: batch)
                return Tensor.concatenate([p[0].reshaped([-1]), next[0].reshaped([-1]), next[1].reshaped([-1])], axis: 0)
            }
            checkGradients(Array(state[2..<6]), secondOrder: false) { xs in
                var s = state
                for k in 0..<4 { s[2 + k] = xs[k] }
                let (p, next) = opt.step(meta: meta, parameters: params, gradients: grads, state: s, phase: .metaTesting, inputs: batch)
                return Tensor.concatenate([p[0].reshaped([-1]), next[3].reshaped([-1])], axis: 0)
            }
        }
    }

    /// Part-way through training (non-zero h, c and context vectors, both presets), the step
    /// with its two fused LSTM layers against the paper's equations written here in composed
    /// ops: u = x·w_in, gates₁ = u·W₁ᵀ + h₁·U₁ᵀ + b₁ through an LSTM cell, then layer 2; x the
    /// log/sign features, or with `gradient_inputs=adam` RNNprop's from the running means in
    /// the state's last tensor (β₁ = 0.9, β₂ = 0.8: swapped decays fail).
    func testFusedLayersAgainstComposedEquations() throws {
        for (preset, adam) in [("paper", false), ("code", false), ("code", true)] {
            let opt = try mtl2l("preset=\(preset) inputs=3 hidden=5 hyper_hidden=4 scale=1" + (adam ? " gradient_inputs=adam beta1=0.9 beta2=0.8" : ""))
            let (meta, params, grads, batch, state) = partWay(opt, seed: 12, rows: 7)
            let (out, next) = opt.step(meta: meta, parameters: params, gradients: grads, state: state, phase: .metaTesting, inputs: batch)
            let (h, trunk) = (opt.hidden, opt.trunk)
            let e = Array(next[2..<6])
            func synapses(_ path: Int, _ eigen: Tensor) -> Tensor {
                Tensor.concatenate((0..<4).map { g in
                    matmul(meta[trunk + 5 + 4 * g + 2 * path] * eigen, meta[trunk + 4 + 4 * g + 2 * path], transposeB: true)
                }, axis: 1)
            }
            func bias(_ b: Tensor, _ width: Int) -> Tensor {
                preset == "paper" ? b : Tensor.concatenate([b, Tensor.zeros([2 * width])], axis: 0)
            }
            let g = grads[0].reshaped([-1, 1])
            let moments = adam ? GradientInputs.adamMoments(g, previous: state[7], beta1: 0.9, beta2: 0.8) : nil
            if let moments { assertClose(next[7].scalars, moments.scalars, atol: 1e-7, rtol: 1e-6, "running means") }
            let x = moments.map { GradientInputs.adamFeatures(g, moments: $0) } ?? GradientPreprocessing.logAndSign(g)
            let u = matmul(x, meta[trunk])
            let hc1 = Tensor.lstmCell(gates: Tensor.sumOfProducts([(u, synapses(0, e[0])), (state[0].slice(axis: 1, 0..<h), synapses(1, e[1]))]),
                                      cell: state[0].slice(axis: 1, h..<(2 * h)), bias: bias(meta[trunk + 1], h))
            let hc2 = Tensor.lstmCell(gates: Tensor.sumOfProducts([(hc1.slice(axis: 1, 0..<h), meta[trunk + 2] * e[2]),
                                                                   (state[1].slice(axis: 1, 0..<1), e[3])]),
                                      cell: state[1].slice(axis: 1, 1..<2), bias: bias(meta[trunk + 3], 1))
            assertClose(next[0].scalars, hc1.scalars, atol: 1e-5, rtol: 1e-4, "\(preset): layer 1's state")
            assertClose(next[1].scalars, hc2.scalars, atol: 1e-5, rtol: 1e-4, "\(preset): layer 2's state")
            assertClose(out[0].scalars, (params[0].reshaped([-1, 1]) + hc2.slice(axis: 1, 0..<1)).scalars, atol: 1e-5, rtol: 1e-4, "\(preset): θ + h₂")
        }
    }

    /// With `odd=1` every update is ½·(Δ(g) − Δ(−g)), Δ the same MTL2L without the option run
    /// on the gradients and on their negation (each with its own state, the same batches):
    /// exactly odd in the gradients, for either gradient inputs; without it, not odd.
    func testOddOptionStepsAreHalfTheDifferenceOfMirroredRuns() throws {
        for inputs in ["log_sign", "adam"] {
            let options = "preset=paper inputs=3 hidden=4 hyper_hidden=4 scale=1 gradient_inputs=\(inputs)"
            let (opt, plain) = (try mtl2l(options + " odd=1"), try mtl2l(options))
            XCTAssertEqual(try mtl2l(opt.options).options, opt.options)
            XCTAssertTrue(opt.options.hasSuffix(" odd=1"))
            XCTAssertEqual(plain.options.contains("gradient_inputs"), inputs == "adam", "log_sign keeps the old options text")
            var rng = RNG(seed: 14)
            var meta = opt.initialMetaParameters(rng: &rng)
            // Steps of order 0.01–0.1, not the untrained optimiser's ~1e-7: large layer-2 context
            // scalars (n2x's and n2q's output biases) and gate biases, random for every gate.
            for k in [11, 15, opt.trunk + 1, opt.trunk + 3] { meta[k] = Tensor.normal(meta[k].shape, std: 1, rng: &rng) }
            let steps = (0..<3).map { _ in (Tensor.normal([5], std: 0.2, rng: &rng), Tensor.normal([4, 3], rng: &rng)) }
            func run(_ o: MTL2L, sign: Float) -> [[Float]] {
                var params = [Tensor.zeros([5])]
                var state = o.initialState(for: params)
                var deltas = [[Float]]()
                for (g, batch) in steps {
                    let before = params[0].scalars
                    (params, state) = o.step(meta: meta, parameters: params, gradients: [g * sign], state: state, phase: .metaTesting, inputs: batch)
                    deltas.append(zip(params[0].scalars, before).map { $0 - $1 })
                }
                return deltas
            }
            let (up, down) = (run(plain, sign: 1), run(plain, sign: -1))
            XCTAssertGreaterThan(up.flatMap { $0 }.map(abs).max()!, 1e-3)
            XCTAssertGreaterThan(zip(up, down).flatMap { zip($0, $1).map { abs($0 + $1) } }.max()!, 1e-4, "\(inputs): plain steps are not odd")
            for (k, delta) in run(opt, sign: 1).enumerated() {
                assertClose(delta, zip(up[k], down[k]).map { ($0 - $1) / 2 }, atol: 1e-6, rtol: 1e-4, "\(inputs), step \(k)")
            }
            XCTAssertEqual(run(opt, sign: -1).flatMap { $0 }, run(opt, sign: 1).flatMap { $0.map { -$0 } }, "\(inputs): Δ(−g) = −Δ(g)")
        }
        assertThrows(.invalidArgument, containing: "unknown gradient_inputs") { try self.mtl2l("gradient_inputs=rms") }
    }

    /// The step's arithmetic against a direct evaluation of the equations for one
    /// coordinate (Float64, written here): the synapse W = Q diag(e) Pᵀ and the context update.
    func testOneStepAgainstTheEquations() throws {
        let opt = try mtl2l("preset=paper inputs=2 hidden=2 hyper_hidden=2 scale=1")
        var rng = RNG(seed: 9)
        let meta = opt.initialMetaParameters(rng: &rng)
        let g: Float = 0.2
        let batch = Tensor(shape: [2, 2], scalars: [0.5, -1, 1.5, 0.25])
        let (out, next) = opt.step(meta: meta, parameters: [Tensor(shape: [1], scalars: [0])], gradients: [Tensor(shape: [1], scalars: [g])],
                                   state: opt.initialState(for: [Tensor.zeros([1])]), phase: .metaTesting, inputs: batch)
        func d(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }
        func hyper(_ k: Int) -> [Double] {
            let (w1, b1, w2, b2) = (d(meta[4 * k]), d(meta[4 * k + 1]), d(meta[4 * k + 2]), d(meta[4 * k + 3]))
            let outs = b2.count
            var mean = [Double](repeating: 0, count: outs)
            for r in 0..<2 {
                let x = d(batch).suffix(from: 2 * r).prefix(2).map { $0 }
                let h = (0..<2).map { j in max(0, x[0] * w1[j] + x[1] * w1[2 + j] + b1[j]) }
                for o in 0..<outs { mean[o] += (h[0] * w2[o] + h[1] * w2[outs + o] + b2[o]) / 2 }
            }
            return mean
        }
        let e = (0..<4).map { hyper($0).map { 0.1 * $0 } }   // E starts at 0: E = 0.1·statistic
        assertClose(next[2].scalars, e[0].map(Float.init), atol: 1e-6, rtol: 1e-5)
        assertClose(next[4].scalars, e[2].map(Float.init), atol: 1e-6, rtol: 1e-5)
        // Preprocessing (|g| ≥ e^-10): (ln|g|/10, sign g); u = x·w_in.
        let x = [log(Double(g)) / 10, 1.0]
        let win = d(meta[opt.trunk])
        let u = (0..<2).map { j in x[0] * win[j] + x[1] * win[2 + j] }
        // Layer 1 with h = c = 0: pre_G = u·(Q_G diag(e1) P_Gᵀ)ᵀ + b_G.
        let b1 = d(meta[opt.trunk + 1])
        func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        var pre = [[Double]]()
        for gate in 0..<4 {
            let q = d(meta[opt.trunk + 4 + 4 * gate]), p = d(meta[opt.trunk + 5 + 4 * gate])
            var row = [Double]()
            for i in 0..<2 {
                // (W u)_i = Σ_j W_ij u_j with W_ij = Σ_k Q_ik e_k P_jk.
                var v = b1[gate * 2 + i]
                for j in 0..<2 {
                    var w = 0.0
                    for k in 0..<2 { w += q[i * 2 + k] * e[0][k] * p[j * 2 + k] }
                    v += w * u[j]
                }
                row.append(v)
            }
            pre.append(row)
        }
        let c1 = (0..<2).map { i in sigmoid(pre[0][i]) * tanh(pre[2][i]) }   // f·0 + i·a
        let h1 = (0..<2).map { i in sigmoid(pre[3][i]) * tanh(c1[i]) }
        // Layer 2 with h₂ = c₂ = 0: pre_G = e3_G·(h₁·w_G) + b2_G.
        let w2 = d(meta[opt.trunk + 2]), b2 = d(meta[opt.trunk + 3])
        let pre2 = (0..<4).map { gate in e[2][gate] * (h1[0] * w2[gate] + h1[1] * w2[4 + gate]) + b2[gate] }
        let c2 = sigmoid(pre2[0]) * tanh(pre2[2])
        let h2 = sigmoid(pre2[3]) * tanh(c2)
        XCTAssertEqual(Double(out[0].scalars[0]), h2, accuracy: 1e-6, "θ ← θ + 1·h₂")
    }

    /// Meta-training lowers the meta-loss, and the trained MTL2L beats its untrained self on
    /// fresh learners of the task it saw.
    func testMetaTrainingLowersTheMetaLossAndBeatsTheUntrainedOptimiser() throws {
        let task = try MetaTask.checked(learner: try MLP(sizes: [6, 8, 3]), data: try gaussianBlobs(64, seed: 4))
        let opt = try mtl2l("preset=paper inputs=6 noise_horizon=20")
        var config = MetaTrainingConfig()
        (config.trials, config.steps, config.unroll, config.batchSize, config.metaLearningRate) = (12, 20, 5, 16, 3e-3)
        config.clip = .value(1)
        let trainer = try MetaTrainer(opt, tasks: [task], config: config)
        let untrained = trainer.meta
        let before = try trainer.evaluate(instances: 4, seed: 7)
        try trainer.run()
        let after = try trainer.evaluate(instances: 4, seed: 7)
        print("mtl2l meta-loss \(before) → \(after)")
        XCTAssertLessThan(after, 0.9 * before)

        // Fresh learners trained for the 20-step horizon with each φ as an ordinary optimiser
        // (past it, as with the LSTM optimiser, this short meta-training does not carry).
        func finalLoss(_ phi: [Tensor]) throws -> Float {
            guard case .supervised(let learner, let data) = task else { fatalError() }
            var total: Float = 0
            for seed in 0..<3 {
                var rng = RNG(seed: 100 + UInt64(seed))
                var state = learner.initialState(rng: &rng)
                var batches = try BatchIterator(data, batchSize: 16, seed: UInt64(seed))
                let session = OptimiserSession(try TrainedOptimiser(opt, meta: phi))
                _ = try Training.train(learner, &state, optimiser: session, batches: &batches, steps: 20)
                total += Training.evaluate(learner, state, on: data).loss
            }
            return total / 3
        }
        let trained = try finalLoss(trainer.meta), fresh = try finalLoss(untrained)
        print("mtl2l training-set loss after 20 steps: trained \(trained), untrained \(fresh)")
        XCTAssertLessThan(trained, fresh)
    }

    /// Without the batch (or with the wrong width) MTL2L's step is refused with an error from
    /// every Swift entry point, never a crash; quadratic tasks, which have no inputs, too.
    func testTheBatchIsRequired() throws {
        let opt = try mtl2l("inputs=6")
        var rng = RNG(seed: 1)
        let session = OptimiserSession(try TrainedOptimiser(opt, meta: opt.initialMetaParameters(rng: &rng)))
        XCTAssertTrue(session.needsInputs)
        var params = [Tensor.zeros([4])]
        assertThrows(.invalidArgument, containing: "input batch") { try session.step(&params, gradients: [Tensor.ones([4])]) }
        assertThrows(.shapeMismatch) { try session.step(&params, gradients: [Tensor.ones([4])], inputs: Tensor.zeros([2, 5])) }
        XCTAssertEqual(params[0].scalars, [0, 0, 0, 0], "nothing changed")
        try session.step(&params, gradients: [Tensor.ones([4])], inputs: Tensor.ones([2, 6]))
        XCTAssertNotEqual(params[0].scalars, [0, 0, 0, 0])
        assertThrows(.invalidArgument, containing: "quadratic") {
            try MetaTrainer(opt, tasks: [.quadratic(dimension: 4, distribution: .normal)], config: MetaTrainingConfig())
        }
        let wide = try MetaTask.checked(learner: try MLP(sizes: [5, 4, 3]), data: try Dataset(inputs: Tensor.zeros([4, 5]), labels: [0, 1, 2, 0], classes: 3))
        assertThrows(.shapeMismatch, containing: "features") { try MetaTrainer(opt, tasks: [wide], config: MetaTrainingConfig()) }
    }

    /// A state exported before MTL2L's layers were fused (h and c apart, a clock of two) held
    /// as many floats as the fused layout without its layout version: it is refused by size,
    /// and the current export round-trips.
    func testStatesOfTheFormerLayoutAreRefused() throws {
        let opt = try mtl2l("inputs=6 hidden=3 hyper_hidden=4")
        var rng = RNG(seed: 2)
        let session = OptimiserSession(try TrainedOptimiser(opt, meta: opt.initialMetaParameters(rng: &rng)))
        var params = [Tensor.zeros([4])]
        try session.step(&params, gradients: [Tensor.ones([4])], inputs: Tensor.ones([2, 6]))
        let exported = try XCTUnwrap(session.exportState())
        // Former layout: [P, H] ×2, [P, 1] ×2, E1…E4, clock [2].
        let former = 2 * 4 * 3 + 2 * 4 + (3 + 3 + 4 + 4) + 2
        XCTAssertEqual(exported.values.count, former + 1)
        assertThrows(.shapeMismatch) { try session.importState(Array(exported.values.prefix(former)), stepCount: 1, for: [[4]]) }
        try session.importState(exported.values, stepCount: exported.stepCount, for: [[4]])
        XCTAssertEqual(session.exportState()?.values, exported.values)
    }
}

// Prints the machine's sgemm peak and l2l's training throughput.
//
//   swift run -c release l2l-bench [--json] [--steps N]
//   swift run -c release l2l-bench --only KIND [--json] [--meta-steps N] [--test-steps N]
//   any of these with [--threads N] (threads of l2l's own kernels) [--isa avx512|avx2|baseline]
//   swift run -c release l2l-bench --only engine [--memory-only] [--unroll-optimiser KIND --unroll-steps N]
//
// `--only KIND` measures one thing and nothing else: the short runs scripts/bench.sh puts
// next to benchmarks/torch_peer.py (one process each, so each reports its own peak
// resident memory), and the runs to profile under `valgrind --tool=callgrind`. KIND is
//   sgemm          the sgemm peak alone
//   lstm, dmsgd, meta_sgd, m2sgd   a learned optimiser on the 784-32-10 MLP at batch 128,
//                  Fashion-MNIST: meta-training learner steps/s (unroll 5) and meta-testing
//                  steps/s (the LSTM optimisers' networks run in l2l's kernels, not sgemm:
//                  lstm_forward gives their GFLOP/s)
//   adam           Adam training steps/s of the MLP (forward, backward, step; one fixed batch)
//   hf             Hessian-free steps/s of the MLP: the gradient, then 4 CG iterations
//                  (4 Gauss-Newton products, λ = 1, no warm start, tol 0)
//   lstm_forward   one step of the LSTM optimiser (paper preset: preprocessing, 2×20 LSTM,
//                  head, update; no graph) over the MLP's 25,450 coordinates, in ms
//   coordinate_ops the per-coordinate element-wise ops of the learned optimisers on the MLP's
//                  25,450 coordinates, µs each (text only; best of 200)
//   curvature      the Gauss-Newton product and MLHF step costs (text only; --mlp-only: the MLP's)
//   engine         the meta-training engine: rate per estimator, memory of a budgeted unroll
//                  (text only; EngineBench.swift)
// The learned-optimiser kinds also print the process CPU time (all threads) per learner
// step, the steadier figure on a shared machine.
// With `--json`, one JSON object of the figures and `max_rss_mib`, the process's peak
// resident memory.
// `--meta-steps N` sets the learner steps per meta-training trial (a multiple of 5;
// default 50), `--test-steps N` the timed meta-testing steps (default 30; 0 skips meta-testing),
// and `--repeats N` how many timed trials and meta-testing runs (and engine trials) the best is taken of
// (default 1; scripts/bench.sh uses 3 on both sides, so a busy moment counts less).
// Instructions per meta-training learner step: the difference of two such runs with
// `--test-steps 0` and different `--meta-steps`, divided by twice the difference in steps
// (a warm-up trial and a timed one). `--toggle-collect` would miss the work that
// element-wise kernels hand to Dispatch's worker threads.
//
// Figures: sgemm GFLOP/s on square matrices (l2l's BLAS, all cores: the peak we compare
// to), and training steps per second of the 784-32-10 ReLU MLP at batch 128 (forward,
// backward and an SGD step), with the GFLOP/s those steps achieve and their fraction of
// the sgemm peak.
import Glibc
import L2L

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// CPU time of the whole process (every thread) so far, in seconds.
func processCPUTime() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Best time of `repeats` runs of `body`, in seconds.
func bestTime(repeats: Int, _ body: () -> Void) -> Double {
    bestTimes(repeats: repeats, body).wall
}

/// Best wall-clock time and best process CPU time (all threads) of `repeats` runs of
/// `body`, in seconds: on a shared machine the CPU time is the steadier figure.
func bestTimes(repeats: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
    var best = (wall: Double.infinity, cpu: Double.infinity)
    for _ in 0..<repeats {
        let (t0, c0) = (now(), processCPUTime())
        body()
        best = (min(best.wall, now() - t0), min(best.cpu, processCPUTime() - c0))
    }
    return best
}

/// The process's peak resident memory so far, in MiB.
func maxResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Prints `figures`, `texts` (plain strings: no quotes or backslashes) and the peak
/// resident memory as one JSON object.
func printJSON(_ figures: [(String, Double)], texts: [(String, String)] = []) {
    let pairs = (figures + [("max_rss_mib", maxResidentMiB())]).map { "\"\($0)\": \($1)" }
        + texts.map { "\"\($0)\": \"\($1)\"" }
    print("{" + pairs.joined(separator: ", ") + "}")
}

let args = CommandLine.arguments
let json = args.contains("--json")
let steps = args.firstIndex(of: "--steps").flatMap { Int(args[$0 + 1]) } ?? 2000
let only = args.firstIndex(of: "--only").map { args[$0 + 1] }
let metaSteps = args.firstIndex(of: "--meta-steps").flatMap { Int(args[$0 + 1]) } ?? 50
let testSteps = args.firstIndex(of: "--test-steps").flatMap { Int(args[$0 + 1]) } ?? 30
let repeats = max(1, args.firstIndex(of: "--repeats").flatMap { Int(args[$0 + 1]) } ?? 1)
if let threads = args.firstIndex(of: "--threads").flatMap({ Int(args[$0 + 1]) }) { Kernels.threads = threads }
if let isa = args.firstIndex(of: "--isa").map({ args[$0 + 1] }) {
    Kernels.instructionSet = isa
    guard Kernels.instructionSet == isa else {
        print("l2l-bench: --isa \(isa) is not one of this CPU's \(Kernels.instructionSets)")
        exit(2)
    }
}
switch only {
case nil: break
case "curvature":
    try printCurvatureCosts()
    exit(0)
case "sgemm":
    let (rows, peak) = sgemmPeak()
    let blas = BLAS.info
    if json {
        printJSON([("sgemm_peak_gflops", peak)] + rows.map { ("sgemm_\($0.0)_gflops", $0.1) },
                  texts: [("blas", blas.name), ("blas_version", blas.version), ("blas_core", blas.core)])
    } else {
        printSgemm(rows, peak)
    }
    exit(0)
case "adam":
    let (sps, gf) = trainingSpeed(try MLP(sizes: [784, 32, 10]), try Factory.optimiser(kind: "adam", options: "lr=0.001"), steps: steps)
    if json { printJSON([("adam_steps_per_second", sps)]) } else { print("adam: \(String(sps, digits: 1)) steps/s (GEMM \(String(gf, digits: 1)) GFLOP/s)") }
    exit(0)
case "hf":
    let sps = try hessianFreeSpeed()
    if json { printJSON([("hf_steps_per_second", sps)]) } else { print("hf: \(String(sps, digits: 1)) steps/s (gradient + 4 Gauss-Newton products + CG)") }
    exit(0)
case "coordinate_ops":
    printCoordinateOps()
    exit(0)
case "lstm_forward":
    let (seconds, flops) = try lstmForwardTime()
    if json { printJSON([("lstm_forward_ms", seconds * 1e3), ("lstm_forward_flops", flops)]) }
    else { print("lstm_forward: \(String(seconds * 1e3, digits: 2)) ms over 25,450 coordinates (\(String(flops / 1e6, digits: 1)) MFLOP, \(String(flops / seconds / 1e9, digits: 1)) GFLOP/s)") }
    exit(0)
case "engine":
    let kind = args.firstIndex(of: "--unroll-optimiser").map { args[$0 + 1] }
    let unrollSteps = args.firstIndex(of: "--unroll-steps").flatMap { Int(args[$0 + 1]) } ?? 100
    try printEngineCosts(custom: kind.map { ($0, unrollSteps) }, skipRates: args.contains("--memory-only"))
    exit(0)
case let kind?:
    let r = try learnedSpeed(kind)
    if json {
        printJSON([("meta_train_steps_per_second", r.metaTrain), ("meta_test_steps_per_second", r.metaTest),
                   ("meta_train_cpu_ms_per_step", r.trainCPU * 1e3), ("meta_test_cpu_ms_per_step", r.testCPU * 1e3)])
    } else {
        print("\(kind) meta-training \(String(r.metaTrain, digits: 1)) learner steps/s (unroll 5), meta-testing \(String(r.metaTest, digits: 1)) steps/s; CPU time per learner step (all threads): meta-training \(String(r.trainCPU * 1e3, digits: 2)) ms, meta-testing \(String(r.testCPU * 1e3, digits: 2)) ms")
    }
    exit(0)
}

// MARK: sgemm peak
/// GFLOP/s of square products n = 256…2048 (best of a few) and their maximum.
func sgemmPeak() -> (rows: [(Int, Double)], peak: Double) {
    var rng = RNG(seed: 0)
    var rows = [(Int, Double)]()
    for n in [256, 512, 1024, 2048] {
        let a = Tensor.uniform([n, n], rng: &rng), b = Tensor.uniform([n, n], rng: &rng)
        let reps = n >= 2048 ? 3 : 10
        let t = bestTime(repeats: reps) { _ = matmul(a, b) }
        rows.append((n, 2 * Double(n * n * n) / t / 1e9))
    }
    return (rows, rows.map(\.1).max()!)
}

func printSgemm(_ rows: [(Int, Double)], _ peak: Double) {
    let blas = BLAS.info
    print("sgemm (\(blas.name) \(blas.version), \(blas.core) kernels, \(Kernels.cores) cores)")
    for (n, g) in rows { print("  \(n)×\(n)×\(n): \(String(g, digits: 1)) GFLOP/s") }
    print("  peak: \(String(peak, digits: 1)) GFLOP/s")
}
let (gemmRows, peak) = sgemmPeak()
var rng = RNG(seed: 0)

// MARK: Element-wise kernels on 4 M elements (memory-bound: GB/s of data moved)
let big = Tensor.normal([1 << 22], rng: &rng), big2 = Tensor.normal([1 << 22], rng: &rng)
let bytes = Double(big.count * 4)
let reluTime = bestTime(repeats: 10) { _ = big.relu() }
let addTime = bestTime(repeats: 10) { _ = big + big2 }
let expTime = bestTime(repeats: 10) { _ = big.exp() }

// MARK: Training steps of the papers' learners at batch 128, with SGD and with Adam
/// Steps per second and GEMM GFLOP/s of `learner` trained by `optimiser` on one fixed
/// random batch (forward, backward, optimiser step), best of three timed runs.
func trainingSpeed(_ learner: some Learner, _ optimiser: OptimiserSession, steps: Int) -> (stepsPerSecond: Double, gflops: Double) {
    var rng = RNG(seed: 1)
    var state = learner.initialState(rng: &rng)
    let x = Tensor.normal([128, learner.inputFeatures], rng: &rng)
    let labels = (0..<128).map { _ in Int32(rng.nextInt(below: learner.classes)) }
    func step() {
        let (_, grads, buffers) = Training.lossAndGradients(learner, state, x, .labels(labels))
        try! optimiser.step(&state.parameters, gradients: grads)
        state.buffers = buffers
    }
    for _ in 0..<max(2, steps / 20) { step() }   // warm-up
    let flops0 = gemmFlopCount
    step()
    let flopsPerStep = Double(gemmFlopCount - flops0)
    let t = bestTime(repeats: 3) { for _ in 0..<steps { step() } }
    return (Double(steps) / t, flopsPerStep * Double(steps) / t / 1e9)
}

// MARK: Learned optimisers on the MLP 784-32-10 at batch 128, Fashion-MNIST
/// Learner steps per second while meta-training (unroll 5) and while meta-testing, and a
/// meta-testing step's time.
func learnedSpeed(_ kind: String) throws -> (metaTrain: Double, metaTest: Double, stepSeconds: Double,
                                             trainCPU: Double, testCPU: Double) {
    let data = try IDXDataset.fashionMNIST(.train)
    let mlp = try MLP(sizes: [784, 32, 10])
    let task = try MetaTask.checked(learner: mlp, data: data)
    let opt = try Factory.learnedOptimiser(kind: kind, options: nil, parameterShapes: task.parameterShapes)
    var config = MetaTrainingConfig()
    config.steps = metaSteps
    config.trials = 1 + repeats
    let trainer = try MetaTrainer(opt, tasks: [task], config: config)
    try trainer.run(trials: 1)   // warm-up
    let trainTimes = bestTimes(repeats: repeats) { try! trainer.run(trials: 1) }
    let metaTrain = Double(config.steps) / trainTimes.wall
    let trainCPU = trainTimes.cpu / Double(config.steps)
    // Meta-testing: the trained optimiser as an ordinary optimiser.
    let session = OptimiserSession(try TrainedOptimiser(opt, meta: trainer.meta))
    var rng = RNG(seed: 1)
    var state = mlp.initialState(rng: &rng)
    let (x, labels) = data.batch(Array(0..<128)[...])
    func step() {
        let (_, grads, _) = Training.lossAndGradients(mlp, state, x, .labels(labels))
        try! session.step(&state.parameters, gradients: grads)
    }
    let n = testSteps
    if n == 0 { return (metaTrain, 0, 0, trainCPU, 0) }
    for _ in 0..<3 { step() }
    let t = bestTimes(repeats: repeats) { for _ in 0..<n { step() } }
    return (metaTrain, Double(n) / t.wall, t.wall / Double(n), trainCPU, t.cpu / Double(n))
}
var learnedRows = [(String, (metaTrain: Double, metaTest: Double, stepSeconds: Double, trainCPU: Double, testCPU: Double))]()
for kind in ["lstm", "dmsgd", "meta_sgd"] { learnedRows.append((kind, try learnedSpeed(kind))) }
let residentMiB = maxResidentMiB()

let learners: [(String, any Learner, Int)] = [
    ("MLP 784-32-10", try MLP(sizes: [784, 32, 10]), steps),
    ("convnet 28×28", try Convnet(inputShape: [1, 28, 28]), max(1, steps / 200)),
    ("ResNet20 32×32", try ResNet(), max(1, steps / 1000)),
]
var rows = [(name: String, optimiser: String, stepsPerSecond: Double, gflops: Double)]()
for (name, learner, n) in learners {
    for kind in ["sgd", "adam"] {
        let (sps, gf) = trainingSpeed(learner, try Factory.optimiser(kind: kind, options: "lr=0.001"), steps: n)
        rows.append((name, kind, sps, gf))
    }
}
let mlpRow = rows[0]
let adamStep = 1 / rows[1].stepsPerSecond


if json {
    print("{\"sgemm_peak_gflops\": \(peak), \"mlp_steps_per_second\": \(mlpRow.stepsPerSecond), \"mlp_gflops\": \(mlpRow.gflops)}")
} else {
    printSgemm(gemmRows, peak)
    print("element-wise, 4 M floats")
    print("  relu: \(String(2 * bytes / reluTime / 1e9, digits: 1)) GB/s, add: \(String(3 * bytes / addTime / 1e9, digits: 1)) GB/s, exp: \(String(Double(big.count) / expTime / 1e9, digits: 2)) G/s")
    print("learned optimisers on the MLP 784-32-10, batch 128 (Swift)")
    for (kind, r) in learnedRows {
        print("  \(kind.padding(8)) meta-training \(String(r.metaTrain, digits: 1)) learner steps/s (unroll 5), meta-testing \(String(r.metaTest, digits: 1)) steps/s = \(String(r.stepSeconds / adamStep, digits: 1)) × an Adam step")
    }
    print("  peak resident memory up to here (sgemm tests, element-wise tests and these runs): \(Int(residentMiB)) MiB")
    print("training steps at batch 128 (forward + backward + optimiser step, Swift)")
    for r in rows {
        let pad = String(repeating: " ", count: max(0, 16 - r.name.count))
        print("  \(r.name)\(pad) \(r.optimiser.padding(4)) \(String(r.stepsPerSecond, digits: 1)) steps/s, GEMM \(String(r.gflops, digits: 1)) GFLOP/s = \(String(100 * r.gflops / peak, digits: 1)) % of peak")
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }

    init(_ v: Double, digits: Int) {
        let scale = Glibc.pow(10, Double(digits))
        let r = (v * scale).rounded() / scale
        self = digits == 0 ? String(Int(r)) : String(r)
    }
}

// MARK: Per-coordinate element-wise ops
/// Prints the best of 200 wall-clock times of the element-wise ops a learned optimiser
/// runs per step on the MLP 784-32-10's 25,450 coordinates (no graph), with the threads set.
func printCoordinateOps() {
    var rng = RNG(seed: 5)
    let g = Tensor.normal([25450, 1], std: 1e-3, rng: &rng), column = Tensor.normal([25450, 1], rng: &rng)
    let state = Tensor.normal([25450, 40], rng: &rng), w = Tensor.normal([20, 1], rng: &rng)
    // MLHF's networks: three tanh features per coordinate into two LSTM layers of 4 units.
    let features = Tensor.normal([25450, 3], rng: &rng), small = Tensor.normal([25450, 8], rng: &rng)
    let (w4, u4, b4) = (Tensor.normal([3, 16], rng: &rng), Tensor.normal([4, 16], rng: &rng), Tensor.normal([16], rng: &rng))
    let ops: [(String, () -> Tensor)] = [
        ("logMagnitudeAndSign [P, 1] -> [P, 2]", { g.logMagnitudeAndSign(p: 10) }),
        ("linearHead [P, 40], [20, 1] -> [P, 1]", { Tensor.linearHead(state, w: w) }),
        ("lstmLayer x [P, 3], H = 4 (MLHF's)", { Tensor.lstmLayer(input: features, state: small, w: w4, u: u4, bias: b4) }),
        ("concatenate 3 × [P, 1] -> [P, 3]", { Tensor.concatenate([column, g, column], axis: 1) }),
        ("softplus [P, 1]", { column.softplus() }),
        ("tanh [P, 1]", { column.tanh() }),
        ("a * b [P, 1]", { column * g }),
        ("a + b [P, 40]", { state + state }),
    ]
    print("per-coordinate ops over 25,450 coordinates, \(Kernels.threads) thread(s) (best of 200)")
    for (name, op) in ops {
        let t = withoutGraph { bestTime(repeats: 200) { _ = op() } }
        print("  \(name.padding(40)) \(String(t * 1e6, digits: 1)) µs")
    }
}

// MARK: Curvature: a Gauss-Newton product and an MLHF step against one gradient evaluation
/// Seconds (best of `repeats`) of one gradient evaluation (training-mode forward and
/// backward), of building a ``GaussNewton`` model of the batch (forward, gradient and the
/// recorded graph of u ↦ Jᵀu), of one product G·v on it, and of one whole MLHF step (the
/// model, RNN_s, RNN_p and PCG with 4 iterations, as used after meta-training), at batch 128.
func curvatureCosts(_ learner: some Learner, repeats: Int) throws -> (gradient: Double, setup: Double, product: Double, mlhf: Double) {
    var rng = RNG(seed: 2)
    let state = learner.initialState(rng: &rng)
    let x = Tensor.normal([128, learner.inputFeatures], rng: &rng)
    let labels = (0..<128).map { _ in Int32(rng.nextInt(below: learner.classes)) }
    let v = learner.parameterSpecs.map { Tensor.normal($0.shape, rng: &rng) }
    _ = Training.lossAndGradients(learner, state, x, .labels(labels))   // warm-up
    let gradient = bestTime(repeats: repeats) { _ = Training.lossAndGradients(learner, state, x, .labels(labels)) }
    var model: GaussNewton?
    let setup = bestTime(repeats: repeats) { model = GaussNewton(learner: learner, state: state, inputs: x, targets: .labels(labels)) }
    _ = model!.product(v)
    let product = bestTime(repeats: repeats) { _ = model!.product(v) }
    let mlhf = try MLHF()
    let session = OptimiserSession(try TrainedMLHF(mlhf, meta: mlhf.initialMetaParameters(rng: &rng),
                                                   kinds: learner.parameterSpecs.map(\.kind)))
    var stepped = state
    var failure: Error?
    let mlhfStep = bestTime(repeats: repeats) {
        do { try session.step(learner, &stepped, inputs: x, targets: .labels(labels)) } catch { failure = error }
    }
    if let failure { throw failure }
    return (gradient, setup, product, mlhfStep)
}

/// Prints the costs above for the MLP and the convnet (text mode only: `--json` output is
/// one object that scripts/bench.sh hands to benchmarks/mlp_python.py).
func printCurvatureCosts() throws {
    let nets: [(String, any Learner, Int)] = [
        ("MLP 784-32-10", try MLP(sizes: [784, 32, 10]), 30),
    ] + (args.contains("--mlp-only") ? [] : [("convnet 28×28", try Convnet(inputShape: [1, 28, 28]), 3)])
    print("Gauss-Newton products at batch 128 (Swift; costs relative to one gradient evaluation)")
    for (name, learner, repeats) in nets {
        let c = try curvatureCosts(learner, repeats: repeats)
        print("  \(name.padding(16)) gradient \(String(c.gradient * 1e3, digits: 2)) ms; G·v \(String(c.product * 1e3, digits: 2)) ms = \(String(c.product / c.gradient, digits: 2)) × a gradient; building the model \(String(c.setup / c.gradient, digits: 2)) ×; an HF step with 10 CG iterations ≈ \(String((c.setup + 10 * c.product) / c.gradient, digits: 1)) ×; one MLHF step (4 CG iterations) \(String(c.mlhf * 1e3, digits: 2)) ms = \(String(c.mlhf / c.gradient, digits: 1)) ×")
    }
}
if !json { try printCurvatureCosts() }

// MARK: The PyTorch peer's measurements (benchmarks/torch_peer.py does the same)
/// Steps per second of Hessian-free on the MLP 784-32-10 at batch 128 (one fixed batch of
/// Fashion-MNIST): the gradient and the Gauss-Newton model, then 4 CG iterations of
/// (G + I)·d = g (4 products, no warm start, no early stop) and θ ← θ − 0.5·d. Best of 3 × 20 steps.
func hessianFreeSpeed() throws -> Double {
    let data = try IDXDataset.fashionMNIST(.train)
    let mlp = try MLP(sizes: [784, 32, 10])
    let session = try Factory.optimiser(kind: "hf_fixed", options: "lr=0.5 lambda=1 cg_iters=4 tol=0 warm_start=0")
    var rng = RNG(seed: 1)
    var state = mlp.initialState(rng: &rng)
    let (x, labels) = data.batch(Array(0..<128)[...])
    func step() { try! session.step(mlp, &state, inputs: x, targets: .labels(labels)) }
    for _ in 0..<3 { step() }
    let n = 20
    return Double(n) / bestTime(repeats: 3) { for _ in 0..<n { step() } }
}

/// Seconds (best of 20) of one LSTM-optimiser step (paper preset, initial φ) without a graph
/// over the 25,450 coordinates of the MLP 784-32-10: gradient preprocessing, the 2×20
/// coordinate-wise LSTM, the head and the update; and the FLOPs of its matrix products.
func lstmForwardTime() throws -> (seconds: Double, flops: Double) {
    let mlp = try MLP(sizes: [784, 32, 10])
    let opt = try Factory.learnedOptimiser(kind: "lstm", options: nil, parameterShapes: mlp.parameterSpecs.map(\.shape))
    var rng = RNG(seed: 4)
    let meta = opt.initialMetaParameters(rng: &rng)
    let parameters = mlp.initialParameters(rng: &rng)
    let gradients = parameters.map { Tensor.normal($0.shape, std: 1e-3, rng: &rng) }
    let state = opt.initialState(for: parameters)
    func step() { _ = withoutGraph { opt.step(meta: meta, parameters: parameters, gradients: gradients, state: state, phase: .metaTesting, inputs: nil) } }
    step()
    // The network's multiply-adds (the LSTM layers' gate products and the head), counted
    // from the shapes: they no longer go through sgemm.
    let lstm = opt as! LSTMOptimiser
    var inputs = lstm.network.inputSize, perCoordinate = 2 * lstm.network.layers.last!
    for units in lstm.network.layers {
        perCoordinate += 2 * 4 * units * (inputs + units)
        inputs = units
    }
    let flops = Double(perCoordinate * parameters.reduce(0) { $0 + $1.count })
    return (bestTime(repeats: 20) { step() }, flops)
}

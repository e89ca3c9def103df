// Prints the machine's sgemm peak and l2l's training throughput.
//
//   swift run -c release l2l-bench [--json] [--steps N]
//   swift run -c release l2l-bench --only lstm [--meta-steps N] [--test-steps N]
//   swift run -c release l2l-bench --only curvature
//   swift run -c release l2l-bench --only engine [--memory-only] [--unroll-optimiser KIND --unroll-steps N]
//
// `--only KIND` measures one learned optimiser (or, with `curvature`, the G·v and MLHF
// costs) and nothing else (the sgemm peak is not measured, so no % of peak): the short run to profile under `valgrind --tool=callgrind`.
// `--meta-steps N` sets the learner steps per meta-training trial (a multiple of 5;
// default 50), and `--test-steps N` the timed meta-testing steps (default 30; 0 skips meta-testing).
// Instructions per meta-training learner step: the difference of two such runs with
// `--test-steps 0` and different `--meta-steps`, divided by twice the difference in steps
// (a warm-up trial and a timed one). `--toggle-collect` would miss the work that
// element-wise kernels hand to Dispatch's worker threads.
//
// Figures: sgemm GFLOP/s on square matrices (OpenBLAS, all cores: the peak we compare
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

/// Best time of `repeats` runs of `body`, in seconds.
func bestTime(repeats: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = now()
        body()
        best = min(best, now() - t0)
    }
    return best
}

let args = CommandLine.arguments
let json = args.contains("--json")
let steps = args.firstIndex(of: "--steps").flatMap { Int(args[$0 + 1]) } ?? 2000
let only = args.firstIndex(of: "--only").map { args[$0 + 1] }
let metaSteps = args.firstIndex(of: "--meta-steps").flatMap { Int(args[$0 + 1]) } ?? 50
let testSteps = args.firstIndex(of: "--test-steps").flatMap { Int(args[$0 + 1]) } ?? 30
if only == "curvature" {
    try printCurvatureCosts()
    exit(0)
}
if only == "engine" {
    let kind = args.firstIndex(of: "--unroll-optimiser").map { args[$0 + 1] }
    let unrollSteps = args.firstIndex(of: "--unroll-steps").flatMap { Int(args[$0 + 1]) } ?? 100
    try printEngineCosts(custom: kind.map { ($0, unrollSteps) }, skipRates: args.contains("--memory-only"))
    exit(0)
}
if let only {
    let r = try learnedSpeed(only)
    print("\(only) meta-training \(String(r.metaTrain, digits: 1)) learner steps/s (unroll 5, GEMM \(String(r.trainGflops, digits: 1)) GFLOP/s), meta-testing \(String(r.metaTest, digits: 1)) steps/s (GEMM \(String(r.gflops, digits: 1)) GFLOP/s)")
    exit(0)
}

// MARK: sgemm peak
var rng = RNG(seed: 0)
var peak = 0.0
var gemmRows = [(Int, Double)]()
for n in [256, 512, 1024, 2048] {
    let a = Tensor.uniform([n, n], rng: &rng), b = Tensor.uniform([n, n], rng: &rng)
    let reps = n >= 2048 ? 3 : 10
    let t = bestTime(repeats: reps) { _ = matmul(a, b) }
    let gflops = 2 * Double(n * n * n) / t / 1e9
    gemmRows.append((n, gflops))
    peak = max(peak, gflops)
}

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

// MARK: Learned optimisers on the MLP 784-32-10 at batch 128
/// Learner steps per second while meta-training (unroll 5) and while meta-testing, the
/// GEMM GFLOP/s of each (every product the network, the learner and the meta-gradient
/// compute goes through sgemm and is counted), and a meta-testing step's time.
func learnedSpeed(_ kind: String) throws -> (metaTrain: Double, trainGflops: Double, metaTest: Double, gflops: Double, stepSeconds: Double) {
    var dataRNG = RNG(seed: 3)
    let data = try Dataset(inputs: Tensor.normal([1024, 784], rng: &dataRNG),
                           labels: (0..<1024).map { _ in Int32(dataRNG.nextInt(below: 10)) }, classes: 10)
    let mlp = try MLP(sizes: [784, 32, 10])
    let task = try MetaTask.checked(learner: mlp, data: data)
    let opt = try Factory.learnedOptimiser(kind: kind, options: nil, parameterShapes: task.parameterShapes)
    var config = MetaTrainingConfig()
    config.steps = metaSteps
    config.trials = 2
    let trainer = try MetaTrainer(opt, tasks: [task], config: config)
    try trainer.run(trials: 1)   // warm-up
    let trainFlops0 = gemmFlopCount
    let trainTime = bestTime(repeats: 1) { try! trainer.run(trials: 1) }
    let metaTrain = Double(config.steps) / trainTime
    let trainGflops = Double(gemmFlopCount - trainFlops0) / trainTime / 1e9
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
    if n == 0 { return (metaTrain, trainGflops, 0, 0, 0) }
    for _ in 0..<3 { step() }
    let flops0 = gemmFlopCount
    let t = bestTime(repeats: 1) { for _ in 0..<n { step() } }
    return (metaTrain, trainGflops, Double(n) / t, Double(gemmFlopCount - flops0) / t / 1e9, t / Double(n))
}
var learnedRows = [(String, (metaTrain: Double, trainGflops: Double, metaTest: Double, gflops: Double, stepSeconds: Double))]()
for kind in ["lstm", "dmsgd", "meta_sgd"] { learnedRows.append((kind, try learnedSpeed(kind))) }
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)

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
    print("sgemm (OpenBLAS, \(Kernels.cores) cores)")
    for (n, g) in gemmRows { print("  \(n)×\(n)×\(n): \(String(g, digits: 1)) GFLOP/s") }
    print("  peak: \(String(peak, digits: 1)) GFLOP/s")
    print("element-wise, 4 M floats")
    print("  relu: \(String(2 * bytes / reluTime / 1e9, digits: 1)) GB/s, add: \(String(3 * bytes / addTime / 1e9, digits: 1)) GB/s, exp: \(String(Double(big.count) / expTime / 1e9, digits: 2)) G/s")
    print("learned optimisers on the MLP 784-32-10, batch 128 (Swift)")
    for (kind, r) in learnedRows {
        print("  \(kind.padding(8)) meta-training \(String(r.metaTrain, digits: 1)) learner steps/s (unroll 5, GEMM \(String(r.trainGflops, digits: 1)) GFLOP/s = \(String(100 * r.trainGflops / peak, digits: 1)) % of peak), meta-testing \(String(r.metaTest, digits: 1)) steps/s = \(String(r.stepSeconds / adamStep, digits: 1)) × an Adam step, GEMM \(String(r.gflops, digits: 1)) GFLOP/s = \(String(100 * r.gflops / peak, digits: 1)) % of peak")
    }
    print("  peak resident memory up to here (sgemm tests, element-wise tests and these runs): \(usage.ru_maxrss / 1024) MiB")
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
        ("convnet 28×28", try Convnet(inputShape: [1, 28, 28]), 3),
    ]
    print("Gauss-Newton products at batch 128 (Swift; costs relative to one gradient evaluation)")
    for (name, learner, repeats) in nets {
        let c = try curvatureCosts(learner, repeats: repeats)
        print("  \(name.padding(16)) gradient \(String(c.gradient * 1e3, digits: 2)) ms; G·v \(String(c.product * 1e3, digits: 2)) ms = \(String(c.product / c.gradient, digits: 2)) × a gradient; building the model \(String(c.setup / c.gradient, digits: 2)) ×; an HF step with 10 CG iterations ≈ \(String((c.setup + 10 * c.product) / c.gradient, digits: 1)) ×; one MLHF step (4 CG iterations) \(String(c.mlhf * 1e3, digits: 2)) ms = \(String(c.mlhf / c.gradient, digits: 1)) ×")
    }
}
if !json { try printCurvatureCosts() }

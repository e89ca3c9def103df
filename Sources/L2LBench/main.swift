// Prints the machine's sgemm peak and l2l's training throughput.
//
//   swift run -c release l2l-bench [--json] [--steps N]
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

// MARK: MLP 784-32-10 training step at batch 128
let mlp = try MLP(sizes: [784, 32, 10])
var state = mlp.initialState(rng: &rng)
let batch = 128
let x = Tensor.normal([batch, 784], rng: &rng)
let labels = (0..<batch).map { _ in Int32(rng.nextInt(below: 10)) }
let sgd = OptimiserSession(try SGD(learningRate: 0.01))
func step() {
    let (_, grads, _) = Training.lossAndGradients(mlp, state, x, .labels(labels))
    try! sgd.step(&state.parameters, gradients: grads)
}
for _ in 0..<100 { step() }   // warm-up
let t = bestTime(repeats: 3) { for _ in 0..<steps { step() } }
let stepsPerSecond = Double(steps) / t
// GEMM work per step: forward x·W1 and h·W2; backward xᵀ·g1, hᵀ·g2 and g2·W2ᵀ (no input gradient).
let (i, h, o) = (784.0, 32.0, 10.0)
let flopsPerStep = 2 * Double(batch) * (i * h + h * o) + 2 * Double(batch) * (i * h + 2 * h * o)
let achieved = flopsPerStep * stepsPerSecond / 1e9

if json {
    print("{\"sgemm_peak_gflops\": \(peak), \"mlp_steps_per_second\": \(stepsPerSecond), \"mlp_gflops\": \(achieved), \"mlp_flops_per_step\": \(flopsPerStep)}")
} else {
    print("sgemm (OpenBLAS, \(Kernels.cores) cores)")
    for (n, g) in gemmRows { print("  \(n)×\(n)×\(n): \(String(g, digits: 1)) GFLOP/s") }
    print("  peak: \(String(peak, digits: 1)) GFLOP/s")
    print("element-wise, 4 M floats")
    print("  relu: \(String(2 * bytes / reluTime / 1e9, digits: 1)) GB/s, add: \(String(3 * bytes / addTime / 1e9, digits: 1)) GB/s, exp: \(String(Double(big.count) / expTime / 1e9, digits: 2)) G/s")
    print("MLP 784-32-10, batch 128, forward + backward + SGD (Swift)")
    print("  \(String(stepsPerSecond, digits: 0)) steps/s (\(String(1e6 / stepsPerSecond, digits: 1)) µs/step)")
    print("  \(String(achieved, digits: 2)) GFLOP/s = \(String(100 * achieved / peak, digits: 1)) % of the sgemm peak")
}

extension String {
    init(_ v: Double, digits: Int) {
        let scale = Glibc.pow(10, Double(digits))
        let r = (v * scale).rounded() / scale
        self = digits == 0 ? String(Int(r)) : String(r)
    }
}

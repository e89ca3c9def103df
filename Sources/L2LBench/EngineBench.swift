// `l2l-bench --only engine`: the meta-training engine's costs on the 784-32-10 MLP at batch
// 128 (random inputs, 10 classes): meta-training rate per gradient estimator, and the peak
// tensor memory and time of second-order BPTT unrolls with and without a memory budget of a
// quarter of the unbudgeted peak (a 100-step unroll of the LSTM optimiser needs more than
// this machine's 24 GiB without one, so it runs with a 2 GiB budget only).
//
//   l2l-bench --only engine [--memory-only] [--unroll-optimiser KIND --unroll-steps N] [--repeats N] [--threads N]
import Glibc
import L2L

/// The MLP task of the engine figures: 784-32-10 on 1,024 random examples.
func engineTask() throws -> MetaTask {
    var rng = RNG(seed: 3)
    let data = try Dataset(inputs: Tensor.normal([1024, 784], rng: &rng),
                           labels: (0..<1024).map { _ in Int32(rng.nextInt(below: 10)) }, classes: 10)
    return try MetaTask.checked(learner: try MLP(sizes: [784, 32, 10]), data: data)
}

/// A trainer of `kind` on the engine task with the given meta-training options.
func engineTrainer(_ kind: String, _ options: String) throws -> MetaTrainer {
    let task = try engineTask()
    var config = try Config(options, context: "bench")
    let made = try MetaTrainingConfig(config: &config)
    try config.finish()
    let opt = try Factory.learnedOptimiser(kind: kind, options: nil, parameterShapes: task.parameterShapes)
    return try MetaTrainer(opt, tasks: [task], config: made)
}

/// The estimator rates (unless `skipRates`), then the memory figures: Meta-SGD over 100
/// steps and the LSTM optimiser over 10 without and with a quarter budget, and the LSTM
/// optimiser over 100 steps with a 2 GiB budget; or only `custom` (without and with).
func printEngineCosts(custom: (kind: String, steps: Int)?, skipRates: Bool) throws {
    setvbuf(stdout, nil, _IOLBF, 0)
    print("meta-training rate per estimator, MLP 784-32-10, batch 128, unroll 5, 50 steps per trial (one warm-up trial, "
          + "the best of \(repeats) timed) on \(Kernels.threads) thread\(Kernels.threads == 1 ? "" : "s") (ES/PES: particles side by side)")
    print("  optimiser  estimator            meta-updates/s  learner steps/s (trained learners)  unrolled steps/s (all particles)")
    for kind in (skipRates ? [] : ["lstm", "meta_sgd"]) {
        for (name, options, particles) in [("bptt", "", 1), ("es, 8 pairs", "estimator=es es_pairs=8", 17),
                                           ("pes, 8 pairs", "estimator=pes es_pairs=8", 16)] {
            let trainer = try engineTrainer(kind, "trials=\(1 + repeats) steps=50 " + options)
            try trainer.run(trials: 1)
            let t = bestTime(repeats: repeats) { try! trainer.run(trials: 1) }
            print("  \(kind.padding(10)) \(name.padding(20)) \(String(10 / t, digits: 2).padding(15)) \(String(50 / t, digits: 1).padding(35)) \(String(Double(50 * particles) / t, digits: 1))")
        }
    }

    print("second-order BPTT through one unroll (one meta-gradient); peak tensor memory above the start, batches included")
    if let custom { try printUnrollMemory(custom.kind, steps: custom.steps) } else {
        try printUnrollMemory("meta_sgd", steps: 100)
        try printUnrollMemory("lstm", steps: 10)
        // Unbudgeted, 100 steps of the LSTM optimiser need ~10× the 10-step peak: more than 24 GiB.
        try printUnrollMemory("lstm", steps: 100, budgetOnly: 2 << 30)
    }
}

/// Time and peak tensor memory of a second-order `steps`-step unroll of `kind` without a
/// budget and with a quarter of that peak as budget — or only with `budgetOnly`.
func printUnrollMemory(_ kind: String, steps: Int, budgetOnly: Int? = nil) throws {
    func run(budget: Int?) throws -> (seconds: Double, peak: Int, segment: Int?) {
        let trainer = try engineTrainer(kind, "trials=1 steps=\(steps) unroll=\(steps) second_order=1" + (budget.map { " memory_budget=\($0)" } ?? ""))
        BufferCache.resetPeak()
        let start = BufferCache.liveBytes
        let t = bestTime(repeats: 1) { try! trainer.run() }
        return (t, BufferCache.peakLiveBytes - start, trainer.segmentSteps)
    }
    func mib(_ bytes: Int) -> String { String(Double(bytes) / 1_048_576, digits: 1) }
    let label = "  \(kind.padding(9)) \(String(steps).padding(3)) steps"
    let budget: Int
    if let budgetOnly {
        budget = budgetOnly
    } else {
        let plain = try run(budget: nil)
        print("\(label), no budget:            \(String(plain.seconds, digits: 2)) s, peak \(mib(plain.peak)) MiB")
        budget = plain.peak / 4
    }
    let budgeted = try run(budget: budget)
    print("\(label), budget \(mib(budget).padding(8)) MiB: \(String(budgeted.seconds, digits: 2)) s, peak \(mib(budgeted.peak)) MiB, segments of \(budgeted.segment.map(String.init) ?? "?") steps")
}

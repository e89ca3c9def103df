// The MLHF paper's experiments on real Fashion-MNIST (Chen et al., "Meta-learning with
// Hessian-free approach"), at a size that runs in minutes on 2 cores:
//
//   1. Ablation (the paper's Fig. 4): l_p and ‖r‖ over meta-training for
//      (1) no RNN_p, 20 CG iterations; (2) no RNN_p, 4; (3) RNN_p, 2; (4) RNN_p, 4.
//   2. Meta-test: MLHF (configuration 4) against SGD with momentum, Adam, RMSprop,
//      HF(Fixed) and HF(LM) on fresh convnets: training loss against samples and wall time,
//      test accuracy, and MLHF's cost per iteration relative to SGD's.
//   3. Generalisation: the same MLHF on ResNet20 (batch norm: its γ/β networks were never
//      trained on the convnet, which has none).
//
//   swift run -c release l2l-mlhf-experiments [--data DIR] [--out DIR] [--iterations N]
//       [--test-steps N] [--learners N] [--resnet-steps N] [--paper-net] [--only 1,2,3,4]
//       [--mlhf-options TEXT]
//
// The convnet is conv 5×5 8 → pool → conv 5×5 16 → pool → 32 → 10 (ReLU); --paper-net
// uses the paper's CUDA-convnet widths (64, 64, 384, 192), about 10× slower. MLHF is
// meta-trained and meta-tested at batch 128, so lr = b_tr/b_mt = 1 (the paper meta-trained
// at 64 and tested at 128 with lr 2; after our short meta-training lr 2 diverged, see
// docs/hessian-free.md). --mlhf-options sets MLHF's options when used ('|' separates
// several to compare).
// Every table is also written as CSV under --out (default examples/out/mlhf), with the
// meta-trained MLHF (configuration 4) as mlhf.safetensors;
// `python3 examples/plot_mlhf.py` draws the figures from them.
import Foundation
import L2L

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}

func intOption(_ name: String, _ fallback: Int) -> Int { option(name).flatMap { Int($0) } ?? fallback }

func write(_ text: String, to path: String) throws {
    guard let f = fopen(path, "w") else { throw L2LError(.io, "cannot write \(path)") }
    defer { fclose(f) }
    fputs(text, f)
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// A CSV field: quoted, since names contain commas.
func csvField(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

func mean(_ xs: some Collection<Float>) -> Float { xs.isEmpty ? .nan : xs.reduce(0, +) / Float(xs.count) }

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

setvbuf(stdout, nil, _IOLBF, 0)   // progress lines appear as they are printed, even into a file
do {
    let out = option("--out") ?? "examples/out/mlhf"
    _ = mkdir("examples/out", 0o755)
    _ = mkdir(out, 0o755)
    let iterations = intOption("--iterations", 40)
    let testSteps = intOption("--test-steps", 300)
    let learners = intOption("--learners", 2)
    let resnetSteps = intOption("--resnet-steps", 40)

    let rawTrain = try IDXDataset.fashionMNIST(.train, directory: option("--data"))
    let rawTest = try IDXDataset.fashionMNIST(.test, directory: option("--data"))
    let (mu, sigma) = rawTrain.statistics()
    let train = try rawTrain.standardized(mean: mu, std: sigma)
    let test = try rawTest.standardized(mean: mu, std: sigma)
    let paperNet = CommandLine.arguments.contains("--paper-net")
    let convnet = try Convnet(inputShape: [1, 28, 28], channels: paperNet ? [64, 64] : [8, 16], hidden: paperNet ? [384, 192] : [32])
    let weights = convnet.parameterSpecs.reduce(0) { $0 + $1.count }
    print("MLHF on Fashion-MNIST: convnet \(convnet.channels) + \(convnet.hidden) (\(weights) weights)")

    // 1. Ablation.
    print("\n1. Ablation: \(iterations) meta-iterations × T = 10 steps, batch 128, Adam 1e-3 (the paper's Fig. 4)")
    let only = option("--only").map { Set($0.split(separator: ",").map(String.init)) }
    // MLHF's options when used (several, separated by '|', to compare them).
    let testOptions = (option("--mlhf-options") ?? "cg_iters=4").split(separator: "|").map(String.init)
    let allConfigurations = [("1: no RNN_p, 20 CG", "preconditioner=none cg_iters=20"),
                          ("2: no RNN_p, 4 CG", "preconditioner=none cg_iters=4"),
                          ("3: RNN_p, 2 CG", "cg_iters=2"),
                          ("4: RNN_p, 4 CG", "cg_iters=4")]
    let configurations = allConfigurations.filter { only?.contains(String($0.0.prefix(1))) ?? true }
    var config = MLHFTrainingConfig()
    config.iterations = iterations
    config.batchSize = 128
    var ablationCSV = "configuration,iteration,l_p,residual_norm,l_s,training_loss,damping\n"
    var trained: MLHFTrainer? = nil
    print("configuration          l_p first→last 10 %     mean ‖r‖ first→last 10 %   held-out l_p before→after   seconds")
    for (name, options) in configurations {
        let trainer = try MLHFTrainer(try MLHF(options: options), learner: convnet, data: train, config: config)
        let before = try trainer.evaluate(unrolls: 2)
        let start = now()
        try trainer.run()
        let seconds = now() - start
        let after = try trainer.evaluate(unrolls: 2)
        let h = trainer.history, k = max(1, h.count / 10)
        for (i, r) in h.enumerated() {
            ablationCSV += "\(csvField(name)),\(i),\(r.preconditionLoss),\(r.residualNorm),\(r.dampingLoss),\(r.trainingLoss),\(r.damping)\n"
        }
        print(pad(name, 22), String(format: "%8.4f → %8.4f        %9.5f → %9.5f      %8.4f → %8.4f     %6.0f",
                                    mean(h.prefix(k).map(\.preconditionLoss)), mean(h.suffix(k).map(\.preconditionLoss)),
                                    mean(h.prefix(k).map(\.residualNorm)), mean(h.suffix(k).map(\.residualNorm)),
                                    before.preconditionLoss, after.preconditionLoss, seconds),
              trainer.events.isEmpty ? "" : "(\(trainer.events.count) events)")
        if options == "cg_iters=4" { trained = trainer }
    }
    try write(ablationCSV, to: "\(out)/ablation.csv")

    // 2. Meta-test on fresh convnets.
    guard let mlhfTrainer = trained else {
        print("\n(configuration 4 was not run: no meta-test)")
        exit(0)
    }
    try MLHFFile(mlhfTrainer.mlhf, meta: mlhfTrainer.meta).write(to: "\(out)/mlhf.safetensors")
    let mlhfRuns: [(String, () throws -> OptimiserSession)] = try testOptions.map { options in
        let tested = try TrainedMLHF(try MLHF(options: options), meta: mlhfTrainer.meta, kinds: convnet.parameterSpecs.map(\.kind))
        return ("MLHF (\(options))", { OptimiserSession(tested) })
    }
    let baselines: [(String, () throws -> OptimiserSession)] = [
        ("SGD momentum (lr 1e-3, 0.9)", { try Factory.optimiser(kind: "momentum", options: "lr=0.001") }),
        ("Adam (lr 1e-3)", { try Factory.optimiser(kind: "adam", options: "lr=0.001") }),
        ("RMSprop (lr 1e-3, 0.99)", { try Factory.optimiser(kind: "rmsprop", options: "lr=0.001") }),
        ("HF(Fixed) (defaults)", { try Factory.optimiser(kind: "hf_fixed", options: nil) }),
        ("HF(LM) (defaults)", { try Factory.optimiser(kind: "hf_lm", options: nil) }),
    ] + mlhfRuns
    func metaTest(_ learner: some Learner, steps: Int, _ runs: [(String, () throws -> OptimiserSession)], file: String) throws {
        var csv = "optimiser,step,samples,seconds,training_loss\n"
        var sgdSeconds = Double.nan
        print("optimiser                     train loss (last 10 %)   test accuracy   s/step   × SGD")
        for (name, make) in runs {
            let r = try MetaTester.run(make, learner: learner, train: train, test: test, learners: learners, steps: steps,
                                       batchSize: 128, evaluationSteps: [steps], seed: 2)
            let curve = r.meanTrainingLoss
            for (i, l) in curve.enumerated() {
                csv += "\(csvField(name)),\(i + 1),\((i + 1) * 128),\(Double(i + 1) * r.secondsPerStep),\(l)\n"
            }
            if name.hasPrefix("SGD") { sgdSeconds = r.secondsPerStep }
            let (acc, std) = r.finalAccuracy
            print(pad(name, 29), String(format: "%8.4f               %6.2f ± %4.2f   %6.3f  %5.1f",
                                        mean(curve.suffix(max(1, curve.count / 10))), 100 * acc, 100 * std,
                                        r.secondsPerStep, r.secondsPerStep / sgdSeconds))
        }
        try write(csv, to: "\(out)/\(file)")
    }
    print("\n2. Meta-test: \(learners) fresh convnets × \(testSteps) steps, batch 128")
    try metaTest(convnet, steps: testSteps, baselines, file: "metatest_convnet.csv")

    // 3. Generalisation to ResNet20.
    let resnet = try ResNet(inputShape: [1, 28, 28])
    let resnetMLHF = try TrainedMLHF(try MLHF(options: testOptions[0]), meta: mlhfTrainer.meta,
                                     kinds: resnet.parameterSpecs.map(\.kind))
    print("\n3. Generalisation: the convnet-trained MLHF on ResNet20 (\(resnet.parameterSpecs.reduce(0) { $0 + $1.count }) weights), "
          + "\(learners) learners × \(resnetSteps) steps")
    let resnetRuns: [(String, () throws -> OptimiserSession)] = [
        baselines[0], baselines[1], ("MLHF (\(testOptions[0]))", { OptimiserSession(resnetMLHF) }),
    ]
    try metaTest(resnet, steps: resnetSteps, resnetRuns, file: "metatest_resnet20.csv")
    print("\nCSV files in \(out); plots: python3 examples/plot_mlhf.py --dir \(out)")
} catch {
    print("error: \(error)")
    exit(1)
}

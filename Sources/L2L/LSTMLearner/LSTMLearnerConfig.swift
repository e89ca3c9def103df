/// What the separator flag does on the test part of a sequence.
public enum TestUpdates: String, CaseIterable, Sendable {
    /// The flag switches updates off: on test steps the model only predicts and its weights
    /// stay as the training part left them (the default; the reading of the paper).
    case off
    /// The flag is only an input, as in the paper's architecture ("nothing forbids the
    /// learner to keep modifying the parameters"): the learner runs on test steps too, with
    /// the target input zeroed, and may learn to leave the weights alone.
    case learned
}

/// The settings of an ``LSTMLearner`` (Bosc 2016): the sizes of the model and of the gate
/// network, the initial gate biases, and how meta-training draws its sequences.
///
/// Defaults, where the paper is silent (its formulas and sizes did not survive in our copy,
/// and no code was published):
/// - the model is the paper's d-32-1 MLP, d = 10 (``BinaryXORDatasets``' default);
/// - the gate network's two ReLU layers have **64 and 64** units (measured on this machine
///   on the example's data, threshold spread 0.5: test-part cross-entropy on 50 fresh data
///   sets 0.651 after 4000 meta-iterations, against 0.657 with 128 and 64, and 0.674 after
///   3000 with 40 and 20);
/// - the gate biases start at **+6** for the forget gate (σ(6) ≈ 0.9975: the prior survives
///   a sequence of 100 training steps at 78 %) and **−4** for the input gate (σ(−4) ≈ 0.018:
///   the first updates are small), so meta-training starts near "keep the prior" (measured
///   as above: an input bias of −2 gave 0.656 against 0.651);
/// - SMORMS3's learning rate is **3e-3** (measured as above: 1e-2 gave 0.661; with gate
///   layers of 40 and 20, 1e-3, 3e-3 and 1e-2 ended within 0.001 of each other);
/// - each meta-training sequence is a fresh data set of the XOR family (noise λ = 1, 200
///   samples) whose first ⌊f·n⌉ samples form the training part, f ~ U[**0.2, 0.8**].
public struct LSTMLearnerConfig: Equatable, Sendable {
    /// Hidden ReLU units of the model (the paper: 32).
    public var hidden = 32
    /// Widths of the gate network's two (or more) ReLU layers.
    public var gateSizes = [64, 64]
    /// Initial bias of every forget-gate pre-activation.
    public var forgetBias: Float = 6
    /// Initial bias of every input-gate pre-activation.
    public var inputBias: Float = -4
    /// Whether the flag stops updates on the test part.
    public var testUpdates: TestUpdates = .off
    /// The data sets of meta-training; its `dimension` is the model's input size d.
    public var data = BinaryXORDatasets()
    /// The smallest and largest fraction of a sequence that is its training part.
    public var trainFractions: ClosedRange<Float> = 0.2...0.8
    /// SMORMS3's learning rate on the meta-parameters.
    public var metaLearningRate: Float = 3e-3
    /// How meta-gradients are limited before the SMORMS3 step.
    public var clip: MetaGradientClip = .none
    /// Consecutive skipped (non-finite) meta-steps before the meta-parameters roll back.
    public var rollbackAfter = 3
    /// Seeds the initialisation and every sequence drawn in meta-training.
    public var seed: UInt64 = 0

    /// The defaults.
    public init() {}

    /// Model input size d (the data's dimension).
    public var dimension: Int { data.dimension }

    /// Options: `dimension`, `hidden`, `gate_sizes` (comma-separated), `forget_bias`,
    /// `input_bias`, `test_updates=off|learned`, the data options of
    /// ``BinaryXORDatasets/init(config:)`` (`samples`, `noise_scale`, `minimum_balance`,
    /// `maximum_attempts`, `threshold_spread`), `train_min`, `train_max` (fractions),
    /// `meta_lr`, `clip=none|value|norm`, `clip_at`, `rollback_after`, `seed`.
    public init(config: inout Config) throws {
        hidden = try config.int("hidden", default: hidden, range: 1...4096)
        gateSizes = try config.ints("gate_sizes") ?? gateSizes
        guard !gateSizes.isEmpty, gateSizes.allSatisfy({ (1...4096).contains($0) }) else {
            throw L2LError.invalid("lstm_learner: gate_sizes must be one or more widths in 1...4096, got \(gateSizes)")
        }
        forgetBias = try config.float("forget_bias", default: forgetBias, range: -50...50)
        inputBias = try config.float("input_bias", default: inputBias, range: -50...50)
        testUpdates = try config.choice("test_updates", default: TestUpdates.off,
                                        Dictionary(uniqueKeysWithValues: TestUpdates.allCases.map { ($0.rawValue, $0) }))
        data = try BinaryXORDatasets(config: &config)
        guard (1...4096).contains(data.dimension), (2...1_000_000).contains(data.samples) else {
            throw L2LError.invalid("lstm_learner: dimension must be in 1...4096 and samples in 2...1000000, got \(data.dimension) and \(data.samples)")
        }
        trainFractions = try LSTMLearnerConfig.trainFractions(&config, defaults: trainFractions)
        metaLearningRate = try config.float("meta_lr", default: metaLearningRate, range: 0...10)
        clip = try MetaGradientClip(config: &config)
        rollbackAfter = try config.int("rollback_after", default: rollbackAfter, range: 1...1000)
        seed = UInt64(try config.int("seed", default: 0, range: 0...Int.max))
    }

    /// The options `train_min` and `train_max` (fractions in [0, 1], min ≤ max); absent
    /// keys keep the bounds of `defaults`.
    static func trainFractions(_ config: inout Config, defaults: ClosedRange<Float>) throws -> ClosedRange<Float> {
        let low = try config.float("train_min", default: defaults.lowerBound, range: 0...1)
        let high = try config.float("train_max", default: defaults.upperBound, range: 0...1)
        guard low <= high else { throw L2LError.invalid("\(config.context): train_min (\(low)) exceeds train_max (\(high))") }
        return low...high
    }

    /// Parses an options text (see ``init(config:)``); unknown keys are errors.
    public init(options: String?) throws {
        self = try Factory.build("lstm_learner", options) { try LSTMLearnerConfig(config: &$0) }
    }

    /// The options text that rebuilds this configuration.
    public var options: String {
        var parts = ["hidden=\(hidden)", "gate_sizes=\(gateSizes.map(String.init).joined(separator: ","))",
                     "forget_bias=\(forgetBias)", "input_bias=\(inputBias)", "test_updates=\(testUpdates.rawValue)",
                     data.options, "train_min=\(trainFractions.lowerBound)", "train_max=\(trainFractions.upperBound)",
                     "meta_lr=\(metaLearningRate)"]
        parts += clip.options
        parts += ["rollback_after=\(rollbackAfter)", "seed=\(seed)"]
        return parts.joined(separator: "; ")
    }

    /// The training-part length of a sequence of `n` samples at fraction `f`: ⌊f·n⌉ kept
    /// within 1...n − 1, so both parts are non-empty.
    func trainCount(samples n: Int, fraction f: Float) -> Int {
        Swift.min(n - 1, Swift.max(1, Int((f * Float(n)).rounded())))
    }
}

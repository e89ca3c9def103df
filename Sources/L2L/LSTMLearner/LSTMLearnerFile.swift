/// LSTM learners as `.safetensors` files: φ under its names (`prior`, `gates.fc<l>.weight`,
/// `gates.fc<l>.bias`) with the shared metadata of every l2l file of meta-parameters
/// (format tag, kind `lstm_learner`, the options text of the configuration, library
/// version, CRC-32; see `MetaParameterFile`). The SMORMS3 state and the history are not
/// stored: a loaded learner meta-trains on with a fresh meta-optimiser, drawing its
/// sequences from the configuration's seed again.
extension LSTMLearner {
    static let fileKind = "lstm_learner"

    /// Writes φ and the configuration to `path` (through a temporary file, then renamed).
    /// Throws `.io` if it cannot be written.
    public func save(to path: String) throws {
        try MetaParameterFile.make(kind: LSTMLearner.fileKind, options: config.options,
                                   specs: LSTMLearner.metaSpecs(model: model, gates: gates), meta: meta).write(to: path)
    }

    /// A learner read from `path`. Throws `.io` for a missing file, `.format` for a
    /// truncated, altered or foreign file.
    public static func load(from path: String) throws -> LSTMLearner {
        let reader = try MetaParameterFile.Reader(path)
        let kind = try reader.field("kind")
        guard kind == fileKind else {
            throw L2LError.format("'\(path)': not an LSTM learner (kind '\(kind)')")
        }
        let config = try reader.build { _, options in try LSTMLearnerConfig(options: options) }
        let (model, gates) = try networks(config)
        let meta = try reader.meta(metaSpecs(model: model, gates: gates), owner: "lstm_learner")
        return try LSTMLearner(config: config, meta: meta, rng: RNG(seed: config.seed))
    }
}

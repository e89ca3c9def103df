/// Few-shot meta-learners as `.safetensors` files: φ under its names (`init.<parameter>`,
/// and `lr.<parameter>` for Meta-SGD) with the shared metadata of every l2l file of
/// meta-parameters (format tag, kind `fewshot`, the options text of the configuration,
/// library version, CRC-32; see `MetaParameterFile`). The learner itself is not stored: a
/// file loads onto a learner of the same parameter shapes. The meta-optimiser's state and
/// the history are not stored either: a loaded meta-learner meta-trains on with a fresh Adam.
extension FewShotLearner {
    static let fileKind = "fewshot"

    /// Writes φ and the configuration to `path` (through a temporary file, then renamed).
    /// Throws `.io` if it cannot be written.
    public func save(to path: String) throws {
        try MetaParameterFile.make(kind: FewShotLearner.fileKind, options: config.options,
                                   specs: FewShotLearner.metaSpecs(learner, config.method), meta: meta).write(to: path)
    }

    /// A meta-learner read from `path` for `learner`, whose parameter shapes must be those
    /// φ was saved with. Throws `.io` for a missing file, `.format` for a truncated, altered
    /// or foreign file, or one saved for other shapes.
    public static func load(from path: String, learner: any Learner) throws -> FewShotLearner {
        let reader = try MetaParameterFile.Reader(path)
        let kind = try reader.field("kind")
        guard kind == fileKind else {
            throw L2LError.format("'\(path)': not a few-shot meta-learner (kind '\(kind)')")
        }
        let config = try reader.build { _, options in try FewShotConfig(options: options) }
        let meta = try reader.meta(metaSpecs(learner, config.method), owner: "few-shot learner")
        return try FewShotLearner(learner: learner, config: config, meta: meta, rng: RNG(seed: config.seed))
    }
}

/// Saving and loading ``MLHF`` with its meta-parameters φ as `.safetensors`: the learned
/// optimiser file format (``MetaParameterFile``) with kind `mlhf` — φ's tensors under
/// their spec names (`s.fc_weight.lstm0.w`, …), and in the metadata the options text that
/// rebuilds the MLHF, the library version and a CRC-32 of the data. An MLHF fits learners of
/// any shape, so unlike ``LearnedOptimiserFile`` no learner shapes are stored.
///
/// ```swift
/// try MLHFFile(trainer.mlhf, meta: trainer.meta).write(to: "mlhf.safetensors")
/// let loaded = try MLHFFile.read("mlhf.safetensors")
/// let optimiser = try TrainedMLHF(loaded.mlhf, meta: loaded.meta, kinds: kinds)
/// ```
public struct MLHFFile {
    /// The file's `kind`.
    public static let kind = "mlhf"

    public let mlhf: MLHF
    public let meta: [Tensor]

    /// Fails unless `meta` fits `mlhf` (``MLHF/validate(meta:)``).
    public init(_ mlhf: MLHF, meta: [Tensor]) throws {
        try mlhf.validate(meta: meta)
        self.mlhf = mlhf
        self.meta = meta.map { $0.detached() }
    }

    /// The MLHF as a safetensors file.
    public var safetensors: SafetensorsFile {
        MetaParameterFile.make(kind: Self.kind, options: mlhf.options, specs: mlhf.metaParameterSpecs, meta: meta)
    }

    /// Writes the file atomically (to `path`.tmp, then renamed).
    public func write(to path: String) throws { try safetensors.write(to: path) }

    /// Reads and checks a file written by ``write(to:)``: format tag, kind `mlhf`, options,
    /// every tensor's name and shape, finiteness and the checksum. `.io` if the file cannot
    /// be read, `.format` for anything else wrong — truncated, altered, another kind of file,
    /// or a learned optimiser of another kind.
    public static func read(_ path: String) throws -> MLHFFile {
        let reader = try MetaParameterFile.Reader(path)
        let kind = try reader.field("kind")
        guard kind == Self.kind else {
            throw L2LError.format("'\(path)' holds a learned optimiser of kind '\(kind)', not MLHF: load it as a learned optimiser")
        }
        let mlhf = try reader.build { _, options in try MLHF(options: options) }
        return try MLHFFile(mlhf, meta: try reader.meta(mlhf.metaParameterSpecs, owner: "mlhf"))
    }
}

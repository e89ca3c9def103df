/// Saving and loading learned optimisers as `.safetensors` (``MetaParameterFile``: φ's
/// tensors under their spec names; kind, options, library version and CRC-32 in the
/// metadata), plus the learner parameter shapes the optimiser was built for.
public struct LearnedOptimiserFile {
    public let optimiser: any LearnedOptimiser
    public let meta: [Tensor]

    public init(_ optimiser: any LearnedOptimiser, meta: [Tensor]) throws {
        try optimiser.validate(meta: meta)
        self.optimiser = optimiser
        self.meta = meta.map { $0.detached() }
    }

    /// The learner parameter shapes as text, e.g. `784x32;32;32x10;10`.
    static func shapesText(_ shapes: [[Int]]) -> String { shapes.map { $0.map(String.init).joined(separator: "x") }.joined(separator: ";") }

    static func parseShapes(_ text: String) throws -> [[Int]] {
        if text.isEmpty { return [] }
        return try text.split(separator: ";", omittingEmptySubsequences: false).map { part in
            if part.isEmpty { return [] }
            let dims = part.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard dims.allSatisfy({ $0 != nil && $0! >= 1 }), Shape.checkedCount(dims.map { $0! }) != nil else {
                throw L2LError.format("bad parameter shapes '\(text)'")
            }
            return dims.map { $0! }
        }
    }

    /// The optimiser as a safetensors file (``MetaParameterFile``'s fields, and the learner
    /// shapes as `parameter_shapes`).
    public func safetensors(parameterShapes: [[Int]]) -> SafetensorsFile {
        MetaParameterFile.make(kind: optimiser.kind, options: optimiser.options, specs: optimiser.metaParameterSpecs,
                               meta: meta, extra: ["parameter_shapes": Self.shapesText(parameterShapes)])
    }

    /// Writes the file atomically. `parameterShapes` are those of the learner the optimiser
    /// was built for (empty for coordinate-wise optimisers that fit any learner).
    public func write(to path: String, parameterShapes: [[Int]]) throws {
        try safetensors(parameterShapes: parameterShapes).write(to: path)
    }

    /// Reads and checks a file written by ``write(to:parameterShapes:)``: format tag, kind,
    /// options, every tensor's name and shape, finiteness and the checksum. An MLHF file
    /// (kind `mlhf`) is refused: ``MLHFFile/read(_:)`` reads it.
    public static func read(_ path: String) throws -> (file: LearnedOptimiserFile, parameterShapes: [[Int]]) {
        let reader = try MetaParameterFile.Reader(path)
        guard try reader.field("kind") != MLHFFile.kind else {
            throw L2LError.format("'\(path)' holds MLHF meta-parameters (kind 'mlhf'), not one of the learned optimisers "
                                  + "\(Factory.learnedOptimiserKinds.joined(separator: ", ")): load it as MLHF")
        }
        let shapes = try parseShapes(try reader.field("parameter_shapes"))
        let optimiser = try reader.build { kind, options in
            try Factory.learnedOptimiser(kind: kind, options: options, parameterShapes: shapes)
        }
        let meta = try reader.meta(optimiser.metaParameterSpecs, owner: optimiser.kind)
        return (try LearnedOptimiserFile(optimiser, meta: meta), shapes)
    }
}

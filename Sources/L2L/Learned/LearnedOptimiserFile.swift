import CZlib

/// Saving and loading learned optimisers as `.safetensors`: φ's tensors under their spec
/// names, and in the metadata the kind, the options that rebuild it, the learner
/// parameter shapes it was built for, the library version, and a CRC-32 of the tensor data
/// (the format itself has no checksum, so an altered value would otherwise load silently).
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
            let dims = part.split(separator: "x").map { Int($0) }
            guard dims.allSatisfy({ $0 != nil && $0! >= 0 }) else { throw L2LError.format("bad parameter shapes '\(text)'") }
            return dims.map { $0! }
        }
    }

    /// The optimiser as a safetensors file.
    public func safetensors(parameterShapes: [[Int]]) -> SafetensorsFile {
        let tensors = zip(optimiser.metaParameterSpecs, meta).map { (name: $0.name, tensor: $1) }
        return SafetensorsFile(tensors: tensors, metadata: [
            "format": "l2l.learned_optimiser",
            "kind": optimiser.kind,
            "options": optimiser.options,
            "parameter_shapes": Self.shapesText(parameterShapes),
            "l2l_version": Library.version,
            "crc32": String(dataChecksum(meta)),
        ])
    }

    /// Writes the file atomically. `parameterShapes` are those of the learner the optimiser
    /// was built for (empty for coordinate-wise optimisers that fit any learner).
    public func write(to path: String, parameterShapes: [[Int]]) throws {
        try safetensors(parameterShapes: parameterShapes).write(to: path)
    }

    /// Reads and checks a file written by ``write(to:parameterShapes:)``: format tag, kind,
    /// options, every tensor's name and shape, finiteness and the checksum.
    public static func read(_ path: String) throws -> (file: LearnedOptimiserFile, parameterShapes: [[Int]]) {
        let file = try SafetensorsFile(contentsOf: path)
        func field(_ key: String) throws -> String {
            guard let v = file.metadata[key] else { throw L2LError.format("'\(path)': not an l2l learned optimiser (metadata lacks '\(key)')") }
            return v
        }
        guard try field("format") == "l2l.learned_optimiser" else {
            throw L2LError.format("'\(path)': not an l2l learned optimiser (format '\(file.metadata["format"] ?? "")')")
        }
        let shapes = try parseShapes(try field("parameter_shapes"))
        let optimiser: any LearnedOptimiser
        do {
            optimiser = try Factory.learnedOptimiser(kind: try field("kind"), options: try field("options"), parameterShapes: shapes)
        } catch let e as L2LError where e.kind == .invalidArgument {
            throw L2LError.format("'\(path)': its kind and options do not make an optimiser: \(e.message)")
        }
        let specs = optimiser.metaParameterSpecs
        guard file.tensors.count == specs.count else {
            throw L2LError.format("'\(path)': \(optimiser.kind) needs \(specs.count) tensors, the file has \(file.tensors.count)")
        }
        let meta = try specs.map { try file.tensor($0.name, shape: $0.shape) }
        guard meta.allSatisfy(\.isFinite) else { throw L2LError.format("'\(path)': a meta-parameter is NaN or infinite") }
        guard try field("crc32") == String(dataChecksum(meta)) else {
            throw L2LError.format("'\(path)': tensor data do not match their checksum (the file was altered)")
        }
        return (try LearnedOptimiserFile(optimiser, meta: meta), shapes)
    }
}

/// CRC-32 of the tensors' bytes, in order.
func dataChecksum(_ tensors: [Tensor]) -> UInt {
    var crc = crc32(0, nil, 0)
    for t in tensors {
        t.withUnsafeBufferPointer { buf in
            crc = crc32(crc, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self), UInt32(buf.count * 4))
        }
    }
    return UInt(crc)
}

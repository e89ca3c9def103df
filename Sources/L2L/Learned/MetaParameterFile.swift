import CZlib

/// What every l2l file of meta-parameters φ shares (``LearnedOptimiserFile``, ``MLHFFile``):
/// a `.safetensors` file with φ's tensors under their spec names and, in the metadata, the
/// format tag `l2l.learned_optimiser`, the kind, the options text that rebuilds it, the
/// library version and a CRC-32 of the tensor data (the format itself has no checksum, so
/// an altered value would otherwise load silently). A kind may add metadata of its own.
enum MetaParameterFile {
    static let format = "l2l.learned_optimiser"

    /// φ of `kind` as a safetensors file; `extra` metadata go beside the shared fields.
    static func make(kind: String, options: String, specs: [MetaParameterSpec], meta: [Tensor],
                     extra: [String: String] = [:]) -> SafetensorsFile {
        let shared = [
            "format": format,
            "kind": kind,
            "options": options,
            "l2l_version": Library.version,
            "crc32": String(dataChecksum(meta)),
        ]
        return SafetensorsFile(tensors: zip(specs, meta).map { (name: $0.name, tensor: $1) },
                               metadata: extra.merging(shared) { _, fixed in fixed })
    }

    /// A file read from disk with its format tag checked; each kind's reader goes on from here.
    struct Reader {
        let path: String
        let file: SafetensorsFile

        init(_ path: String) throws {
            self.path = path
            file = try SafetensorsFile(contentsOf: path)
            guard try field("format") == MetaParameterFile.format else {
                throw L2LError.format("'\(path)': not an l2l learned optimiser (format '\(file.metadata["format"] ?? "")')")
            }
        }

        /// A metadata value the file must have.
        func field(_ key: String) throws -> String {
            guard let v = file.metadata[key] else {
                throw L2LError.format("'\(path)': not an l2l learned optimiser (metadata lacks '\(key)')")
            }
            return v
        }

        /// What `make` builds from the file's kind and options; options it rejects make the
        /// file bad (`.format`), not the caller's argument.
        func build<T>(_ make: (_ kind: String, _ options: String) throws -> T) throws -> T {
            let kind = try field("kind"), options = try field("options")
            do {
                return try make(kind, options)
            } catch let e as L2LError where e.kind == .invalidArgument {
                throw L2LError.format("'\(path)': its kind and options do not make an optimiser: \(e.message)")
            }
        }

        /// φ laid out as `specs` say: exactly those tensors with those shapes, finite, and
        /// matching the checksum. `owner` names what φ belongs to in messages.
        func meta(_ specs: [MetaParameterSpec], owner: String) throws -> [Tensor] {
            guard file.tensors.count == specs.count else {
                throw L2LError.format("'\(path)': \(owner) needs \(specs.count) tensors, the file has \(file.tensors.count)")
            }
            let meta = try specs.map { try file.tensor($0.name, shape: $0.shape) }
            guard meta.allSatisfy(\.isFinite) else { throw L2LError.format("'\(path)': a meta-parameter is NaN or infinite") }
            guard try field("crc32") == String(dataChecksum(meta)) else {
                throw L2LError.format("'\(path)': tensor data do not match their checksum (the file was altered)")
            }
            return meta
        }
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

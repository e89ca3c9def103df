import Glibc

/// A `.safetensors` file: named `Float` tensors plus string metadata, in the format other
/// tools (PyTorch, JAX, the Hugging Face `safetensors` library) read and write.
///
/// The layout is an 8-byte little-endian header length `N`, then `N` bytes of UTF-8 JSON
/// mapping each tensor name to `{"dtype": "F32", "shape": [...], "data_offsets": [begin,
/// end]}` (offsets into the data section) and an optional `"__metadata__"` object of
/// strings, then the data section: every tensor's elements, row-major, little-endian.
/// Only `F32` tensors are supported.
///
/// Reading is strict: a truncated, padded or altered file, an unsupported dtype, shapes
/// that disagree with the offsets, overlapping tensors or bytes that belong to no tensor
/// are rejected with an `L2LError(.format)` naming the file and the problem.
///
/// ```swift
/// var file = SafetensorsFile(tensors: [("w", w), ("b", b)], metadata: ["kind": "mlp"])
/// try file.write(to: "model.safetensors")
/// let loaded = try SafetensorsFile(contentsOf: "model.safetensors")
/// let w2 = try loaded.tensor("w", shape: [784, 32])
/// ```
public struct SafetensorsFile {
    /// The tensors in file order (the order they are written in, and the order of the
    /// header when read). Names must be unique and must not be `"__metadata__"`.
    public var tensors: [(name: String, tensor: Tensor)]
    /// Free-form string metadata (the header's `"__metadata__"` object).
    public var metadata: [String: String]
    /// Where the tensors came from, for error messages (the path or name given when reading).
    var source: String?

    /// The largest header accepted, as in the reference implementation (100 MB).
    static let maxHeaderLength = 100_000_000

    /// A file holding `tensors` (in this order) and `metadata`.
    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    // MARK: Looking up tensors

    /// The tensor called `name`, or `nil` if there is none.
    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name == name }?.tensor
    }

    /// The tensor called `name`, which must have shape `shape`.
    ///
    /// Fails with `.format` when there is no such tensor or its shape differs (a file
    /// written for another configuration).
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let origin = source.map { "'\($0)': " } ?? ""
        guard let t = self[name] else {
            let names = tensors.prefix(20).map { "'\($0.name)'" }.joined(separator: ", ")
            let has = tensors.isEmpty ? "it has no tensors" : "it has \(names)\(tensors.count > 20 ? ", …" : "")"
            throw L2LError.format("\(origin)no tensor named '\(name)' (\(has))")
        }
        guard t.shape == shape else {
            throw L2LError.format("\(origin)tensor '\(name)' has shape \(t.shape), expected \(shape)")
        }
        return t
    }

    // MARK: Writing

    /// The whole file as bytes: the header lists `__metadata__` first (keys sorted, left
    /// out when empty), then the tensors in order with consecutive offsets; it is padded
    /// with spaces to a multiple of 8 bytes, so the data section is 8-byte aligned, as the
    /// reference implementation does.
    ///
    /// Fails with `.invalidArgument` when two tensors share a name, a tensor is called
    /// `"__metadata__"`, or the header would exceed 100 MB.
    public func serialized() throws -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            let entries = metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.string($0.value)) }
            members.append((key: "__metadata__", value: .object(entries)))
        }
        var seen = Set<String>()
        var offset = 0
        for (name, t) in tensors {
            guard name != "__metadata__" else {
                throw L2LError.invalid("safetensors: a tensor cannot be called \"__metadata__\" (the key is reserved for metadata)")
            }
            guard seen.insert(name).inserted else {
                throw L2LError.invalid("safetensors: two tensors are called '\(name)' (names must be unique)")
            }
            let end = offset + 4 * t.count
            members.append((key: name, value: .object([
                (key: "dtype", value: .string("F32")),
                (key: "shape", value: .array(t.shape.map { .integer($0) })),
                (key: "data_offsets", value: .array([.integer(offset), .integer(end)])),
            ])))
            offset = end
        }
        var header = JSONValue.object(members).serialized()
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        guard header.count <= SafetensorsFile.maxHeaderLength else {
            throw L2LError.invalid("safetensors: the header would be \(header.count) bytes, more than readers accept (\(SafetensorsFile.maxHeaderLength))")
        }

        var out = [UInt8](repeating: 0, count: 8 + header.count + offset)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.baseAddress!.advanced(by: 8).copyMemory(from: header, byteCount: header.count)
            var at = 8 + header.count
            for (_, t) in tensors {
                t.withUnsafeBufferPointer { values in
                    for x in values {
                        raw.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: at, as: UInt32.self)
                        at += 4
                    }
                }
            }
        }
        return out
    }

    /// Writes the file to `path` atomically: to `path + ".tmp"` first (flushed to disk), then
    /// renamed over `path`, so a crash never leaves a half-written file under `path`.
    ///
    /// Fails with `.invalidArgument` as ``serialized()`` does, and with `.io` when the file
    /// cannot be written or renamed (the temporary file is removed).
    public func write(to path: String) throws {
        let bytes = try serialized()
        let temporary = path + ".tmp"
        guard let file = fopen(temporary, "wb") else {
            throw L2LError(.io, "cannot create '\(temporary)': \(String(cString: strerror(errno)))")
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        var ok = written == bytes.count && fflush(file) == 0 && fsync(fileno(file)) == 0
        var failure = errno
        if fclose(file) != 0 && ok { ok = false; failure = errno }
        guard ok else {
            unlink(temporary)
            throw L2LError(.io, "cannot write '\(temporary)': \(String(cString: strerror(failure)))")
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw L2LError(.io, "cannot rename '\(temporary)' to '\(path)': \(message)")
        }
    }

    // MARK: Reading

    /// Reads and validates the file at `path` (see ``init(bytes:name:)``).
    ///
    /// Fails with `.io` when the file is missing, a directory or unreadable, and with
    /// `.format` when its content is not a valid safetensors file of `F32` tensors.
    public init(contentsOf path: String) throws {
        try self.init(bytes: try readSafetensorsBytes(path), name: path)
    }

    /// Parses a safetensors file held in memory; `name` appears in error messages.
    ///
    /// Fails with `.format` when: the bytes are too few for the length field; the header
    /// length is more than 100 MB or more than the bytes that follow; the header is not
    /// UTF-8 JSON, or not an object; an entry is not `{dtype, shape, data_offsets}` (a key
    /// missing or extra); a dtype is not `F32`; a shape is not non-negative integers; the
    /// offsets are not `[begin, end]` with `end - begin == 4 × count`; tensors overlap,
    /// leave a gap, or run past the end of the data; bytes follow the last tensor; a name
    /// appears twice; or a metadata value is not a string.
    public init(bytes: [UInt8], name: String) throws {
        func fail(_ message: String) -> L2LError { L2LError.format("'\(name)': \(message)") }

        guard bytes.count >= 8 else {
            throw fail("\(bytes.count) bytes is too short for a safetensors file (it starts with an 8-byte header length)")
        }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard length <= UInt64(SafetensorsFile.maxHeaderLength) else {
            throw fail("header length \(length) is absurd (more than \(SafetensorsFile.maxHeaderLength) bytes): not a safetensors file, or a corrupt one")
        }
        let headerLength = Int(length)
        guard headerLength <= bytes.count - 8 else {
            throw fail("header length \(headerLength) exceeds the \(bytes.count - 8) bytes after the length field (truncated file?)")
        }
        let headerBytes = Array(bytes[8..<(8 + headerLength)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("header is not valid UTF-8")
        }
        let header: JSONValue
        do {
            header = try JSONValue.parse(headerBytes)
        } catch let e as JSONParseError {
            throw fail("header is not valid JSON: \(e.message) at byte \(e.offset) of the header")
        }
        guard case let .object(members) = header else {
            throw fail("header is \(header.kindDescription), not a JSON object")
        }

        // Entries: metadata and tensor descriptions (the parser already rejected duplicate keys).
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (key, value) in members {
            if key == "__metadata__" {
                guard case let .object(pairs) = value else {
                    throw fail("\"__metadata__\" is \(value.kindDescription), not an object of strings")
                }
                for (k, v) in pairs {
                    guard case let .string(s) = v else {
                        throw fail("metadata value for key '\(k)' is \(v.kindDescription), not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            let t = "tensor '\(key)'"
            guard case let .object(fields) = value else {
                throw fail("\(t): entry is \(value.kindDescription), not an object")
            }
            let known = ["dtype", "shape", "data_offsets"]
            if let extra = fields.first(where: { !known.contains($0.key) }) {
                throw fail("\(t): unexpected key \(JSONValue.string(extra.key).serializedText) (expected dtype, shape and data_offsets)")
            }
            for k in known where value[k] == nil { throw fail("\(t): missing \"\(k)\"") }

            guard case let .string(dtype)? = value["dtype"] else {
                throw fail("\(t): dtype is \(value["dtype"]!.kindDescription), not a string")
            }
            guard dtype == "F32" else {
                throw fail("\(t) has dtype \(JSONValue.string(dtype).serializedText); only F32 is supported")
            }
            guard case let .array(dims)? = value["shape"], let shape = nonNegativeIntegers(dims) else {
                throw fail("\(t): shape must be an array of non-negative integers, got \(value["shape"]!.serializedText)")
            }
            guard case let .array(offsets)? = value["data_offsets"], offsets.count == 2,
                  let be = nonNegativeIntegers(offsets), be[0] <= be[1] else {
                throw fail("\(t): data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got \(value["data_offsets"]!.serializedText)")
            }
            var count = 1
            for d in shape {
                let (c, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, c <= Int.max / 4 else { throw fail("\(t): shape \(shape) is implausibly large") }
                count = c
            }
            guard be[1] - be[0] == 4 * count else {
                throw fail("\(t): data_offsets [\(be[0]), \(be[1])] span \(be[1] - be[0]) bytes but shape \(shape) of F32 needs \(4 * count)")
            }
            entries.append((key, shape, be[0], be[1]))
        }

        // The data section must be covered exactly: no overlaps, no gaps, nothing after.
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        for e in entries where e.end > dataLength {
            throw fail("tensor '\(e.name)': data_offsets [\(e.begin), \(e.end)] run past the end of the \(dataLength)-byte data section (truncated file?)")
        }
        let byOffset = entries.indices.sorted {
            (entries[$0].begin, entries[$0].end, $0) < (entries[$1].begin, entries[$1].end, $1)
        }
        var covered = 0
        var previous: Int?
        for i in byOffset {
            let e = entries[i]
            if e.begin < covered, let p = previous {
                throw fail("tensors '\(entries[p].name)' [\(entries[p].begin), \(entries[p].end)] and '\(e.name)' [\(e.begin), \(e.end)] overlap")
            }
            if e.begin > covered {
                throw fail("bytes \(covered)..<\(e.begin) of the data section belong to no tensor (a gap before '\(e.name)')")
            }
            covered = e.end
            previous = i
        }
        guard covered == dataLength else {
            throw fail("\(dataLength - covered) trailing bytes after the last tensor (the data section is \(dataLength) bytes, tensors cover \(covered))")
        }

        let tensors = bytes.withUnsafeBufferPointer { buffer in
            entries.map { e -> (name: String, tensor: Tensor) in
                let p = buffer.baseAddress! + dataStart + e.begin
                let t = Tensor(shape: e.shape) { out, count in
                    for k in 0..<count {
                        let q = p + 4 * k
                        let bits = UInt32(q[0]) | UInt32(q[1]) << 8 | UInt32(q[2]) << 16 | UInt32(q[3]) << 24
                        out[k] = Float(bitPattern: bits)
                    }
                }
                return (e.name, t)
            }
        }
        self.init(tensors: tensors, metadata: metadata)
        source = name
    }
}

/// The integers of `values` if every one is a non-negative integer, else `nil`.
private func nonNegativeIntegers(_ values: [JSONValue]) -> [Int]? {
    var out: [Int] = []
    for v in values {
        guard case let .integer(i) = v, i >= 0 else { return nil }
        out.append(i)
    }
    return out
}

/// The bytes of the safetensors file at `path`, read in the order its format allows checking
/// them: the length field, the header, and only then as many data bytes as the header
/// describes — after checking that the file holds exactly that many. A header that does not
/// parse is handed to the parser as it is, which says what is wrong. Fails with `.io` when the
/// file is missing, unreadable or not a regular file.
private func readSafetensorsBytes(_ path: String) throws -> [UInt8] {
    let file = try RegularFile(path)
    let head = try file.read(8)
    guard head.count == 8 else { return head }
    let length = head.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    guard length <= UInt64(SafetensorsFile.maxHeaderLength), Int(length) <= file.size - 8 else { return head }
    let header = try file.read(Int(length))
    guard case let .object(members)? = try? JSONValue.parse(header) else { return head + header }
    // The data length the header describes: the largest end offset.
    var described = 0
    for (key, value) in members where key != "__metadata__" {
        guard case .object = value, case let .array(offsets)? = value["data_offsets"],
              offsets.count == 2, case let .integer(end) = offsets[1] else { return head + header }
        described = max(described, end)
    }
    let available = file.size - 8 - Int(length)
    guard available == described else {
        throw L2LError.format("'\(path)': the file holds \(available) bytes of tensor data, its header describes \(described) (truncated, padded or altered)")
    }
    return head + header + (try file.read(described))
}

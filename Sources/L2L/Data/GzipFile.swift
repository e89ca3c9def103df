import CZlib
import Glibc

/// The most bytes a compressed data file may expand to (4 GiB: Fashion-MNIST's largest file
/// is 47 MB): a decompression bomb is refused instead of filling memory.
let maxDecompressedBytes = 1 << 32

/// Reads a whole file, gzip-compressed or not (zlib reads plain files transparently).
/// Fails with `.io` when the file cannot be opened or is not a regular file, and `.format`
/// when its gzip stream is corrupt, cut short, or expands past ``maxDecompressedBytes``.
func readPossiblyGzippedFile(_ path: String) throws -> [UInt8] {
    _ = try RegularFile(path)   // refuses directories, devices and FIFOs before zlib reads them
    guard access(path, R_OK) == 0, let file = gzopen(path, "rb") else {
        throw L2LError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
    }
    defer { gzclose(file) }
    var bytes = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)   // small: each read zero-fills it first
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n < 0 { throw L2LError.format("'\(path)': corrupt gzip data (\(gzipMessage(file)))") }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<Int(n)])
        guard bytes.count <= maxDecompressedBytes else {
            throw L2LError.format("'\(path)': expands past \(maxDecompressedBytes) bytes; not a data file l2l reads")
        }
    }
    var code: Int32 = 0
    _ = gzerror(file, &code)
    if code != Z_OK && code != Z_STREAM_END {
        throw L2LError.format("'\(path)': gzip data is truncated or corrupt (\(gzipMessage(file)))")
    }
    return bytes
}

private func gzipMessage(_ file: gzFile) -> String {
    var code: Int32 = 0
    guard let m = gzerror(file, &code) else { return "zlib error \(code)" }
    return String(cString: m)
}

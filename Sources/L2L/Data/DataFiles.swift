import Glibc

/// Reads a whole data file. A name ending in `.gz` is decompressed; any other file is read
/// byte for byte (never sniffed: a raw CIFAR or STL-10 file may begin with the gzip magic).
///
/// Fails with `.io` when the file is missing (the message names the path and gives `hint`,
/// which says how to get the file), is a directory or cannot be read.
func readDataFile(_ path: String, hint: String) throws -> [UInt8] {
    guard access(path, F_OK) == 0 else { throw L2LError(.io, "'\(path)' not found: \(hint)") }
    if path.hasSuffix(".gz") { return try readPossiblyGzippedFile(path) }
    var info = stat()
    if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        throw L2LError(.io, "cannot read '\(path)': it is a directory")
    }
    guard let file = fopen(path, "rb") else {
        throw L2LError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
    }
    defer { fclose(file) }
    let size = Int(info.st_size)
    var bytes = [UInt8](repeating: 0, count: size)
    let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
    guard read == size, ferror(file) == 0 else {
        throw L2LError(.io, "cannot read '\(path)': got \(read) of \(size) bytes (\(String(cString: strerror(errno))))")
    }
    // The file may have grown since stat; whatever follows is read so the size check of
    // the caller sees it.
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return bytes
}

/// The directories where a data set's files may be: `directory` and `directory/subdirectory`
/// when a directory is given, else `$L2L_DATA/subdirectory` and `$L2L_DATA`.
///
/// Fails with `.io` when no directory is given and `L2L_DATA` is not set.
func dataDirectories(_ directory: String?, subdirectory: String, dataset: String, hint: String) throws -> [String] {
    if let d = directory { return [d, d + "/" + subdirectory] }
    guard let env = getenv("L2L_DATA").map({ String(cString: $0) }), !env.isEmpty else {
        throw L2LError(.io, "\(dataset): no directory given and L2L_DATA is not set: \(hint)")
    }
    return [env + "/" + subdirectory, env]
}

/// The first of `name` or `name.gz` that exists in `directories`, else `.io` naming where it
/// was looked for and `hint`.
func findDataFile(_ name: String, in directories: [String], dataset: String, hint: String) throws -> String {
    for dir in directories {
        for candidate in [name, name + ".gz"] where access(dir + "/" + candidate, F_OK) == 0 {
            return dir + "/" + candidate
        }
    }
    let places = directories.map { "'\($0)/\(name)'" }.joined(separator: " or ")
    throw L2LError(.io, "\(dataset) file \(name) not found (looked for \(places)): \(hint)")
}

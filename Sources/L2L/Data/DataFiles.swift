import Glibc

/// Reads a whole data file. A name ending in `.gz` is decompressed; any other file is read
/// byte for byte (never sniffed: a raw CIFAR or STL-10 file may begin with the gzip magic).
///
/// Fails with `.io` when the file is missing (the message names the path and gives `hint`,
/// which says how to get the file), is not a regular file (a directory, `/dev/zero`) or
/// cannot be read.
func readDataFile(_ path: String, hint: String) throws -> [UInt8] {
    guard access(path, F_OK) == 0 else { throw L2LError(.io, "'\(path)' not found: \(hint)") }
    if path.hasSuffix(".gz") { return try readPossiblyGzippedFile(path) }
    let file = try RegularFile(path)
    let bytes = try file.read(file.size)
    guard bytes.count == file.size else {
        throw L2LError(.io, "cannot read '\(path)': got \(bytes.count) of \(file.size) bytes (it shrank while being read?)")
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

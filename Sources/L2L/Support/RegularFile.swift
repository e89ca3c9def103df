import Glibc

/// A regular file opened for reading, with its size: readers read what its size and their
/// format's header allow, never "until the end" — so a device (`/dev/zero`), a FIFO or a
/// directory is refused up front instead of being read forever.
final class RegularFile {
    let path: String
    /// Bytes in the file when it was opened.
    let size: Int
    private let file: UnsafeMutablePointer<FILE>

    /// Opens `path`. Fails with `.io` when it is missing, unreadable, or not a regular file.
    init(_ path: String) throws {
        guard let file = fopen(path, "rb") else {
            throw L2LError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fileno(file), &info) == 0 else {
            fclose(file)
            throw L2LError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            fclose(file)
            let what = (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file (a device, FIFO or socket)"
            throw L2LError(.io, "cannot read '\(path)': it is \(what)")
        }
        self.path = path
        self.file = file
        size = Int(info.st_size)
    }

    deinit { fclose(file) }

    /// The next `count` bytes (fewer only at the end of the file). Fails with `.io` on a read error.
    func read(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(count, 0))
        let n = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        guard ferror(file) == 0 else { throw L2LError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
        return Array(bytes.prefix(n))
    }
}

/// CIFAR-10 in its binary version (`cifar-10-binary.tar.gz`): each file is a run of
/// 3073-byte records, one label byte (0–9) then 3072 pixel bytes, channel-major
/// (1024 red, 1024 green, 1024 blue), each channel row-major 32×32. The training split is
/// `data_batch_1.bin` … `data_batch_5.bin` (10,000 records each), the test split
/// `test_batch.bin`.
///
/// A data set read here has inputs scaled to [0, 1] and flattened to `[n, 3072]` in the
/// file's channel-major order, `exampleShape` `[3, 32, 32]` and 10 classes.
///
/// ```swift
/// let train = try CIFAR10.load(.train)                         // $L2L_DATA/cifar-10-batches-bin
/// let test = try CIFAR10.load(.test, directory: "/data/cifar-10-batches-bin")
/// let one = try CIFAR10.load(file: "/data/cifar-10-batches-bin/data_batch_1.bin")
/// ```
public enum CIFAR10 {
    /// Bytes in one record: the label, then 3 × 32 × 32 pixels.
    public static let recordSize = 1 + imageSize
    /// Pixel bytes in one image.
    public static let imageSize = 3 * 32 * 32
    /// The shape of one example: channels, rows, columns.
    public static let exampleShape = [3, 32, 32]
    /// Class names in label order (from the archive's `batches.meta.txt`).
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]
    /// The folder the archive extracts to.
    public static let folderName = "cifar-10-batches-bin"

    static let hint = "download the binary version (cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html, "
        + "extract it, and pass the directory or set L2L_DATA to the folder holding \(folderName)"

    /// The files of `split`, in order.
    public static func fileNames(_ split: Split) -> [String] {
        split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// The training or test split, from `directory` (the folder holding the `.bin` files, or
    /// its parent), else from `$L2L_DATA/cifar-10-batches-bin` (or `$L2L_DATA` itself). Each
    /// file may be gzipped (`name.bin.gz`).
    ///
    /// Throws `.io` when a file is missing (naming the path and how to get the data) and
    /// `.format` when one is truncated or holds a label outside 0–9.
    public static func load(_ split: Split, directory: String? = nil) throws -> Dataset {
        let dirs = try dataDirectories(directory, subdirectory: folderName, dataset: "CIFAR-10", hint: hint)
        let paths = try fileNames(split).map { try findDataFile($0, in: dirs, dataset: "CIFAR-10", hint: hint) }
        return try load(files: paths)
    }

    /// One CIFAR-10 binary file (any number of records).
    public static func load(file path: String) throws -> Dataset {
        try load(files: [path])
    }

    /// The records of `paths`, concatenated in order.
    public static func load(files paths: [String]) throws -> Dataset {
        guard !paths.isEmpty else { throw L2LError.invalid("CIFAR-10: no files given") }
        var contents = [[UInt8]]()
        for path in paths {
            let bytes = try readDataFile(path, hint: hint)
            try validate(bytes, name: path)
            contents.append(bytes)
        }
        let n = contents.reduce(0) { $0 + $1.count / recordSize }
        var labels = [Int32]()
        labels.reserveCapacity(n)
        let inputs = Tensor(shape: [n, imageSize]) { dst, _ in
            var row = 0
            for bytes in contents {
                bytes.withUnsafeBufferPointer { src in
                    for r in 0..<(bytes.count / recordSize) {
                        let record = src.baseAddress! + r * recordSize
                        labels.append(Int32(record[0]))
                        let out = dst + row * imageSize
                        for i in 0..<imageSize { out[i] = Float(record[1 + i]) / 255 }
                        row += 1
                    }
                }
            }
        }
        return try Dataset(inputs: inputs, labels: labels, classes: 10, exampleShape: exampleShape)
    }

    /// Checks that `bytes` is a whole, non-empty number of records with labels in 0–9.
    static func validate(_ bytes: [UInt8], name: String) throws {
        guard bytes.count % recordSize == 0 else {
            throw L2LError.format("'\(name)': \(bytes.count) bytes is not a whole number of \(recordSize)-byte CIFAR-10 records "
                + "(\(bytes.count / recordSize) records and \(bytes.count % recordSize) bytes over: truncated file, or trailing bytes)")
        }
        guard !bytes.isEmpty else { throw L2LError.format("'\(name)': the file is empty (no CIFAR-10 records)") }
        for r in 0..<(bytes.count / recordSize) where bytes[r * recordSize] > 9 {
            throw L2LError.format("'\(name)': record \(r) has label \(bytes[r * recordSize]), outside 0–9 (not a CIFAR-10 file, or corrupt)")
        }
    }
}

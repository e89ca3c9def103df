/// STL-10 in its binary version (`stl10_binary.tar.gz`): `train_X.bin` / `test_X.bin` hold
/// uint8 images of 3 × 96 × 96 with no header, `train_y.bin` / `test_y.bin` one uint8 label
/// per image, 1–10.
///
/// STL-10 stores each image as MATLAB does: channel by channel, and each 96×96 channel
/// **column-major** (the byte after pixel (row r, column c) is pixel (r + 1, c)). The
/// reader transposes every channel, so a data set read here is row-major `[3, 96, 96]`
/// per example like CIFAR-10: inputs scaled to [0, 1] and flattened to `[n, 27648]`,
/// labels shifted to 0–9, 10 classes. (The 100,000-image `unlabeled_X.bin` has no labels
/// and is not read.)
///
/// ```swift
/// let train = try STL10.load(.train)                        // $L2L_DATA/stl10_binary
/// let test = try STL10.load(images: "/data/stl10_binary/test_X.bin", labels: "/data/stl10_binary/test_y.bin")
/// ```
public enum STL10 {
    /// Rows and columns of an image.
    public static let side = 96
    /// Bytes in one image.
    public static let imageSize = 3 * side * side
    /// The shape of one example: channels, rows, columns.
    public static let exampleShape = [3, side, side]
    /// Class names in label order (from the archive's `class_names.txt`).
    public static let classNames = ["airplane", "bird", "car", "cat", "deer",
                                    "dog", "horse", "monkey", "ship", "truck"]
    /// The folder the archive extracts to.
    public static let folderName = "stl10_binary"

    static let hint = "download the binary version (stl10_binary.tar.gz) from https://cs.stanford.edu/~acoates/stl10/, "
        + "extract it, and pass the directory or set L2L_DATA to the folder holding \(folderName)"

    /// The training (5,000) or test (8,000) split, from `directory` (the folder holding the
    /// `.bin` files, or its parent), else `$L2L_DATA/stl10_binary` (or `$L2L_DATA`). Files
    /// may be gzipped (`name.bin.gz`).
    ///
    /// Throws `.io` when a file is missing and `.format` when the files are truncated,
    /// disagree in length or hold a label outside 1–10.
    public static func load(_ split: Split, directory: String? = nil) throws -> Dataset {
        let dirs = try dataDirectories(directory, subdirectory: folderName, dataset: "STL-10", hint: hint)
        let prefix = split == .train ? "train" : "test"
        return try load(images: try findDataFile(prefix + "_X.bin", in: dirs, dataset: "STL-10", hint: hint),
                        labels: try findDataFile(prefix + "_y.bin", in: dirs, dataset: "STL-10", hint: hint))
    }

    /// An images file (`*_X.bin`) and its labels file (`*_y.bin`).
    public static func load(images: String, labels: String) throws -> Dataset {
        let x = try readDataFile(images, hint: hint)
        guard x.count % imageSize == 0 else {
            throw L2LError.format("'\(images)': \(x.count) bytes is not a whole number of \(imageSize)-byte STL-10 images "
                + "(\(x.count / imageSize) images and \(x.count % imageSize) bytes over: truncated file, or trailing bytes)")
        }
        guard !x.isEmpty else { throw L2LError.format("'\(images)': the file is empty (no STL-10 images)") }
        let y = try readDataFile(labels, hint: hint)
        let n = x.count / imageSize
        guard y.count == n else {
            throw L2LError.format("'\(images)' holds \(n) images but '\(labels)' holds \(y.count) labels "
                + "(one byte each; truncated or mismatched files)")
        }
        if let i = y.firstIndex(where: { $0 < 1 || $0 > 10 }) {
            throw L2LError.format("'\(labels)': label \(y[i]) of image \(i) is outside 1–10 (not an STL-10 labels file, or corrupt)")
        }
        let plane = side * side
        let inputs = x.withUnsafeBufferPointer { src in
            Tensor(shape: [n, imageSize]) { dst, _ in
                for k in 0..<(n * 3) {
                    // One channel: source column-major, destination row-major.
                    let s = src.baseAddress! + k * plane, d = dst + k * plane
                    for col in 0..<side {
                        for row in 0..<side { d[row * side + col] = Float(s[col * side + row]) / 255 }
                    }
                }
            }
        }
        return try Dataset(inputs: inputs, labels: y.map { Int32($0) - 1 }, classes: 10, exampleShape: exampleShape)
    }
}

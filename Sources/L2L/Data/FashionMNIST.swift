import Glibc

/// Which part of a data set.
public enum Split: String, Sendable {
    case train, test
}

/// MNIST-style IDX data sets (Fashion-MNIST, MNIST, KMNIST share the file layout).
public enum IDXDataset {
    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let debianFashionMNIST = "/usr/share/datasets/fashion-mnist"

    /// Reads an images file (`[n, rows, cols]` of uint8) and a labels file (`[n]`) into a
    /// data set with inputs scaled to [0, 1] and flattened to `[n, rows·cols]`.
    public static func load(images: String, labels: String, classes: Int = 10) throws -> Dataset {
        let x = try IDXArray(contentsOf: images)
        let y = try IDXArray(contentsOf: labels)
        guard x.elementType == .uint8, x.shape.count >= 2 else {
            throw L2LError.format("'\(images)': expected uint8 images of rank ≥ 2, got \(x.elementType) of shape \(x.shape)")
        }
        guard y.shape.count == 1, y.elementType == .uint8 else {
            throw L2LError.format("'\(labels)': expected a rank-1 uint8 label file, got \(y.elementType) of shape \(y.shape)")
        }
        guard x.shape[0] == y.shape[0] else {
            throw L2LError.format("'\(images)' holds \(x.shape[0]) images but '\(labels)' holds \(y.shape[0]) labels")
        }
        let n = x.shape[0], f = x.values.count / max(n, 1)
        let inputs = Tensor(shape: [n, f], scalars: x.values.map { $0 / 255 })
        let labelValues = y.values.map { Int32($0) }
        if let bad = labelValues.first(where: { Int($0) >= classes }) {
            throw L2LError.format("'\(labels)': label \(bad) is outside 0..<\(classes)")
        }
        return try Dataset(inputs: inputs, labels: labelValues, classes: classes, exampleShape: Array(x.shape.dropFirst()))
    }

    /// Fashion-MNIST's `split`, from `directory`, else `$L2L_DATA`, else Debian's package
    /// directory. A directory may hold the four files directly or in `fashion-mnist/`;
    /// each file may be gzipped (`.gz`) or raw.
    public static func fashionMNIST(_ split: Split, directory: String? = nil) throws -> Dataset {
        let base = directory ?? getenv("L2L_DATA").map { String(cString: $0) } ?? debianFashionMNIST
        let prefix = split == .train ? "train" : "t10k"
        func find(_ stem: String) throws -> String {
            for dir in [base, base + "/fashion-mnist"] {
                for name in [stem + ".gz", stem] where access(dir + "/" + name, F_OK) == 0 { return dir + "/" + name }
            }
            throw L2LError(.io, "Fashion-MNIST file \(stem)[.gz] not found in '\(base)' (install Debian's dataset-fashion-mnist, or set L2L_DATA)")
        }
        return try load(images: find("\(prefix)-images-idx3-ubyte"), labels: find("\(prefix)-labels-idx1-ubyte"))
    }
}

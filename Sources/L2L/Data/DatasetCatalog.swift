import Glibc

/// The data sets every front door (C, Python, Swift) reaches by name, so that each one
/// names, finds and configures them the same way.
///
/// | name            | reader                          | default directory                          |
/// |-----------------|---------------------------------|--------------------------------------------|
/// | `fashion-mnist` | ``IDXDataset/fashionMNIST(_:directory:)`` | `$L2L_DATA` (or `$L2L_DATA/fashion-mnist`), else Debian's `/usr/share/datasets/fashion-mnist` |
/// | `mnist`         | ``IDXDataset/load(images:labels:classes:)`` | `$L2L_DATA/mnist` (or `$L2L_DATA`)  |
/// | `kmnist`        | ``IDXDataset/load(images:labels:classes:)`` | `$L2L_DATA/kmnist` (or `$L2L_DATA`) |
/// | `cifar10`       | ``CIFAR10/load(_:directory:)``  | `$L2L_DATA/cifar-10-batches-bin` (or `$L2L_DATA`) |
/// | `stl10`         | ``STL10/load(_:directory:)``    | `$L2L_DATA/stl10_binary` (or `$L2L_DATA`)  |
///
/// MNIST and KMNIST use Fashion-MNIST's file names (`train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw
/// or gzipped with `.gz`); a given `directory` may hold them directly or in a sub-folder
/// named after the data set.
///
/// ```swift
/// let test = try DatasetCatalog.load(name: "cifar10", split: .test, directory: "/data")
/// ```
public enum DatasetCatalog {
    /// The names ``load(name:split:directory:)`` knows.
    public static let names = ["fashion-mnist", "mnist", "kmnist", "cifar10", "stl10"]

    /// Names of the synthetic families ``synthetic(family:options:seed:)`` knows.
    public static let syntheticFamilies = ["binary_xor"]

    /// The `split` of the data set called `name`, from `directory` or the default place
    /// (see the type's table).
    ///
    /// Throws `.invalidArgument` for an unknown name (the message lists the known ones),
    /// `.io` when a file is missing and `.format` when one is truncated or corrupt.
    public static func load(name: String, split: Split, directory: String? = nil) throws -> Dataset {
        switch name {
        case "fashion-mnist": return try IDXDataset.fashionMNIST(split, directory: directory)
        case "mnist": return try idx(name: name, title: "MNIST", split, directory: directory)
        case "kmnist": return try idx(name: name, title: "KMNIST", split, directory: directory)
        case "cifar10": return try CIFAR10.load(split, directory: directory)
        case "stl10": return try STL10.load(split, directory: directory)
        default:
            throw L2LError.invalid("unknown data set \"\(name)\" (known: \(names.joined(separator: ", ")))")
        }
    }

    /// A split of an IDX data set laid out like MNIST, in `directory`, `directory/name`,
    /// else `$L2L_DATA/name` or `$L2L_DATA`.
    private static func idx(name: String, title: String, _ split: Split, directory: String?) throws -> Dataset {
        let hint = "put the four IDX files of \(title) (train-images-idx3-ubyte[.gz], …) in a directory and pass it, "
            + "or set L2L_DATA to a folder holding \(name)/"
        let dirs = try dataDirectories(directory, subdirectory: name, dataset: title, hint: hint)
        let prefix = split == .train ? "train" : "t10k"
        return try IDXDataset.load(images: try findDataFile("\(prefix)-images-idx3-ubyte", in: dirs, dataset: title, hint: hint),
                                   labels: try findDataFile("\(prefix)-labels-idx1-ubyte", in: dirs, dataset: title, hint: hint))
    }

    /// One data set of a synthetic family, configured by `options` (`key=value` text, see
    /// ``Config``) and drawn from `RNG(seed:)`.
    ///
    /// `binary_xor` (``BinaryXORDatasets``): `dimension=10`, `samples=200`, `noise_scale=1`
    /// (λ), `minimum_balance=0.15`, `maximum_attempts=1000`, `threshold_spread=0`.
    ///
    /// Throws `.invalidArgument` for an unknown family or option, or a value out of range.
    public static func synthetic(family: String, options: String? = nil, seed: UInt64) throws -> Dataset {
        guard syntheticFamilies.contains(family) else {
            throw L2LError.invalid("unknown synthetic family \"\(family)\" (known: \(syntheticFamilies.joined(separator: ", ")))")
        }
        let made = try Factory.build(family, options) { try BinaryXORDatasets(config: &$0) }
        var rng = RNG(seed: seed)
        return try made.sample(rng: &rng)
    }
}

extension GreyWeights {
    /// The weights by the names the front doors use: `mtl2l` (``mtl2l``, the default),
    /// `mtl2l_as_printed` (``mtl2lAsPrinted``) and `itu601` (``itu601``).
    public static let named: [String: GreyWeights] = [
        "mtl2l": .mtl2l, "mtl2l_as_printed": .mtl2lAsPrinted, "itu601": .itu601,
    ]
}

extension SineTask {
    /// `tasks` sine tasks, each with `k` points, drawn in sequence from one `RNG(seed:)`:
    /// task 1 (``sample(rng:)``), its points (``batch(k:rng:)``), task 2, its points, …
    /// This is what the C and Python front doors return for the same seed.
    ///
    /// Shapes: each `x` and `y` is `[k, 1]`. Because inputs are drawn one per value, the
    /// first `k` of `2k` points equal a ``supportAndQuery(k:queryCount:rng:)`` support set
    /// and the rest its query set.
    ///
    /// Throws `.invalidArgument` when `tasks` or `k` is negative or `k` above 2²⁴, and
    /// `.shapeMismatch` when `tasks · k` exceeds ``Shape/maxElements``.
    public static func sample(tasks: Int, k: Int, seed: UInt64) throws -> [(task: SineTask, x: Tensor, y: Tensor)] {
        guard tasks >= 0 else { throw L2LError.invalid("sine tasks: the number of tasks must not be negative, got \(tasks)") }
        guard k >= 0, k <= 1 << 24 else { throw L2LError.invalid("sine tasks: k must be in 0...16777216, got \(k)") }
        guard Shape.checkedCount([tasks, k]) != nil else {
            throw L2LError.shape("sine tasks: \(tasks) tasks × \(k) points exceed the limit of \(Shape.maxElements) values")
        }
        var rng = RNG(seed: seed)
        return try (0..<tasks).map { _ in
            let task = SineTask.sample(rng: &rng)
            let (x, y) = try task.batch(k: k, rng: &rng)
            return (task, x, y)
        }
    }
}

extension QuadraticTask {
    /// `tasks` quadratic tasks drawn in sequence from one `RNG(seed:)` (each as
    /// ``sample(dimension:distribution:rng:)``: W's values, then y's). This is what the C and
    /// Python front doors return for the same seed.
    ///
    /// Throws `.invalidArgument` when `tasks` is negative or `dimension` outside 1...16384, and
    /// `.shapeMismatch` when `tasks · dimension²` exceeds ``Shape/maxElements``.
    public static func sample(tasks: Int, dimension: Int = 10, distribution: Distribution = .normal,
                              seed: UInt64) throws -> [QuadraticTask] {
        guard tasks >= 0 else { throw L2LError.invalid("quadratic tasks: the number of tasks must not be negative, got \(tasks)") }
        guard dimension >= 1, dimension <= 1 << 14 else {
            throw L2LError.invalid("quadratic tasks: dimension must be in 1...16384, got \(dimension)")
        }
        guard Shape.checkedCount([tasks, dimension, dimension]) != nil else {
            throw L2LError.shape("quadratic tasks: \(tasks) tasks of \(dimension)×\(dimension) values exceed the limit of \(Shape.maxElements)")
        }
        var rng = RNG(seed: seed)
        return try (0..<tasks).map { _ in try QuadraticTask.sample(dimension: dimension, distribution: distribution, rng: &rng) }
    }
}

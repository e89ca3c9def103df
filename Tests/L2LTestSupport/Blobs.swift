import L2L

/// `n` examples of three classes in 6 dimensions: Gaussian noise of standard deviation
/// `spread`, plus `separation` on the feature 2·label. Labels are drawn uniformly; all of
/// it from `seed`. Small classification problems for training and curvature tests.
public func gaussianBlobs(_ n: Int, seed: UInt64, spread: Float = 0.5, separation: Float = 2) throws -> Dataset {
    var rng = RNG(seed: seed)
    let labels = (0..<n).map { _ in Int32(rng.nextInt(below: 3)) }
    let noise = Tensor.normal([n, 6], std: spread, rng: &rng).scalars
    let x = (0..<(n * 6)).map { i in noise[i] + (i % 6 == Int(labels[i / 6]) * 2 ? separation : 0) }
    return try Dataset(inputs: Tensor(shape: [n, 6], scalars: x), labels: labels, classes: 3)
}

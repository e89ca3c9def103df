// Trains the 784-32-10 ReLU MLP with SGD (lr 0.1, batch 128) on Fashion-MNIST for one
// epoch, inputs standardised by the training set's statistics, and prints the test accuracy.
//
//   swift run -c release l2l-mlp-example [--data DIR] [--steps N]
//
// --steps N stops after N steps instead of one epoch (the test suite runs it that way).
import Glibc
import L2L

do {
    let args = CommandLine.arguments
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    let dir = option("--data")
    let rawTrain = try IDXDataset.fashionMNIST(.train, directory: dir)
    let rawTest = try IDXDataset.fashionMNIST(.test, directory: dir)
    let (mean, std) = rawTrain.statistics()
    let train = try rawTrain.standardized(mean: mean, std: std)
    let test = try rawTest.standardized(mean: mean, std: std)

    let mlp = try MLP(sizes: [784, 32, 10])
    var rng = RNG(seed: 0)
    var state = mlp.initialState(rng: &rng)
    var batches = try BatchIterator(train, batchSize: 128, seed: 1)
    let sgd = OptimiserSession(try SGD(learningRate: 0.1))
    let losses = try Training.train(mlp, &state, optimiser: sgd, batches: &batches,
                                    steps: option("--steps").flatMap { Int($0) } ?? batches.batchesPerEpoch)
    let (loss, accuracy) = Training.evaluate(mlp, state, on: test)
    print("steps \(losses.count)  last train loss \(losses.last ?? .nan)  test loss \(loss)  test accuracy \(accuracy)")
} catch {
    print("error: \(error)")
    exit(1)
}

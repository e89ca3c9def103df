import Glibc
import L2L
import L2LTestSupport
import XCTest

/// The facade every front door uses: names, directories, synthetic options, task sequences.
final class DatasetCatalogTests: XCTestCase {
    let dir = temporaryDirectory()

    func idxFiles(in folder: String, prefix: String, labels: [UInt8]) {
        mkdir(folder, 0o755)
        let n = labels.count
        writeFile(folder + "/\(prefix)-images-idx3-ubyte",
                  idxBytes(type: 0x08, shape: [n, 2, 3], payload: (0..<(n * 6)).map { UInt8($0 * 5) }))
        writeFile(folder + "/\(prefix)-labels-idx1-ubyte.gz", idxBytes(type: 0x08, shape: [n], payload: labels), gzip: true)
    }

    func testIDXNamesFromADirectoryItsSubfolderAndL2LData() throws {
        idxFiles(in: dir + "/mnist", prefix: "train", labels: [1, 2, 3])
        idxFiles(in: dir + "/kmnist", prefix: "t10k", labels: [9, 8])
        let mnist = try DatasetCatalog.load(name: "mnist", split: .train, directory: dir)
        XCTAssertEqual(mnist.labels, [1, 2, 3])
        XCTAssertEqual(mnist.exampleShape, [2, 3])
        XCTAssertEqual(mnist.inputs.scalars[7], 35 / 255)
        XCTAssertEqual(try DatasetCatalog.load(name: "mnist", split: .train, directory: dir + "/mnist").count, 3)
        assertThrows(.io, containing: "t10k-images-idx3-ubyte") { try DatasetCatalog.load(name: "mnist", split: .test, directory: dir) }
        assertThrows(.io) { try DatasetCatalog.load(name: "kmnist", split: .train, directory: dir) }

        let saved = getenv("L2L_DATA").map { String(cString: $0) }
        defer { if let s = saved { setenv("L2L_DATA", s, 1) } else { unsetenv("L2L_DATA") } }
        setenv("L2L_DATA", dir, 1)
        XCTAssertEqual(try DatasetCatalog.load(name: "kmnist", split: .test).labels, [9, 8])
        unsetenv("L2L_DATA")
        assertThrows(.io, containing: "L2L_DATA") { try DatasetCatalog.load(name: "kmnist", split: .test) }
    }

    func testImageSetsAndUnknownNames() throws {
        mkdir(dir + "/cifar-10-batches-bin", 0o755)
        var record = [UInt8](repeating: 7, count: 3073)
        record[0] = 4
        writeFile(dir + "/cifar-10-batches-bin/test_batch.bin", record)
        let cifar = try DatasetCatalog.load(name: "cifar10", split: .test, directory: dir)
        XCTAssertEqual(cifar.labels, [4])
        XCTAssertEqual(cifar.exampleShape, [3, 32, 32])

        mkdir(dir + "/stl10_binary", 0o755)
        writeFile(dir + "/stl10_binary/test_X.bin", [UInt8](repeating: 1, count: STL10.imageSize))
        writeFile(dir + "/stl10_binary/test_y.bin", [10])
        let stl = try DatasetCatalog.load(name: "stl10", split: .test, directory: dir)
        XCTAssertEqual(stl.labels, [9])
        XCTAssertEqual(stl.exampleShape, [3, 96, 96])

        assertThrows(.invalidArgument, containing: "fashion-mnist, mnist, kmnist, cifar10, stl10") {
            try DatasetCatalog.load(name: "cifar100", split: .test, directory: dir)
        }
        XCTAssertEqual(DatasetCatalog.names, ["fashion-mnist", "mnist", "kmnist", "cifar10", "stl10"])
        XCTAssertEqual(GreyWeights.named["mtl2l"], .mtl2l)
        XCTAssertEqual(GreyWeights.named["mtl2l_as_printed"], .mtl2lAsPrinted)
        XCTAssertEqual(GreyWeights.named["itu601"], .itu601)
    }

    func testSyntheticOptionsMirrorBinaryXORDatasets() throws {
        var rng = RNG(seed: 3)
        let direct = try BinaryXORDatasets().sample(rng: &rng)
        let named = try DatasetCatalog.synthetic(family: "binary_xor", seed: 3)
        XCTAssertEqual(named.inputs.scalars, direct.inputs.scalars)
        XCTAssertEqual(named.labels, direct.labels)

        rng = RNG(seed: 3)
        let custom = BinaryXORDatasets(dimension: 3, samples: 8, noiseScale: 0.5, minimumBalance: 0.25,
                                       maximumAttempts: 77, thresholdSpread: 0.5)
        let configured = try DatasetCatalog.synthetic(
            family: "binary_xor",
            options: "dimension=3 samples=8 noise_scale=0.5 minimum_balance=0.25 maximum_attempts=77 threshold_spread=0.5",
            seed: 3)
        XCTAssertEqual(configured.inputs.scalars, try custom.sample(rng: &rng).inputs.scalars)
        // The first row of the seed-3, 3 × 8 set with other options at their defaults; the
        // Python tests check the same numbers through the C ABI.
        let small = try DatasetCatalog.synthetic(family: "binary_xor", options: "dimension=3; samples=8", seed: 3)
        XCTAssertEqual(Array(small.inputs.scalars[0..<3]), [-0.3960832953453064, -0.7033321261405945, 0.7743836045265198])
        XCTAssertEqual(small.labels, [1, 1, 1, 1, 0, 1, 0, 1])

        assertThrows(.invalidArgument, containing: "unknown option") {
            try DatasetCatalog.synthetic(family: "binary_xor", options: "count=3", seed: 1)
        }
        assertThrows(.invalidArgument, containing: "binary_xor") { try DatasetCatalog.synthetic(family: "xor", seed: 1) }
    }

    func testTaskSequencesAreDrawnFromOneGenerator() throws {
        let sine = try SineTask.sample(tasks: 3, k: 4, seed: 1)
        var rng = RNG(seed: 1)
        for s in sine {
            let task = SineTask.sample(rng: &rng)
            XCTAssertEqual(s.task, task)
            let (x, y) = try task.batch(k: 4, rng: &rng)
            XCTAssertEqual(s.x.scalars, x.scalars)
            XCTAssertEqual(s.y.scalars, y.scalars)
            XCTAssertEqual(s.x.shape, [4, 1])
        }
        // The numbers the C and Python tests expect for this seed.
        XCTAssertEqual(sine.map(\.task.amplitude), [4.4622697830200195, 2.4304065704345703, 3.8123695850372314])
        XCTAssertEqual(sine.map(\.task.phase), [2.810734748840332, 2.061208724975586, 0.1148056834936142])
        XCTAssertEqual(sine[2].x.scalars, [-3.5662734508514404, -4.4614152908325195, -2.5223679542541504, 1.6327357292175293])

        let quadratics = try QuadraticTask.sample(tasks: 2, dimension: 3, seed: 2)
        rng = RNG(seed: 2)
        for q in quadratics {
            let t = try QuadraticTask.sample(dimension: 3, rng: &rng)
            XCTAssertEqual(q.w.scalars, t.w.scalars)
            XCTAssertEqual(q.y.scalars, t.y.scalars)
        }
        XCTAssertEqual(Array(quadratics[1].w.scalars[0..<3]), [-0.5923407077789307, -2.535184144973755, 1.8921277523040771])
        XCTAssertEqual(quadratics[1].y.scalars, [-1.2546755075454712, 2.817000150680542, -1.16343092918396])
        let uniform = try QuadraticTask.sample(tasks: 1, dimension: 2, distribution: .uniform, seed: 2)
        XCTAssertEqual(uniform[0].w.scalars, [0.42544734477996826, 0.4972800612449646, 0.974919319152832, 0.3994991183280945])

        XCTAssertTrue(try SineTask.sample(tasks: 0, k: 5, seed: 1).isEmpty)
        assertThrows(.invalidArgument) { try SineTask.sample(tasks: -1, k: 5, seed: 1) }
        assertThrows(.invalidArgument) { try SineTask.sample(tasks: 1, k: -1, seed: 1) }
        assertThrows(.shapeMismatch) { try SineTask.sample(tasks: 1 << 20, k: 1 << 12, seed: 1) }
        assertThrows(.invalidArgument) { try QuadraticTask.sample(tasks: 0, dimension: 0, seed: 1) }
        assertThrows(.invalidArgument) { try QuadraticTask.sample(tasks: -1, seed: 1) }
        assertThrows(.shapeMismatch) { try QuadraticTask.sample(tasks: 1 << 20, dimension: 100, seed: 1) }
    }
}

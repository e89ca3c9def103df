import Glibc
import L2L
import L2LTestSupport
import XCTest

final class CIFARTests: XCTestCase {
    let dir = temporaryDirectory()

    /// One CIFAR-10 record: `label`, then 3072 pixels that are `fill` except at `pixels`
    /// ((channel, row, column) → value).
    func record(label: UInt8, fill: UInt8 = 0, pixels: [(Int, Int, Int, UInt8)] = []) -> [UInt8] {
        var r = [UInt8](repeating: fill, count: 3073)
        r[0] = label
        for (c, row, col, v) in pixels { r[1 + c * 1024 + row * 32 + col] = v }
        return r
    }

    func testReadsLabelsAndChannelMajorPixels() throws {
        let bytes = record(label: 3, pixels: [(0, 0, 0, 10), (1, 0, 0, 20), (2, 0, 0, 30), (0, 1, 2, 40), (2, 31, 31, 255), (1, 5, 30, 7)])
            + record(label: 9, fill: 128) + record(label: 0, fill: 1)
        writeFile(dir + "/one.bin", bytes)
        let d = try CIFAR10.load(file: dir + "/one.bin")
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.features, 3072)
        XCTAssertEqual(d.exampleShape, [3, 32, 32])
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.labels, [3, 9, 0])
        let x = d.inputs.scalars
        // Channel-major: red plane, then green (offset 1024), then blue (2048); rows of 32.
        XCTAssertEqual(x[0], 10 / 255)
        XCTAssertEqual(x[1024], 20 / 255)
        XCTAssertEqual(x[2048], 30 / 255)
        XCTAssertEqual(x[1 * 32 + 2], 40 / 255)
        XCTAssertEqual(x[2048 + 31 * 32 + 31], 1)
        XCTAssertEqual(x[1024 + 5 * 32 + 30], 7 / 255)
        XCTAssertEqual(x[0..<3072].filter { $0 != 0 }.count, 6, "nothing else is set in record 0")
        XCTAssertTrue(x[3072..<6144].allSatisfy { $0 == 128 / 255 })
        XCTAssertTrue(x[6144...].allSatisfy { $0 == 1 / 255 })
        // Reshaped to the example shape, element (c, r, k) is the pixel placed there.
        let image = d.inputs.reshaped([3, 3, 32, 32]).scalars
        XCTAssertEqual(image[0 * 3072 + 1 * 1024 + 5 * 32 + 30], 7 / 255)
    }

    func testSplitsFromADirectoryAndItsParentAndFromL2LData() throws {
        let folder = dir + "/cifar-10-batches-bin"
        XCTAssertEqual(mkdir(folder, 0o755), 0)
        for k in 1...5 {
            // Batch k holds labels k-1 and k-1 (pixel value k marks the file).
            writeFile(folder + "/data_batch_\(k).bin" + (k == 3 ? ".gz" : ""),
                      record(label: UInt8(k - 1), fill: UInt8(k)) + record(label: UInt8(k - 1), fill: UInt8(k)), gzip: k == 3)
        }
        writeFile(folder + "/test_batch.bin", record(label: 7, fill: 200))

        let train = try CIFAR10.load(.train, directory: dir)
        XCTAssertEqual(train.count, 10)
        XCTAssertEqual(train.labels, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], "files in order data_batch_1…5")
        XCTAssertEqual(train.inputs.scalars[4 * 3072], 3 / 255, "the gzipped batch 3")
        let test = try CIFAR10.load(.test, directory: folder)
        XCTAssertEqual(test.labels, [7])

        let saved = getenv("L2L_DATA").map { String(cString: $0) }
        defer { if let s = saved { setenv("L2L_DATA", s, 1) } else { unsetenv("L2L_DATA") } }
        setenv("L2L_DATA", dir, 1)
        XCTAssertEqual(try CIFAR10.load(.test).labels, [7])
        unsetenv("L2L_DATA")
        assertThrows(.io, containing: "L2L_DATA") { try CIFAR10.load(.test) }
    }

    func testRejectsTruncatedPaddedBadLabelsAndMissingFiles() {
        let good = record(label: 1) + record(label: 2)
        writeFile(dir + "/cut.bin", Array(good.dropLast()))
        assertThrows(.format, containing: "truncated") { try CIFAR10.load(file: dir + "/cut.bin") }
        writeFile(dir + "/pad.bin", good + [0, 0, 0])
        assertThrows(.format, containing: "3 bytes over") { try CIFAR10.load(file: dir + "/pad.bin") }
        writeFile(dir + "/label.bin", record(label: 1) + record(label: 10))
        assertThrows(.format, containing: "record 1 has label 10") { try CIFAR10.load(file: dir + "/label.bin") }
        writeFile(dir + "/empty.bin", [])
        assertThrows(.format, containing: "empty") { try CIFAR10.load(file: dir + "/empty.bin") }
        // Gzip that is cut short.
        writeFile(dir + "/whole.bin.gz", good, gzip: true)
        let fd = fopen(dir + "/whole.bin.gz", "rb")!
        var compressed = [UInt8](repeating: 0, count: 1 << 16)
        let n = fread(&compressed, 1, compressed.count, fd)
        fclose(fd)
        writeFile(dir + "/cut.bin.gz", Array(compressed[0..<(n / 2)]))
        assertThrows(.format) { try CIFAR10.load(file: dir + "/cut.bin.gz") }

        assertThrows(.io, containing: "cifar-10-binary.tar.gz") { try CIFAR10.load(file: dir + "/missing.bin") }
        assertThrows(.io, containing: dir + "/missing.bin") { try CIFAR10.load(file: dir + "/missing.bin") }
        assertThrows(.io, containing: "directory") { try CIFAR10.load(file: dir) }
        assertThrows(.io, containing: "data_batch_1.bin") { try CIFAR10.load(.train, directory: dir + "/nowhere") }
        assertThrows(.invalidArgument) { try CIFAR10.load(files: []) }
    }

    /// The MTL2L paper's grey 28×28 "modified CIFAR-10" (its Appendix B.2).
    func testGreyCroppedTransform() throws {
        let (r, g, b): (UInt8, UInt8, UInt8) = (200, 100, 50)
        var pixels: [(Int, Int, Int, UInt8)] = [(0, 0, 0, r), (1, 0, 0, g), (2, 0, 0, b),
                                                (0, 27, 27, 255), (1, 3, 4, 255)]
        // Everything in row 28+ or column 28+ is cut away.
        for k in 0..<32 { pixels += [(0, 28, k, 99), (1, 31, k, 99), (2, k, 28, 99), (0, k, 31, 99)] }
        writeFile(dir + "/grey.bin", record(label: 4, pixels: pixels) + record(label: 5, fill: 255))
        let colour = try CIFAR10.load(file: dir + "/grey.bin")
        let grey = try colour.greyCropped()
        XCTAssertEqual(grey.inputs.shape, [2, 784])
        XCTAssertEqual(grey.exampleShape, [28, 28])
        XCTAssertEqual(grey.labels, [4, 5])
        XCTAssertEqual(grey.classes, 10)
        let x = grey.inputs.scalars
        XCTAssertEqual(x[0], (0.30 * 200 + 0.59 * 100 + 0.11 * 50) / 255, accuracy: 1e-6)
        XCTAssertEqual(x[27 * 28 + 27], 0.30, accuracy: 1e-6)
        XCTAssertEqual(x[3 * 28 + 4], 0.59, accuracy: 1e-6)
        XCTAssertEqual(x[0..<784].filter { $0 != 0 }.count, 3, "rows and columns 28–31 are dropped")
        assertClose(Array(x[784...]), [Float](repeating: 1, count: 784), "weights sum to 1")

        let printed = try colour.greyCropped(weights: .mtl2lAsPrinted)
        XCTAssertEqual(printed.inputs.scalars[0], (0.30 * 200 + 0.11 * 100 + 0.59 * 50) / 255, accuracy: 1e-6)
        let itu = try colour.greyCropped(rows: 32, columns: 30, weights: .itu601)
        XCTAssertEqual(itu.exampleShape, [32, 30])
        XCTAssertEqual(itu.inputs.scalars[28 * 30 + 5], 0.299 * 99 / 255, accuracy: 1e-6)

        assertThrows(.shapeMismatch, containing: "[3, rows, columns]") { try grey.greyCropped() }
        assertThrows(.shapeMismatch, containing: "33×28") { try colour.greyCropped(rows: 33) }
    }

    /// The real data, when a user has put the binary version under $L2L_DATA.
    func testRealCIFAR10TestSplit() throws {
        guard let base = getenv("L2L_DATA").map({ String(cString: $0) }),
              access(base + "/cifar-10-batches-bin/test_batch.bin", R_OK) == 0 else {
            throw XCTSkip("CIFAR-10 (binary version) is not under $L2L_DATA/cifar-10-batches-bin")
        }
        let d = try CIFAR10.load(.test)
        XCTAssertEqual(d.count, 10_000)
        XCTAssertEqual(d.labels.filter { $0 == 0 }.count, 1000, "the test split is balanced")
    }
}

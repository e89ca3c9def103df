import Glibc
import L2L
import L2LTestSupport
import XCTest

final class IDXTests: XCTestCase {
    let dir = temporaryDirectory()

    func testReadsRawAndGzippedFilesOfEveryType() throws {
        let images = idxBytes(type: 0x08, shape: [2, 2, 3], payload: (0..<12).map { UInt8($0 * 20) })
        for gz in [false, true] {
            let path = dir + "/images\(gz ? ".gz" : "")"
            writeFile(path, images, gzip: gz)
            let a = try IDXArray(contentsOf: path)
            XCTAssertEqual(a.shape, [2, 2, 3])
            XCTAssertEqual(a.elementType, .uint8)
            XCTAssertEqual(a.values, (0..<12).map { Float($0 * 20) })
        }
        // Big-endian multi-byte types.
        let i32 = try IDXArray(bytes: idxBytes(type: 0x0C, shape: [2], payload: [0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFE]), name: "i32")
        XCTAssertEqual(i32.values, [256, -2])
        let f32 = try IDXArray(bytes: idxBytes(type: 0x0D, shape: [1], payload: [0x3F, 0xC0, 0, 0]), name: "f32")
        XCTAssertEqual(f32.values, [1.5])
        let i16 = try IDXArray(bytes: idxBytes(type: 0x0B, shape: [1], payload: [0xFF, 0x00]), name: "i16")
        XCTAssertEqual(i16.values, [-256])
        let i8 = try IDXArray(bytes: idxBytes(type: 0x09, shape: [1], payload: [0xFF]), name: "i8")
        XCTAssertEqual(i8.values, [-1])
        let f64 = try IDXArray(bytes: idxBytes(type: 0x0E, shape: [1], payload: [0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18]), name: "f64")
        XCTAssertEqual(f64.values[0], Float.pi, accuracy: 1e-6)
    }

    func testRejectsTruncatedPaddedAndWrongMagic() {
        let good = idxBytes(type: 0x08, shape: [3, 4], payload: [UInt8](repeating: 7, count: 12))
        assertThrows(.format, containing: "truncated") { try IDXArray(bytes: Array(good.dropLast(1)), name: "t") }
        assertThrows(.format, containing: "13 bytes") { try IDXArray(bytes: good + [0], name: "p") }
        assertThrows(.format, containing: "magic") { try IDXArray(bytes: [0, 1] + good.dropFirst(2), name: "m") }
        assertThrows(.format, containing: "magic") { try IDXArray(bytes: [0, 0, 0x07] + good.dropFirst(3), name: "ty") }
        assertThrows(.format, containing: "too short") { try IDXArray(bytes: [0, 0], name: "s") }
        assertThrows(.format, containing: "dimensions") { try IDXArray(bytes: [0, 0, 8, 3, 0, 0], name: "h") }
        // A gzip stream cut in half.
        let big = idxBytes(type: 0x08, shape: [4000], payload: (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        writeFile(dir + "/whole.gz", big, gzip: true)
        let fd = fopen(dir + "/whole.gz", "rb")!
        var compressed = [UInt8](repeating: 0, count: 1 << 16)
        let n = fread(&compressed, 1, compressed.count, fd)
        fclose(fd)
        writeFile(dir + "/cut.gz", Array(compressed[0..<(n / 2)]))
        assertThrows(.format) { try IDXArray(contentsOf: dir + "/cut.gz") }
        assertThrows(.io, containing: "cannot open") { try IDXArray(contentsOf: dir + "/missing") }
        assertThrows(.io, containing: "directory") { try IDXArray(contentsOf: dir) }
    }

    func testDatasetFromImagesAndLabels() throws {
        writeFile(dir + "/img", idxBytes(type: 0x08, shape: [3, 2, 2], payload: (0..<12).map { UInt8($0 * 10) }))
        writeFile(dir + "/lab", idxBytes(type: 0x08, shape: [3], payload: [1, 0, 9]))
        let d = try IDXDataset.load(images: dir + "/img", labels: dir + "/lab")
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.features, 4)
        XCTAssertEqual(d.exampleShape, [2, 2])
        XCTAssertEqual(d.labels, [1, 0, 9])
        assertClose(d.inputs.scalars, (0..<12).map { Float($0 * 10) / 255 })
        writeFile(dir + "/lab2", idxBytes(type: 0x08, shape: [2], payload: [1, 0]))
        assertThrows(.format, containing: "3 images") { try IDXDataset.load(images: dir + "/img", labels: dir + "/lab2") }
        writeFile(dir + "/lab3", idxBytes(type: 0x08, shape: [3], payload: [1, 0, 10]))
        assertThrows(.format, containing: "label 10") { try IDXDataset.load(images: dir + "/img", labels: dir + "/lab3") }
    }

    func testFashionMNISTFromADirectoryAndErrorsWhenMissing() throws {
        for (stem, bytes) in [("t10k-images-idx3-ubyte", idxBytes(type: 8, shape: [2, 28, 28], payload: [UInt8](repeating: 255, count: 1568))),
                              ("t10k-labels-idx1-ubyte", idxBytes(type: 8, shape: [2], payload: [3, 4]))] {
            writeFile(dir + "/" + stem + ".gz", bytes, gzip: true)
        }
        let d = try IDXDataset.fashionMNIST(.test, directory: dir)
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.labels, [3, 4])
        assertThrows(.io, containing: "train-images") { try IDXDataset.fashionMNIST(.train, directory: dir) }
    }

    /// The real data, when Debian's dataset-fashion-mnist is installed.
    func testRealFashionMNISTTestSplit() throws {
        guard access(IDXDataset.debianFashionMNIST + "/t10k-images-idx3-ubyte.gz", R_OK) == 0 else {
            throw XCTSkip("Debian's dataset-fashion-mnist is not installed")
        }
        let d = try IDXDataset.fashionMNIST(.test, directory: IDXDataset.debianFashionMNIST)
        XCTAssertEqual(d.count, 10_000)
        XCTAssertEqual(d.features, 784)
        XCTAssertEqual(Set(d.labels), Set(0..<10))
        XCTAssertEqual(d.labels.filter { $0 == 0 }.count, 1000, "the test split is balanced")
        let (mean, std) = d.statistics()
        XCTAssertEqual(mean, 0.286, accuracy: 0.01)
        XCTAssertEqual(std, 0.353, accuracy: 0.01)
    }
}

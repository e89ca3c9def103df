import Glibc
import L2L
import L2LTestSupport
import XCTest

final class STL10Tests: XCTestCase {
    let dir = temporaryDirectory()
    let side = 96, plane = 96 * 96, image = 3 * 96 * 96

    /// A pixel value that differs between (row, column) and (column, row) almost everywhere.
    func pattern(_ n: Int, _ c: Int, _ row: Int, _ col: Int) -> UInt8 {
        UInt8((n * 101 + c * 7 + row * 5 + col * 3) % 256)
    }

    /// `count` images in STL-10's layout: per channel, column-major (row index fastest).
    func imagesBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count * image)
        for n in 0..<count {
            for c in 0..<3 {
                for col in 0..<side {
                    for row in 0..<side { bytes[n * image + c * plane + col * side + row] = pattern(n, c, row, col) }
                }
            }
        }
        return bytes
    }

    func testTransposesColumnMajorImagesAndShiftsLabels() throws {
        var bytes = imagesBytes(2)
        // Hand-placed: in the file, the byte right after pixel (0, 0) is pixel (row 1, column 0).
        bytes[1] = 250          // image 0, red, row 1, column 0
        bytes[side] = 251       // image 0, red, row 0, column 1
        bytes[image + 2 * plane + 7 * side + 5] = 252   // image 1, blue, row 5, column 7
        writeFile(dir + "/x.bin", bytes)
        writeFile(dir + "/y.bin", [1, 10])
        let d = try STL10.load(images: dir + "/x.bin", labels: dir + "/y.bin")
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.inputs.shape, [2, 27648])
        XCTAssertEqual(d.exampleShape, [3, 96, 96])
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.labels, [0, 9], "labels 1…10 become 0…9")
        let x = d.inputs.scalars
        // Row-major output: index row·96 + column within each channel.
        XCTAssertEqual(x[1 * side + 0], 250 / 255)
        XCTAssertEqual(x[0 * side + 1], 251 / 255)
        XCTAssertEqual(x[image + 2 * plane + 5 * side + 7], 252 / 255)
        // Every other pixel sits where the pattern says.
        var wrong = 0
        for n in 0..<2 {
            for c in 0..<3 {
                for row in 0..<side {
                    for col in 0..<side {
                        let i = n * image + c * plane + row * side + col
                        if [1, side, image + 2 * plane + 5 * side + 7].contains(i) { continue }
                        if x[i] != Float(pattern(n, c, row, col)) / 255 { wrong += 1 }
                    }
                }
            }
        }
        XCTAssertEqual(wrong, 0)
    }

    func testSplitFromDirectory() throws {
        let folder = dir + "/stl10_binary"
        XCTAssertEqual(mkdir(folder, 0o755), 0)
        writeFile(folder + "/test_X.bin", imagesBytes(3))
        writeFile(folder + "/test_y.bin", [3, 1, 2])
        let d = try STL10.load(.test, directory: dir)
        XCTAssertEqual(d.labels, [2, 0, 1])
        XCTAssertEqual(try STL10.load(.test, directory: folder).count, 3)
        assertThrows(.io, containing: "train_X.bin") { try STL10.load(.train, directory: dir) }
    }

    func testRejectsTruncatedPaddedMismatchedBadLabelsAndMissingFiles() {
        let good = imagesBytes(2)
        writeFile(dir + "/y.bin", [1, 2])
        writeFile(dir + "/cut.bin", Array(good.dropLast(10)))
        assertThrows(.format, containing: "truncated") { try STL10.load(images: dir + "/cut.bin", labels: dir + "/y.bin") }
        writeFile(dir + "/pad.bin", good + [7])
        assertThrows(.format, containing: "1 bytes over") { try STL10.load(images: dir + "/pad.bin", labels: dir + "/y.bin") }
        writeFile(dir + "/x.bin", good)
        writeFile(dir + "/y3.bin", [1, 2, 3])
        assertThrows(.format, containing: "holds 2 images") { try STL10.load(images: dir + "/x.bin", labels: dir + "/y3.bin") }
        writeFile(dir + "/y0.bin", [1, 0])
        assertThrows(.format, containing: "label 0 of image 1") { try STL10.load(images: dir + "/x.bin", labels: dir + "/y0.bin") }
        writeFile(dir + "/y11.bin", [11, 1])
        assertThrows(.format, containing: "label 11") { try STL10.load(images: dir + "/x.bin", labels: dir + "/y11.bin") }
        writeFile(dir + "/empty.bin", [])
        assertThrows(.format, containing: "empty") { try STL10.load(images: dir + "/empty.bin", labels: dir + "/empty.bin") }
        assertThrows(.io, containing: "stl10_binary.tar.gz") { try STL10.load(images: dir + "/none.bin", labels: dir + "/y.bin") }
        assertThrows(.io, containing: dir + "/none_y.bin") { try STL10.load(images: dir + "/x.bin", labels: dir + "/none_y.bin") }
    }

    func testGreyCroppedWorksOnSTL10Examples() throws {
        writeFile(dir + "/x.bin", imagesBytes(1))
        writeFile(dir + "/y.bin", [4])
        let grey = try STL10.load(images: dir + "/x.bin", labels: dir + "/y.bin").greyCropped(weights: .itu601)
        XCTAssertEqual(grey.exampleShape, [28, 28])
        let (row, col) = (3, 20)
        let expected = (0.299 * Float(pattern(0, 0, row, col)) + 0.587 * Float(pattern(0, 1, row, col))
            + 0.114 * Float(pattern(0, 2, row, col))) / 255
        XCTAssertEqual(grey.inputs.scalars[row * 28 + col], expected, accuracy: 1e-6)
    }
}

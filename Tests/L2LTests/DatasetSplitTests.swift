import L2L
import L2LTestSupport
import XCTest

final class DatasetSplitTests: XCTestCase {
    /// `n` examples whose first feature is their index.
    func numbered(_ n: Int) throws -> Dataset {
        let x = Tensor(shape: [n, 2], scalars: (0..<n).flatMap { [Float($0), Float(2 * $0)] })
        return try Dataset(inputs: x, labels: (0..<n).map { Int32($0 % 3) }, classes: 3, exampleShape: [2])
    }

    func testSplitIsDisjointCoveringOrderedAndSeeded() throws {
        let data = try numbered(50)
        let (train, validation, test) = try data.split(train: 30, validation: 12, test: 8, seed: 9)
        XCTAssertEqual([train.count, validation.count, test.count], [30, 12, 8])
        func ids(_ d: Dataset) -> [Int] { stride(from: 0, to: d.inputs.count, by: 2).map { Int(d.inputs.scalars[$0]) } }
        let all = ids(train) + ids(validation) + ids(test)
        XCTAssertEqual(Set(all).count, 50, "disjoint")
        XCTAssertEqual(all.sorted(), Array(0..<50), "covering")
        for part in [train, validation, test] {
            XCTAssertEqual(ids(part), ids(part).sorted(), "each part keeps the original order")
            XCTAssertEqual(part.labels, ids(part).map { Int32($0 % 3) }, "labels travel with their inputs")
            XCTAssertEqual(part.inputs.scalars.enumerated().filter { $0.offset % 2 == 1 }.map(\.element),
                           ids(part).map { Float(2 * $0) })
            XCTAssertEqual(part.exampleShape, [2])
            XCTAssertEqual(part.classes, 3)
        }
        XCTAssertNotEqual(ids(train), Array(0..<30), "the split is random")

        let again = try data.split(train: 30, validation: 12, test: 8, seed: 9)
        XCTAssertEqual(ids(again.train), ids(train))
        XCTAssertEqual(ids(again.test), ids(test))
        let other = try data.split(train: 30, validation: 12, test: 8, seed: 10)
        XCTAssertNotEqual(ids(other.train), ids(train))

        let indices = try Dataset.splitIndices(total: 50, train: 30, validation: 12, test: 8, seed: 9)
        XCTAssertEqual(indices.train, ids(train))
        XCTAssertEqual(indices.validation, ids(validation))
    }

    func testSplitByFractionsAndErrors() throws {
        let data = try numbered(10)
        let (train, validation, test) = try data.split(fractions: (0.8, 0.1, 0.1), seed: 1)
        XCTAssertEqual([train.count, validation.count, test.count], [8, 1, 1])
        let whole = try data.split(fractions: (1, 0, 0), seed: 1)
        XCTAssertEqual([whole.train.count, whole.validation.count, whole.test.count], [10, 0, 0])
        XCTAssertEqual(whole.validation.inputs.shape, [0, 2])
        XCTAssertEqual(try Dataset.splitCounts(total: 7, train: 0.5, validation: 0.25, test: 0.25).train, 3)
        let c = try Dataset.splitCounts(total: 1, train: 0, validation: 0.5, test: 0.5)
        XCTAssertEqual(c.train + c.validation + c.test, 1)

        assertThrows(.invalidArgument, containing: "sum to 1") { try data.split(fractions: (0.8, 0.1, 0.2), seed: 1) }
        assertThrows(.invalidArgument, containing: "sum to 1") { try data.split(fractions: (1.1, -0.1, 0), seed: 1) }
        assertThrows(.invalidArgument, containing: "must equal") { try data.split(train: 5, validation: 2, test: 2, seed: 1) }
        assertThrows(.invalidArgument, containing: "negative") { try data.split(train: 12, validation: -2, test: 0, seed: 1) }
        assertThrows(.invalidArgument, containing: "index 10") { try data.subset(indices: [0, 10]) }
        XCTAssertEqual(try data.subset(indices: [4, 1, 4]).labels, [1, 1, 1])
    }

    func testPerFeatureStandardisation() throws {
        let x = Tensor(shape: [3, 2], scalars: [1, 5, 2, 5, 3, 5])
        let d = try Dataset(inputs: x, labels: [0, 1, 0], classes: 2)
        let (mean, std) = d.featureStatistics()
        assertClose(mean, [2, 5])
        assertClose(std, [(2.0 / 3.0 as Float).squareRoot(), 0])
        let s = try d.standardizedPerFeature(mean: mean, std: std)
        let a = (1.5 as Float).squareRoot()
        assertClose(s.inputs.scalars, [-a, 0, 0, 0, a, 0], "a constant column is only centred")
        XCTAssertEqual(s.labels, d.labels)
        XCTAssertEqual(d.inputs.scalars, [1, 5, 2, 5, 3, 5], "the original is untouched")
        // Another split standardised with these statistics.
        let other = try Dataset(inputs: Tensor(shape: [1, 2], scalars: [4, 7]), labels: [1], classes: 2)
        assertClose(try other.standardizedPerFeature(mean: mean, std: std).inputs.scalars,
                    [2 / (2.0 / 3.0 as Float).squareRoot(), 2])
        // The global statistics are still one pair for the whole set.
        XCTAssertEqual(d.statistics().mean, 3.5, accuracy: 1e-6)

        assertThrows(.shapeMismatch) { try d.standardizedPerFeature(mean: [0], std: [1]) }
        assertThrows(.invalidArgument, containing: "column 1") { try d.standardizedPerFeature(mean: [0, 0], std: [1, -1]) }
        assertThrows(.invalidArgument) { try d.standardizedPerFeature(mean: [.nan, 0], std: [1, 1]) }
    }
}

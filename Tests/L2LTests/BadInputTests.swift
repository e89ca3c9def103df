@testable import L2L
import L2LTestSupport
import XCTest

/// Bad input found by a hostile probe (issue 14): each is a clear error now.
final class BadInputTests: XCTestCase {
    func testAnAlteredParameterShapesFieldIsRejected() throws {
        let dir = temporaryDirectory()
        let lstm = try Factory.learnedOptimiser(kind: "lstm", options: nil, parameterShapes: [])
        var rng = RNG(seed: 1)
        let path = dir + "/lstm.safetensors"
        try LearnedOptimiserFile(lstm, meta: lstm.initialMetaParameters(rng: &rng)).write(to: path, parameterShapes: [])
        XCTAssertNoThrow(try LearnedOptimiserFile.read(path))
        var file = try SafetensorsFile(contentsOf: path)
        for garbage in ["garbage", "0x3", "3xx4", "-1", "99999999999x99999999999"] {
            file.metadata["parameter_shapes"] = garbage
            try file.write(to: path)
            assertThrows(.format) { try LearnedOptimiserFile.read(path) }
        }
    }

    func testASoftmaxClassifierNeedsTwoClasses() throws {
        assertThrows(.invalidArgument, containing: "at least 2 classes") { try MLP(sizes: [4, 3, 1]) }
        XCTAssertNoThrow(try MLP(sizes: [4, 3, 1], objective: .meanSquaredError))
        XCTAssertNoThrow(try MLP(sizes: [4, 3, 2]))
    }
}

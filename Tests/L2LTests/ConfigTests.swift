import L2L
import L2LTestSupport
import XCTest

final class ConfigTests: XCTestCase {
    func testParsesTypedValuesWithAnySeparator() throws {
        var c = try Config("sizes=784,32,10; activation=tanh\nlr=0.5 shuffle=no", context: "t")
        XCTAssertEqual(try c.ints("sizes"), [784, 32, 10])
        XCTAssertEqual(try c.choice("activation", default: 0, ["relu": 0, "tanh": 1]), 1)
        XCTAssertEqual(try c.float("lr", default: 1), 0.5)
        XCTAssertEqual(try c.bool("shuffle", default: true), false)
        XCTAssertEqual(try c.int("absent", default: 4), 4)
        XCTAssertNoThrow(try c.finish())
    }

    func testRejectsUnknownMalformedAndOutOfRange() throws {
        var c = try Config("lr=0.1 lrr=2", context: "sgd")
        _ = try c.float("lr", default: 0)
        assertThrows(.invalidArgument, containing: "unknown option lrr") { try c.finish() }
        assertThrows(.invalidArgument, containing: "key=value") { try Config("lr", context: "sgd") }
        assertThrows(.invalidArgument, containing: "twice") { try Config("lr=1 lr=2", context: "sgd") }
        assertThrows(.invalidArgument, containing: "empty") { try Config("lr=", context: "sgd") }
        var d = try Config("lr=abc n=1.5 b=maybe sizes=1,,2 x=-1 f=nan", context: "t")
        assertThrows(.invalidArgument, containing: "not a finite number") { try d.float("lr", default: 0) }
        assertThrows(.invalidArgument, containing: "not an integer") { try d.int("n", default: 0) }
        assertThrows(.invalidArgument, containing: "not a boolean") { try d.bool("b", default: true) }
        assertThrows(.invalidArgument, containing: "list of integers") { try d.ints("sizes") }
        assertThrows(.invalidArgument, containing: "outside") { try d.int("x", default: 0, range: 0...5) }
        assertThrows(.invalidArgument, containing: "not a finite number") { try d.float("f", default: 0) }
    }

    func testFactoriesNameKindsAndRejectBadOptions() throws {
        XCTAssertEqual(try Factory.learner(kind: "mlp", options: "sizes=4,3,2").parameterCount, 4 * 3 + 3 + 3 * 2 + 2)
        assertThrows(.invalidArgument, containing: "unknown learner kind") { try Factory.learner(kind: "rnn", options: nil) }
        assertThrows(.invalidArgument, containing: "sizes") { try Factory.learner(kind: "mlp", options: nil) }
        assertThrows(.invalidArgument, containing: "unknown option depth") { try Factory.learner(kind: "mlp", options: "sizes=2,2 depth=3") }
        assertThrows(.invalidArgument, containing: "unknown optimiser kind") { try Factory.optimiser(kind: "sgdd", options: nil) }
        assertThrows(.invalidArgument, containing: "outside") { try Factory.optimiser(kind: "sgd", options: "lr=-1") }
    }
}

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

    /// Numbers are decimal and fit a Float: hexadecimal, infinities and values that would
    /// overflow or silently underflow to 0 (or a subnormal) are refused, not reinterpreted.
    func testNumbersAreDecimalAndRepresentable() throws {
        var c = try Config("a=0x10 b=1e-400 c=1e40 d=inf e=1e-3 f=-2.5E+2 g=0 h=1e-40", context: "t")
        for key in ["a", "b", "c", "d", "h"] {
            assertThrows(.invalidArgument, containing: "decimal") { try c.float(key, default: 0) }
        }
        XCTAssertEqual(try c.float("e", default: 0), 1e-3)
        XCTAssertEqual(try c.float("f", default: 0), -250)
        XCTAssertEqual(try c.float("g", default: 1), 0)
        assertThrows(.invalidArgument, containing: "not all zero") {
            var m = try Config("unroll=5 weights=0,0,0,0,0", context: "meta")
            _ = try MetaTrainingConfig(config: &m)
        }
        assertThrows(.invalidArgument) {
            var m = try Config("unroll=2 weights=1,0x1", context: "meta")
            _ = try MetaTrainingConfig(config: &m)
        }
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

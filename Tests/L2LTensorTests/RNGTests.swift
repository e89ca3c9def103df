import L2LTensor
import L2LTestSupport
import XCTest

final class RNGTests: XCTestCase {
    /// Known-answer vectors of Philox-4x32-10 from the Random123 distribution (kat_vectors).
    func testPhiloxKnownAnswers() {
        let zero = RNG.philox(counter: 0, high: 0, key: (0, 0))
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let ones = RNG.philox(counter: .max, high: .max, key: (0xffff_ffff, 0xffff_ffff))
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        let pi = RNG.philox(counter: 0x85a3_08d3_243f_6a88, high: 0x0370_7344_1319_8a2e, key: (0xa409_3822, 0x299f_31d0))
        XCTAssertEqual([pi.0, pi.1, pi.2, pi.3], [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    func testSameSeedSameNumbersOtherSeedOtherNumbers() {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let sa = (0..<100).map { _ in a.nextUInt32() }
        XCTAssertEqual(sa, (0..<100).map { _ in b.nextUInt32() })
        XCTAssertNotEqual(sa, (0..<100).map { _ in c.nextUInt32() })
        XCTAssertEqual(randomTensor([5, 7], seed: 3).scalars, randomTensor([5, 7], seed: 3).scalars)
    }

    func testStateResumesTheStream() {
        var a = RNG(seed: 9)
        for _ in 0..<7 { _ = a.nextUInt32() }   // stop in the middle of a block
        var b = RNG(state: a.state)
        XCTAssertEqual((0..<20).map { _ in a.nextUInt32() }, (0..<20).map { _ in b.nextUInt32() })
    }

    func testDistributions() {
        var rng = RNG(seed: 5)
        let u = Tensor.uniform([100_000], low: -2, high: 3, rng: &rng).scalars
        XCTAssertTrue(u.allSatisfy { $0 >= -2 && $0 < 3 })
        XCTAssertEqual(u.reduce(0, +) / Float(u.count), 0.5, accuracy: 0.02)
        let g = Tensor.normal([100_001], mean: 1, std: 2, rng: &rng).scalars   // odd count: last pair half-used
        let mean = g.reduce(0, +) / Float(g.count)
        let variance = g.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(g.count)
        XCTAssertEqual(mean, 1, accuracy: 0.03)
        XCTAssertEqual(variance.squareRoot(), 2, accuracy: 0.03)
        XCTAssertTrue(g.allSatisfy(\.isFinite))
    }

    func testIntegersAndPermutations() {
        var rng = RNG(seed: 6)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[rng.nextInt(below: 7)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
        let p = rng.permutation(1000)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertNotEqual(p, Array(0..<1000))
        var r1 = RNG(seed: 1), r2 = RNG(seed: 1)
        XCTAssertEqual(r1.permutation(50), r2.permutation(50))
    }

    func testInitialiserScales() {
        var rng = RNG(seed: 8)
        let glorot = Tensor.glorotUniform([200, 300], fanIn: 200, fanOut: 300, rng: &rng).scalars
        let limit = (6 / Float(500)).squareRoot()
        XCTAssertTrue(glorot.allSatisfy { abs($0) <= limit })
        XCTAssertGreaterThan(glorot.map(abs).max()!, 0.95 * limit)
        let he = Tensor.heNormal([400, 100], fanIn: 400, rng: &rng).scalars
        let std = (he.reduce(0) { $0 + $1 * $1 } / Float(he.count)).squareRoot()
        XCTAssertEqual(std, (2 / Float(400)).squareRoot(), accuracy: 0.003)
        let fanIn = Tensor.fanInUniform([100, 10], fanIn: 100, rng: &rng).scalars
        XCTAssertTrue(fanIn.allSatisfy { abs($0) <= 0.1 })
    }
}

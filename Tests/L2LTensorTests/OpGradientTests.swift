import L2LTensor
import L2LTestSupport
import XCTest

/// A finite-difference check, first and second order, for every differentiable op.
final class OpGradientTests: XCTestCase {
    let a = randomTensor([3, 4], seed: 1)
    let b = randomTensor([3, 4], seed: 2)

    // MARK: Arithmetic and broadcasting

    func testAddSubMulDivSameShape() {
        let pos = randomTensor([3, 4], low: 0.5, high: 2, seed: 3)
        checkGradients([a, b]) { $0[0] + $0[1] }
        checkGradients([a, b]) { $0[0] - $0[1] }
        checkGradients([a, b]) { $0[0] * $0[1] }
        checkGradients([a, pos]) { $0[0] / $0[1] }
        checkGradients([a]) { -$0[0] }
    }

    func testBroadcastRowColumnScalar() {
        let row = randomTensor([4], seed: 4), row2 = randomTensor([1, 4], seed: 5)
        let col = randomTensor([3, 1], low: 0.5, high: 2, seed: 6), s = randomTensor([], low: 0.5, high: 2, seed: 7)
        for other in [row, row2, col, s] {
            checkGradients([a, other]) { $0[0] + $0[1] }
            checkGradients([a, other]) { $0[1] - $0[0] }
            checkGradients([a, other]) { $0[0] * $0[1] }
        }
        checkGradients([a, col]) { $0[0] / $0[1] }
        checkGradients([a, s]) { $0[0] / $0[1] }
    }

    func testScalarOperands() {
        let pos = randomTensor([3, 4], low: 0.5, high: 2, seed: 8)
        checkGradients([a]) { $0[0] + 1.5 }
        checkGradients([a]) { 2 - $0[0] }
        checkGradients([a]) { $0[0] * -3 }
        checkGradients([pos]) { 2 / $0[0] }
        checkGradients([a]) { $0[0] / 4 }
    }

    // MARK: Element-wise functions

    func testSmoothUnary() {
        let pos = randomTensor([3, 4], low: 0.3, high: 2, seed: 9)
        checkGradients([a]) { $0[0].exp() }
        checkGradients([a * 3]) { $0[0].sin() }
        checkGradients([a * 3]) { $0[0].cos() }
        checkGradients([pos]) { $0[0].log() }
        checkGradients([pos]) { $0[0].sqrt() }
        checkGradients([a * 3]) { $0[0].sigmoid() }
        checkGradients([a * 2]) { $0[0].tanh() }
        checkGradients([a * 3]) { $0[0].softplus() }
        checkGradients([a]) { $0[0].pow(2) }
        checkGradients([a]) { $0[0].pow(3) }
        checkGradients([pos]) { $0[0].pow(0.5) }
        checkGradients([pos]) { $0[0].pow(-1.5) }
    }

    func testKinkedUnary() {
        // Inputs at least 0.2 from every kink, so ±ε never crosses one.
        let x = awayFromZero([3, 4], seed: 10)
        checkGradients([x]) { $0[0].abs() }
        checkGradients([x]) { $0[0].relu() }
        checkGradients([x]) { $0[0].clamped(-0.05, 0.05) }   // every element outside: zero gradient
        checkGradients([x * 0.1]) { $0[0].clamped(-1, 1) }   // every element inside: identity
        let shifted = x + 0.5   // elements in (−1.7, −0.3) ∪ (0.7, 2.2): both sides of [0, 0.5]
        checkGradients([shifted]) { $0[0].clamped(0, 0.5) }
    }

    func testSignHasNoGradient() {
        let x = awayFromZero([5], seed: 11).tracked()
        XCTAssertEqual(x.sign().scalars, x.scalars.map { $0 > 0 ? 1 : -1 })
        XCTAssertFalse(x.sign().isTracked)
        XCTAssertEqual(gradients(of: (x.sign() * x).sum(), wrt: [x])[0].scalars, x.sign().scalars)
    }

    // MARK: Reductions and shapes

    func testReductions() {
        let x = randomTensor([2, 3, 4], seed: 12)
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].mean() }
        for axis in [0, 1, 2, -1] {
            checkGradients([x]) { $0[0].sum(axis: axis) }
            checkGradients([x]) { $0[0].mean(axis: axis, keepDims: true) }
        }
        // A reduction inside a non-linear function, so the second-order check is not trivial.
        checkGradients([x]) { $0[0].sum(axis: 1).pow(2) }
    }

    func testBroadcastToAndSumToShape() {
        let row = randomTensor([1, 4], seed: 13)
        checkGradients([row]) { $0[0].broadcast(to: [3, 4]).pow(2) }
        checkGradients([a]) { $0[0].sum(toShape: [1, 4]).pow(2) }
        checkGradients([a]) { $0[0].sum(toShape: [3, 1]).pow(2) }
    }

    func testReshapeTransposeSlicePadConcat() {
        checkGradients([a]) { $0[0].reshaped([2, 6]).pow(2) }
        checkGradients([a]) { $0[0].reshaped([-1]).pow(2) }
        checkGradients([a]) { $0[0].transposed().pow(2) }
        checkGradients([a]) { $0[0].slice(axis: 1, 1..<3).pow(2) }
        checkGradients([a]) { $0[0].slice(axis: 0, 2..<3).exp() }
        checkGradients([a]) { $0[0].padded(axis: 1, before: 2, after: 1).pow(2) }
        let c = randomTensor([2, 4], seed: 14), d = randomTensor([3, 2], seed: 15)
        checkGradients([a, c]) { Tensor.concatenate([$0[0], $0[1]], axis: 0).pow(2) }
        checkGradients([a, d]) { Tensor.concatenate([$0[0], $0[1], $0[0]], axis: 1).pow(2) }
    }

    // MARK: Indexing

    func testGatherScatterWhere() {
        let labels: [Int32] = [3, 0, 2]
        checkGradients([a]) { $0[0].gather(rows: labels).pow(2) }
        let v = randomTensor([3], seed: 16)
        checkGradients([v]) { $0[0].scatter(rows: labels, columns: 4).exp() }
        let mask = randomTensor([3, 4], seed: 17).mask(greaterThan: 0)
        checkGradients([a, b]) { Tensor.select(mask, $0[0], $0[1]).pow(2) }
        checkGradients([a, randomTensor([], seed: 18)]) { Tensor.select(mask, $0[0], $0[1]).pow(2) }
    }

    // MARK: Matrix products

    func testMatmulAllTransposes() {
        let m = randomTensor([3, 5], seed: 19), n = randomTensor([5, 2], seed: 20)
        checkGradients([m, n]) { matmul($0[0], $0[1]) }
        checkGradients([m.transposed(), n]) { matmul($0[0], $0[1], transposeA: true) }
        checkGradients([m, n.transposed()]) { matmul($0[0], $0[1], transposeB: true) }
        checkGradients([m.transposed(), n.transposed()]) { matmul($0[0], $0[1], transposeA: true, transposeB: true) }
        // Non-linear around a product, so the second-order terms couple both factors.
        checkGradients([m, n]) { matmul($0[0], $0[1]).tanh() }
    }

    // MARK: Softmax and losses

    func testSoftmaxFamily() {
        let x = a * 2
        checkGradients([x]) { $0[0].softmax() }
        checkGradients([x]) { $0[0].logSoftmax() }
        checkGradients([x]) { Tensor.softmaxCrossEntropy(logits: $0[0], labels: [1, 3, 0]) }
    }

    func testBinaryCrossEntropyAndMSE() {
        let targets = randomTensor([3, 4], low: 0, high: 1, seed: 21)
        checkGradients([a * 3, targets]) { Tensor.sigmoidBinaryCrossEntropy(logits: $0[0], targets: $0[1]) }
        checkGradients([a, b]) { Tensor.meanSquaredError($0[0], $0[1]) }
    }
}

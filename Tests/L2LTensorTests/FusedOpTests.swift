import Glibc
import L2LTensor
import L2LTestSupport
import XCTest

/// The fused ops (LSTM cell, sum of products, log-magnitude-and-sign features): values
/// against the same formulas written in composed ops, and gradients of first and second
/// order against finite differences (the first order runs the fused backward, the second
/// the composed rule).
final class FusedOpTests: XCTestCase {
    /// The cell written in composed ops: h' and c' side by side, `[P, 2H]`.
    func composedCell(gates: Tensor, cell: Tensor, bias: Tensor) -> Tensor {
        let h = cell.shape[1]
        let z = gates + bias
        func block(_ k: Int) -> Tensor { z.slice(axis: 1, (k * h)..<((k + 1) * h)) }
        let c = block(1).sigmoid() * cell + block(0).sigmoid() * block(2).tanh()
        return Tensor.concatenate([block(3).sigmoid() * c.tanh(), c], axis: 1)
    }

    func testLSTMCellMatchesComposedFormula() {
        // Sizes that exercise the parallel path (P·4H > 65,536) and a width that is not a
        // multiple of the vector width.
        for (p, h) in [(3, 2), (1000, 20), (700, 7)] {
            let gates = randomTensor([p, 4 * h], low: -6, high: 6, seed: 1)
            let cell = randomTensor([p, h], low: -3, high: 3, seed: 2)
            let bias = randomTensor([4 * h], seed: 3)
            assertClose(Tensor.lstmCell(gates: gates, cell: cell, bias: bias),
                        composedCell(gates: gates, cell: cell, bias: bias), atol: 1e-6, rtol: 1e-5, "P \(p), H \(h)")
        }
    }

    func testLSTMCellGradients() {
        let gates = randomTensor([4, 12], low: -2, high: 2, seed: 4)
        let cell = randomTensor([4, 3], seed: 5), bias = randomTensor([12], seed: 6)
        checkGradients([gates, cell, bias]) { Tensor.lstmCell(gates: $0[0], cell: $0[1], bias: $0[2]) }
        // Only h' used downstream, as the last step of an unroll does.
        checkGradients([gates, cell, bias]) { Tensor.lstmCell(gates: $0[0], cell: $0[1], bias: $0[2]).slice(axis: 1, 0..<3) }
    }

    func testLSTMCellFusedBackwardMatchesComposed() {
        let (p, h) = (900, 20)
        let gates = randomTensor([p, 4 * h], low: -4, high: 4, seed: 7).tracked()
        let cell = randomTensor([p, h], seed: 8).tracked(), bias = randomTensor([4 * h], seed: 9).tracked()
        let weights = randomTensor([p, 2 * h], seed: 10)
        let fused = gradients(of: (Tensor.lstmCell(gates: gates, cell: cell, bias: bias) * weights).sum(), wrt: [gates, cell, bias])
        let composed = gradients(of: (composedCell(gates: gates, cell: cell, bias: bias) * weights).sum(), wrt: [gates, cell, bias])
        for (f, c) in zip(fused, composed) { assertClose(f, c, atol: 1e-5, rtol: 1e-4) }
    }

    func testSumOfProducts() {
        let x = randomTensor([5, 2], seed: 11), w = randomTensor([2, 4], seed: 12)
        let h = randomTensor([5, 3], seed: 13), u = randomTensor([3, 4], seed: 14)
        assertClose(Tensor.sumOfProducts([(x, w), (h, u)]), matmul(x, w) + matmul(h, u))
        assertClose(Tensor.sumOfProducts([(Tensor.zeros([5, 0]), Tensor.zeros([0, 4]))]), Tensor.zeros([5, 4]))
        checkGradients([x, w, h, u]) { Tensor.sumOfProducts([($0[0], $0[1]), ($0[2], $0[3])]) }
    }

    /// Products with an inner dimension of at most 4 skip sgemm: values against sums in
    /// Double, for each such size, on the parallel path (m·n·k > 65,536) and a tiny one,
    /// alone and accumulated by sumOfProducts after another small product.
    func testSmallInnerDimensionProducts() {
        func reference(_ a: Tensor, _ b: Tensor) -> [Float] {
            let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
            let (x, y) = (a.scalars, b.scalars)
            var c = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for l in 0..<k { s += Double(x[i * k + l]) * Double(y[l * n + j]) }
                    c[i * n + j] = Float(s)
                }
            }
            return c
        }
        for (m, n) in [(3, 5), (1000, 70), (3, 1), (70_000, 1)] {   // n = 1: l2lk_row_dot, rows split across cores at 70,000
            for k in 1...5 {
                let a = randomTensor([m, k], seed: UInt64(20 + k)), b = randomTensor([k, n], seed: UInt64(30 + k))
                assertClose(matmul(a, b).scalars, reference(a, b), atol: 1e-6, "m \(m), k \(k)")
                let a2 = randomTensor([m, 2], seed: 40), b2 = randomTensor([2, n], seed: 41)
                assertClose(Tensor.sumOfProducts([(a2, b2), (a, b)]).scalars,
                            zip(reference(a2, b2), reference(a, b)).map(+), atol: 1e-6, "sum, m \(m), k \(k)")
            }
        }
        let (a, b) = (randomTensor([4, 2], seed: 42), randomTensor([2, 3], seed: 43))
        checkGradients([a, b]) { matmul($0[0], $0[1]) }
    }

    func testLogMagnitudeAndSign() {
        let p: Float = 1   // threshold e^−1 ≈ 0.37, so both branches are easy to reach
        let g = Tensor(shape: [8, 1], scalars: [0.1, -0.2, 0.3, 0, 0.8, -1.5, 2.5, -0.6])
        let small = g.abs().mask(lessThan: expf(-p))
        let safe = Tensor.select(small, Tensor(1), g.abs())
        let expected = Tensor.concatenate([Tensor.select(small, Tensor(-1), safe.log() / p),
                                           Tensor.select(small, g * expf(p), g.sign())], axis: 1)
        assertClose(g.logMagnitudeAndSign(p: p), expected, atol: 1e-6)
        // Away from the threshold and from 0, where it is differentiable.
        let inner = Tensor(shape: [6, 1], scalars: [0.1, -0.2, 0.8, -1.5, 2.5, -0.6])
        checkGradients([inner]) { $0[0].logMagnitudeAndSign(p: p) }
    }
}

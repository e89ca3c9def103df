import L2LTensor
import L2LTestSupport
import XCTest

/// Hessian-, Jacobian- and Gauss-Newton-vector products against matrices built explicitly.
final class SecondOrderTests: XCTestCase {
    /// Rosenbrock f(x, y) = (1 − x)² + 100 (y − x²)², whose Hessian is known in closed form.
    func testRosenbrockHessianVectorProduct() {
        for (x0, y0) in [(Float(-1.2), Float(1)), (0.5, 0.3), (1, 1)] {
            let p = Tensor(shape: [2], scalars: [x0, y0]).tracked()
            let x = p.slice(axis: 0, 0..<1), y = p.slice(axis: 0, 1..<2)
            let f = ((1 - x).pow(2) + 100 * (y - x.pow(2)).pow(2)).sum()
            let h = [[2 - 400 * (y0 - x0 * x0) + 800 * x0 * x0, -400 * x0], [-400 * x0, 200]]
            for v in [[Float(1), 0], [0, 1], [0.3, -0.7]] {
                let hv = hessianVectorProduct(of: f, wrt: [p], vectors: [Tensor(shape: [2], scalars: v)])[0]
                let expected = h.map { row in row[0] * v[0] + row[1] * v[1] }
                assertClose(hv.scalars, expected, atol: 1e-3, rtol: 1e-5, "Rosenbrock Hv at (\(x0), \(y0))")
            }
        }
    }

    /// Gauss-Newton-vector product Jᵀ H_L J v of a tiny MLP with softmax cross-entropy,
    /// against the Jacobian built row by row and H_L = (diag(s) − s sᵀ)/N per example.
    func testGaussNewtonVectorProductOfTinyMLP() {
        let (n, d, h, c) = (2, 3, 4, 3)
        let x = randomTensor([n, d], seed: 1)
        let params = [randomTensor([d, h], seed: 2), randomTensor([h], seed: 3),
                      randomTensor([h, c], seed: 4), randomTensor([c], seed: 5)].map { $0.tracked() }
        func logits(_ p: [Tensor]) -> Tensor { matmul((matmul(x, p[0]) + p[1]).tanh(), p[2]) + p[3] }
        let z = logits(params)
        let v = params.enumerated().map { randomTensor($0.element.shape, seed: 10 + UInt64($0.offset)) }

        // Explicit Jacobian: one gradient per logit.
        let total = params.reduce(0) { $0 + $1.count }
        var jacobian = [[Float]]()
        for k in 0..<(n * c) {
            let pick = Tensor(shape: [n * c], scalars: (0..<(n * c)).map { $0 == k ? 1 : 0 }).reshaped([n, c])
            jacobian.append(gradients(of: (z * pick).sum(), wrt: params).flatMap(\.scalars))
        }
        let vFlat = v.flatMap(\.scalars)
        let jv = jacobian.map { row in zip(row, vFlat).reduce(0) { $0 + $1.0 * $1.1 } }
        let s = withoutGraph { z.softmax() }.scalars
        var hjv = [Float](repeating: 0, count: n * c)
        for i in 0..<n {
            let si = Array(s[(i * c)..<(i * c + c)]), ui = Array(jv[(i * c)..<(i * c + c)])
            let dot = zip(si, ui).reduce(0) { $0 + $1.0 * $1.1 }
            for j in 0..<c { hjv[i * c + j] = (si[j] * ui[j] - si[j] * dot) / Float(n) }
        }
        let expected = (0..<total).map { p in (0..<(n * c)).reduce(Float(0)) { $0 + jacobian[$1][p] * hjv[$1] } }

        // By autodiff: J v by the double-vjp trick, then H_L, then Jᵀ.
        let jvAD = jacobianVectorProduct(of: z, wrt: params, tangents: v)
        assertClose(jvAD.scalars, jv, atol: 1e-5, rtol: 1e-4, "J v")
        let sT = withoutGraph { z.softmax() }.detached()
        let hl = (sT * jvAD - sT * (sT * jvAD).sum(axis: 1, keepDims: true)) / Float(n)
        let gv = vectorJacobianProduct(of: z, wrt: params, cotangent: hl).flatMap(\.scalars)
        assertClose(gv, expected, atol: 1e-5, rtol: 1e-4, "Jᵀ H_L J v")

        // For a linear model, the Gauss-Newton product is the exact Hessian-vector product.
        let w = randomTensor([d, c], seed: 20).tracked()
        let loss = Tensor.softmaxCrossEntropy(logits: matmul(x, w), labels: [1, 2])
        let vw = randomTensor([d, c], seed: 21)
        let hv = hessianVectorProduct(of: loss, wrt: [w], vectors: [vw])[0]
        let zl = matmul(x, w)
        let jl = jacobianVectorProduct(of: zl, wrt: [w], tangents: [vw])
        let sl = withoutGraph { zl.softmax() }.detached()
        let gvl = vectorJacobianProduct(of: zl, wrt: [w], cotangent: (sl * jl - sl * (sl * jl).sum(axis: 1, keepDims: true)) / Float(n))[0]
        assertClose(gvl.scalars, hv.scalars, atol: 1e-5, rtol: 1e-4, "G v = H v for a linear model")
    }

    /// MAML-style: the gradient through one inner SGD step includes the second-order term.
    func testGradientThroughAGradientStep() {
        // f(w) = w⁴ / 4; inner step w' = w − a f'(w) = w − a w³; outer g(w) = f(w').
        let w0: Float = 0.7, lr: Float = 0.1
        let w = Tensor(w0).tracked()
        let inner = gradients(of: w.pow(4).sum() / 4, wrt: [w], createGraph: true)[0]
        let w1 = w - inner * lr
        let outer = gradients(of: w1.pow(4).sum() / 4, wrt: [w])[0].scalar
        let w1v = w0 - lr * w0 * w0 * w0
        XCTAssertEqual(outer, w1v * w1v * w1v * (1 - 3 * lr * w0 * w0), accuracy: 1e-6)
    }
}

import L2LTensor
import L2LTestSupport
import XCTest

/// `customOp`: values computed off the graph, gradients from a caller's rule.
final class CustomOpTests: XCTestCase {
    let a = randomTensor([3, 4], seed: 11)

    /// y = A x with the adjoint Aᵀ ȳ written by hand.
    func linear(_ x: Tensor) -> Tensor {
        customOp(inputs: [x], outputs: [withoutGraph { matmul(a, x) }]) { [a] g in
            [matmul(a, g[0], transposeA: true)]
        }[0]
    }

    func testSingleOutputMatchesTheComposedOpAndFiniteDifferences() {
        let x = randomTensor([4, 2], seed: 12)
        let y = linear(x)
        assertClose(y, matmul(a, x), atol: 0, rtol: 0, "values")
        XCTAssertFalse(y.isTracked, "constant inputs give constant outputs")

        let w = randomTensor([3, 2], seed: 13)
        let xt = x.tracked()
        let custom = gradients(of: (linear(xt).pow(2) * w).sum(), wrt: [xt])[0]
        let composed = gradients(of: (matmul(a, xt).pow(2) * w).sum(), wrt: [xt])[0]
        assertClose(custom, composed, atol: 1e-5, rtol: 1e-5, "gradient against the composed op")
        // First and second order against finite differences (the rule is differentiable).
        checkGradients([x]) { linear($0[0]).pow(2) }
        XCTAssertFalse(withoutGraph { linear(xt) }.isTracked, "no graph inside withoutGraph")
    }

    func testSeveralOutputsShareOneBackwardAndUnusedOutputsGetZeros() {
        var calls = 0
        func op(_ x: Tensor, _ s: Tensor) -> [Tensor] {
            // Outputs: A x (shape [3, 2]) and s·x (shape [4, 2]); s is a scalar.
            customOp(inputs: [x, s], outputs: withoutGraph { [matmul(a, x), s * x] }) { [a] g in
                calls += 1
                return [matmul(a, g[0], transposeA: true) + s * g[1], (g[1] * x).sum()]
            }
        }
        let x = randomTensor([4, 2], seed: 14), s = Tensor(0.7)
        let outs = op(x, s)
        assertClose(outs[0], matmul(a, x), atol: 0, rtol: 0)
        assertClose(outs[1], s * x, atol: 0, rtol: 0)

        let (xt, st) = (x.tracked(), s.tracked())
        let both = op(xt, st)
        let g = gradients(of: both[0].sum() + (both[1] * both[1]).sum(), wrt: [xt, st])
        XCTAssertEqual(calls, 1, "one backward call for both outputs")
        let ref = gradients(of: matmul(a, xt).sum() + ((st * xt) * (st * xt)).sum(), wrt: [xt, st])
        assertClose(g[0], ref[0], atol: 1e-5, rtol: 1e-5)
        assertClose(g[1], ref[1], atol: 1e-4, rtol: 1e-5)

        // Only the first output used: the second's upstream gradient is zero.
        let onlyFirst = gradients(of: op(xt, st)[0].sum(), wrt: [xt, st])
        assertClose(onlyFirst[0], gradients(of: matmul(a, xt).sum(), wrt: [xt])[0], atol: 1e-5, rtol: 1e-5)
        XCTAssertEqual(onlyFirst[1].scalar, 0)

        checkGradients([x, s]) { op($0[0], $0[1])[1] * op($0[0], $0[1])[0].sum() }
    }

    func testNilGradientStopsFlow() {
        let x = randomTensor([2], seed: 15).tracked(), y = randomTensor([2], seed: 16).tracked()
        let out = customOp(inputs: [x, y], outputs: [withoutGraph { x + y }]) { g in [g[0], nil] }[0]
        let g = gradients(of: out.sum(), wrt: [x, y])
        XCTAssertEqual(g[0].scalars, [1, 1])
        XCTAssertEqual(g[1].scalars, [0, 0])
    }

    func testWithGraphRecordsInsideWithoutGraph() {
        let x = Tensor(2).tracked()
        let y = withoutGraph { withGraph { x * x } }
        XCTAssertTrue(y.isTracked)
        XCTAssertEqual(gradients(of: y, wrt: [x])[0].scalar, 4)
        XCTAssertFalse(withoutGraph { x * x }.isTracked)
    }
}

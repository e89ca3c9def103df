import L2LTensor
import L2LTestSupport
import XCTest

/// The fused output head (`Tensor.linearHead`): values and gradients against the head
/// written in composed ops (slice, matmul, bias), finite differences of first and second
/// order, and the same bits on every instruction set and for any thread count.
final class LinearHeadTests: XCTestCase {
    /// The head in composed ops.
    func composedHead(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
        let k = w.shape[0]
        let y = matmul(k == x.shape[1] ? x : x.slice(axis: 1, 0..<k), w)
        return b.map { y + $0 } ?? y
    }

    /// Row counts that leave a short group of four rows and a short 1,024-row block, on the
    /// serial and the parallel path (P·k > 65,536); heads narrower than and as wide as x.
    static let shapes = [(p: 3, m: 2, k: 1), (p: 7, m: 40, k: 20), (p: 4099, m: 40, k: 20), (p: 5000, m: 20, k: 20), (p: 1030, m: 9, k: 3)]

    func testValuesMatchComposedHead() {
        for (i, s) in Self.shapes.enumerated() {
            let x = randomTensor([s.p, s.m], seed: UInt64(10 * i)), w = randomTensor([s.k, 1], seed: UInt64(10 * i + 1))
            let b = randomTensor([1], seed: UInt64(10 * i + 2))
            assertClose(Tensor.linearHead(x, w: w, bias: b), composedHead(x, w, b), atol: 1e-6, rtol: 1e-5, "\(s)")
            assertClose(Tensor.linearHead(x, w: w), composedHead(x, w, nil), atol: 1e-6, rtol: 1e-5, "\(s), no bias")
        }
    }

    func testFusedBackwardMatchesComposedBackward() {
        for (i, s) in Self.shapes.enumerated() {
            let x = randomTensor([s.p, s.m], seed: UInt64(100 + i)).tracked()
            let w = randomTensor([s.k, 1], seed: UInt64(110 + i)).tracked(), b = randomTensor([1], seed: UInt64(120 + i)).tracked()
            let weights = randomTensor([s.p, 1], seed: UInt64(130 + i))
            let fused = gradients(of: (Tensor.linearHead(x, w: w, bias: b) * weights).sum(), wrt: [x, w, b])
            let composed = gradients(of: (composedHead(x, w, b) * weights).sum(), wrt: [x, w, b])
            for (j, (f, c)) in zip(fused, composed).enumerated() { assertClose(f, c, atol: 1e-4, rtol: 1e-4, "\(s), input \(j)") }
        }
    }

    /// Only some inputs on the graph (the state, as DMSGD's head without a bias; the weights).
    func testGradientsOfSomeInputs() {
        let x = randomTensor([50, 8], seed: 200), w = randomTensor([5, 1], seed: 201), b = randomTensor([1], seed: 202)
        let (xt, wt) = (x.tracked(), w.tracked())
        assertClose(gradients(of: Tensor.linearHead(xt, w: w).sum(), wrt: [xt])[0],
                    gradients(of: composedHead(xt, w, nil).sum(), wrt: [xt])[0], atol: 1e-6)
        assertClose(gradients(of: Tensor.linearHead(x, w: wt, bias: b).sum(), wrt: [wt])[0],
                    gradients(of: composedHead(x, wt, b).sum(), wrt: [wt])[0], atol: 1e-5, rtol: 1e-5)
    }

    /// x also read by ops recorded after the head, whose gradients reach x first: the head
    /// adds its own into that sum in place (or, when the sum's buffer is shared with another
    /// input's gradient, as `x + v`'s is, leaves it to the engine).
    func testGradientAddsToTheSumOfLaterUses() {
        let x = randomTensor([300, 8], seed: 210).tracked(), v = randomTensor([300, 8], seed: 211).tracked()
        let w = randomTensor([5, 1], seed: 212).tracked(), r = randomTensor([300, 8], seed: 213)
        for shared in [false, true] {
            func loss(_ head: (Tensor) -> Tensor) -> [Tensor] {
                let y = head(x)
                let later = shared ? ((x + v) * r).sum() : (x * r).sum() + ((x + v) * r).sum()
                return gradients(of: y.sum() + later, wrt: [x, v, w])
            }
            let fused = loss { Tensor.linearHead($0, w: w) }, composed = loss { self.composedHead($0, w, nil) }
            for (i, (f, c)) in zip(fused, composed).enumerated() {
                assertClose(f, c, atol: 1e-5, rtol: 1e-5, "\(shared ? "shared" : "own") sum, input \(i)")
            }
        }
    }

    func testGradientsAgainstFiniteDifferences() {
        // First order runs the fused backward, second order the composed rule.
        let x = randomTensor([6, 5], seed: 300), w = randomTensor([3, 1], seed: 301), b = randomTensor([1], seed: 302)
        checkGradients([x, w, b]) { Tensor.linearHead($0[0], w: $0[1], bias: $0[2]) }
        checkGradients([x, w]) { Tensor.linearHead($0[0], w: $0[1]).tanh() }
        checkGradients([randomTensor([4, 3], seed: 303), w]) { Tensor.linearHead($0[0], w: $0[1]) * $0[0].slice(axis: 1, 0..<1) }
    }

    /// The same bits on every instruction set and for any thread count (rows split across
    /// threads; the sums over rows taken over fixed 1,024-row blocks), and a forward equal
    /// bit for bit to a chain of fused multiply-adds from 0 in column order, then the bias.
    func testSameBitsOnEveryInstructionSetAndThreadCount() {
        let (p, m, k) = (5000, 40, 20)
        let x = randomTensor([p, m], seed: 400).tracked()
        let w = randomTensor([k, 1], seed: 401).tracked(), b = randomTensor([1], seed: 402).tracked()
        let weights = randomTensor([p, 1], seed: 403)
        let (xs, ws, bias) = (x.scalars, w.scalars, b.scalars[0])
        let chain = (0..<p).map { r in (0..<k).reduce(Float(0)) { s, l in s.addingProduct(xs[r * m + l], ws[l]) } + bias }
        func run() -> [[Float]] {
            let out = Tensor.linearHead(x, w: w, bias: b)
            return [out.scalars] + gradients(of: (out * weights).sum(), wrt: [x, w, b]).map(\.scalars)
        }
        assertSameBitsOnEveryKernel(run) { result, label in
            XCTAssertEqual(zip(result[0], chain).filter { $0.bitPattern != $1.bitPattern }.count, 0,
                           "\(label): the forward differs from the chain of fused multiply-adds")
        }
    }
}

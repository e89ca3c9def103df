import L2LTensor
import L2LTestSupport
import XCTest

/// The fused coordinate-wise LSTM layer (`Tensor.lstmLayer`): values and gradients against
/// the layer written in composed ops, finite differences of first and second order, and the
/// same bits on every instruction set and thread count.
final class LSTMLayerTests: XCTestCase {
    /// The layer in composed ops, with exact σ and tanh: h' and c' side by side, `[P, 2H]`.
    func composedLayer(_ x: Tensor, _ h: Tensor, _ c: Tensor, _ w: Tensor, _ u: Tensor, _ b: Tensor) -> Tensor {
        let units = c.shape[1]
        let z = matmul(x, w) + matmul(h, u) + b
        func block(_ k: Int) -> Tensor { z.slice(axis: 1, (k * units)..<((k + 1) * units)) }
        let cNew = block(1).sigmoid() * c + block(0).sigmoid() * block(2).tanh()
        return Tensor.concatenate([block(3).sigmoid() * cNew.tanh(), cNew], axis: 1)
    }

    /// x, h, c, w, u, b for `p` rows, `n` inputs, `units` hidden units.
    func layerInputs(_ p: Int, _ n: Int, _ units: Int, seed: UInt64) -> [Tensor] {
        let scale = 1 / Float(n + units).squareRoot()
        return [randomTensor([p, n], low: -2, high: 2, seed: seed),
                randomTensor([p, units], seed: seed + 1),
                randomTensor([p, units], low: -3, high: 3, seed: seed + 2),
                randomTensor([n, 4 * units], low: -2 * scale, high: 2 * scale, seed: seed + 3),
                randomTensor([units, 4 * units], low: -2 * scale, high: 2 * scale, seed: seed + 4),
                randomTensor([4 * units], seed: seed + 5)]
    }

    /// The fused layer on the inputs of ``layerInputs``: x gets 3 columns the layer must
    /// ignore (as a layer reading the previous layer's [h, c] ignores c), h and c go side by side.
    func layer(_ t: [Tensor]) -> Tensor {
        let p = t[0].shape[0]
        let x = Tensor.concatenate([t[0], Tensor.ones([p, 3])], axis: 1)
        return Tensor.lstmLayer(input: x, state: Tensor.concatenate([t[1], t[2]], axis: 1), w: t[3], u: t[4], bias: t[5])
    }

    /// Shapes of the library's networks (the paper's 2 → 20 → 20, MLHF's 3 → 4, the mtl2l
    /// preset's 20 → 1) and awkward ones: row counts that leave a short register tile and a
    /// short 256-row block, widths that are not multiples of 4 or 16.
    static let shapes = [(p: 3, n: 2, units: 20), (p: 601, n: 2, units: 20), (p: 257, n: 20, units: 20),
                         (p: 300, n: 3, units: 4), (p: 77, n: 20, units: 1), (p: 41, n: 5, units: 7), (p: 9, n: 1, units: 37)]

    func testValuesMatchComposedLayer() {
        for (k, s) in Self.shapes.enumerated() {
            let t = layerInputs(s.p, s.n, s.units, seed: UInt64(10 * k))
            assertClose(layer(t), composedLayer(t[0], t[1], t[2], t[3], t[4], t[5]), atol: 2e-6, rtol: 1e-5, "\(s)")
        }
    }

    func testFusedBackwardMatchesComposedBackward() {
        for (k, s) in Self.shapes.enumerated() {
            let t = layerInputs(s.p, s.n, s.units, seed: UInt64(100 + 10 * k)).map { $0.tracked() }
            let weights = randomTensor([s.p, 2 * s.units], seed: UInt64(200 + k))
            let fused = gradients(of: (layer(t) * weights).sum(), wrt: t)
            let composed = gradients(of: (composedLayer(t[0], t[1], t[2], t[3], t[4], t[5]) * weights).sum(), wrt: t)
            for (i, (f, c)) in zip(fused, composed).enumerated() {
                assertClose(f, c, atol: 2e-5, rtol: 2e-4, "\(s), input \(i)")
            }
        }
    }

    /// Only some inputs on the graph (a layer's x is the data, c unused downstream …).
    func testGradientsOfSomeInputs() {
        let t = layerInputs(300, 2, 20, seed: 300)
        let (w, c) = (t[3].tracked(), t[2].tracked())
        let out = Tensor.lstmLayer(input: t[0], state: Tensor.concatenate([t[1], c], axis: 1), w: w, u: t[4], bias: t[5])
        let g = gradients(of: out.slice(axis: 1, 0..<20).sum(), wrt: [w, c])
        let reference = gradients(of: composedLayer(t[0], t[1], c, w, t[4], t[5]).slice(axis: 1, 0..<20).sum(), wrt: [w, c])
        assertClose(g[0], reference[0], atol: 2e-5, rtol: 2e-4)
        assertClose(g[1], reference[1], atol: 2e-5, rtol: 2e-4)
    }

    /// The input also read by an op recorded after the layer (as the next step's layer reads
    /// the previous layer's state): its gradient reaches the input first, and the layer's
    /// backward adds its own into that sum in place.
    func testInputGradientAddsToTheSumOfLaterUses() {
        let t = layerInputs(300, 20, 20, seed: 700).map { $0.tracked() }
        let r = randomTensor([300, 23], seed: 701), weights = randomTensor([300, 40], seed: 702)
        func loss(_ layer: (Tensor) -> Tensor) -> [Tensor] {
            let x = Tensor.concatenate([t[0], Tensor.ones([300, 3])], axis: 1)
            let out = layer(x)
            return gradients(of: (out * weights).sum() + (x * r).sum(), wrt: t)
        }
        let fused = loss { Tensor.lstmLayer(input: $0, state: Tensor.concatenate([t[1], t[2]], axis: 1), w: t[3], u: t[4], bias: t[5]) }
        let composed = loss { self.composedLayer($0.slice(axis: 1, 0..<20), t[1], t[2], t[3], t[4], t[5]) }
        for (i, (f, c)) in zip(fused, composed).enumerated() { assertClose(f, c, atol: 2e-5, rtol: 2e-4, "input \(i)") }
    }

    func testGradientsAgainstFiniteDifferences() {
        // First order runs the fused backward, second order the composed rule.
        checkGradients(layerInputs(6, 2, 3, seed: 400)) { self.layer($0) }
        checkGradients(layerInputs(5, 3, 1, seed: 410)) { self.layer($0).slice(axis: 1, 0..<1) }
    }

    /// The same bits whatever the instruction set and the number of threads (rows split
    /// across threads; the weight gradients summed over fixed 256-row blocks).
    /// The paper's layer and MLHF's four-unit one (whose AVX-512 forward runs the cells of 16
    /// rows at once; 1100 rows leave a remainder on one and on two threads).
    func testSameBitsOnEveryInstructionSetAndThreadCount() {
        for (n, units) in [(2, 20), (3, 4)] {
            let t = layerInputs(1100, n, units, seed: 500).map { $0.tracked() }
            let weights = randomTensor([1100, 2 * units], seed: 501)
            func run() -> [[Float]] {
                let out = layer(t)
                return [out.scalars] + gradients(of: (out * weights).sum(), wrt: t).map(\.scalars)
            }
            assertSameBitsOnEveryKernel(run)
        }
    }

    func testNonFiniteInputsStayNonFinite() {
        var t = layerInputs(20, 2, 4, seed: 600)
        t[0].withUnsafeMutableBufferPointer { $0[0] = .nan; $0[2] = .infinity }
        let out = layer(t).scalars
        XCTAssertTrue(out[0..<8].allSatisfy(\.isNaN), "a NaN input must give NaN, not a clamped value")
        XCTAssertTrue(out[16...].allSatisfy(\.isFinite), "rows are independent")
    }
}

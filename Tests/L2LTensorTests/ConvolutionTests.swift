import L2LTensor
import L2LTestSupport
import XCTest

/// Convolution, pooling and the index maps under them: values against naive loops written
/// here, gradients (first and second order) against finite differences.
final class ConvolutionTests: XCTestCase {
    /// A direct, quadruple-loop convolution in Double.
    func naiveConv(_ x: Tensor, _ k: Tensor, _ b: Tensor?, stride s: Int, padding p: Int) -> [Float] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (k.shape[0], k.shape[2], k.shape[3])
        let ho = (h + 2 * p - kh) / s + 1, wo = (w + 2 * p - kw) / s + 1
        let xs = x.scalars, ks = k.scalars, bs = b?.scalars
        var out = [Float]()
        for ni in 0..<n { for oc in 0..<o { for i in 0..<ho { for j in 0..<wo {
            var acc = Double(bs?[oc] ?? 0)
            for ci in 0..<c { for a in 0..<kh { for bb in 0..<kw {
                let y = i * s - p + a, xx = j * s - p + bb
                guard y >= 0, y < h, xx >= 0, xx < w else { continue }
                acc += Double(xs[((ni * c + ci) * h + y) * w + xx]) * Double(ks[((oc * c + ci) * kh + a) * kw + bb])
            } } }
            out.append(Float(acc))
        } } } }
        return out
    }

    func testConvolutionValuesForStridesAndPaddings() {
        let x = randomTensor([2, 3, 7, 6], seed: 1)
        let k = randomTensor([4, 3, 3, 2], seed: 2), b = randomTensor([4], seed: 3)
        for (s, p) in [(1, 0), (1, 1), (2, 0), (2, 2), (3, 1)] {
            let y = Tensor.conv2d(x, kernel: k, bias: b, stride: s, padding: p)
            let ho = (7 + 2 * p - 3) / s + 1, wo = (6 + 2 * p - 2) / s + 1
            XCTAssertEqual(y.shape, [2, 4, ho, wo])
            assertClose(y.scalars, naiveConv(x, k, b, stride: s, padding: p), atol: 1e-5, rtol: 1e-5, "stride \(s) padding \(p)")
        }
        let noBias = Tensor.conv2d(x, kernel: k, stride: 1, padding: 0)
        assertClose(noBias.scalars, naiveConv(x, k, nil, stride: 1, padding: 0), atol: 1e-5, rtol: 1e-5, "no bias")
    }

    func testConvolutionGradients() {
        let x = randomTensor([2, 2, 5, 4], seed: 4)
        let k = randomTensor([3, 2, 3, 3], seed: 5), b = randomTensor([3], seed: 6)
        for (s, p) in [(1, 1), (2, 0), (2, 1)] {
            checkGradients([x, k, b]) { Tensor.conv2d($0[0], kernel: $0[1], bias: $0[2], stride: s, padding: p) }
        }
        // Non-linear after the convolution, so the second-order check couples input and kernel.
        checkGradients([x, k]) { Tensor.conv2d($0[0], kernel: $0[1], stride: 1, padding: 1).tanh() }
    }

    func testIm2colAndCol2imAreAdjoint() {
        // ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for random x, y: the defining property of an adjoint.
        let window = Window2D(kernelHeight: 3, kernelWidth: 2, stride: 2, padding: 1)
        let x = randomTensor([2, 3, 6, 5], seed: 7)
        let cols = x.im2col(window)
        let y = randomTensor(cols.shape, seed: 8)
        let lhs = (cols * y).sum().scalar, rhs = (x * y.col2im(window, imageShape: x.shape)).sum().scalar
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4)
        checkGradients([x]) { $0[0].im2col(window) }
        checkGradients([y]) { $0[0].col2im(window, imageShape: [2, 3, 6, 5]) }
    }

    func testPoolingValues() {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: [1, 5, 2, 0,
                                                     3, 4, 8, 1,
                                                     0, 2, 3, 3,
                                                     9, 1, 4, 7])
        XCTAssertEqual(x.maxPool2d(Window2D(kernel: 2, stride: 2)).scalars, [5, 8, 9, 7])
        XCTAssertEqual(x.avgPool2d(Window2D(kernel: 2, stride: 2)).scalars, [3.25, 2.75, 3, 4.25])
        XCTAssertEqual(x.maxPool2d(Window2D(kernel: 3, stride: 1)).scalars, [8, 8, 9, 8])
        XCTAssertEqual(x.globalAvgPool2d().scalars, [3.3125])
        // The gradient of a max goes to the (first) maximal element only.
        let t = x.tracked()
        let g = gradients(of: t.maxPool2d(Window2D(kernel: 2, stride: 2)).sum(), wrt: [t])[0]
        XCTAssertEqual(g.scalars, [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1])
    }

    func testPoolingGradients() {
        // Distinct values 0.02 apart (ε = 1e-3 never changes which element is maximal), and
        // small, so the checked sum stays O(1) and its rounding far below the tolerance.
        var rng = RNG(seed: 9)
        let perm = rng.permutation(2 * 1 * 6 * 6)
        let x = Tensor(shape: [2, 1, 6, 6], scalars: perm.map { Float($0) * 0.02 - 0.72 })
        checkGradients([x]) { $0[0].maxPool2d(Window2D(kernel: 2, stride: 2)).pow(2) }
        checkGradients([x]) { $0[0].maxPool2d(Window2D(kernel: 3, stride: 2)).pow(2) }
        checkGradients([x]) { $0[0].avgPool2d(Window2D(kernel: 2, stride: 2)).pow(2) }
        checkGradients([x]) { $0[0].globalAvgPool2d().pow(2) }
    }

    func testPermuteAndFlatIndexing() {
        let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        let y = x.permuted([2, 0, 1])
        XCTAssertEqual(y.shape, [4, 2, 3])
        for (i, j, k) in [(0, 0, 0), (3, 1, 2), (2, 0, 1)] {
            XCTAssertEqual(y.scalars[(i * 2 + j) * 3 + k], x.scalars[(j * 3 + k) * 4 + i])
        }
        checkGradients([randomTensor([2, 3, 4], seed: 10)]) { $0[0].permuted([1, 2, 0]).pow(2) }
        let v = Tensor(shape: [4], scalars: [1, 2, 3, 4])
        XCTAssertEqual(v.gather(flat: [3, 0, 3], shape: [3]).scalars, [4, 1, 4])
        XCTAssertEqual(v.scatterAdd(flat: [1, 1, 0, 2], shape: [2, 2]).scalars, [3, 3, 4, 0])
        checkGradients([randomTensor([5], seed: 11)]) { $0[0].gather(flat: [4, 0, 4, 2], shape: [2, 2]).pow(2) }
        checkGradients([randomTensor([4], seed: 12)]) { $0[0].scatterAdd(flat: [1, 1, 0, 5], shape: [2, 3]).pow(2) }
    }
}

import L2L
import XCTest

/// Asserts that two arrays agree element-wise within `atol + rtol·|expected|`.
public func assertClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-4,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message): sizes differ", file: file, line: line)
    var worst: (index: Int, excess: Float)? = nil
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let excess = Swift.abs(a - e) - (atol + rtol * Swift.abs(e))
        if !(excess <= 0), worst == nil || excess > worst!.excess || excess.isNaN { worst = (i, excess) }
    }
    if let w = worst {
        XCTFail("\(message): element \(w.index) is \(actual[w.index]), expected \(expected[w.index]) (atol \(atol), rtol \(rtol))",
                file: file, line: line)
    }
}

/// Asserts that two tensors have the same shape and agree element-wise.
public func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(message): shapes differ", file: file, line: line)
    assertClose(actual.scalars, expected.scalars, atol: atol, rtol: rtol, message, file: file, line: line)
}

/// Checks the gradients of `f` at `inputs` against central finite differences, and (unless
/// `secondOrder` is false) its Hessian-vector products by double backward against finite
/// differences of the gradient.
///
/// `f` may return any shape; the checked scalar is Σ f(x) ⊙ r for fixed random weights `r`,
/// so every output element's gradient is tested.
///
/// Tolerances: the ops run in Float32. A central difference with step ε has truncation
/// error O(ε²·|f'''|) ≈ 1e-6 for ε = 1e-3 and smooth inputs of order 1, and round-off
/// O(u·|f| / ε) ≈ 6e-8 · 10 / 1e-3 ≈ 6e-4 for |f| ≲ 10 (u = 2⁻²⁴), so an absolute tolerance of
/// 2e-3 plus 1 % relative separates rounding noise from a wrong rule, which errs by O(1).
public func checkGradients(_ inputs: [Tensor], eps: Float = 1e-3, atol: Float = 2e-3, rtol: Float = 1e-2,
                           secondOrder: Bool = true, seed: UInt64 = 7,
                           file: StaticString = #filePath, line: UInt = #line,
                           _ f: ([Tensor]) -> Tensor) {
    var rng = RNG(seed: seed)
    let probe = withoutGraph { f(inputs) }
    let weights = Tensor.uniform(probe.shape, low: 0.5, high: 1.5, rng: &rng)
    func scalar(_ xs: [Tensor]) -> Tensor { (f(xs) * weights).sum() }
    func gradient(_ xs: [Tensor], createGraph: Bool = false) -> (xs: [Tensor], g: [Tensor]) {
        let tracked = xs.map { $0.tracked() }
        return (tracked, gradients(of: scalar(tracked), wrt: tracked, createGraph: createGraph))
    }

    // First order: every element of every input.
    let analytic = gradient(inputs).g
    for (k, x) in inputs.enumerated() {
        var numeric = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            func value(_ delta: Float) -> Double {
                var xs = inputs
                xs[k].withUnsafeMutableBufferPointer { $0[i] += delta }
                return Double(withoutGraph { scalar(xs) }.scalar)
            }
            numeric[i] = Float((value(eps) - value(-eps)) / (2 * Double(eps)))
        }
        assertClose(analytic[k].scalars, numeric, atol: atol, rtol: rtol,
                    "gradient of input \(k) (shape \(x.shape))", file: file, line: line)
    }

    guard secondOrder else { return }
    // Second order: H·v by double backward against (∇f(x + εv) − ∇f(x − εv)) / 2ε.
    let v = inputs.map { Tensor.uniform($0.shape, low: -1, high: 1, rng: &rng) }
    let (tracked, g) = gradient(inputs, createGraph: true)
    let gv = zip(g, v).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
    let hv = gradients(of: gv, wrt: tracked)
    let plus = gradient(withoutGraph { zip(inputs, v).map { $0 + $1 * eps } }).g
    let minus = gradient(withoutGraph { zip(inputs, v).map { $0 - $1 * eps } }).g
    for k in inputs.indices {
        let numeric = zip(plus[k].scalars, minus[k].scalars).map { ($0 - $1) / (2 * eps) }
        assertClose(hv[k].scalars, numeric, atol: 2 * atol, rtol: 2 * rtol,
                    "Hessian-vector product for input \(k) (shape \(inputs[k].shape))", file: file, line: line)
    }
}

/// A tensor of `shape` with values uniform in [low, high), drawn from `seed`.
public func randomTensor(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64 = 1) -> Tensor {
    var rng = RNG(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, rng: &rng)
}

/// A tensor of `shape` whose values are at least `margin` away from zero (for ops with a
/// kink at zero), with random signs.
public func awayFromZero(_ shape: [Int], margin: Float = 0.2, seed: UInt64 = 1) -> Tensor {
    var rng = RNG(seed: seed)
    return Tensor(shape: shape) { p, n in
        for i in 0..<n {
            let magnitude = margin + rng.nextUniform()
            p[i] = rng.nextUniform() < 0.5 ? -magnitude : magnitude
        }
    }
}

import Foundation
import L2L
import L2LTestSupport
import XCTest

/// Preconditioned conjugate gradient on dense systems (issue 5, acceptance 2).
final class PCGTests: XCTestCase {
    /// Unknowns split over two tensors, shapes [3] and [2, 2] (7 coordinates), as a
    /// learner's parameters are.
    static let shapes = [[3], [2, 2]]

    static func split(_ flat: [Double]) -> [Tensor] {
        [Tensor(shape: [3], scalars: flat[0..<3].map(Float.init)), Tensor(shape: [2, 2], scalars: flat[3..<7].map(Float.init))]
    }

    /// v ↦ A v for a dense [7, 7] matrix, in tensor ops (differentiable in v).
    static func dense(_ a: [[Double]]) -> ConjugateGradient.Operator {
        let m = Tensor(shape: [7, 7], scalars: a.flatMap { $0.map(Float.init) })
        return { v in
            let flat = Tensor.concatenate(v.map { $0.reshaped([-1]) }, axis: 0).reshaped([7, 1])
            let av = matmul(m, flat).reshaped([7])
            return [av.slice(axis: 0, 0..<3), av.slice(axis: 0, 3..<7).reshaped([2, 2])]
        }
    }

    /// A random SPD matrix BᵀB + shift·I, optionally rescaled as D A D with D spanning `spread`.
    static func spd(seed: UInt64, shift: Double = 0.5, spread: Double = 1) -> [[Double]] {
        let b = randomTensor([7, 7], seed: seed).scalars.map(Double.init)
        var a = [[Double]](repeating: [Double](repeating: 0, count: 7), count: 7)
        for i in 0..<7 {
            for j in 0..<7 {
                var sum = i == j ? shift : 0
                for k in 0..<7 { sum += b[k * 7 + i] * b[k * 7 + j] }
                a[i][j] = sum
            }
        }
        let d = (0..<7).map { Foundation.pow(spread, Double($0) / 6) }
        for i in 0..<7 { for j in 0..<7 { a[i][j] *= d[i] * d[j] } }
        return a
    }

    /// x = A⁻¹ b by Gaussian elimination with partial pivoting, in Double.
    static func denseSolve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a, x = b
        let n = b.count
        for c in 0..<n {
            let p = (c..<n).max { Swift.abs(m[$0][c]) < Swift.abs(m[$1][c]) }!
            m.swapAt(c, p); x.swapAt(c, p)
            for r in (c + 1)..<n {
                let f = m[r][c] / m[c][c]
                for k in c..<n { m[r][k] -= f * m[c][k] }
                x[r] -= f * x[c]
            }
        }
        for r in stride(from: n - 1, through: 0, by: -1) {
            x[r] = (x[r] - ((r + 1)..<n).reduce(0.0) { $0 + m[r][$1] * x[$1] }) / m[r][r]
        }
        return x
    }

    static func residualNorm(_ a: [[Double]], _ x: [Tensor], _ b: [Double]) -> Double {
        let xf = x.flatMap(\.scalars).map(Double.init)
        return (0..<7).reduce(0.0) { acc, i in
            let ri = b[i] - (0..<7).reduce(0.0) { $0 + a[i][$1] * xf[$1] }
            return acc + ri * ri
        }.squareRoot()
    }

    func testMatchesDenseSolveOnRandomSPDSystems() {
        for seed in UInt64(1)...5 {
            let a = Self.spd(seed: seed)
            let b = randomTensor([7], seed: 100 + seed).scalars.map(Double.init)
            let expected = Self.denseSolve(a, b).map(Float.init)
            // In exact arithmetic CG solves a 7×7 system in 7 iterations; allow a few more for rounding.
            let cold = ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b), maxIterations: 30, tolerance: 1e-6)
            assertClose(cold.solution.flatMap(\.scalars), expected, atol: 1e-3, rtol: 1e-3, "seed \(seed), cold start")
            XCTAssertEqual(cold.stop, .tolerance)
            XCTAssertLessThan(Self.residualNorm(a, cold.solution, b), 1e-4)
            // The recursive residual is the true one, b − A x.
            XCTAssertEqual(Double(cold.residualNorm), Self.residualNorm(a, cold.solution, b), accuracy: 1e-5)
            // Warm start, and both preconditioner conventions.
            let warm = ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b), initialGuess: Self.split(b),
                                               preconditioner: .divide(Self.split(a.indices.map { a[$0][$0] })),
                                               maxIterations: 30, tolerance: 1e-6)
            assertClose(warm.solution.flatMap(\.scalars), expected, atol: 1e-3, rtol: 1e-3, "seed \(seed), warm, Jacobi")
            XCTAssertEqual(Double(warm.initialResidualNorm), Self.residualNorm(a, Self.split(b), b), accuracy: 1e-4)
        }
    }

    func testIterationCapAndToleranceAreRespected() {
        let a = Self.spd(seed: 7, shift: 0.1)
        let b = randomTensor([7], seed: 8).scalars.map(Double.init)
        for cap in [0, 1, 3] {
            let r = ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b), maxIterations: cap)
            XCTAssertEqual(r.iterations, cap)
            XCTAssertEqual(r.stop, .iterations)
            XCTAssertEqual(Double(r.residualNorm), Self.residualNorm(a, r.solution, b), accuracy: 1e-4)
        }
        var calls = 0
        let counted: ConjugateGradient.Operator = { calls += 1; return Self.dense(a)($0) }
        let loose = ConjugateGradient.solve(counted, rhs: Self.split(b), maxIterations: 50, tolerance: 0.1)
        XCTAssertEqual(loose.stop, .tolerance)
        XCTAssertLessThan(loose.residualNorm, 0.1)
        XCTAssertLessThan(loose.iterations, 7)
        XCTAssertEqual(calls, loose.iterations, "one product per iteration (cold start)")
        // Residual norms decrease along the way... and a tighter tolerance takes at least as many.
        let tight = ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b), maxIterations: 50, tolerance: 1e-3)
        XCTAssertGreaterThanOrEqual(tight.iterations, loose.iterations)
        XCTAssertLessThan(tight.residualNorm, 1e-3)
        // x₀ = A⁻¹b: nothing to do.
        let exact = Self.split(Self.denseSolve(a, b))
        XCTAssertEqual(ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b), initialGuess: exact,
                                               maxIterations: 10, tolerance: 1e-4).iterations, 0)
    }

    func testExactDiagonalPreconditionerConvergesFaster() {
        // Badly scaled: D A D with D from 1 to 1000, condition number ~1e6 times A's.
        let a = Self.spd(seed: 9, shift: 1, spread: 1000)
        let b = randomTensor([7], seed: 10).scalars.map(Double.init)
        let diagonal = a.indices.map { a[$0][$0] }
        let tol: Float = 1e-3 * Float(b.map { $0 * $0 }.reduce(0, +).squareRoot())
        let plain = ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b), maxIterations: 200, tolerance: tol)
        let jacobi = ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b), preconditioner: .divide(Self.split(diagonal)),
                                             maxIterations: 200, tolerance: tol)
        let inverse = ConjugateGradient.solve(Self.dense(a), rhs: Self.split(b),
                                              preconditioner: .multiply(Self.split(diagonal.map { 1 / $0 })),
                                              maxIterations: 200, tolerance: tol)
        XCTAssertEqual(jacobi.stop, .tolerance)
        XCTAssertLessThan(jacobi.iterations, plain.iterations, "Jacobi \(jacobi.iterations) vs plain \(plain.iterations)")
        XCTAssertEqual(inverse.iterations, jacobi.iterations, "y = r / P and y = (1/P) ⊙ r are the same preconditioner")
        print("PCG on a badly scaled 7×7 system: \(plain.iterations) iterations plain (stop: \(plain.stop)), \(jacobi.iterations) with the exact diagonal")
    }

    /// MLHF differentiates PCG's outputs in the damping s and the preconditioner P.
    /// The denominator floor leaves a well-scaled solve alone and bounds α and β once ρ and
    /// ⟨p, Ap⟩ fall below it.
    func testDenominatorFloor() {
        let a = Self.spd(seed: 21, shift: 0.3)
        let b = Self.split(randomTensor([7], seed: 22).scalars.map(Double.init))
        let plain = ConjugateGradient.solve(Self.dense(a), rhs: b, maxIterations: 5)
        let floored = ConjugateGradient.solve(Self.dense(a), rhs: b, maxIterations: 5, denominatorFloor: 1e-6)
        XCTAssertEqual(floored.solution.flatMap(\.scalars), plain.solution.flatMap(\.scalars))
        // b scaled by 1e-4: ρ = ‖b‖² ≈ 1e-8 < 1e-6, so the first α is ρ/max(⟨p, Ap⟩, 1e-6)
        // instead of ρ/⟨p, Ap⟩, and the step is shorter.
        let tiny = b.map { $0 * 1e-4 }
        let exact = ConjugateGradient.solve(Self.dense(a), rhs: tiny, maxIterations: 1)
        let bounded = ConjugateGradient.solve(Self.dense(a), rhs: tiny, maxIterations: 1, denominatorFloor: 1e-6)
        XCTAssertLessThan(ConjugateGradient.norm(bounded.solution), 0.5 * ConjugateGradient.norm(exact.solution))
    }

    func testGradientsInDampingAndPreconditioner() {
        let a = Self.spd(seed: 11, shift: 0.2)
        let apply = Self.dense(a)
        let b = Self.split(randomTensor([7], seed: 12).scalars.map(Double.init))
        let x0 = Self.split(randomTensor([7], low: -0.3, high: 0.3, seed: 13).scalars.map(Double.init))
        let s = Self.split(randomTensor([7], low: 0.2, high: 1, seed: 14).scalars.map(Double.init))
        let p = Self.split(randomTensor([7], low: 0.5, high: 1.5, seed: 15).scalars.map(Double.init))
        for cap in [2, 4] {
            checkGradients(s + p, eps: 1e-3, atol: 3e-3, rtol: 2e-2, secondOrder: false) { sp in
                let (damping, m) = (Array(sp[0..<2]), Array(sp[2..<4]))
                let r = ConjugateGradient.solve({ v in zip(apply(v), zip(damping, v)).map { $0 + $1.0 * $1.1 } },
                                                rhs: b, initialGuess: x0, preconditioner: .multiply(m), maxIterations: cap)
                XCTAssertEqual(r.iterations, cap)
                return Tensor.concatenate((r.solution + r.residual).map { $0.reshaped([-1]) }, axis: 0)
            }
        }
    }

    /// ‖a‖₂ over a list of tensors of awkward lengths (tails shorter than a vector, an empty
    /// tensor, values of very different sizes) against a Double sum written here.
    func testNormOverTensors() {
        var rng = RNG(seed: 21)
        let tensors = [Tensor.normal([13], rng: &rng) * 1e-3, Tensor.zeros([0]), Tensor.normal([4, 9], rng: &rng) * 50,
                       Tensor.normal([7], rng: &rng)]
        let expected = tensors.flatMap(\.scalars).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(Double(ConjugateGradient.norm(tensors)), expected, accuracy: expected * 1e-7)
        XCTAssertEqual(ConjugateGradient.norm([Tensor(shape: [3], scalars: [3, 0, -4])]), 5)
        XCTAssertEqual(ConjugateGradient.norm([]), 0)
    }
}

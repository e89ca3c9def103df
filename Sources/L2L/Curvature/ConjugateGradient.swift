/// A diagonal preconditioner for ``ConjugateGradient``, one tensor per unknown tensor
/// (each shaped like it, or a scalar `[]`). Two conventions, both in use:
public enum Preconditioner {
    /// No preconditioning (y = r).
    case none
    /// y solves diag(P)·y = r, i.e. y = r / P: the supplement's Algorithm 1 (P ≈ diag(A);
    /// the exact diagonal of A is the Jacobi preconditioner).
    case divide([Tensor])
    /// y = P ⊙ r: P approximates diag(A)⁻¹. The MLHF authors' code applies RNN_p's
    /// output this way (reference-code facts §3, step 4).
    case multiply([Tensor])

    func apply(_ r: [Tensor]) -> [Tensor] {
        switch self {
        case .none: return r
        case .divide(let p): return zip(r, p).map { $0 / $1 }
        case .multiply(let p): return zip(r, p).map { $0 * $1 }
        }
    }

    var tensors: [Tensor] {
        switch self {
        case .none: return []
        case .divide(let p), .multiply(let p): return p
        }
    }
}

/// What ``ConjugateGradient/solve(_:rhs:initialGuess:preconditioner:maxIterations:tolerance:)``
/// returns. Tensors are tracked (differentiable) when the inputs were.
public struct ConjugateGradientResult {
    /// x_i ≈ A⁻¹b, shaped like b.
    public var solution: [Tensor]
    /// The final residual r_i = b − A x_i, updated recursively as the algorithm does
    /// (so A·x = b − r without another product).
    public var residual: [Tensor]
    /// r₀ = b − A x₀.
    public var initialResidual: [Tensor]
    /// Iterations taken (products with A, not counting the one for A x₀).
    public var iterations: Int
    /// ‖r_i‖₂ and ‖r₀‖₂ over all tensors.
    public var residualNorm: Float, initialResidualNorm: Float
    /// Why the loop ended.
    public var stop: Stop

    public enum Stop: String, Sendable {
        /// The iteration cap was reached.
        case iterations
        /// ‖r‖₂ fell below the tolerance.
        case tolerance
        /// ⟨p, A p⟩ was not positive (A is not positive definite along p) or not finite;
        /// the solution is the last iterate before it.
        case curvature
    }
}

/// Preconditioned conjugate gradient (the MLHF supplement's Algorithm 1) for A x = b,
/// with A symmetric positive definite and given only as a product, over vectors that are
/// lists of tensors (a learner's parameters); every inner product is global over all
/// tensors.
///
///     r₀ = b − A x₀;  y₀ = M r₀;  p₀ = y₀
///     while ‖r_i‖₂ ≥ ε and i < n:
///         α = ⟨r_i, y_i⟩ / ⟨p_i, A p_i⟩
///         x_{i+1} = x_i + α p_i;   r_{i+1} = r_i − α A p_i;   y_{i+1} = M r_{i+1}
///         β = ⟨r_{i+1}, y_{i+1}⟩ / ⟨r_i, y_i⟩;   p_{i+1} = y_{i+1} + β p_i
///
/// where M is the preconditioner (see ``Preconditioner``). The supplement writes the cap as
/// `i ≤ n`; here at most n iterations (n products with A) run, as in the authors' code.
///
/// Written in tensor ops: with a tracked b, x₀, preconditioner or an `apply` that is
/// differentiable in something tracked (MLHF's damping s), the outputs are differentiable
/// functions of them. Only the stopping decisions read values.
public enum ConjugateGradient {
    /// A linear operator on lists of tensors.
    public typealias Operator = ([Tensor]) -> [Tensor]

    /// Solves A x = b.
    /// - Parameters:
    ///   - apply: v ↦ A v (symmetric positive definite), shapes preserved.
    ///   - rhs: b.
    ///   - initialGuess: x₀ (a warm start), shaped like b; `nil` for zeros (saves a product).
    ///   - preconditioner: M (see ``Preconditioner``).
    ///   - maxIterations: n ≥ 0.
    ///   - tolerance: ε ≥ 0 on ‖r‖₂ (0: always n iterations unless r is exactly 0).
    ///   - denominatorFloor: α = ρ/max(⟨p, Ap⟩, floor) and β = ρ′/max(ρ, floor), as the MLHF
    ///     authors' code (floor 1e-6): it bounds the derivatives of a long solve through its
    ///     coefficients once the residual is small. 0 (the default) is plain PCG.
    public static func solve(_ apply: Operator, rhs b: [Tensor], initialGuess: [Tensor]? = nil,
                             preconditioner: Preconditioner = .none, maxIterations: Int,
                             tolerance: Float = 0, denominatorFloor: Float = 0) -> ConjugateGradientResult {
        solve(apply, rhs: b, initialGuess: initialGuess, preconditionerFor: { _ in preconditioner },
              maxIterations: maxIterations, tolerance: tolerance, denominatorFloor: denominatorFloor)
    }

    /// As ``solve(_:rhs:initialGuess:preconditioner:maxIterations:tolerance:)``, with a
    /// preconditioner chosen from the initial residual r₀ = b − A x₀ (MLHF's RNN_p reads it),
    /// so r₀ costs no second product.
    public static func solve(_ apply: Operator, rhs b: [Tensor], initialGuess: [Tensor]? = nil,
                             preconditionerFor makePreconditioner: (_ initialResidual: [Tensor]) -> Preconditioner,
                             maxIterations: Int, tolerance: Float = 0,
                             denominatorFloor: Float = 0) -> ConjugateGradientResult {
        precondition(maxIterations >= 0 && tolerance >= 0 && denominatorFloor >= 0,
                     "ConjugateGradient: maxIterations, tolerance and denominatorFloor must be non-negative")
        func floored(_ t: Tensor) -> Tensor { denominatorFloor > 0 ? t.clamped(denominatorFloor, .greatestFiniteMagnitude) : t }
        if let x0 = initialGuess {
            precondition(x0.count == b.count && zip(x0, b).allSatisfy { $0.shape == $1.shape },
                         "ConjugateGradient: initial guess shapes \(x0.map(\.shape)) differ from \(b.map(\.shape))")
        }
        var x: [Tensor], r: [Tensor]
        if let x0 = initialGuess {
            x = x0
            r = zip(b, apply(x0)).map { $0 - $1 }
        } else {
            x = b.map { Tensor.zeros($0.shape) }
            r = b
        }
        let r0 = r
        let preconditioner = makePreconditioner(r0)
        let m = preconditioner.tensors
        precondition(m.isEmpty || (m.count == b.count && zip(m, b).allSatisfy { $0.shape == [] || $0.shape == $1.shape }),
                     "ConjugateGradient: preconditioner shapes \(m.map(\.shape)) do not fit \(b.map(\.shape))")
        let r0Norm = norm(r0)
        var y = preconditioner.apply(r)
        var p = y
        var rho = dot(r, y)
        var i = 0
        var stop = ConjugateGradientResult.Stop.iterations
        var rNorm = r0Norm
        while true {
            if rNorm < tolerance || rNorm == 0 { stop = .tolerance; break }
            if i >= maxIterations { stop = .iterations; break }
            let q = apply(p)
            let pq = dot(p, q)
            let curvature = pq.scalar
            guard curvature > 0, curvature.isFinite else { stop = .curvature; break }
            let alpha = rho / floored(pq)
            x = zip(x, p).map { $0 + alpha * $1 }
            r = zip(r, q).map { $0 - alpha * $1 }
            i += 1
            rNorm = norm(r)
            if i < maxIterations && !(rNorm < tolerance || rNorm == 0) {
                y = preconditioner.apply(r)
                let rhoNext = dot(r, y)
                let beta = rhoNext / floored(rho)
                p = zip(y, p).map { $0 + beta * $1 }
                rho = rhoNext
            }
        }
        return ConjugateGradientResult(solution: x, residual: r, initialResidual: r0, iterations: i,
                                       residualNorm: rNorm, initialResidualNorm: r0Norm, stop: stop)
    }

    /// ⟨a, b⟩ over all tensors, as a scalar tensor (differentiable).
    public static func dot(_ a: [Tensor], _ b: [Tensor]) -> Tensor {
        precondition(a.count == b.count, "ConjugateGradient.dot: \(a.count) tensors against \(b.count)")
        return zip(a, b).map { ($0 * $1).sum() }.reduce(Tensor(0)) { $0 + $1 }
    }

    /// ‖a‖₂ over all tensors (a value; computed in Double: eight running sums of squares,
    /// each square exact, added together at the end).
    public static func norm(_ a: [Tensor]) -> Float {
        var lanes = SIMD8<Double>()
        var rest = 0.0
        for t in a {
            t.withUnsafeBufferPointer { b in
                guard let p = b.baseAddress else { return }
                var i = 0
                while i + 8 <= b.count {
                    let v = SIMD8<Double>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self))
                    lanes += v * v
                    i += 8
                }
                while i < b.count { rest += Double(p[i]) * Double(p[i]); i += 1 }
            }
        }
        return Float((lanes.sum() + rest).squareRoot())
    }
}

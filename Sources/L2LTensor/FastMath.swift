/// Rational tanh and sigmoid on four lanes, for the Swift LSTM cell's fused loop. (Whole
/// arrays of exp, tanh and sigmoid go to CKernels' `l2lk_map`, built per instruction set.)
enum FastMath {
    /// tanh as one rational function, x·P(x²)/Q(x²) on [−7.905, 7.905] and ±1 beyond (the
    /// coefficients of Eigen's float tanh), four lanes at a time: no exp and one division,
    /// about twice as cheap as `l2lk_map`'s tanh through exp, relative error ≤ 4e-7. For fused kernels that
    /// evaluate many of them; written on `SIMD4` because their loops read too many
    /// streams for the compiler to prove them independent and vectorise on its own.
    @inline(__always)
    static func rationalTanh(_ x: SIMD4<Float>) -> SIMD4<Float> {
        // Masks, not `clamped`: the standard library's SIMD `clamped`/`pointwiseMin` are
        // generic calls, and lane-wise `min`/`max` branch; `replacing` becomes max/and/or.
        let (lo, hi) = (SIMD4<Float>(repeating: -7.905_311_1), SIMD4<Float>(repeating: 7.905_311_1))
        let c = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
        let z = c * c
        var p = SIMD4<Float>(repeating: -2.760_768_5e-16)
        p = p * z + 2.000_187_9e-13
        p = p * z - 8.604_671_5e-11
        p = p * z + 5.122_297_1e-8
        p = p * z + 1.485_722_4e-5
        p = p * z + 6.372_619_3e-4
        p = p * z + 4.893_524_6e-3
        var q = SIMD4<Float>(repeating: 1.198_258_4e-6)
        q = q * z + 1.185_347_1e-4
        q = q * z + 2.268_434_6e-3
        q = q * z + 4.893_525_2e-3
        return c * p / q
    }

    /// σ(x) = (1 + tanh(x/2)) / 2 through ``rationalTanh(_:)``: absolute error ≤ 2.2e-7 (so
    /// not relatively accurate where σ underflows towards 0).
    @inline(__always)
    static func rationalSigmoid(_ x: SIMD4<Float>) -> SIMD4<Float> { 0.5 + 0.5 * rationalTanh(0.5 * x) }
}

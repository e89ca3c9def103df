/// Branch-free exp, sigmoid and tanh (Cephes' single-precision polynomials) written with
/// plain float and wrapping integer arithmetic, so element-wise loops over them vectorise:
/// Glibc's scalar expf and tanhf dominated the learned optimisers' profile. Relative error
/// about 2e-7; exp is 0 below −87.3 and +∞ above 88.7, like expf.
enum FastMath {
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let c = Swift.min(Swift.max(x, -87.33654), 88.72283)
        // n = round(c / ln 2) with the 1.5·2²³ trick: t's low mantissa bits hold n.
        let t = c * 1.442_695_04 + 12_582_912
        let n = t - 12_582_912
        let r = c - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * r * r + r + 1
        let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        let v = y * scale
        return x < -87.33654 ? 0 : (x > 88.72283 ? .infinity : v)
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        // Small |x|: odd polynomial (no cancellation); otherwise 1 − 2/(e^{2|x|} + 1) with x's sign.
        let a = Swift.abs(x)
        let z = x * x
        var p: Float = -5.704_988_72e-3
        p = p * z + 2.063_908_88e-2
        p = p * z - 5.373_971_55e-2
        p = p * z + 1.333_144_22e-1
        p = p * z - 3.333_328_19e-1
        let small = x + x * z * p
        let large = 1 - 2 / (exp(2 * a) + 1)
        return a < 0.625 ? small : (x < 0 ? -large : large)
    }

    /// tanh as one rational function, x·P(x²)/Q(x²) on [−7.905, 7.905] and ±1 beyond (the
    /// coefficients of Eigen's float tanh), four lanes at a time: no exp and one division,
    /// about twice as cheap as ``tanh(_:)``, relative error ≤ 4e-7. For fused kernels that
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

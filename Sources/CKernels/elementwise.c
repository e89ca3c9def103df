// Element-wise exp, tanh, sigmoid and softplus over arrays (CKernels.h, l2lk_map), compiled
// once per instruction set so each runs 4, 8 or 16 elements per instruction: Swift builds
// for baseline x86-64, where these loops ran about one element at a time. Branch-free:
// Cephes' single-precision polynomials with plain float and wrapping integer arithmetic,
// every element through the same operations whatever the width; softplus repeats glibc's
// expf and log1pf operation for operation, and the gradient preprocessing glibc's logf
// (below).
#include <math.h>
#include <stdint.h>

#include "CKernels.h"
#include "isa.h"

// No contraction where the source does not ask for a fused multiply-add (CKernels.h).
#pragma clang fp contract(off)

/// e^x: 0 below −87.3365, +∞ above 88.7228, NaN for NaN; relative error about 2e-7.
static inline __attribute__((always_inline)) float map_exp(float x) {
    const float lo = -87.33654f, hi = 88.72283f;
    const float m = lo >= x ? lo : x;   // NaN passes through both clamps
    const float c = hi < m ? hi : m;
    // n = round(c / ln 2) with the 1.5·2²³ trick: t's low mantissa bits hold n.
    const float t = c * 1.44269504f + 12582912.0f;
    const float n = t - 12582912.0f;
    const float r = c - n * 0.693359375f + n * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    const float y = p * r * r + r + 1.0f;
    const uint32_t bits = (__builtin_bit_cast(uint32_t, t) - 0x4B400000u + 127u) << 23;
    const float v = y * __builtin_bit_cast(float, bits);
    return x < lo ? 0.0f : (x > hi ? __builtin_inff() : v);
}

/// tanh: an odd polynomial for |x| < 0.625 (no cancellation), else 1 − 2/(e^{2|x|} + 1)
/// with x's sign.
static inline __attribute__((always_inline)) float map_tanh(float x) {
    const float a = __builtin_fabsf(x);
    const float z = x * x;
    float p = -5.70498872e-3f;
    p = p * z + 2.06390888e-2f;
    p = p * z - 5.37397155e-2f;
    p = p * z + 1.33314422e-1f;
    p = p * z - 3.33332819e-1f;
    const float small = x + x * z * p;
    const float large = 1.0f - 2.0f / (map_exp(2.0f * a) + 1.0f);
    return a < 0.625f ? small : (x < 0 ? -large : large);
}

static inline __attribute__((always_inline)) float map_sigmoid(float x) { return 1.0f / (1.0f + map_exp(-x)); }

// MARK: softplus, the bits of glibc's expf and log1pf
//
// softplus(v) = max(v, 0) + log1p(e^(−|v|)) was computed with libm's expf and log1pf, one
// call each per element (12 ns an element, the largest cost of an MLHF step). The vector
// build below performs, element by element, the same IEEE operations as glibc 2.36's
// __expf_fma (the variant glibc picks on CPUs with FMA and AVX2, as the AVX2 and AVX-512
// builds require: one double-precision polynomial on a 32-entry table) and its __log1pf
// (fdlibm's, in float) for the arguments softplus gives it, so the results are the same
// bits (checked on every one of the 2³² inputs). Elements outside that path — |v| ≥ 88,
// NaN, and 1 + e^(−|v|) within 3 ulps of 2, where log1pf takes its f ≈ 0 branch — come out
// NaN from the vector loop and are then recomputed by libm itself.

/// max(v, 0) as l2l's softplus always took it (NaN stays NaN, −0 gives +0).
static inline __attribute__((always_inline)) float positive_part(float v) { return 0.0f >= v ? 0.0f : v; }

/// max(v, 0) + log1pf(expf(−|v|)) by libm: the reference, and the baseline build.
static float softplus_libm(float v) { return positive_part(v) + log1pf(expf(-__builtin_fabsf(v))); }

#if L2LK_X86
/// glibc's 2^(i/32) table (exp2f_data.c): the bits of the double 2^(i/32) minus i << 47.
static const uint64_t exp2_table[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51, 0x3fef72b83c7d517b,
    0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1, 0x3fef06fe0a31b715, 0x3feef1a7373aa9cb,
    0x3feedea64c123422, 0x3feece086061892d, 0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429,
    0x3feea47eb03a5585, 0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d, 0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069, 0x3fef5818dcfba487, 0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

/// softplus(v) by the operations of glibc's __expf_fma and __log1pf (above), or NaN where
/// softplus_libm must take over. Needs hardware FMA (the AVX2 and AVX-512 builds).
static inline __attribute__((always_inline)) float softplus_glibc(float v) {
    const uint32_t magnitude = __builtin_bit_cast(uint32_t, v) & 0x7fffffffu;
    // expf(x), x = −|v| < 88 in magnitude: k = round(x·32/ln 2), r = x·32/ln 2 − k,
    // e^x = 2^(k/32) · (1 + r·C2 + r²·(C1 + r·C0)).
    const double xd = (double)-__builtin_bit_cast(float, magnitude);
    const double shifted = __builtin_fma(0x1.71547652b82fep+5, xd, 0x1.8p+52);
    const uint64_t ki = __builtin_bit_cast(uint64_t, shifted);
    const double kd = shifted - 0x1.8p+52;
    const double r = __builtin_fma(0x1.71547652b82fep+5, xd, -kd);
    const double scale = __builtin_bit_cast(double, exp2_table[ki & 31] + (ki << 47));
    const double z = __builtin_fma(0x1.c6af84b912394p-20, r, 0x1.ebfce50fac4f3p-13);
    const double y = __builtin_fma(z, r * r, __builtin_fma(r, 0x1.62e42ff0c52d6p-6, 1.0));
    const float u = (float)(y * scale);
    // log1pf(u), 0 < u ≤ 1, fdlibm's branches as selects: u itself below 2⁻⁵⁴, u − u·u/2
    // below 2⁻²⁹; else f − (f²/2 − s·(f²/2 + R(s²))), s = f/(2 + f), with f = u and k = 0
    // below 0.41422, else 1 + u = 2^k·(1 + f) and the rounding correction c.
    const int32_t hx = __builtin_bit_cast(int32_t, u);
    const int small = hx <= 0x3ed413d6;
    const float u1 = u + 1.0f;
    const int32_t hu1 = __builtin_bit_cast(int32_t, u1);
    const int32_t k1 = (hu1 >> 23) - 127;
    const float c1 = (k1 > 0 ? 1.0f - (u1 - u) : u - (u1 - 1.0f)) / u1;
    const int32_t m = hu1 & 0x7fffff;
    const int halve = m > 0x3504f6;
    const int32_t hu = halve ? (0x800000 - m) >> 2 : m;
    const float fb = __builtin_bit_cast(float, m | (halve ? 0x3f000000 : 0x3f800000)) - 1.0f;
    const int32_t k = small ? 0 : k1 + halve;
    const float f = small ? u : fb, c = small ? 0.0f : c1;
    const float hfsq = 0.5f * f * f;
    const float s = f / (2.0f + f);
    const float zz = s * s;
    float R = 1.4798198640e-01f * zz + 1.5313838422e-01f;
    R = R * zz + 1.8183572590e-01f;
    R = R * zz + 2.2222198546e-01f;
    R = R * zz + 2.8571429849e-01f;
    R = R * zz + 4.0000000596e-01f;
    R = R * zz + 6.6666668653e-01f;
    R = R * zz;
    const float w = (R + hfsq) * s;
    const float kf = (float)k;
    const float general = k == 0 ? f - (hfsq - w)
                                 : kf * 6.9313812256e-01f - ((hfsq - ((kf * 9.0580006145e-06f + c) + w)) - f);
    const float tiny = hx <= 0x247fffff ? u : u - u * u * 0.5f;
    const float log1p = hx <= 0x30ffffff ? tiny : general;
    const int fallback = magnitude >= 0x42b00000u || (!small && hu == 0);
    return fallback ? __builtin_nanf("") : positive_part(v) + log1p;
}

/// softplus over x[0..<n] by softplus_glibc, then libm for the elements it leaves NaN.
static inline __attribute__((always_inline)) void softplus_rows(ptrdiff_t n, const float *restrict x,
                                                                float *restrict out) {
    int fallback = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const float y = softplus_glibc(x[i]);
        out[i] = y;
        fallback |= y != y;
    }
    if (!fallback) return;
    for (ptrdiff_t i = 0; i < n; i++)
        if (out[i] != out[i]) out[i] = softplus_libm(x[i]);
}

// MARK: logf, for the gradient preprocessing
//
// log|g| of every coordinate's gradient was libm's logf, one call per element (4 ns an
// element: 108 µs of each LSTM-optimiser step over 25,450 coordinates). The vector build below
// performs the operations of glibc 2.36's __logf_fma (what glibc picks on CPUs with FMA and
// AVX2): 2^k·z with z near a table point c, then log(c) + k·ln 2 + a cubic in r = z/c − 1,
// in double; the same bits on every positive normal float (checked on all of them).

/// glibc's logf table (e_logf_data.c) for 16 subintervals of [0x3f330000, 2·…): 1/c …
static const double logf_inverse[16] = {
    0x1.661ec79f8f3bep+0, 0x1.571ed4aaf883dp+0, 0x1.49539f0f010b0p+0, 0x1.3c995b0b80385p+0,
    0x1.30d190c8864a5p+0, 0x1.25e227b0b8ea0p+0, 0x1.1bb4a4a1a343fp+0, 0x1.12358f08ae5bap+0,
    0x1.0953f419900a7p+0, 0x1p+0, 0x1.e608cfd9a47acp-1, 0x1.ca4b31f026aa0p-1,
    0x1.b2036576afce6p-1, 0x1.9c2d163a1aa2dp-1, 0x1.886e6037841edp-1, 0x1.767dcf5534862p-1,
};
/// … and log(c).
static const double logf_log[16] = {
    -0x1.57bf7808caadep-2, -0x1.2bef0a7c06ddbp-2, -0x1.01eae7f513a67p-2, -0x1.b31d8a68224e9p-3,
    -0x1.6574f0ac07758p-3, -0x1.1aa2bc79c8100p-3, -0x1.a4e76ce8c0e5ep-4, -0x1.1973c5a611cccp-4,
    -0x1.252f438e10c1ep-5, 0x0p+0, 0x1.aa5aa5df25984p-5, 0x1.c5e53aa362eb4p-4,
    0x1.526e57720db08p-3, 0x1.bc2860d224770p-3, 0x1.1058bc8a07ee1p-2, 0x1.4043057b6ee09p-2,
};

/// logf(x) by __logf_fma's operations for positive normal finite x (others: see the caller).
static inline __attribute__((always_inline)) float logf_glibc(float x) {
    const uint32_t ix = __builtin_bit_cast(uint32_t, x);
    const uint32_t tmp = ix - 0x3f330000u;
    const uint32_t i = (tmp >> 19) & 15;
    const int32_t k = (int32_t)tmp >> 23;
    const double z = (double)__builtin_bit_cast(float, ix - (tmp & 0xff800000u));
    const double r = __builtin_fma(z, logf_inverse[i], -1.0);
    const double y0 = __builtin_fma((double)k, 0x1.62e42fefa39efp-1, logf_log[i]);
    const double r2 = r * r;
    double y = __builtin_fma(0x1.5575b0be00b6ap-2, r, -0x1.ffffef20a4123p-2);
    y = __builtin_fma(r2, -0x1.00ea348b88334p-2, y);
    y = __builtin_fma(r2, y, r + y0);
    return ix == 0x3f800000u ? 0.0f : (float)y;
}
#endif

// MARK: The gradient preprocessing (CKernels.h, l2lk_log_magnitude_and_sign)

/// One coordinate's two features, with `log` the logarithm of |v| (NaN stays NaN).
#define PREPROCESS(LOG)                                                                            \
    for (ptrdiff_t i = 0; i < n; i++) {                                                            \
        const float v = x[i], a = __builtin_fabsf(v);                                              \
        const int small = a < threshold;                                                           \
        out[2 * i] = small ? -1.0f : LOG(a) / p;                                                   \
        out[2 * i + 1] = small ? scale * v : (float)((v > 0) - (v < 0));                            \
    }

static void preprocess_baseline(ptrdiff_t n, const float *restrict x, float p, float threshold, float scale,
                                float *restrict out) {
    PREPROCESS(logf)   // libm's own: glibc's logf may be its non-FMA variant here
}

#if L2LK_X86
/// logf_glibc covers every |v| at or above a normal threshold except ∞ and NaN: with one of
/// those (or a subnormal threshold) libm does the whole array, with the same bits.
static inline __attribute__((always_inline)) void preprocess_fma(ptrdiff_t n, const float *restrict x, float p,
                                                                 float threshold, float scale, float *restrict out) {
    int fallback = 0;
    for (ptrdiff_t i = 0; i < n; i++) fallback |= (__builtin_bit_cast(uint32_t, x[i]) & 0x7fffffffu) >= 0x7f800000u;
    if (fallback || !(threshold >= 0x1p-126f)) {
        preprocess_baseline(n, x, p, threshold, scale, out);
        return;
    }
    PREPROCESS(logf_glibc)
}

__attribute__((target("avx2,fma"))) static void preprocess_avx2(ptrdiff_t n, const float *restrict x, float p,
                                                                 float threshold, float scale, float *restrict out) {
    preprocess_fma(n, x, p, threshold, scale, out);
}

__attribute__((target("avx512f,avx512vl,fma"))) static void preprocess_avx512(ptrdiff_t n, const float *restrict x,
                                                                              float p, float threshold, float scale,
                                                                              float *restrict out) {
    preprocess_fma(n, x, p, threshold, scale, out);
}
#endif

void l2lk_log_magnitude_and_sign(ptrdiff_t n, const float *x, float p, float threshold, float scale, float *out) {
    switch (l2lk_isa()) {
#if L2LK_X86
    case L2LK_ISA_AVX512: preprocess_avx512(n, x, p, threshold, scale, out); return;
    case L2LK_ISA_AVX2: preprocess_avx2(n, x, p, threshold, scale, out); return;
#endif
    default: preprocess_baseline(n, x, p, threshold, scale, out); return;
    }
}

static inline __attribute__((always_inline)) void map_rows(int function, ptrdiff_t n, const float *restrict x,
                                                           float *restrict out) {
    switch (function) {
    case L2LK_MAP_EXP: for (ptrdiff_t i = 0; i < n; i++) out[i] = map_exp(x[i]); return;
    case L2LK_MAP_TANH: for (ptrdiff_t i = 0; i < n; i++) out[i] = map_tanh(x[i]); return;
    default: for (ptrdiff_t i = 0; i < n; i++) out[i] = map_sigmoid(x[i]); return;
    }
}

static void map_baseline(int function, ptrdiff_t n, const float *x, float *out) {
    if (function == L2LK_MAP_SOFTPLUS) {   // libm's own: glibc's expf may be its non-FMA variant here
        for (ptrdiff_t i = 0; i < n; i++) out[i] = softplus_libm(x[i]);
    } else {
        map_rows(function, n, x, out);
    }
}

#if L2LK_X86
/// The FMA builds: softplus by softplus_rows, the others by map_rows.
static inline __attribute__((always_inline)) void map_fma(int function, ptrdiff_t n, const float *x, float *out) {
    if (function == L2LK_MAP_SOFTPLUS) {
        softplus_rows(n, x, out);
    } else {
        map_rows(function, n, x, out);
    }
}

__attribute__((target("avx2,fma"))) static void map_avx2(int function, ptrdiff_t n, const float *x, float *out) {
    map_fma(function, n, x, out);
}

__attribute__((target("avx512f,avx512vl,fma"))) static void map_avx512(int function, ptrdiff_t n, const float *x,
                                                                        float *out) {
    map_fma(function, n, x, out);
}
#endif

void l2lk_map(int function, ptrdiff_t n, const float *x, float *out) {
    switch (l2lk_isa()) {
#if L2LK_X86
    case L2LK_ISA_AVX512: map_avx512(function, n, x, out); return;
    case L2LK_ISA_AVX2: map_avx2(function, n, x, out); return;
#endif
    default: map_baseline(function, n, x, out); return;
    }
}

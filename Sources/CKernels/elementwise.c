// Element-wise exp, tanh and sigmoid over arrays (CKernels.h, l2lk_map), compiled once per
// instruction set so each runs 4, 8 or 16 elements per instruction: Swift builds for
// baseline x86-64, where these loops ran about one element at a time. Branch-free: Cephes'
// single-precision polynomials with plain float and wrapping integer arithmetic, every
// element through the same operations whatever the width.
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

static inline __attribute__((always_inline)) void map_rows(int function, ptrdiff_t n, const float *restrict x,
                                                           float *restrict out) {
    switch (function) {
    case L2LK_MAP_EXP: for (ptrdiff_t i = 0; i < n; i++) out[i] = map_exp(x[i]); return;
    case L2LK_MAP_TANH: for (ptrdiff_t i = 0; i < n; i++) out[i] = map_tanh(x[i]); return;
    default: for (ptrdiff_t i = 0; i < n; i++) out[i] = map_sigmoid(x[i]); return;
    }
}

static void map_baseline(int function, ptrdiff_t n, const float *x, float *out) { map_rows(function, n, x, out); }

#if L2LK_X86
__attribute__((target("avx2,fma"))) static void map_avx2(int function, ptrdiff_t n, const float *x, float *out) {
    map_rows(function, n, x, out);
}

__attribute__((target("avx512f,avx512vl,fma"))) static void map_avx512(int function, ptrdiff_t n, const float *x,
                                                                        float *out) {
    map_rows(function, n, x, out);
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

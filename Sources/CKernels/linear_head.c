// The output head of a coordinate-wise network (CKernels.h, l2lk_linear_head), compiled
// once per instruction set so the fused multiply-adds are single instructions where the
// CPU has them (the baseline build calls fmaf: slower, the same bits).
#include "CKernels.h"
#include "isa.h"

// No contraction where the source does not ask for a fused multiply-add (CKernels.h).
#pragma clang fp contract(off)

/// Rows [r0, r1), eight at a time: eight independent chains of multiply-adds in flight
/// (one chain alone waits on each add's latency).
static inline __attribute__((always_inline)) void head_rows(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t k, const float *x,
                                                            ptrdiff_t ldx, const float *w, const float *bias, float *out) {
    enum { GROUP = 8 };
    ptrdiff_t r = r0;
    for (; r + GROUP <= r1; r += GROUP) {
        float s[GROUP] = {0};
        for (ptrdiff_t l = 0; l < k; l++) {
            const float wl = w[l];
            for (int t = 0; t < GROUP; t++) s[t] = __builtin_elementwise_fma(x[(r + t) * ldx + l], wl, s[t]);
        }
        for (int t = 0; t < GROUP; t++) out[r + t] = bias ? s[t] + *bias : s[t];
    }
    for (; r < r1; r++) {
        float s = 0;
        for (ptrdiff_t l = 0; l < k; l++) s = __builtin_elementwise_fma(x[r * ldx + l], w[l], s);
        out[r] = bias ? s + *bias : s;
    }
}

static void head_baseline(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t k, const float *x, ptrdiff_t ldx, const float *w,
                          const float *bias, float *out) {
    head_rows(r0, r1, k, x, ldx, w, bias, out);
}

#if L2LK_X86
__attribute__((target("avx2,fma"))) static void head_avx2(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t k, const float *x,
                                                           ptrdiff_t ldx, const float *w, const float *bias, float *out) {
    head_rows(r0, r1, k, x, ldx, w, bias, out);
}

__attribute__((target("avx512f,avx512vl,fma"))) static void head_avx512(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t k,
                                                                        const float *x, ptrdiff_t ldx, const float *w,
                                                                        const float *bias, float *out) {
    head_rows(r0, r1, k, x, ldx, w, bias, out);
}
#endif

void l2lk_linear_head(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t k, const float *x, ptrdiff_t ldx, const float *w,
                      const float *bias, float *out) {
    switch (l2lk_isa()) {
#if L2LK_X86
    case L2LK_ISA_AVX512: head_avx512(r0, r1, k, x, ldx, w, bias, out); return;
    case L2LK_ISA_AVX2: head_avx2(r0, r1, k, x, ldx, w, bias, out); return;
#endif
    default: head_baseline(r0, r1, k, x, ldx, w, bias, out); return;
    }
}

// The coordinate-wise LSTM layer (CKernels.h): packing, the row-block reduction and the
// run-time choice of instruction set; the kernels themselves are lstm_layer_impl.h,
// compiled here once per instruction set.
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"
#include "isa.h"

size_t l2lk_lstm_columns(ptrdiff_t hidden) { return (size_t)((4 * hidden + 15) / 16 * 16); }

size_t l2lk_lstm_packed_count(ptrdiff_t inputs, ptrdiff_t hidden) {
    return (size_t)(1 + inputs + hidden) * l2lk_lstm_columns(hidden);
}

size_t l2lk_lstm_saved_columns(ptrdiff_t hidden) { return (size_t)(5 * hidden); }

size_t l2lk_lstm_partial_count(ptrdiff_t inputs, ptrdiff_t hidden) { return l2lk_lstm_packed_count(inputs, hidden); }

size_t l2lk_lstm_packed_transpose_count(ptrdiff_t inputs, ptrdiff_t hidden) {
    return (size_t)(4 * hidden) * (size_t)((inputs + hidden + 15) / 16 * 16);
}

void l2lk_lstm_pack(ptrdiff_t n, ptrdiff_t hidden, const float *w, const float *u, const float *b, float *packed) {
    const ptrdiff_t cols = (ptrdiff_t)l2lk_lstm_columns(hidden), gates = 4 * hidden;
    memset(packed, 0, l2lk_lstm_packed_count(n, hidden) * sizeof(float));
    memcpy(packed, b, (size_t)gates * sizeof(float));
    for (ptrdiff_t k = 0; k < n; k++) memcpy(packed + (1 + k) * cols, w + k * gates, (size_t)gates * sizeof(float));
    for (ptrdiff_t k = 0; k < hidden; k++) memcpy(packed + (1 + n + k) * cols, u + k * gates, (size_t)gates * sizeof(float));
}

void l2lk_lstm_pack_transpose(ptrdiff_t n, ptrdiff_t hidden, const float *w, const float *u, float *packed) {
    const ptrdiff_t gates = 4 * hidden, kcols = (n + hidden + 15) / 16 * 16;
    memset(packed, 0, l2lk_lstm_packed_transpose_count(n, hidden) * sizeof(float));
    for (ptrdiff_t j = 0; j < gates; j++) {
        for (ptrdiff_t k = 0; k < n; k++) packed[j * kcols + k] = w[k * gates + j];
        for (ptrdiff_t k = 0; k < hidden; k++) packed[j * kcols + n + k] = u[k * gates + j];
    }
}

void l2lk_lstm_reduce(ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t blocks, ptrdiff_t n, ptrdiff_t hidden,
                      const float *partials, float *dw, float *du, float *db) {
    const ptrdiff_t cols = (ptrdiff_t)l2lk_lstm_columns(hidden), gates = 4 * hidden;
    const ptrdiff_t count = (ptrdiff_t)l2lk_lstm_partial_count(n, hidden);
    for (ptrdiff_t row = row0; row < row1; row++) {
        float *dst = row == 0 ? db : (row <= n ? dw + (row - 1) * gates : du + (row - 1 - n) * gates);
        for (ptrdiff_t j = 0; j < gates; j++) dst[j] = 0;
        for (ptrdiff_t b = 0; b < blocks; b++) {   // blocks in order; the inner loop vectorises over j
            const float *src = partials + b * count + row * cols;
            for (ptrdiff_t j = 0; j < gates; j++) dst[j] += src[j];
        }
    }
}

// MARK: The kernels, once per instruction set

// The kernels' helpers take and return 16-float vectors; they are always inlined into
// functions of their own instruction set, so no call ever passes one across sets.
#pragma clang diagnostic ignored "-Wpsabi"
// No contraction of a·b + c into a fused multiply-add where the source does not ask for one:
// a build with FMA would otherwise round differently from one without (CKernels.h).
#pragma clang fp contract(off)

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));
typedef int i16 __attribute__((vector_size(64)));
typedef int i4 __attribute__((vector_size(16)));
typedef float v32 __attribute__((vector_size(128)));
typedef float v64 __attribute__((vector_size(256)));
typedef int i64 __attribute__((vector_size(256)));

// Unaligned loads and stores (macros, not functions: a function outside a target's
// pragma would pass 16-float vectors by a different ABI).
#define load16(p) ({ v16 v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define store16(p, v) ({ v16 v_ = (v); __builtin_memcpy((p), &v_, sizeof v_); })
#define load8(p) ({ v8 v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define store8(p, v) ({ v8 v_ = (v); __builtin_memcpy((p), &v_, sizeof v_); })
#define load4(p) ({ v4 v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define store4(p, v) ({ v4 v_ = (v); __builtin_memcpy((p), &v_, sizeof v_); })
#define load1(p) (*(p))
/// A vector of 16 copies of `s` (`(v16){0} + s` would add 0, which is not the identity on −0).
#define splat16(s) ({ v16 v_ = {(s)}; __builtin_shufflevector(v_, v_, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); })
/// A vector of 8 copies of `s`.
#define splat8(s) ({ v8 v_ = {(s)}; __builtin_shufflevector(v_, v_, 0, 0, 0, 0, 0, 0, 0, 0); })
#define store1(p, v) (*(p) = (v))

#define SUFFIX baseline
#define TILE_ROWS 2
#define TILE_VECTORS 1
#define TILE_K 2
#define VECTOR_CASES(TILE)
#include "lstm_layer_impl.h"

#if L2LK_X86
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define SUFFIX avx2
#define TILE_ROWS 2
#define TILE_VECTORS 2
#define TILE_K 2
#define VECTOR_CASES(TILE) case 2: TILE(2, v); break;
#include "lstm_layer_impl.h"
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,fma"))), apply_to = function)
#define SUFFIX avx512
#define TILE_ROWS 4
#define TILE_VECTORS 5
#define TILE_K 4
#define VECTOR_CASES(TILE) case 5: TILE(5, v); break; case 4: TILE(4, v); break; case 3: TILE(3, v); break; case 2: TILE(2, v); break;
#define WIDE_CELLS 1
#include "lstm_layer_impl.h"
#pragma clang attribute pop
#endif

int l2lk_lstm_forward(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n, ptrdiff_t hidden,
                      const float *x, ptrdiff_t ldx, const float *state, const float *packed,
                      float *out, float *saved) {
    switch (l2lk_isa()) {
#if L2LK_X86
    case L2LK_ISA_AVX512: return l2lk_lstm_forward_avx512(r0, r1, n, hidden, x, ldx, state, packed, out, saved);
    case L2LK_ISA_AVX2: return l2lk_lstm_forward_avx2(r0, r1, n, hidden, x, ldx, state, packed, out, saved);
#endif
    default: return l2lk_lstm_forward_baseline(r0, r1, n, hidden, x, ldx, state, packed, out, saved);
    }
}

int l2lk_lstm_backward(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t p, ptrdiff_t n, ptrdiff_t hidden,
                       const float *x, ptrdiff_t ldx, const float *state, const float *saved, const float *grad,
                       const float *packed_t, float *dx, int add_dx, float *dstate, float *partials) {
    switch (l2lk_isa()) {
#if L2LK_X86
    case L2LK_ISA_AVX512:
        return l2lk_lstm_backward_avx512(b0, b1, p, n, hidden, x, ldx, state, saved, grad, packed_t, dx, add_dx, dstate, partials);
    case L2LK_ISA_AVX2:
        return l2lk_lstm_backward_avx2(b0, b1, p, n, hidden, x, ldx, state, saved, grad, packed_t, dx, add_dx, dstate, partials);
#endif
    default:
        return l2lk_lstm_backward_baseline(b0, b1, p, n, hidden, x, ldx, state, saved, grad, packed_t, dx, add_dx, dstate, partials);
    }
}

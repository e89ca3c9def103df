// Matrix-vector products with a few columns (CKernels.h, l2lk_row_dot): a coordinate-wise
// network's output head [P, k]·[k, 1]. Swift's loop ran one row at a time; with k a constant
// here the compiler runs whole vectors of rows. Each row's sum is the same chain of
// multiplications and additions in the order of k (no fused multiply-add), so the same bits.
#include "CKernels.h"

#pragma clang fp contract(off)

#define ROW_DOT(K)                                                                                 \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                         \
        float sum = accumulate ? c[r] : 0.0f;                                                      \
        for (int l = 0; l < K; l++) sum += a[r * K + l] * b[l];                                    \
        c[r] = sum;                                                                                \
    }

void l2lk_row_dot(ptrdiff_t rows, ptrdiff_t k, const float *restrict a, const float *restrict b, float *restrict c,
                  int accumulate) {
    switch (k) {
    case 1: ROW_DOT(1) return;
    case 2: ROW_DOT(2) return;
    case 3: ROW_DOT(3) return;
    case 4: ROW_DOT(4) return;
    default:
        for (ptrdiff_t r = 0; r < rows; r++) {
            float sum = accumulate ? c[r] : 0.0f;
            for (ptrdiff_t l = 0; l < k; l++) sum += a[r * k + l] * b[l];
            c[r] = sum;
        }
    }
}

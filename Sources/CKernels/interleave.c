// Narrow strided copies (CKernels.h): k [rows, 1] columns side by side as [rows, k]
// (l2lk_interleave, how the coordinate-wise networks' features are built) and rows of a few
// floats between strided layouts (l2lk_copy_narrow_rows, e.g. h out of an LSTM's [P, 2H]
// state). Swift's loops ran one float at a time (43 µs for three columns of 25,450); with the
// width a constant here the compiler moves whole vectors (6 µs).
#include "CKernels.h"

#define INTERLEAVE(K)                                                                              \
    do {                                                                                           \
        const float *c_[K];                                                                        \
        for (int j = 0; j < K; j++) c_[j] = columns[j];                                            \
        for (ptrdiff_t r = 0; r < rows; r++)                                                       \
            for (int j = 0; j < K; j++) out[r * K + j] = c_[j][r];                                 \
    } while (0)

void l2lk_interleave(ptrdiff_t k, ptrdiff_t rows, const float *const *columns, float *restrict out) {
    switch (k) {
    case 2: INTERLEAVE(2); return;
    case 3: INTERLEAVE(3); return;
    case 4: INTERLEAVE(4); return;
    default:
        for (ptrdiff_t r = 0; r < rows; r++)
            for (ptrdiff_t j = 0; j < k; j++) out[r * k + j] = columns[j][r];
    }
}

#define COPY_ROWS(W)                                                                               \
    for (ptrdiff_t r = 0; r < rows; r++)                                                           \
        for (int k = 0; k < W; k++) dst[r * dst_stride + k] = src[r * src_stride + k];

void l2lk_copy_narrow_rows(ptrdiff_t rows, ptrdiff_t width, const float *src, ptrdiff_t src_stride, float *restrict dst,
                           ptrdiff_t dst_stride) {
    switch (width) {
    case 1: COPY_ROWS(1) return;
    case 2: COPY_ROWS(2) return;
    case 3: COPY_ROWS(3) return;
    case 4: COPY_ROWS(4) return;
    case 8: COPY_ROWS(8) return;
    default:
        for (ptrdiff_t r = 0; r < rows; r++)
            for (ptrdiff_t k = 0; k < width; k++) dst[r * dst_stride + k] = src[r * src_stride + k];
    }
}

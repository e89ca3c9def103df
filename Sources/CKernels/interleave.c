// Columns side by side (CKernels.h, l2lk_interleave): concatenating k [rows, 1] columns into
// [rows, k], as the coordinate-wise networks' features are built. Swift's strided copy ran
// one float at a time (43 µs for three columns of 25,450); with k a constant here the
// compiler writes whole vectors (6 µs).
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

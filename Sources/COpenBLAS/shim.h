// OpenBLAS as shipped in PyPI's scipy-openblas32 wheel (the LP64 build numpy's own
// OpenBLAS comes from: DYNAMIC_ARCH, so it picks its kernels for the CPU at load time).
// scripts/setup.sh installs it under /usr/local with a pkg-config file,
// scipy-openblas32.pc. Its symbols carry the prefix `scipy_`, so it never clashes with
// another BLAS in the same process (Debian's libopenblas, numpy's scipy_openblas64_).
// l2l calls the BLAS only through the `blas_` functions below: the prefix lives here.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // dladdr
#endif
#include <dlfcn.h>
#include <scipy_openblas32/cblas.h>

/// `cblas_sgemm`.
static inline void blas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                              blasint m, blasint n, blasint k, float alpha, const float *a, blasint lda,
                              const float *b, blasint ldb, float beta, float *c, blasint ldc) {
    scipy_cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/// The number of threads OpenBLAS's level-3 routines use from now on.
static inline void blas_set_num_threads(int threads) { scipy_openblas_set_num_threads(threads); }

/// OpenBLAS's build configuration, e.g. "OpenBLAS 0.3.34.481.3 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64".
static inline const char *blas_config(void) { return scipy_openblas_get_config(); }

/// The kernel family OpenBLAS chose at load time (or was told to by OPENBLAS_CORETYPE), e.g. "Haswell".
static inline const char *blas_core_name(void) { return scipy_openblas_get_corename(); }

/// The file the dynamic loader loaded the BLAS from, or NULL if it cannot tell.
static inline const char *blas_library_path(void) {
    Dl_info info;
    return dladdr((const void *)&scipy_cblas_sgemm, &info) ? info.dli_fname : NULL;
}

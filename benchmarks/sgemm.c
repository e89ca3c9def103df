/* GFLOP/s of cblas_sgemm from any CBLAS shared library, n = 256…2048, to compare BLAS
 * candidates on a machine (docs/measured.md: which BLAS and why).
 *
 *     gcc -O2 -o /tmp/sgemm benchmarks/sgemm.c -ldl
 *     OPENBLAS_NUM_THREADS=2 /tmp/sgemm /usr/local/lib/libscipy_openblas.so scipy_
 *     OPENBLAS_NUM_THREADS=2 /tmp/sgemm /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0
 *     BLIS_NUM_THREADS=2 /tmp/sgemm /usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4
 *
 * The second argument is the library's symbol prefix (scipy-openblas32's is "scipy_").
 * An OpenBLAS also prints its configuration and the kernel family it chose. Each size:
 * best of 3 to 20 products of row-major uniform matrices, after one untimed product. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *symbol(void *library, const char *prefix, const char *name) {
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return dlsym(library, full);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIBRARY.so [SYMBOL_PREFIX]\n", argv[0]);
        return 2;
    }
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    const char *prefix = argc > 2 ? argv[2] : "";
    sgemm_fn sgemm = (sgemm_fn)symbol(library, prefix, "cblas_sgemm");
    if (sgemm == NULL) {
        fprintf(stderr, "%s has no %scblas_sgemm\n", argv[1], prefix);
        return 1;
    }
    char *(*config)(void) = (char *(*)(void))symbol(library, prefix, "openblas_get_config");
    char *(*core)(void) = (char *(*)(void))symbol(library, prefix, "openblas_get_corename");
    if (config != NULL && core != NULL) printf("%s; kernels: %s\n", config(), core());
    double peak = 0;
    for (int n = 256; n <= 2048; n *= 2) {
        size_t count = (size_t)n * n;
        float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b), *c = malloc(count * sizeof *c);
        if (a == NULL || b == NULL || c == NULL) return 1;
        for (size_t i = 0; i < count; i++) {
            a[i] = (float)rand() / RAND_MAX;
            b[i] = (float)rand() / RAND_MAX;
        }
        int repeats = n >= 2048 ? 3 : n >= 1024 ? 5 : 20;
        sgemm(101, 111, 111, n, n, n, 1, a, n, b, n, 0, c, n);
        double best = 1e30;
        for (int r = 0; r < repeats; r++) {
            double t0 = now();
            sgemm(101, 111, 111, n, n, n, 1, a, n, b, n, 0, c, n);
            double t = now() - t0;
            if (t < best) best = t;
        }
        double gflops = 2.0 * n * n * n / best / 1e9;
        if (gflops > peak) peak = gflops;
        printf("  %4d³: %6.1f GFLOP/s\n", n, gflops);
        free(a);
        free(b);
        free(c);
    }
    printf("  peak %.1f GFLOP/s\n", peak);
    return 0;
}

/*
 * test_c_api.c — tests of l2l's C ABI (include/l2l.h), written against the header's
 * documented contract. Every function the header declares is called, on its happy path
 * and on its error paths.
 *
 * Build and run (Tests/c/run.sh does this):
 *   swift build -c release --product l2l
 *   cc -std=c99 -Wall -Wextra -pedantic -Werror -I include Tests/c/test_c_api.c \
 *      -L .build/release -ll2l -Wl,-rpath,"$PWD/.build/release" -lm -pthread \
 *      -o .build/c-tests/test_c_api
 *   .build/c-tests/test_c_api
 *
 * Prints one line per failed check and, last, "N passed, M failed"; exits 1 if any check
 * failed. Files it needs are written into a fresh temporary directory, removed at the end.
 * If Debian's dataset-fashion-mnist is installed, the real test split is loaded too.
 * MNIST/KMNIST (IDX), CIFAR-10 and STL-10 are read from small files in their real layouts.
 */
#define _POSIX_C_SOURCE 200809L

#include "l2l.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------- */
/* A tiny check framework                                                              */
/* ---------------------------------------------------------------------------------- */

static int passed = 0, failed = 0;
static const char *section = "";

static void report(int ok, int line, const char *fmt, ...) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL [%s] line %d: ", section, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

#define CHECK(cond) report((cond) != 0, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) report((cond) != 0, __LINE__, __VA_ARGS__)

/* Whether `msg` mentions `fn` as a whole identifier (so "l2l_dataset_load" does not
 * match inside "l2l_dataset_load_idx"). */
static int names_function(const char *msg, const char *fn) {
    size_t n = strlen(fn);
    for (const char *p = strstr(msg, fn); p != NULL; p = strstr(p + 1, fn)) {
        char next = p[n];
        int ident = (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
                    (next >= '0' && next <= '9') || next == '_';
        if (!ident) return 1;
    }
    return 0;
}

/* Makes the thread's last error a message from a function other than `fn`, so that a
 * later check "the message names fn" cannot pass on a stale message. */
static void prime_last_error(const char *fn) {
    if (fn != NULL && strcmp(fn, "l2l_optimizer_reset") == 0)
        (void)l2l_learner_info(NULL, NULL, NULL, NULL, NULL);
    else
        (void)l2l_optimizer_reset(NULL);
}

static void expect_status(l2l_status got, l2l_status want, const char *fn, const char *call, int line) {
    if (want == L2L_OK) {
        report(got == L2L_OK, line, "%s returned %d (%s), expected L2L_OK; last error: %s", call,
               (int)got, l2l_status_string(got), l2l_last_error());
        return;
    }
    report(got == want, line, "%s returned %d (%s), expected %d (%s); last error: %s", call, (int)got,
           l2l_status_string(got), (int)want, l2l_status_string(want), l2l_last_error());
    const char *msg = l2l_last_error();
    report(msg != NULL && msg[0] != '\0', line, "%s: l2l_last_error() is empty after a failure", call);
    if (msg != NULL && fn != NULL)
        report(names_function(msg, fn), line, "%s: l2l_last_error() \"%s\" does not name %s", call, msg, fn);
}

#define EXPECT_OK(call) expect_status((call), L2L_OK, NULL, #call, __LINE__)
/* The call must fail with `code`, leaving a last-error message that names `fn`. */
#define EXPECT_ERR(code, fn, call)                                                          \
    do {                                                                                    \
        prime_last_error(fn);                                                               \
        l2l_status status_ = (call);                                                        \
        expect_status(status_, (code), (fn), #call, __LINE__);                              \
    } while (0)
/* For preconditions of later checks: abort the whole program if they fail. */
#define REQUIRE_OK(call)                                                                    \
    do {                                                                                    \
        l2l_status status_ = (call);                                                        \
        if (status_ != L2L_OK) {                                                            \
            printf("FATAL [%s] line %d: %s returned %d (%s): %s\n", section, __LINE__, #call, \
                   (int)status_, l2l_status_string(status_), l2l_last_error());             \
            printf("%d passed, %d failed\n", passed, failed + 1);                          \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

/* An address no handle can have: out-parameters are set to it before a call that must
 * fail, then checked to be untouched ("written only on success"). */
static int sentinel_object;
#define SENTINEL ((void *)&sentinel_object)

/* A small deterministic generator for test data (not the library's RNG). */
static uint64_t lcg_state = 0x2545F4914F6CDD1DULL;
static double uniform01(void) {
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) * (1.0 / 9007199254740992.0);
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)uniform01(); }

static int floats_equal(const float *a, const float *b, int64_t n) {
    return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

static int all_equal_to(const float *a, int64_t n, float v) {
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&a[i], &v, sizeof v) != 0) return 0;
    return 1;
}

/* ---------------------------------------------------------------------------------- */
/* A plain-C reimplementation of the MLP (computed in double)                           */
/* ---------------------------------------------------------------------------------- */

enum { ACT_RELU, ACT_SIGMOID, ACT_TANH };

/* Logits [n, sizes[layers]] of an MLP with widths sizes[0..layers], parameters laid out as
 * the header documents: per layer l, fc<l>.weight as [in, out] row-major, then fc<l>.bias
 * [out]; hidden layers use `act`, the last layer is linear. If `min_abs_preact` is not
 * NULL it receives the smallest |pre-activation| of any hidden unit (for ReLU kinks). */
static void ref_forward(const int *sizes, int layers, const float *params, const float *x, int n,
                        int act, double *logits, double *min_abs_preact) {
    int widest = 0;
    for (int l = 0; l <= layers; l++)
        if (sizes[l] > widest) widest = sizes[l];
    double *h = malloc(sizeof(double) * (size_t)widest), *z = malloc(sizeof(double) * (size_t)widest);
    double smallest = INFINITY;
    for (int e = 0; e < n; e++) {
        for (int i = 0; i < sizes[0]; i++) h[i] = x[e * sizes[0] + i];
        const float *p = params;
        for (int l = 0; l < layers; l++) {
            int in = sizes[l], out = sizes[l + 1];
            const float *w = p, *b = p + in * out;
            for (int j = 0; j < out; j++) {
                double s = b[j];
                for (int i = 0; i < in; i++) s += h[i] * (double)w[i * out + j];
                z[j] = s;
            }
            p += in * out + out;
            for (int j = 0; j < out; j++) {
                if (l == layers - 1) {
                    h[j] = z[j];
                    continue;
                }
                if (fabs(z[j]) < smallest) smallest = fabs(z[j]);
                switch (act) {
                case ACT_RELU: h[j] = z[j] > 0 ? z[j] : 0; break;
                case ACT_SIGMOID: h[j] = 1 / (1 + exp(-z[j])); break;
                default: h[j] = tanh(z[j]); break;
                }
            }
        }
        for (int j = 0; j < sizes[layers]; j++) logits[e * sizes[layers] + j] = h[j];
    }
    if (min_abs_preact != NULL) *min_abs_preact = smallest;
    free(h);
    free(z);
}

/* Mean softmax cross-entropy and the number of correct argmax predictions. */
static double ref_loss(const double *logits, const int32_t *labels, int n, int classes, int *correct) {
    double total = 0;
    int right = 0;
    for (int e = 0; e < n; e++) {
        const double *z = logits + e * classes;
        double m = z[0];
        int best = 0;
        for (int j = 1; j < classes; j++)
            if (z[j] > m) m = z[j], best = j;
        double s = 0;
        for (int j = 0; j < classes; j++) s += exp(z[j] - m);
        total += m + log(s) - z[labels[e]];
        right += best == labels[e];
    }
    if (correct != NULL) *correct = right;
    return total / n;
}

/* ---------------------------------------------------------------------------------- */
/* Files                                                                               */
/* ---------------------------------------------------------------------------------- */

static char tmpdir[256];

static void path_in_tmp(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const unsigned char *bytes, size_t n) {
    char path[512];
    path_in_tmp(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        printf("FATAL: cannot write %s\n", path);
        exit(1);
    }
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* An IDX images file of n rows x cols uint8 images (pixel (e, k) = pixel(e, k)) and a
 * labels file of n labels (label e = e % 10), written into the temp dir. */
enum { IDX_N = 6, IDX_ROWS = 3, IDX_COLS = 2, IDX_FEATURES = IDX_ROWS * IDX_COLS };
static unsigned char idx_pixel(int e, int k) { return (unsigned char)((e * 37 + k * 11) % 256); }
static int32_t idx_label(int e) { return (int32_t)((e * 7) % 10); }

static size_t make_idx_images(unsigned char *buf) {
    put_be32(buf, 0x00000803);
    put_be32(buf + 4, IDX_N);
    put_be32(buf + 8, IDX_ROWS);
    put_be32(buf + 12, IDX_COLS);
    for (int e = 0; e < IDX_N; e++)
        for (int k = 0; k < IDX_FEATURES; k++) buf[16 + e * IDX_FEATURES + k] = idx_pixel(e, k);
    return 16 + IDX_N * IDX_FEATURES;
}

static size_t make_idx_labels(unsigned char *buf) {
    put_be32(buf, 0x00000801);
    put_be32(buf + 4, IDX_N);
    for (int e = 0; e < IDX_N; e++) buf[8 + e] = (unsigned char)idx_label(e);
    return 8 + IDX_N;
}

static const char *tmp_files[] = {
    "images.idx", "labels.idx", "truncated-images.idx", "truncated-labels.idx",
    "bad-magic.idx", "short-header.idx", "empty.idx", "few-labels.idx", "big-label.idx",
    "float-images.idx", "corrupt.gz", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    "mnist/train-images-idx3-ubyte", "mnist/train-labels-idx1-ubyte", "kmnist/t10k-images-idx3-ubyte",
    "kmnist/t10k-labels-idx1-ubyte", "cifar-10-batches-bin/test_batch.bin", "stl10_binary/train_X.bin",
    "stl10_binary/train_y.bin", "grey/test_batch.bin", "meta_sgd.safetensors", "lstm.safetensors",
    "bad.safetensors", "meta.ckpt", "bad.ckpt", "meta-test.json", "meta-test.csv",
    "mlhf.safetensors", "mtl2l.safetensors",
};
/* Sub-folders of the temp dir, removed after the files. */
static const char *tmp_dirs[] = {"mnist", "kmnist", "cifar-10-batches-bin", "stl10_binary", "grey"};

static void remove_tmp(void) {
    char path[512];
    for (size_t i = 0; i < sizeof tmp_files / sizeof tmp_files[0]; i++) {
        path_in_tmp(path, sizeof path, tmp_files[i]);
        remove(path);
    }
    for (size_t i = 0; i < sizeof tmp_dirs / sizeof tmp_dirs[0]; i++) {
        path_in_tmp(path, sizeof path, tmp_dirs[i]);
        rmdir(path);
    }
    rmdir(tmpdir);
}

/* ---------------------------------------------------------------------------------- */
/* Versions, status strings, last error                                                */
/* ---------------------------------------------------------------------------------- */

static void *other_thread(void *arg) {
    char *seen = arg;
    /* A fresh thread has no failure of its own yet. */
    strncpy(seen, l2l_last_error(), 255);
    (void)l2l_dataset_info(NULL, NULL, NULL, NULL);
    strncpy(seen + 256, l2l_last_error(), 255);
    return NULL;
}

static void test_versions_and_errors(void) {
    section = "version";
    /* Before any call has failed, the last error is "" (never NULL). */
    const char *first = l2l_last_error();
    CHECK(first != NULL && strcmp(first, "") == 0);

    CHECK(l2l_version() != NULL);
    CHECKF(strcmp(l2l_version(), L2L_VERSION_STRING) == 0, "l2l_version() = \"%s\", header says \"%s\"",
           l2l_version(), L2L_VERSION_STRING);
    char composed[64];
    snprintf(composed, sizeof composed, "%d.%d.%d", L2L_VERSION_MAJOR, L2L_VERSION_MINOR, L2L_VERSION_PATCH);
    CHECKF(strcmp(composed, L2L_VERSION_STRING) == 0, "version macros give %s, L2L_VERSION_STRING is %s",
           composed, L2L_VERSION_STRING);

    section = "status_string";
    const l2l_status codes[] = {L2L_OK, L2L_ERR_INVALID_ARGUMENT, L2L_ERR_SHAPE, L2L_ERR_NON_FINITE,
                                L2L_ERR_IO, L2L_ERR_FORMAT, L2L_ERR_BUFFER_TOO_SMALL, L2L_ERR_CANCELLED,
                                L2L_ERR_STATE, L2L_ERR_INTERNAL};
    const int ncodes = (int)(sizeof codes / sizeof codes[0]);
    for (int i = 0; i < ncodes; i++) {
        CHECKF(codes[i] == i, "status code %d has value %d", i, (int)codes[i]);
        const char *s = l2l_status_string(codes[i]);
        CHECKF(s != NULL && s[0] != '\0', "l2l_status_string(%d) is NULL or empty", i);
        for (int j = 0; j < i && s != NULL; j++) {
            const char *t = l2l_status_string(codes[j]);
            CHECKF(t == NULL || strcmp(s, t) != 0, "l2l_status_string(%d) == l2l_status_string(%d) == \"%s\"", i, j, s);
        }
    }
    const l2l_status unknown[] = {-1, 10, 42, INT32_MAX, INT32_MIN};
    for (int i = 0; i < 5; i++) {
        const char *s = l2l_status_string(unknown[i]);
        CHECKF(s != NULL && s[0] != '\0', "l2l_status_string(%d) is NULL or empty", (int)unknown[i]);
        for (int j = 1; j < ncodes && s != NULL; j++)
            CHECKF(strcmp(s, l2l_status_string(codes[j])) != 0, "unknown status %d reads like code %d",
                   (int)unknown[i], j);
    }

    section = "last_error";
    /* A failure sets a message naming the function; a success leaves it unchanged. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_info", l2l_dataset_info(NULL, NULL, NULL, NULL));
    char saved[512];
    snprintf(saved, sizeof saved, "%s", l2l_last_error());
    l2l_optimizer *opt = NULL;
    EXPECT_OK(l2l_optimizer_create(&opt, "sgd", NULL));
    EXPECT_OK(l2l_optimizer_reset(opt));
    CHECKF(strcmp(l2l_last_error(), saved) == 0, "a successful call changed the last error from \"%s\" to \"%s\"",
           saved, l2l_last_error());
    l2l_optimizer_free(opt);

    /* The message is thread-local: another thread starts with "" and its failure does not
     * touch this thread's message. */
    static char seen[512];
    pthread_t thread;
    if (pthread_create(&thread, NULL, other_thread, seen) == 0) {
        pthread_join(thread, NULL);
        CHECKF(strcmp(seen, "") == 0, "a new thread's last error is \"%s\", not \"\"", seen);
        CHECKF(names_function(seen + 256, "l2l_dataset_info"), "the other thread's error is \"%s\"", seen + 256);
        CHECKF(strcmp(l2l_last_error(), saved) == 0, "another thread's failure changed this thread's error to \"%s\"",
               l2l_last_error());
    } else {
        CHECKF(0, "pthread_create failed");
    }
}

/* The value of `key` in build-info text `info` ("key=value" lines) copied into `out`, or
 * "" (and 0 returned) if the key is missing. */
static int info_value(const char *info, const char *key, char *out, size_t size) {
    size_t n = strlen(key);
    out[0] = '\0';
    for (const char *line = info; *line != '\0';) {
        const char *end = strchr(line, '\n');
        if (end == NULL) end = line + strlen(line);
        if ((size_t)(end - line) > n && strncmp(line, key, n) == 0 && line[n] == '=') {
            snprintf(out, size, "%.*s", (int)(end - line - n - 1), line + n + 1);
            return 1;
        }
        line = *end == '\n' ? end + 1 : end;
    }
    return 0;
}

static void test_build_info(void) {
    section = "build_info";
    int64_t length = -1;
    EXPECT_OK(l2l_build_info(NULL, 0, &length));
    CHECKF(length > 1 && length < 4096, "l2l_build_info(NULL) asks for %lld bytes", (long long)length);
    if (length <= 1 || length >= 4096) return;
    char info[4096], value[256];
    memset(info, 'x', sizeof info);
    int64_t again = -1;
    EXPECT_OK(l2l_build_info(info, length, &again));
    CHECKF(again == length, "length %lld with a buffer, %lld without", (long long)again, (long long)length);
    CHECKF(info[length - 1] == '\0' && strlen(info) == (size_t)(length - 1), "the text is not %lld bytes and a NUL",
           (long long)length - 1);
    CHECKF(info[length - 2] == '\n', "the last line does not end in a newline");
    /* No length wanted: fine when the buffer is large enough. */
    EXPECT_OK(l2l_build_info(info, sizeof info, NULL));

    CHECKF(info_value(info, "version", value, sizeof value) && strcmp(value, L2L_VERSION_STRING) == 0,
           "version=%s, expected %s", value, L2L_VERSION_STRING);
    CHECKF(info_value(info, "configuration", value, sizeof value) &&
               (strcmp(value, "release") == 0 || strcmp(value, "debug") == 0),
           "configuration=%s", value);
    CHECKF(info_value(info, "cores", value, sizeof value) && atoi(value) >= 1, "cores=%s", value);
    CHECKF(info_value(info, "blas", value, sizeof value) && strcmp(value, "OpenBLAS") == 0, "blas=%s", value);
    char kernel_threads[256];
    CHECKF(info_value(info, "kernel_threads", kernel_threads, sizeof kernel_threads) && atoi(kernel_threads) >= 1,
           "kernel_threads=%s", kernel_threads);
    CHECKF(info_value(info, "blas_threads", value, sizeof value) && atoi(value) >= 1 && atoi(value) <= atoi(kernel_threads),
           "blas_threads=%s with kernel_threads=%s", value, kernel_threads);
    char version[256];
    CHECKF(info_value(info, "blas_version", version, sizeof version) && version[0] >= '0' && version[0] <= '9' &&
               strchr(version, '.') != NULL,
           "blas_version=%s", version);
    char core[256];
    CHECKF(info_value(info, "blas_core", core, sizeof core) && core[0] != '\0' && strcmp(core, "Unknown") != 0,
           "blas_core=%s", core);
    /* The configuration OpenBLAS reports names its version and the kernel in use. */
    CHECKF(info_value(info, "blas_config", value, sizeof value) && strstr(value, version) != NULL &&
               strstr(value, core) != NULL,
           "blas_config=%s does not name version %s and kernel %s", value, version, core);
    CHECKF(info_value(info, "blas_library", value, sizeof value) && strstr(value, "openblas") != NULL,
           "blas_library=%s", value);

    /* One byte short: BUFFER_TOO_SMALL, nothing written, the length still reported. */
    memset(info, 'x', sizeof info);
    int64_t needed = -1;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_build_info", l2l_build_info(info, length - 1, &needed));
    CHECKF(needed == length, "too small: length %lld, expected %lld", (long long)needed, (long long)length);
    CHECK(info[0] == 'x');
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_build_info", l2l_build_info(NULL, 0, NULL));
}

/* ---------------------------------------------------------------------------------- */
/* Data sets                                                                           */
/* ---------------------------------------------------------------------------------- */

static void test_dataset_create_read(void) {
    section = "dataset_create/read";
    enum { N = 7, F = 3, C = 4 };
    float x[N * F];
    int32_t y[N];
    for (int i = 0; i < N * F; i++) x[i] = uniform(-2, 2);
    for (int i = 0; i < N; i++) y[i] = (int32_t)(i % C);

    l2l_dataset *d = NULL;
    EXPECT_OK(l2l_dataset_create(&d, x, y, N, F, C));
    CHECK(d != NULL);
    if (d == NULL) return;

    /* The arrays were copied: changing the caller's copy changes nothing. */
    float x_orig[N * F];
    int32_t y_orig[N];
    memcpy(x_orig, x, sizeof x);
    memcpy(y_orig, y, sizeof y);
    x[0] = 1000;
    y[0] = 3;

    int64_t count = -1, features = -1, classes = -1;
    EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
    CHECK(count == N && features == F && classes == C);
    EXPECT_OK(l2l_dataset_info(d, NULL, NULL, NULL));
    count = -1;
    EXPECT_OK(l2l_dataset_info(d, &count, NULL, NULL));
    CHECK(count == N);

    float xr[N * F];
    int32_t yr[N];
    memset(xr, 0, sizeof xr);
    memset(yr, 0, sizeof yr);
    EXPECT_OK(l2l_dataset_read(d, 0, N, xr, yr));
    CHECK(floats_equal(xr, x_orig, N * F));
    CHECK(memcmp(yr, y_orig, sizeof yr) == 0);

    /* A sub-range, and either buffer may be NULL. */
    float xs[3 * F];
    int32_t ys[3] = {-1, -1, -1};
    EXPECT_OK(l2l_dataset_read(d, 2, 3, xs, NULL));
    CHECK(floats_equal(xs, x_orig + 2 * F, 3 * F));
    EXPECT_OK(l2l_dataset_read(d, 4, 3, NULL, ys));
    CHECK(ys[0] == y_orig[4] && ys[1] == y_orig[5] && ys[2] == y_orig[6]);
    EXPECT_OK(l2l_dataset_read(d, 0, N, NULL, NULL));
    EXPECT_OK(l2l_dataset_read(d, N, 0, xs, ys)); /* an empty range at the end */

    /* Ranges outside the data set fail and write nothing. (The header says only that the
     * range must lie inside; it does not name a status, so any of the two plausible ones.) */
    float guard[(N + 1) * F];
    for (int i = 0; i < (N + 1) * F; i++) guard[i] = -7;
    l2l_status s = l2l_dataset_read(d, 5, 3, guard, NULL);
    CHECKF(s == L2L_ERR_SHAPE || s == L2L_ERR_INVALID_ARGUMENT, "read past the end returned %d", (int)s);
    CHECK(names_function(l2l_last_error(), "l2l_dataset_read"));
    s = l2l_dataset_read(d, -1, 2, guard, NULL);
    CHECKF(s == L2L_ERR_SHAPE || s == L2L_ERR_INVALID_ARGUMENT, "read at -1 returned %d", (int)s);
    s = l2l_dataset_read(d, 0, N + 1, guard, NULL);
    CHECKF(s == L2L_ERR_SHAPE || s == L2L_ERR_INVALID_ARGUMENT, "read of N+1 examples returned %d", (int)s);
    s = l2l_dataset_read(d, 0, -1, guard, NULL);
    CHECKF(s == L2L_ERR_SHAPE || s == L2L_ERR_INVALID_ARGUMENT, "read of -1 examples returned %d", (int)s);
    CHECK(all_equal_to(guard, (N + 1) * F, -7));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_read", l2l_dataset_read(NULL, 0, 1, xs, ys));

    /* info/statistics/standardize with a NULL handle. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_info", l2l_dataset_info(NULL, &count, &features, &classes));
    float mean = -1, sd = -1;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_statistics", l2l_dataset_statistics(NULL, &mean, &sd));
    CHECK(mean == -1 && sd == -1);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize", l2l_dataset_standardize(NULL, 0, 1));
    l2l_dataset_free(d);

    section = "dataset_create errors";
    l2l_dataset *out = SENTINEL;
    x[0] = x_orig[0];
    y[0] = y_orig[0];
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(NULL, x, y, N, F, C));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, NULL, y, N, F, C));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, x, NULL, N, F, C));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, x, y, -1, F, C));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, x, y, N, -3, C));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, x, y, N, 0, C));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, x, y, N, F, 0));
    /* Labels must lie in [0, classes). */
    y[3] = C;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, x, y, N, F, C));
    y[3] = -1;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&out, x, y, N, F, C));
    y[3] = y_orig[3];
    /* Inputs must be finite. */
    x[5] = NAN;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_dataset_create", l2l_dataset_create(&out, x, y, N, F, C));
    x[5] = INFINITY;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_dataset_create", l2l_dataset_create(&out, x, y, N, F, C));
    x[5] = x_orig[5];
    CHECK(out == SENTINEL);

    /* An empty data set is a data set. */
    l2l_dataset *empty = NULL;
    EXPECT_OK(l2l_dataset_create(&empty, NULL, NULL, 0, F, C));
    count = -1;
    EXPECT_OK(l2l_dataset_info(empty, &count, &features, &classes));
    CHECK(count == 0 && features == F && classes == C);
    EXPECT_OK(l2l_dataset_read(empty, 0, 0, xs, ys));
    /* ... but one cannot draw batches from it. */
    l2l_batches *b = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, empty, 2, 0, NULL));
    CHECK(b == SENTINEL);
    l2l_dataset_free(empty);
}

static void test_dataset_statistics(void) {
    section = "dataset_statistics/standardize";
    enum { N = 50, F = 4 };
    float x[N * F];
    int32_t y[N];
    double s = 0, s2 = 0;
    for (int i = 0; i < N * F; i++) {
        x[i] = uniform(-1, 5);
        s += x[i];
    }
    for (int i = 0; i < N; i++) y[i] = i % 2;
    double mean_ref = s / (N * F);
    for (int i = 0; i < N * F; i++) s2 += (x[i] - mean_ref) * (x[i] - mean_ref);
    /* Standardisation uses the population standard deviation (divide by the count). */
    double std_ref = sqrt(s2 / (N * F));

    l2l_dataset *d = NULL;
    REQUIRE_OK(l2l_dataset_create(&d, x, y, N, F, 2));
    float mean = NAN, sd = NAN;
    EXPECT_OK(l2l_dataset_statistics(d, &mean, &sd));
    /* Both are rounded once to float from a double computation: relative 1e-6 is ample. */
    CHECKF(fabs(mean - mean_ref) <= 1e-6 * fabs(mean_ref), "mean %.9g, expected %.9g", mean, mean_ref);
    CHECKF(fabs(sd - std_ref) <= 1e-6 * std_ref, "std %.9g, expected %.9g", sd, std_ref);

    /* Invalid parameters change nothing. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize", l2l_dataset_standardize(d, mean, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize", l2l_dataset_standardize(d, mean, -1));
    /* NaN/infinite mean or std: an argument, not data; the header does not say which of
     * the two codes, so accept either, but it must fail. */
    l2l_status st = l2l_dataset_standardize(d, NAN, sd);
    CHECKF(st == L2L_ERR_INVALID_ARGUMENT || st == L2L_ERR_NON_FINITE, "NaN mean gave %d", (int)st);
    st = l2l_dataset_standardize(d, mean, INFINITY);
    CHECKF(st == L2L_ERR_INVALID_ARGUMENT || st == L2L_ERR_NON_FINITE, "infinite std gave %d", (int)st);
    st = l2l_dataset_standardize(d, mean, NAN);
    CHECKF(st == L2L_ERR_INVALID_ARGUMENT || st == L2L_ERR_NON_FINITE, "NaN std gave %d", (int)st);
    float back[N * F];
    REQUIRE_OK(l2l_dataset_read(d, 0, N, back, NULL));
    CHECK(floats_equal(back, x, N * F));

    EXPECT_OK(l2l_dataset_standardize(d, mean, sd));
    REQUIRE_OK(l2l_dataset_read(d, 0, N, back, NULL));
    int bad = 0;
    for (int i = 0; i < N * F; i++) {
        double want = ((double)x[i] - mean) / sd;
        /* float (x - mean) * (1/std) or (x - mean) / std: a few roundings of values < 10. */
        if (fabs(back[i] - want) > 1e-5 * (1 + fabs(want))) bad++;
    }
    CHECKF(bad == 0, "%d standardised values differ from (x - mean) / std", bad);
    float m2 = NAN, s2b = NAN;
    EXPECT_OK(l2l_dataset_statistics(d, &m2, &s2b));
    CHECKF(fabs(m2) < 1e-5 && fabs(s2b - 1) < 1e-5, "after standardising: mean %g std %g", m2, s2b);
    l2l_dataset_free(d);
}

static void test_idx_files(void) {
    section = "dataset_load_idx";
    unsigned char images[16 + IDX_N * IDX_FEATURES], labels[8 + IDX_N];
    size_t ni = make_idx_images(images), nl = make_idx_labels(labels);
    write_file("images.idx", images, ni);
    write_file("labels.idx", labels, nl);

    char ip[512], lp[512], p[512];
    path_in_tmp(ip, sizeof ip, "images.idx");
    path_in_tmp(lp, sizeof lp, "labels.idx");

    l2l_dataset *d = NULL;
    EXPECT_OK(l2l_dataset_load_idx(&d, ip, lp));
    if (d != NULL) {
        int64_t count = 0, features = 0, classes = 0;
        EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
        CHECKF(count == IDX_N && features == IDX_FEATURES && classes == 10, "info %lld %lld %lld",
               (long long)count, (long long)features, (long long)classes);
        float x[IDX_N * IDX_FEATURES];
        int32_t y[IDX_N];
        EXPECT_OK(l2l_dataset_read(d, 0, IDX_N, x, y));
        int bad = 0;
        for (int e = 0; e < IDX_N; e++) {
            if (y[e] != idx_label(e)) bad++;
            for (int k = 0; k < IDX_FEATURES; k++)
                if (fabsf(x[e * IDX_FEATURES + k] - idx_pixel(e, k) / 255.0f) > 1e-6f) bad++;
        }
        CHECKF(bad == 0, "%d values differ from the IDX file (pixels / 255, labels)", bad);
        l2l_dataset_free(d);
    }

    l2l_dataset *out = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load_idx", l2l_dataset_load_idx(NULL, ip, lp));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, NULL, lp));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, ip, NULL));

    /* Missing files. */
    path_in_tmp(p, sizeof p, "no-such-file.idx");
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, p, lp));
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, ip, p));

    /* Truncated data: the header promises 6 images, the file holds 5 and a half. */
    write_file("truncated-images.idx", images, ni - IDX_FEATURES - 3);
    path_in_tmp(p, sizeof p, "truncated-images.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, p, lp));
    write_file("truncated-labels.idx", labels, nl - 1);
    path_in_tmp(p, sizeof p, "truncated-labels.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, ip, p));
    /* Cut inside the dimensions, and an empty file. */
    write_file("short-header.idx", images, 10);
    path_in_tmp(p, sizeof p, "short-header.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, p, lp));
    write_file("empty.idx", images, 0);
    path_in_tmp(p, sizeof p, "empty.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, p, lp));

    /* Wrong magic number (first two bytes must be zero). */
    unsigned char bad_magic[sizeof images];
    memcpy(bad_magic, images, ni);
    put_be32(bad_magic, 0x12340803);
    write_file("bad-magic.idx", bad_magic, ni);
    path_in_tmp(p, sizeof p, "bad-magic.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, p, lp));
    /* A valid IDX file of the wrong kind: float32 images. */
    unsigned char floats[16 + 4 * 2 * 2];
    memset(floats, 0, sizeof floats);
    put_be32(floats, 0x00000D03);
    put_be32(floats + 4, 1), put_be32(floats + 8, 2), put_be32(floats + 12, 2);
    write_file("float-images.idx", floats, sizeof floats);
    path_in_tmp(p, sizeof p, "float-images.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, p, lp));
    /* Images and labels that disagree in number, and a label outside 0..9. */
    unsigned char few[8 + IDX_N];
    memcpy(few, labels, nl);
    put_be32(few + 4, IDX_N - 1);
    write_file("few-labels.idx", few, nl - 1);
    path_in_tmp(p, sizeof p, "few-labels.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, ip, p));
    unsigned char big[8 + IDX_N];
    memcpy(big, labels, nl);
    big[8 + 2] = 10;
    write_file("big-label.idx", big, nl);
    path_in_tmp(p, sizeof p, "big-label.idx");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, ip, p));
    /* A gzip header followed by garbage: a corrupt compressed file. */
    unsigned char gz[64] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03};
    for (int i = 10; i < 64; i++) gz[i] = (unsigned char)(0xA5 ^ (i * 29));
    write_file("corrupt.gz", gz, sizeof gz);
    path_in_tmp(p, sizeof p, "corrupt.gz");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load_idx", l2l_dataset_load_idx(&out, p, lp));
    CHECK(out == SENTINEL);
}

static void test_dataset_load(void) {
    section = "dataset_load";
    /* A directory holding Fashion-MNIST's test files under their standard names (raw, not
     * gzipped): our small IDX files. */
    unsigned char images[16 + IDX_N * IDX_FEATURES], labels[8 + IDX_N];
    write_file("t10k-images-idx3-ubyte", images, make_idx_images(images));
    write_file("t10k-labels-idx1-ubyte", labels, make_idx_labels(labels));

    l2l_dataset *d = NULL;
    int64_t count = 0, features = 0, classes = 0;
    EXPECT_OK(l2l_dataset_load(&d, "fashion-mnist", "test", tmpdir));
    if (d != NULL) {
        EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
        CHECK(count == IDX_N && features == IDX_FEATURES && classes == 10);
        float x[IDX_N * IDX_FEATURES];
        int32_t y[IDX_N];
        EXPECT_OK(l2l_dataset_read(d, 0, IDX_N, x, y));
        CHECK(y[IDX_N - 1] == idx_label(IDX_N - 1));
        CHECK(fabsf(x[IDX_FEATURES + 1] - idx_pixel(1, 1) / 255.0f) <= 1e-6f);
        l2l_dataset_free(d);
        d = NULL;
    }
    /* directory NULL: $L2L_DATA. */
    const char *old = getenv("L2L_DATA");
    char *saved = old ? strdup(old) : NULL;
    setenv("L2L_DATA", tmpdir, 1);
    EXPECT_OK(l2l_dataset_load(&d, "fashion-mnist", "test", NULL));
    if (d != NULL) {
        count = 0;
        EXPECT_OK(l2l_dataset_info(d, &count, NULL, NULL));
        CHECKF(count == IDX_N, "with L2L_DATA=%s, directory NULL loaded %lld examples", tmpdir, (long long)count);
        l2l_dataset_free(d);
        d = NULL;
    }
    if (saved) {
        setenv("L2L_DATA", saved, 1);
        free(saved);
    } else {
        unsetenv("L2L_DATA");
    }

    l2l_dataset *out = SENTINEL;
    /* The train split is not in the temp dir; nor is anything in a missing directory. */
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load", l2l_dataset_load(&out, "fashion-mnist", "train", tmpdir));
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load",
               l2l_dataset_load(&out, "fashion-mnist", "test", "/nonexistent/l2l-test-dir"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load", l2l_dataset_load(&out, "cifar-1000", "test", tmpdir));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load",
               l2l_dataset_load(&out, "fashion-mnist", "validation", tmpdir));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load", l2l_dataset_load(NULL, "fashion-mnist", "test", tmpdir));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load", l2l_dataset_load(&out, NULL, "test", tmpdir));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load", l2l_dataset_load(&out, "fashion-mnist", NULL, tmpdir));
    CHECK(out == SENTINEL);

    /* The real thing, gzipped, if Debian's package is installed. */
    const char *debian = "/usr/share/datasets/fashion-mnist";
    if (access("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", R_OK) == 0) {
        EXPECT_OK(l2l_dataset_load(&d, "fashion-mnist", "test", debian));
        if (d != NULL) {
            EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
            CHECK(count == 10000 && features == 784 && classes == 10);
            float mean = 0, sd = 0;
            EXPECT_OK(l2l_dataset_statistics(d, &mean, &sd));
            /* Fashion-MNIST's pixels in [0, 1]: mean about 0.286, std about 0.353. */
            CHECKF(fabsf(mean - 0.286f) < 0.01f && fabsf(sd - 0.353f) < 0.01f, "test split mean %g std %g", mean,
                   sd);
            int32_t y[100];
            EXPECT_OK(l2l_dataset_read(d, 9900, 100, NULL, y));
            int ok = 1;
            for (int i = 0; i < 100; i++) ok &= y[i] >= 0 && y[i] < 10;
            CHECK(ok);
            l2l_dataset_free(d);
        }
    } else {
        printf("note: %s not installed; skipped loading the real Fashion-MNIST\n", debian);
    }
}

/* ---------------------------------------------------------------------------------- */
/* Batches                                                                             */
/* ---------------------------------------------------------------------------------- */

enum { BN = 10, BF = 2 };

/* A data set whose example i has label i and inputs (i, -i): batches can be traced back. */
static l2l_dataset *indexed_dataset(void) {
    float x[BN * BF];
    int32_t y[BN];
    for (int i = 0; i < BN; i++) {
        x[i * BF] = (float)i;
        x[i * BF + 1] = (float)-i;
        y[i] = i;
    }
    l2l_dataset *d = NULL;
    REQUIRE_OK(l2l_dataset_create(&d, x, y, BN, BF, BN));
    return d;
}

/* Draws one epoch; writes the example order into `order` and batch sizes into `sizes`.
 * Returns the number of batches, or -1 on an error or an inconsistent batch. */
static int draw_epoch(l2l_batches *b, int batch, int *order, int *sizes) {
    float x[64 * BF];
    int32_t y[64];
    int seen = 0, batches = 0;
    for (;;) {
        int64_t count = -1;
        l2l_status s = l2l_batches_next(b, x, (int64_t)batch * BF, y, batch, &count);
        if (s != L2L_OK) {
            printf("  l2l_batches_next: %s\n", l2l_last_error());
            return -1;
        }
        if (count == 0) return batches;
        if (count < 0 || count > batch || seen + count > 4 * BN) return -1;
        for (int i = 0; i < count; i++) {
            if (x[i * BF] != (float)y[i] || x[i * BF + 1] != (float)-y[i]) return -1;
            order[seen++] = y[i];
        }
        sizes[batches++] = (int)count;
    }
}

static int is_permutation(const int *order, int n) {
    int hits[BN] = {0};
    for (int i = 0; i < n; i++) {
        if (order[i] < 0 || order[i] >= BN) return 0;
        hits[order[i]]++;
    }
    for (int i = 0; i < BN; i++)
        if (hits[i] != 1) return 0;
    return 1;
}

static void test_batches(void) {
    section = "batches";
    l2l_dataset *d = indexed_dataset();
    l2l_batches *b = NULL, *b2 = NULL, *b3 = NULL;
    int order[4 * BN], order2[4 * BN], order3[4 * BN], sizes[4 * BN];

    /* Defaults: shuffled, last smaller batch kept. The data set may be freed at once. */
    EXPECT_OK(l2l_batches_create(&b, d, 3, 42, NULL));
    EXPECT_OK(l2l_batches_create(&b2, d, 3, 42, ""));
    EXPECT_OK(l2l_batches_create(&b3, d, 3, 43, "shuffle=1; drop_last=0"));
    l2l_dataset_free(d);
    if (b == NULL || b2 == NULL || b3 == NULL) return;

    int64_t bs = -1, bf = -1, per_epoch = -1, epochs = -1;
    EXPECT_OK(l2l_batches_info(b, &bs, &bf, &per_epoch, &epochs));
    CHECK(bs == 3 && bf == BF && per_epoch == 4 && epochs == 0);
    EXPECT_OK(l2l_batches_info(b, NULL, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_info", l2l_batches_info(NULL, &bs, NULL, NULL, NULL));
    int nb = draw_epoch(b, 3, order, sizes);
    EXPECT_OK(l2l_batches_info(b, NULL, NULL, NULL, &epochs));
    CHECK(epochs == 1);
    CHECKF(nb == 4, "an epoch of 10 examples in batches of 3 gave %d batches", nb);
    if (nb == 4) {
        CHECK(sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 3 && sizes[3] == 1);
        CHECK(is_permutation(order, BN));
        int identity = 1;
        for (int i = 0; i < BN; i++) identity &= order[i] == i;
        CHECK(!identity); /* shuffled (10! orders; the identity has probability 3e-7) */
    }
    /* Same seed, same order; another seed, another order. */
    CHECK(draw_epoch(b2, 3, order2, sizes) == 4 && memcmp(order, order2, sizeof(int) * BN) == 0);
    CHECK(draw_epoch(b3, 3, order3, sizes) == 4 && is_permutation(order3, BN) &&
          memcmp(order, order3, sizeof(int) * BN) != 0);
    /* The next epoch: every example once again, in a new order, identical for equal seeds. */
    int again[4 * BN];
    CHECK(draw_epoch(b, 3, again, sizes) == 4 && is_permutation(again, BN));
    CHECK(memcmp(order, again, sizeof(int) * BN) != 0);
    CHECK(draw_epoch(b2, 3, order2, sizes) == 4 && memcmp(again, order2, sizeof(int) * BN) == 0);

    /* Buffers too small: an error, and no batch is consumed. */
    float x[3 * BF];
    int32_t y[3];
    int64_t count = 77;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_batches_next", l2l_batches_next(b, x, 3 * BF - 1, y, 3, &count));
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_batches_next", l2l_batches_next(b, x, 3 * BF, y, 2, &count));
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_batches_next", l2l_batches_next(b, x, 0, y, 0, &count));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_next", l2l_batches_next(NULL, x, 3 * BF, y, 3, &count));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_next", l2l_batches_next(b, x, 3 * BF, y, 3, NULL));
    CHECK(count == 77);
    /* The third epoch is still whole. */
    CHECK(draw_epoch(b, 3, order3, sizes) == 4 && is_permutation(order3, BN));
    l2l_batches_free(b);
    l2l_batches_free(b2);
    l2l_batches_free(b3);

    /* shuffle=0 keeps the order; drop_last=1 drops the epoch's last, smaller batch. */
    d = indexed_dataset();
    b = NULL;
    EXPECT_OK(l2l_batches_create(&b, d, 4, 7, "shuffle=0 drop_last=1"));
    if (b != NULL) {
        nb = draw_epoch(b, 4, order, sizes);
        CHECKF(nb == 2 && sizes[0] == 4 && sizes[1] == 4, "drop_last: %d batches", nb);
        int inorder = 1;
        for (int i = 0; i < 8; i++) inorder &= order[i] == i;
        CHECK(inorder);
        l2l_batches_free(b);
    }
    /* A batch larger than the data set: one batch of everything. */
    b = NULL;
    EXPECT_OK(l2l_batches_create(&b, d, 32, 7, "shuffle=false"));
    if (b != NULL) {
        CHECK(draw_epoch(b, 32, order, sizes) == 1 && sizes[0] == BN && is_permutation(order, BN));
        l2l_batches_free(b);
    }

    section = "batches errors";
    b = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(NULL, d, 3, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, NULL, 3, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, d, 0, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, d, -5, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, d, 3, 0, "shufle=1"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, d, 3, 0, "shuffle"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, d, 3, 0, "shuffle=2"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, d, 3, 0, "=1"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create",
               l2l_batches_create(&b, d, 3, 0, "shuffle=1; shuffle=0"));
    /* drop_last with a batch larger than the data set would give empty epochs. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_batches_create", l2l_batches_create(&b, d, 11, 0, "drop_last=1"));
    CHECK(b == SENTINEL);
    l2l_dataset_free(d);
}

/* ---------------------------------------------------------------------------------- */
/* The data-set catalogue: MNIST/KMNIST (IDX), CIFAR-10 and STL-10 files                 */
/* ---------------------------------------------------------------------------------- */

static void make_tmp_subdir(const char *name) {
    char path[512];
    path_in_tmp(path, sizeof path, name);
    if (mkdir(path, 0755) != 0) {
        printf("FATAL: cannot create %s\n", path);
        exit(1);
    }
}

/* Pixel (channel c, row r, column k) of CIFAR record e, and its label. */
static unsigned char cifar_pixel(int e, int c, int r, int k) {
    return (unsigned char)((e * 31 + c * 67 + r * 7 + k * 3) % 256);
}
static int32_t cifar_label(int e) { return (int32_t)((e * 3 + 1) % 10); }
enum { CIFAR_N = 3, CIFAR_RECORD = 3073, CIFAR_FEATURES = 3072 };

static unsigned char *make_cifar(int n) {
    unsigned char *buf = malloc((size_t)n * CIFAR_RECORD);
    for (int e = 0; e < n; e++) {
        unsigned char *rec = buf + (size_t)e * CIFAR_RECORD;
        rec[0] = (unsigned char)cifar_label(e);
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 32; r++)
                for (int k = 0; k < 32; k++) rec[1 + c * 1024 + r * 32 + k] = cifar_pixel(e, c, r, k);
    }
    return buf;
}

/* STL-10: pixel (channel c, row r, column k) of image e; the file stores each channel
 * column-major. Labels in the file are 1..10. */
static unsigned char stl_pixel(int e, int c, int r, int k) {
    return (unsigned char)((e * 101 + c * 13 + r * 5 + k * 17) % 251);
}
enum { STL_N = 2, STL_SIDE = 96, STL_FEATURES = 3 * 96 * 96 };

static unsigned char *make_stl_images(int n) {
    unsigned char *buf = malloc((size_t)n * STL_FEATURES);
    for (int e = 0; e < n; e++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < STL_SIDE; k++)
                for (int r = 0; r < STL_SIDE; r++)
                    buf[(size_t)e * STL_FEATURES + c * STL_SIDE * STL_SIDE + k * STL_SIDE + r] = stl_pixel(e, c, r, k);
    return buf;
}

static void test_catalogue(void) {
    section = "dataset_load catalogue";
    char dir[512], p[512];
    l2l_dataset *d = NULL, *out = SENTINEL;
    int64_t count = 0, features = 0, classes = 0, shape[L2L_MAX_RANK], rank = 0;

    /* MNIST and KMNIST: Fashion-MNIST's file names, in <directory>/<name>/ or <directory>. */
    unsigned char images[16 + IDX_N * IDX_FEATURES], labels[8 + IDX_N];
    size_t ni = make_idx_images(images), nl = make_idx_labels(labels);
    make_tmp_subdir("mnist");
    write_file("mnist/train-images-idx3-ubyte", images, ni);
    write_file("mnist/train-labels-idx1-ubyte", labels, nl);
    EXPECT_OK(l2l_dataset_load(&d, "mnist", "train", tmpdir));
    if (d != NULL) {
        EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
        CHECK(count == IDX_N && features == IDX_FEATURES && classes == 10);
        float x[IDX_N * IDX_FEATURES];
        int32_t y[IDX_N];
        EXPECT_OK(l2l_dataset_read(d, 0, IDX_N, x, y));
        int bad = 0;
        for (int e = 0; e < IDX_N; e++) {
            bad += y[e] != idx_label(e);
            for (int k = 0; k < IDX_FEATURES; k++) bad += fabsf(x[e * IDX_FEATURES + k] - idx_pixel(e, k) / 255.0f) > 1e-6f;
        }
        CHECKF(bad == 0, "%d MNIST values differ from the file", bad);
        EXPECT_OK(l2l_dataset_example_shape(d, shape, L2L_MAX_RANK, &rank));
        CHECKF(rank == 2 && shape[0] == IDX_ROWS && shape[1] == IDX_COLS, "MNIST example shape rank %lld", (long long)rank);
        l2l_dataset_free(d);
        d = NULL;
    }
    path_in_tmp(dir, sizeof dir, "mnist");
    EXPECT_OK(l2l_dataset_load(&d, "mnist", "train", dir)); /* the folder itself */
    l2l_dataset_free(d);
    d = NULL;
    /* KMNIST is looked for in its own folder, not MNIST's. */
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load", l2l_dataset_load(&out, "kmnist", "train", tmpdir));
    make_tmp_subdir("kmnist");
    write_file("kmnist/t10k-images-idx3-ubyte", images, ni);
    write_file("kmnist/t10k-labels-idx1-ubyte", labels, nl);
    /* $L2L_DATA/kmnist when the directory is NULL; nothing at all without L2L_DATA. */
    const char *old = getenv("L2L_DATA");
    char *saved = old ? strdup(old) : NULL;
    setenv("L2L_DATA", tmpdir, 1);
    EXPECT_OK(l2l_dataset_load(&d, "kmnist", "test", NULL));
    count = 0;
    if (d != NULL) EXPECT_OK(l2l_dataset_info(d, &count, NULL, NULL));
    CHECK(count == IDX_N);
    l2l_dataset_free(d);
    d = NULL;
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load", l2l_dataset_load(&out, "kmnist", "train", NULL));
    unsetenv("L2L_DATA");
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load", l2l_dataset_load(&out, "kmnist", "test", NULL));
    CHECKF(strstr(l2l_last_error(), "L2L_DATA") != NULL, "message \"%s\" does not mention L2L_DATA", l2l_last_error());
    if (saved) {
        setenv("L2L_DATA", saved, 1);
        free(saved);
    }
    /* A truncated MNIST file. */
    write_file("kmnist/t10k-images-idx3-ubyte", images, ni - 5);
    path_in_tmp(dir, sizeof dir, "kmnist");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load", l2l_dataset_load(&out, "kmnist", "test", dir));

    /* Unknown names: the message lists the known ones. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_load", l2l_dataset_load(&out, "cifar100", "test", tmpdir));
    const char *msg = l2l_last_error();
    CHECKF(strstr(msg, "fashion-mnist") && strstr(msg, "mnist") && strstr(msg, "kmnist") && strstr(msg, "cifar10") &&
               strstr(msg, "stl10"),
           "message \"%s\" does not list the known names", msg);

    section = "dataset_load cifar10";
    make_tmp_subdir("cifar-10-batches-bin");
    unsigned char *cifar = make_cifar(CIFAR_N);
    write_file("cifar-10-batches-bin/test_batch.bin", cifar, (size_t)CIFAR_N * CIFAR_RECORD);
    EXPECT_OK(l2l_dataset_load(&d, "cifar10", "test", tmpdir));
    if (d != NULL) {
        EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
        CHECK(count == CIFAR_N && features == CIFAR_FEATURES && classes == 10);
        float *x = malloc(sizeof(float) * CIFAR_N * CIFAR_FEATURES);
        int32_t y[CIFAR_N];
        EXPECT_OK(l2l_dataset_read(d, 0, CIFAR_N, x, y));
        int bad = 0;
        for (int e = 0; e < CIFAR_N; e++) {
            bad += y[e] != cifar_label(e);
            for (int c = 0; c < 3; c++)
                for (int r = 0; r < 32; r++)
                    for (int k = 0; k < 32; k++)
                        bad += x[e * CIFAR_FEATURES + c * 1024 + r * 32 + k] != cifar_pixel(e, c, r, k) / 255.0f;
        }
        CHECKF(bad == 0, "%d CIFAR-10 values differ from the records (channel-major, / 255)", bad);
        free(x);
        rank = 0;
        EXPECT_OK(l2l_dataset_example_shape(d, shape, 3, &rank));
        CHECK(rank == 3 && shape[0] == 3 && shape[1] == 32 && shape[2] == 32);
        l2l_dataset_free(d);
        d = NULL;
    }
    /* The training split needs data_batch_1..5.bin. */
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load", l2l_dataset_load(&out, "cifar10", "train", tmpdir));
    CHECKF(strstr(l2l_last_error(), "data_batch_1.bin") != NULL, "message \"%s\" does not name the file", l2l_last_error());
    /* A record cut short, a label above 9, an empty file. */
    write_file("cifar-10-batches-bin/test_batch.bin", cifar, (size_t)CIFAR_N * CIFAR_RECORD - 100);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load", l2l_dataset_load(&out, "cifar10", "test", tmpdir));
    cifar[CIFAR_RECORD] = 10;
    write_file("cifar-10-batches-bin/test_batch.bin", cifar, (size_t)CIFAR_N * CIFAR_RECORD);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load", l2l_dataset_load(&out, "cifar10", "test", tmpdir));
    write_file("cifar-10-batches-bin/test_batch.bin", cifar, 0);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load", l2l_dataset_load(&out, "cifar10", "test", tmpdir));
    cifar[CIFAR_RECORD] = (unsigned char)cifar_label(1);
    write_file("cifar-10-batches-bin/test_batch.bin", cifar, (size_t)CIFAR_N * CIFAR_RECORD);
    free(cifar);

    section = "dataset_load stl10";
    make_tmp_subdir("stl10_binary");
    unsigned char *stl = make_stl_images(STL_N);
    unsigned char stl_labels[STL_N] = {10, 3};
    write_file("stl10_binary/train_X.bin", stl, (size_t)STL_N * STL_FEATURES);
    write_file("stl10_binary/train_y.bin", stl_labels, STL_N);
    path_in_tmp(dir, sizeof dir, "stl10_binary");
    EXPECT_OK(l2l_dataset_load(&d, "stl10", "train", dir));
    if (d != NULL) {
        EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
        CHECK(count == STL_N && features == STL_FEATURES && classes == 10);
        float *x = malloc(sizeof(float) * STL_N * STL_FEATURES);
        int32_t y[STL_N];
        EXPECT_OK(l2l_dataset_read(d, 0, STL_N, x, y));
        CHECKF(y[0] == 9 && y[1] == 2, "STL-10 labels 10, 3 read as %d, %d (expected 9, 2)", y[0], y[1]);
        int bad = 0;
        for (int e = 0; e < STL_N; e++)
            for (int c = 0; c < 3; c++)
                for (int r = 0; r < STL_SIDE; r++)
                    for (int k = 0; k < STL_SIDE; k++)
                        bad += x[e * STL_FEATURES + c * STL_SIDE * STL_SIDE + r * STL_SIDE + k] !=
                               stl_pixel(e, c, r, k) / 255.0f;
        CHECKF(bad == 0, "%d STL-10 values differ from the column-major file read row-major", bad);
        free(x);
        EXPECT_OK(l2l_dataset_example_shape(d, shape, L2L_MAX_RANK, &rank));
        CHECK(rank == 3 && shape[0] == 3 && shape[1] == 96 && shape[2] == 96);
        l2l_dataset_free(d);
        d = NULL;
    }
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load", l2l_dataset_load(&out, "stl10", "test", tmpdir));
    /* Truncated images, labels that disagree in number, a label 0 (STL-10's are 1..10). */
    write_file("stl10_binary/train_X.bin", stl, (size_t)STL_N * STL_FEATURES - 1);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load", l2l_dataset_load(&out, "stl10", "train", tmpdir));
    write_file("stl10_binary/train_X.bin", stl, (size_t)STL_N * STL_FEATURES);
    write_file("stl10_binary/train_y.bin", stl_labels, 1);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load", l2l_dataset_load(&out, "stl10", "train", tmpdir));
    stl_labels[1] = 0;
    write_file("stl10_binary/train_y.bin", stl_labels, STL_N);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_dataset_load", l2l_dataset_load(&out, "stl10", "train", tmpdir));
    free(stl);
    CHECK(out == SENTINEL);
    path_in_tmp(p, sizeof p, "no-such-dir");
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load", l2l_dataset_load(&out, "stl10", "train", p));
}

/* ---------------------------------------------------------------------------------- */
/* Example shapes, grey crop, splits, per-feature statistics                           */
/* ---------------------------------------------------------------------------------- */

static void test_example_shape(void) {
    section = "dataset_example_shape";
    float x[6] = {1, 2, 3, 4, 5, 6};
    int32_t y[2] = {0, 1};
    l2l_dataset *d = NULL;
    REQUIRE_OK(l2l_dataset_create(&d, x, y, 2, 3, 2));
    int64_t shape[4] = {-1, -1, -1, -1}, rank = -1;
    EXPECT_OK(l2l_dataset_example_shape(d, NULL, 0, &rank));
    CHECK(rank == 1);
    EXPECT_OK(l2l_dataset_example_shape(d, shape, 4, &rank));
    CHECK(rank == 1 && shape[0] == 3 && shape[1] == -1);
    rank = -1;
    shape[0] = -1;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_dataset_example_shape", l2l_dataset_example_shape(d, shape, 0, &rank));
    CHECK(rank == 1 && shape[0] == -1);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_example_shape", l2l_dataset_example_shape(d, shape, 4, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_example_shape", l2l_dataset_example_shape(NULL, shape, 4, &rank));
    l2l_dataset_free(d);
}

static void test_grey_crop(void) {
    section = "dataset_grey_crop";
    char path[512];
    enum { N = 2 };
    unsigned char *cifar = make_cifar(N);
    make_tmp_subdir("grey");
    write_file("grey/test_batch.bin", cifar, (size_t)N * CIFAR_RECORD);
    free(cifar);
    path_in_tmp(path, sizeof path, "grey");
    l2l_dataset *colour = NULL;
    REQUIRE_OK(l2l_dataset_load(&colour, "cifar10", "test", path));

    const char *options[] = {NULL, "weights=mtl2l", "weights=mtl2l_as_printed", "weights=itu601"};
    const float weights[][3] = {{0.30f, 0.59f, 0.11f}, {0.30f, 0.59f, 0.11f}, {0.30f, 0.11f, 0.59f},
                                {0.299f, 0.587f, 0.114f}};
    for (int w = 0; w < 4; w++) {
        l2l_dataset *g = NULL;
        EXPECT_OK(l2l_dataset_grey_crop(&g, colour, 28, 28, options[w]));
        if (g == NULL) continue;
        int64_t count = 0, features = 0, classes = 0, shape[3], rank = 0;
        EXPECT_OK(l2l_dataset_info(g, &count, &features, &classes));
        CHECK(count == N && features == 784 && classes == 10);
        EXPECT_OK(l2l_dataset_example_shape(g, shape, 3, &rank));
        CHECK(rank == 2 && shape[0] == 28 && shape[1] == 28);
        float x[N * 784];
        int32_t y[N];
        EXPECT_OK(l2l_dataset_read(g, 0, N, x, y));
        int bad = 0;
        for (int e = 0; e < N; e++) {
            bad += y[e] != cifar_label(e);
            for (int r = 0; r < 28; r++)
                for (int k = 0; k < 28; k++) {
                    double want = weights[w][0] * (cifar_pixel(e, 0, r, k) / 255.0) +
                                  weights[w][1] * (cifar_pixel(e, 1, r, k) / 255.0) +
                                  weights[w][2] * (cifar_pixel(e, 2, r, k) / 255.0);
                    bad += fabs(x[e * 784 + r * 28 + k] - want) > 1e-6;
                }
        }
        CHECKF(bad == 0, "%d grey values differ from the weighted top-left 28x28 (options %s)", bad,
               options[w] ? options[w] : "NULL");
        l2l_dataset_free(g);
    }
    /* Other sizes: the whole image, one pixel. */
    l2l_dataset *g = NULL;
    int64_t features = 0;
    EXPECT_OK(l2l_dataset_grey_crop(&g, colour, 32, 32, ""));
    if (g) EXPECT_OK(l2l_dataset_info(g, NULL, &features, NULL));
    CHECK(features == 1024);
    l2l_dataset_free(g);
    g = NULL;
    EXPECT_OK(l2l_dataset_grey_crop(&g, colour, 1, 3, NULL));
    if (g) EXPECT_OK(l2l_dataset_info(g, NULL, &features, NULL));
    CHECK(features == 3);
    l2l_dataset_free(g);

    l2l_dataset *out = SENTINEL;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, colour, 33, 28, NULL));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, colour, 28, 33, NULL));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, colour, 0, 28, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, colour, -1, 28, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, colour, 28, 28, "weights=rgb"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, colour, 28, 28, "weight=itu601"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, NULL, 28, 28, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(NULL, colour, 28, 28, NULL));
    /* A set whose examples are not [3, H, W] images: a flat one, and an already grey one. */
    float flat[2 * 3072];
    for (int i = 0; i < 2 * 3072; i++) flat[i] = 0.5f;
    int32_t y[2] = {0, 1};
    l2l_dataset *plain = NULL, *grey = NULL;
    REQUIRE_OK(l2l_dataset_create(&plain, flat, y, 2, 3072, 2));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, plain, 28, 28, NULL));
    REQUIRE_OK(l2l_dataset_grey_crop(&grey, colour, 28, 28, NULL));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_grey_crop", l2l_dataset_grey_crop(&out, grey, 28, 28, NULL));
    CHECK(out == SENTINEL);
    l2l_dataset_free(plain);
    l2l_dataset_free(grey);
    l2l_dataset_free(colour);
}

/* Labels of a split part (its examples are those of indexed_dataset: label = index). */
static int part_labels(l2l_dataset *d, int32_t *labels) {
    int64_t n = 0;
    if (d == NULL) return 0;
    if (l2l_dataset_info(d, &n, NULL, NULL) != L2L_OK) return -1;
    if (n > 0 && l2l_dataset_read(d, 0, n, NULL, labels) != L2L_OK) return -1;
    return (int)n;
}

static void test_split(void) {
    section = "dataset_split";
    l2l_dataset *d = indexed_dataset();
    l2l_dataset *tr = SENTINEL, *va = SENTINEL, *te = SENTINEL;
    EXPECT_OK(l2l_dataset_split(d, 6, 3, 1, 5, &tr, &va, &te));
    int32_t a[BN], b[BN], c[BN];
    int na = part_labels(tr, a), nb = part_labels(va, b), nc = part_labels(te, c);
    CHECKF(na == 6 && nb == 3 && nc == 1, "part sizes %d %d %d", na, nb, nc);
    if (na == 6 && nb == 3 && nc == 1) {
        int hits[BN] = {0}, sorted = 1, shuffled = 0;
        for (int i = 0; i < 6; i++) hits[a[i]]++, sorted &= i == 0 || a[i] > a[i - 1], shuffled |= a[i] != i;
        for (int i = 0; i < 3; i++) hits[b[i]]++, sorted &= i == 0 || b[i] > b[i - 1];
        hits[c[0]]++;
        int cover = 1;
        for (int i = 0; i < BN; i++) cover &= hits[i] == 1;
        CHECKF(cover, "the parts are not disjoint or do not cover the data set");
        CHECKF(sorted, "a part is not in the original order");
        CHECKF(shuffled, "the training part is the first 6 examples: not random");
        /* The inputs travel with their labels. */
        float x[6 * BF];
        EXPECT_OK(l2l_dataset_read(tr, 0, 6, x, NULL));
        int ok = 1;
        for (int i = 0; i < 6; i++) ok &= x[i * BF] == (float)a[i] && x[i * BF + 1] == (float)-a[i];
        CHECK(ok);
    }
    /* The same seed gives the same parts; the source may be freed first. */
    l2l_dataset *tr2 = NULL, *va2 = NULL, *te2 = NULL, *d2 = indexed_dataset();
    EXPECT_OK(l2l_dataset_split(d2, 6, 3, 1, 5, &tr2, &va2, &te2));
    l2l_dataset_free(d2);
    int32_t a2[BN], b2[BN], c2[BN];
    CHECK(part_labels(tr2, a2) == 6 && memcmp(a, a2, 6 * sizeof(int32_t)) == 0);
    CHECK(part_labels(va2, b2) == 3 && memcmp(b, b2, 3 * sizeof(int32_t)) == 0);
    CHECK(part_labels(te2, c2) == 1 && c[0] == c2[0]);
    l2l_dataset_free(tr2);
    l2l_dataset_free(va2);
    l2l_dataset_free(te2);
    /* Another seed, another cut (a seed that keeps all three parts equal would have
     * probability 1/2520; 5 and 6 are known to differ). */
    EXPECT_OK(l2l_dataset_split(d, 6, 3, 1, 6, &tr2, &va2, &te2));
    CHECK(part_labels(tr2, a2) == 6 && (memcmp(a, a2, 6 * sizeof(int32_t)) != 0 ||
                                        (part_labels(va2, b2) == 3 && memcmp(b, b2, 3 * sizeof(int32_t)) != 0)));
    l2l_dataset_free(tr2);
    l2l_dataset_free(va2);
    l2l_dataset_free(te2);
    l2l_dataset_free(tr);
    l2l_dataset_free(va);
    l2l_dataset_free(te);

    /* A count of 0: that part is NULL, and its out-pointer may be NULL. */
    tr = va = te = SENTINEL;
    EXPECT_OK(l2l_dataset_split(d, 8, 0, 2, 1, &tr, &va, &te));
    CHECK(tr != NULL && tr != SENTINEL && va == NULL && te != NULL && te != SENTINEL);
    CHECK(part_labels(tr, a) == 8 && part_labels(te, c) == 2);
    l2l_dataset_free(tr);
    l2l_dataset_free(te);
    tr = SENTINEL;
    EXPECT_OK(l2l_dataset_split(d, BN, 0, 0, 1, &tr, NULL, NULL));
    CHECK(part_labels(tr, a) == BN);
    int identity = 1;
    for (int i = 0; i < BN; i++) identity &= a[i] == i;
    CHECKF(identity, "a single part keeps every example in order");
    l2l_dataset_free(tr);

    /* Counts that do not sum to the data set, negative counts, missing pointers: errors
     * that write nothing. */
    tr = va = te = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_split", l2l_dataset_split(d, 8, 2, 1, 1, &tr, &va, &te));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_split", l2l_dataset_split(d, 1000, 0, 0, 1, &tr, &va, &te));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_split", l2l_dataset_split(d, 5, 3, 1, 1, &tr, &va, &te));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_split", l2l_dataset_split(d, 12, -1, -1, 1, &tr, &va, &te));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_split", l2l_dataset_split(d, 6, 3, 1, 1, &tr, NULL, &te));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_split", l2l_dataset_split(NULL, 6, 3, 1, 1, &tr, &va, &te));
    CHECK(tr == SENTINEL && va == SENTINEL && te == SENTINEL);
    l2l_dataset_free(d);
}

static void test_feature_statistics(void) {
    section = "dataset_feature_statistics/standardize_features";
    enum { N = 40, F = 5 };
    float x[N * F];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 3;
        for (int j = 0; j < F; j++) x[i * F + j] = j == 3 ? 2.5f : uniform(-1, 1) * (float)(j + 1) + (float)j;
    }
    double mean_ref[F], std_ref[F];
    for (int j = 0; j < F; j++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < N; i++) s += x[i * F + j];
        mean_ref[j] = s / N;
        for (int i = 0; i < N; i++) s2 += (x[i * F + j] - mean_ref[j]) * (x[i * F + j] - mean_ref[j]);
        std_ref[j] = sqrt(s2 / N);
    }
    l2l_dataset *d = NULL;
    REQUIRE_OK(l2l_dataset_create(&d, x, y, N, F, 3));
    float mean[F + 1], sd[F + 1];
    mean[F] = sd[F] = -9;
    EXPECT_OK(l2l_dataset_feature_statistics(d, mean, sd, F + 1));
    int bad = 0;
    for (int j = 0; j < F; j++)
        bad += fabs(mean[j] - mean_ref[j]) > 1e-6 * (1 + fabs(mean_ref[j])) || fabs(sd[j] - std_ref[j]) > 1e-5 * (1 + std_ref[j]);
    CHECKF(bad == 0, "%d per-feature statistics differ from the double reference", bad);
    CHECK(mean[F] == -9 && sd[F] == -9);
    CHECK(sd[3] == 0 && mean[3] == 2.5f);
    /* Either buffer alone; both NULL is a no-op. */
    float only[F];
    EXPECT_OK(l2l_dataset_feature_statistics(d, NULL, only, F));
    CHECK(floats_equal(only, sd, F));
    EXPECT_OK(l2l_dataset_feature_statistics(d, only, NULL, F));
    CHECK(floats_equal(only, mean, F));
    EXPECT_OK(l2l_dataset_feature_statistics(d, NULL, NULL, 0));
    float small[F];
    for (int j = 0; j < F; j++) small[j] = -3;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_dataset_feature_statistics",
               l2l_dataset_feature_statistics(d, small, small, F - 1));
    CHECK(all_equal_to(small, F, -3));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_feature_statistics",
               l2l_dataset_feature_statistics(NULL, mean, sd, F));

    /* Standardising by them: every column mean 0, std 1, the constant column only centred. */
    float keep[N * F];
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_standardize_features", l2l_dataset_standardize_features(d, mean, sd, F - 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize_features",
               l2l_dataset_standardize_features(d, NULL, sd, F));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize_features",
               l2l_dataset_standardize_features(d, mean, NULL, F));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize_features",
               l2l_dataset_standardize_features(d, mean, sd, -1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize_features",
               l2l_dataset_standardize_features(NULL, mean, sd, F));
    float nan_mean[F], negative_std[F];
    memcpy(nan_mean, mean, sizeof nan_mean);
    memcpy(negative_std, sd, sizeof negative_std);
    nan_mean[2] = NAN;
    negative_std[1] = -1;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize_features",
               l2l_dataset_standardize_features(d, nan_mean, sd, F));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_standardize_features",
               l2l_dataset_standardize_features(d, mean, negative_std, F));
    REQUIRE_OK(l2l_dataset_read(d, 0, N, keep, NULL));
    CHECK(floats_equal(keep, x, N * F));
    EXPECT_OK(l2l_dataset_standardize_features(d, mean, sd, F));
    REQUIRE_OK(l2l_dataset_read(d, 0, N, keep, NULL));
    bad = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < F; j++) {
            double want = sd[j] > 0 ? ((double)x[i * F + j] - mean[j]) / sd[j] : (double)x[i * F + j] - mean[j];
            bad += fabs(keep[i * F + j] - want) > 1e-5 * (1 + fabs(want));
        }
    CHECKF(bad == 0, "%d standardised values differ from (x - mean[j]) / std[j]", bad);
    float m2[F], s2[F];
    EXPECT_OK(l2l_dataset_feature_statistics(d, m2, s2, F));
    int off = 0;
    for (int j = 0; j < F; j++) off += fabsf(m2[j]) > 1e-5f || fabsf(s2[j] - (j == 3 ? 0.0f : 1.0f)) > 1e-5f;
    CHECKF(off == 0, "after standardising, %d columns are not mean 0 / std 1 (constant: 0)", off);
    l2l_dataset_free(d);
}

/* ---------------------------------------------------------------------------------- */
/* Synthetic data and task samplers                                                    */
/* ---------------------------------------------------------------------------------- */

static void test_synthetic(void) {
    section = "dataset_synthetic";
    l2l_dataset *d = NULL, *again = NULL, *other = NULL;
    EXPECT_OK(l2l_dataset_synthetic(&d, "binary_xor", NULL, 3));
    if (d == NULL) return;
    int64_t count = 0, features = 0, classes = 0;
    EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
    CHECKF(count == 200 && features == 10 && classes == 2, "defaults: %lld x %lld, %lld classes", (long long)count,
           (long long)features, (long long)classes);
    float x[200 * 10], x2[200 * 10];
    int32_t y[200], y2[200];
    EXPECT_OK(l2l_dataset_read(d, 0, 200, x, y));
    int ones = 0, other_labels = 0;
    for (int i = 0; i < 200; i++) ones += y[i] == 1, other_labels += y[i] != 0 && y[i] != 1;
    CHECK(other_labels == 0);
    CHECKF(ones >= 30 && ones <= 170, "class balance %d of 200 is below 0.15", ones);
    float mean[10], sd[10];
    EXPECT_OK(l2l_dataset_feature_statistics(d, mean, sd, 10));
    int off = 0;
    for (int j = 0; j < 10; j++) off += fabsf(mean[j]) > 1e-5f || fabsf(sd[j] - 1) > 1e-4f;
    CHECKF(off == 0, "%d columns are not standardised", off);
    /* The same seed and the same options in other words give the same set; another seed another. */
    EXPECT_OK(l2l_dataset_synthetic(&again, "binary_xor", "dimension=10; samples=200 noise_scale=1", 3));
    EXPECT_OK(l2l_dataset_synthetic(&other, "binary_xor", "", 4));
    if (again != NULL && other != NULL) {
        EXPECT_OK(l2l_dataset_read(again, 0, 200, x2, y2));
        CHECK(floats_equal(x, x2, 200 * 10) && memcmp(y, y2, sizeof y) == 0);
        EXPECT_OK(l2l_dataset_read(other, 0, 200, x2, y2));
        CHECK(!floats_equal(x, x2, 200 * 10));
    }
    l2l_dataset_free(again);
    l2l_dataset_free(other);
    l2l_dataset_free(d);
    d = NULL;
    /* Every option. */
    EXPECT_OK(l2l_dataset_synthetic(&d, "binary_xor",
                                    "dimension=3 samples=20 noise_scale=0.5 minimum_balance=0.5 "
                                    "maximum_attempts=5000 threshold_spread=0.25",
                                    9));
    if (d != NULL) {
        EXPECT_OK(l2l_dataset_info(d, &count, &features, &classes));
        CHECK(count == 20 && features == 3 && classes == 2);
        EXPECT_OK(l2l_dataset_read(d, 0, 20, NULL, y));
        ones = 0;
        for (int i = 0; i < 20; i++) ones += y[i];
        CHECKF(ones == 10, "minimum_balance=0.5 gave %d ones of 20", ones);
        l2l_dataset_free(d);
    }

    l2l_dataset *out = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, "sine", NULL, 1));
    CHECKF(strstr(l2l_last_error(), "binary_xor") != NULL, "message \"%s\" does not list the families", l2l_last_error());
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, NULL, NULL, 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(NULL, "binary_xor", NULL, 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, "binary_xor", "dimensions=3", 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, "binary_xor", "dimension=0", 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, "binary_xor", "samples=1", 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, "binary_xor", "noise_scale=-1", 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, "binary_xor", "minimum_balance=0.6", 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic", l2l_dataset_synthetic(&out, "binary_xor", "samples=ten", 1));
    /* Three samples can never be split half and half. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_synthetic",
               l2l_dataset_synthetic(&out, "binary_xor", "samples=3 minimum_balance=0.5 maximum_attempts=20", 1));
    CHECK(out == SENTINEL);
}

static void test_sine_tasks(void) {
    section = "sine_tasks";
    enum { T = 50, K = 8 };
    static float x[T * K], y[T * K], a[T], ph[T], x2[T * K], y2[T * K], a2[T], ph2[T];
    EXPECT_OK(l2l_sine_tasks(17, T, K, x, y, a, ph));
    int bad = 0;
    double amin = 10, amax = -10, pmin = 10, pmax = -10;
    for (int t = 0; t < T; t++) {
        bad += !(a[t] >= 0.1f && a[t] <= 5.0f) || !(ph[t] >= 0 && ph[t] <= 3.14159275f);
        amin = fmin(amin, a[t]), amax = fmax(amax, a[t]), pmin = fmin(pmin, ph[t]), pmax = fmax(pmax, ph[t]);
        for (int i = 0; i < K; i++) {
            float xi = x[t * K + i];
            bad += !(xi >= -5 && xi <= 5);
            bad += fabs(y[t * K + i] - a[t] * sin((double)xi - ph[t])) > 1e-5;
        }
    }
    CHECKF(bad == 0, "%d values are out of range or not A sin(x - phase)", bad);
    CHECKF(amax - amin > 2 && pmax - pmin > 1.5, "amplitudes %g..%g, phases %g..%g: not spread", amin, amax, pmin, pmax);
    /* Same seed, same numbers; amplitude and phase may be NULL without changing x and y. */
    EXPECT_OK(l2l_sine_tasks(17, T, K, x2, y2, NULL, NULL));
    CHECK(floats_equal(x, x2, T * K) && floats_equal(y, y2, T * K));
    /* Tasks are drawn in sequence: the first 20 of 50 are the 20 tasks of the same seed. */
    EXPECT_OK(l2l_sine_tasks(17, 20, K, x2, y2, a2, ph2));
    CHECK(floats_equal(x, x2, 20 * K) && floats_equal(a, a2, 20) && floats_equal(ph, ph2, 20));
    EXPECT_OK(l2l_sine_tasks(18, T, K, x2, y2, a2, ph2));
    CHECK(!floats_equal(x, x2, T * K) && !floats_equal(a, a2, T));
    /* k = 0 gives tasks without points; tasks = 0 writes nothing. */
    EXPECT_OK(l2l_sine_tasks(17, 3, 0, x2, y2, a2, ph2));
    CHECK(floats_equal(a, a2, 1));
    x2[0] = -99;
    EXPECT_OK(l2l_sine_tasks(17, 0, K, x2, y2, NULL, NULL));
    CHECK(x2[0] == -99);

    a2[0] = -1;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_sine_tasks", l2l_sine_tasks(1, -1, K, x2, y2, a2, ph2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_sine_tasks", l2l_sine_tasks(1, T, -1, x2, y2, a2, ph2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_sine_tasks", l2l_sine_tasks(1, T, K, NULL, y2, a2, ph2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_sine_tasks", l2l_sine_tasks(1, T, K, x2, NULL, a2, ph2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_sine_tasks", l2l_sine_tasks(1, 1, (1LL << 24) + 1, x2, y2, a2, ph2));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_sine_tasks", l2l_sine_tasks(1, 1LL << 20, 1LL << 12, x2, y2, a2, ph2));
    CHECK(a2[0] == -1);
}

static void test_quadratic_tasks(void) {
    section = "quadratic_tasks";
    enum { T = 40, D = 10 };
    static float w[T * D * D], y[T * D], w2[T * D * D], y2[T * D];
    EXPECT_OK(l2l_quadratic_tasks(5, T, D, NULL, w, y));
    double s = 0, s2 = 0;
    for (int i = 0; i < T * D * D; i++) s += w[i], s2 += (double)w[i] * w[i];
    for (int i = 0; i < T * D; i++) s += y[i], s2 += (double)y[i] * y[i];
    double n = T * D * D + T * D, m = s / n, v = s2 / n - m * m;
    /* Standard normal: 4400 values, mean within 5 standard errors (0.075), variance 1 +- 0.15. */
    CHECKF(fabs(m) < 0.075 && fabs(v - 1) < 0.15, "normal W and y: mean %g variance %g", m, v);
    EXPECT_OK(l2l_quadratic_tasks(5, T, D, "distribution=normal", w2, y2));
    CHECK(floats_equal(w, w2, T * D * D) && floats_equal(y, y2, T * D));
    /* In sequence: the first 3 tasks of the seed, W then y per task. */
    EXPECT_OK(l2l_quadratic_tasks(5, 3, D, "", w2, y2));
    CHECK(floats_equal(w, w2, 3 * D * D) && floats_equal(y, y2, 3 * D));
    EXPECT_OK(l2l_quadratic_tasks(6, T, D, NULL, w2, y2));
    CHECK(!floats_equal(w, w2, T * D * D));
    EXPECT_OK(l2l_quadratic_tasks(5, T, D, "distribution=uniform", w2, y2));
    int bad = 0;
    s = 0;
    for (int i = 0; i < T * D * D; i++) bad += !(w2[i] >= 0 && w2[i] < 1), s += w2[i];
    for (int i = 0; i < T * D; i++) bad += !(y2[i] >= 0 && y2[i] < 1);
    CHECKF(bad == 0 && fabs(s / (T * D * D) - 0.5) < 0.05, "uniform: %d values outside [0, 1), mean %g", bad,
           s / (T * D * D));
    /* Another dimension. */
    EXPECT_OK(l2l_quadratic_tasks(5, 2, 3, NULL, w2, y2));

    w2[0] = -99;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, T, D, "distribution=cauchy", w2, y2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, T, D, "dist=uniform", w2, y2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, T, 0, NULL, w2, y2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, 0, 0, NULL, w2, y2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, T, 20000, NULL, w2, y2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, -1, D, NULL, w2, y2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, T, D, NULL, NULL, y2));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, T, D, NULL, w2, NULL));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_quadratic_tasks", l2l_quadratic_tasks(5, 1LL << 20, 100, NULL, w2, y2));
    CHECK(w2[0] == -99);
}

/* ---------------------------------------------------------------------------------- */
/* Learners                                                                            */
/* ---------------------------------------------------------------------------------- */

static const int SIZES[] = {5, 4, 3};
enum { IN = 5, HID = 4, OUT = 3, NP = 5 * 4 + 4 + 4 * 3 + 3, NB = 6 };

static void test_learner_info(void) {
    section = "learner_info/param_info";
    l2l_learner *l = NULL;
    EXPECT_OK(l2l_learner_create(&l, "mlp", "sizes=5,4,3", 1));
    if (l == NULL) return;
    int64_t np = -1, nt = -1, nf = -1, nc = -1;
    EXPECT_OK(l2l_learner_info(l, &np, &nt, &nf, &nc));
    CHECKF(np == NP && nt == 4 && nf == IN && nc == OUT, "info %lld %lld %lld %lld", (long long)np,
           (long long)nt, (long long)nf, (long long)nc);
    EXPECT_OK(l2l_learner_info(l, NULL, NULL, NULL, NULL));
    np = -1;
    EXPECT_OK(l2l_learner_info(l, &np, NULL, NULL, NULL));
    CHECK(np == NP);

    struct {
        const char *name;
        int32_t kind, rank;
        int64_t d0, d1, offset, count;
    } want[4] = {
        {"fc0.weight", L2L_PARAM_FC_WEIGHT, 2, 5, 4, 0, 20},
        {"fc0.bias", L2L_PARAM_FC_BIAS, 1, 4, 0, 20, 4},
        {"fc1.weight", L2L_PARAM_FC_WEIGHT, 2, 4, 3, 24, 12},
        {"fc1.bias", L2L_PARAM_FC_BIAS, 1, 3, 0, 36, 3},
    };
    for (int i = 0; i < 4; i++) {
        l2l_param_info info;
        memset(&info, 0xAB, sizeof info);
        EXPECT_OK(l2l_learner_param_info(l, i, &info));
        CHECKF(memchr(info.name, '\0', L2L_MAX_NAME) != NULL, "tensor %d: name is not NUL-terminated", i);
        info.name[L2L_MAX_NAME - 1] = '\0';
        CHECKF(strcmp(info.name, want[i].name) == 0, "tensor %d: name \"%s\", expected \"%s\"", i, info.name,
               want[i].name);
        CHECKF(info.kind == want[i].kind, "tensor %d: kind %d", i, (int)info.kind);
        CHECKF(info.rank == want[i].rank, "tensor %d: rank %d", i, (int)info.rank);
        CHECKF(info.shape[0] == want[i].d0 && (want[i].rank < 2 || info.shape[1] == want[i].d1),
               "tensor %d: shape [%lld, %lld]", i, (long long)info.shape[0], (long long)info.shape[1]);
        CHECKF(info.offset == want[i].offset && info.count == want[i].count, "tensor %d: offset %lld count %lld", i,
               (long long)info.offset, (long long)info.count);
    }

    l2l_param_info info;
    memset(&info, 0x5A, sizeof info);
    l2l_param_info untouched = info;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_param_info", l2l_learner_param_info(l, 4, &info));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_param_info", l2l_learner_param_info(l, -1, &info));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_param_info", l2l_learner_param_info(NULL, 0, &info));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_param_info", l2l_learner_param_info(l, 0, NULL));
    CHECK(memcmp(&info, &untouched, sizeof info) == 0);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_info", l2l_learner_info(NULL, &np, &nt, &nf, &nc));

    /* A deeper net: 784-32-16-10 has 784*32+32 + 32*16+16 + 16*10+10 parameters. */
    l2l_learner *deep = NULL;
    EXPECT_OK(l2l_learner_create(&deep, "mlp", "sizes=784,32,16,10\nactivation=tanh init=glorot", 0));
    if (deep != NULL) {
        EXPECT_OK(l2l_learner_info(deep, &np, &nt, &nf, &nc));
        CHECK(np == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10 && nt == 6 && nf == 784 && nc == 10);
        EXPECT_OK(l2l_learner_param_info(deep, 5, &info));
        CHECK(strcmp(info.name, "fc2.bias") == 0 && info.offset == np - 10 && info.count == 10);
        l2l_learner_free(deep);
    }
    l2l_learner_free(l);
}

static void test_learner_create_errors(void) {
    section = "learner_create errors";
    l2l_learner *l = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(NULL, "mlp", "sizes=5,4,3", 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(&l, NULL, "sizes=5,4,3", 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(&l, "transformer", "sizes=5,4,3", 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(&l, "mlp", NULL, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(&l, "mlp", "", 0));
    const char *bad[] = {
        "sizes=5,4,3; colour=blue", /* unknown key */
        "sizes=5,4,3 activation",   /* not key=value */
        "sizes",                    /* not key=value */
        "sizes=",                   /* empty value */
        "sizes=5,,3",               /* not a list of integers */
        "sizes=5,four,3",           /* not a list of integers */
        "sizes=5",                  /* fewer than two widths */
        "sizes=5,0,3",              /* a width out of range */
        "sizes=5,-4,3",             /* a width out of range */
        "sizes=5,4,3 activation=gelu",
        "sizes=5,4,3 init=zeros",
        "sizes=5,4,3 sizes=5,4,3",  /* given twice */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prime_last_error("l2l_learner_create");
        l2l_status s = l2l_learner_create(&l, "mlp", bad[i], 0);
        CHECKF(s == L2L_ERR_INVALID_ARGUMENT, "options \"%s\" gave %d (%s)", bad[i], (int)s, l2l_status_string(s));
        CHECKF(names_function(l2l_last_error(), "l2l_learner_create"), "options \"%s\": last error \"%s\"", bad[i],
               l2l_last_error());
    }
    CHECK(l == SENTINEL);

    /* Every documented option value is accepted. */
    const char *good[] = {"sizes=5,4,3", "sizes=5,3", "sizes=5,4,3;activation=relu", "sizes=5,4,3; activation=sigmoid",
                          "sizes=5,4,3 activation=tanh", "sizes=5,4,3\ninit=fan_in_uniform", "sizes=5,4,3 init=glorot",
                          "sizes=5,4,3 init=he"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        l2l_learner *ok = NULL;
        l2l_status s = l2l_learner_create(&ok, "mlp", good[i], 3);
        CHECKF(s == L2L_OK && ok != NULL, "options \"%s\" gave %d: %s", good[i], (int)s, l2l_last_error());
        l2l_learner_free(ok);
    }
}

static void test_learner_params(void) {
    section = "learner get/set params";
    l2l_learner *a = NULL, *b = NULL, *c = NULL;
    REQUIRE_OK(l2l_learner_create(&a, "mlp", "sizes=5,4,3", 11));
    REQUIRE_OK(l2l_learner_create(&b, "mlp", "sizes=5,4,3", 11));
    REQUIRE_OK(l2l_learner_create(&c, "mlp", "sizes=5,4,3", 12));

    /* Size query with a NULL buffer. */
    int64_t count = -1;
    EXPECT_OK(l2l_learner_get_params(a, NULL, 0, &count));
    CHECK(count == NP);
    float pa[NP], pb[NP], pc[NP];
    count = -1;
    EXPECT_OK(l2l_learner_get_params(a, pa, NP, &count));
    CHECK(count == NP);
    EXPECT_OK(l2l_learner_get_params(b, pb, NP + 5, NULL));
    EXPECT_OK(l2l_learner_get_params(c, pc, NP, &count));
    /* Same seed, same parameters; another seed, others. */
    CHECK(floats_equal(pa, pb, NP));
    CHECK(!floats_equal(pa, pc, NP));
    /* Default init: U(+-1/sqrt(fan_in)) for weights and biases (fan_in 5 then 4). */
    int outside = 0;
    for (int i = 0; i < NP; i++) {
        float bound = i < 24 ? 1 / sqrtf(5) : 0.5f;
        if (!(fabsf(pa[i]) <= bound)) outside++;
    }
    CHECKF(outside == 0, "%d initial parameters outside +-1/sqrt(fan_in)", outside);

    /* Buffer too small: *count says what is needed, nothing is written. */
    float small[NP];
    for (int i = 0; i < NP; i++) small[i] = -99;
    count = -1;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_learner_get_params", l2l_learner_get_params(a, small, NP - 1, &count));
    CHECK(count == NP);
    CHECK(all_equal_to(small, NP, -99));
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_learner_get_params", l2l_learner_get_params(a, small, 0, NULL));
    CHECK(all_equal_to(small, NP, -99));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_get_params", l2l_learner_get_params(NULL, pa, NP, &count));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_get_params", l2l_learner_get_params(a, NULL, 0, NULL));

    /* set/get round trip. */
    float v[NP], back[NP];
    for (int i = 0; i < NP; i++) v[i] = (float)(i - 20) / 8.0f + 1e-3f * (float)i;
    EXPECT_OK(l2l_learner_set_params(a, v, NP));
    EXPECT_OK(l2l_learner_get_params(a, back, NP, &count));
    CHECK(floats_equal(v, back, NP));

    /* The wrong count, a NaN, an infinity: an error and nothing changes. */
    float w[NP + 1];
    for (int i = 0; i <= NP; i++) w[i] = 0.25f;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_set_params", l2l_learner_set_params(a, w, NP - 1));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_set_params", l2l_learner_set_params(a, w, NP + 1));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_set_params", l2l_learner_set_params(a, w, 0));
    l2l_status s = l2l_learner_set_params(a, w, -1);
    CHECKF(s == L2L_ERR_SHAPE || s == L2L_ERR_INVALID_ARGUMENT, "set_params with count -1 gave %d", (int)s);
    w[7] = NAN;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_set_params", l2l_learner_set_params(a, w, NP));
    w[7] = 0.25f;
    w[NP - 1] = -INFINITY;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_set_params", l2l_learner_set_params(a, w, NP));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_set_params", l2l_learner_set_params(a, NULL, NP));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_set_params", l2l_learner_set_params(NULL, v, NP));
    EXPECT_OK(l2l_learner_get_params(a, back, NP, &count));
    CHECK(floats_equal(v, back, NP));

    l2l_learner_free(a);
    l2l_learner_free(b);
    l2l_learner_free(c);
}

/* A batch for the 5-4-3 net: inputs in [-1, 1], labels 0, 1, 2, 0, ... */
static void make_batch(float *x, int32_t *y, int n) {
    for (int i = 0; i < n * IN; i++) x[i] = uniform(-1, 1);
    for (int i = 0; i < n; i++) y[i] = i % OUT;
}

static void test_forward(void) {
    section = "learner_forward";
    float x[NB * IN];
    int32_t y[NB];
    make_batch(x, y, NB);
    const char *acts[] = {"relu", "sigmoid", "tanh"};
    for (int a = 0; a < 3; a++) {
        char options[64];
        snprintf(options, sizeof options, "sizes=5,4,3 activation=%s", acts[a]);
        l2l_learner *l = NULL;
        REQUIRE_OK(l2l_learner_create(&l, "mlp", options, 5 + (uint64_t)a));
        float p[NP];
        REQUIRE_OK(l2l_learner_get_params(l, p, NP, NULL));
        float logits[NB * OUT + 1];
        logits[NB * OUT] = 12345;
        EXPECT_OK(l2l_learner_forward(l, x, NB, IN, logits, NB * OUT + 1));
        CHECK(logits[NB * OUT] == 12345); /* count*classes written, no more */
        double ref[NB * OUT];
        ref_forward(SIZES, 2, p, x, NB, a, ref, NULL);
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < NB * OUT; i++) {
            /* Float32 sums of 5 then 4 products of magnitude < 1: rounding error below
             * 1e-6; 1e-5 leaves room for any summation order or BLAS kernel. */
            double err = fabs(logits[i] - ref[i]);
            if (err > worst) worst = err;
            if (err > 1e-5 * (1 + fabs(ref[i]))) bad++;
        }
        CHECKF(bad == 0, "%s: %d logits differ from the C reimplementation (worst %g)", acts[a], bad, worst);

        /* Errors: nothing is written. */
        float guard[NB * OUT];
        for (int i = 0; i < NB * OUT; i++) guard[i] = -5;
        EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_learner_forward", l2l_learner_forward(l, x, NB, IN, guard, NB * OUT - 1));
        EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_forward", l2l_learner_forward(l, x, NB, IN - 1, guard, NB * OUT));
        EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_forward", l2l_learner_forward(l, x, NB, IN + 1, guard, NB * OUT));
        EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_forward", l2l_learner_forward(NULL, x, NB, IN, guard, NB * OUT));
        EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_forward", l2l_learner_forward(l, NULL, NB, IN, guard, NB * OUT));
        EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_forward", l2l_learner_forward(l, x, NB, IN, NULL, NB * OUT));
        float saved = x[3];
        x[3] = NAN;
        EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_forward", l2l_learner_forward(l, x, NB, IN, guard, NB * OUT));
        x[3] = INFINITY;
        EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_forward", l2l_learner_forward(l, x, NB, IN, guard, NB * OUT));
        x[3] = saved;
        CHECK(all_equal_to(guard, NB * OUT, -5));
        l2l_learner_free(l);
    }
}

static void test_loss_grad(void) {
    section = "learner_loss_grad";
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=5,4,3", 2024));
    float x[NB * IN];
    int32_t y[NB];
    float p[NP];
    REQUIRE_OK(l2l_learner_get_params(l, p, NP, NULL));
    /* A batch whose hidden pre-activations all stay at least 0.02 away from the ReLU kink
     * (see the finite differences below); a few draws find one. */
    double logits[NB * OUT], margin = 0;
    for (int tries = 0; tries < 1000 && margin < 0.02; tries++) {
        make_batch(x, y, NB);
        ref_forward(SIZES, 2, p, x, NB, ACT_RELU, logits, &margin);
    }

    /* No gradient before the first loss_grad. */
    float g[NP];
    int64_t count = -1;
    EXPECT_ERR(L2L_ERR_STATE, "l2l_learner_get_grads", l2l_learner_get_grads(l, g, NP, &count));

    float loss = -1;
    EXPECT_OK(l2l_learner_loss_grad(l, x, y, NB, IN, &loss));
    double loss_ref = ref_loss(logits, y, NB, OUT, NULL);
    CHECKF(fabs(loss - loss_ref) <= 1e-5 * (1 + loss_ref), "loss %.9g, C reimplementation %.9g", loss, loss_ref);

    count = -1;
    EXPECT_OK(l2l_learner_get_grads(l, NULL, 0, &count));
    CHECK(count == NP);
    count = -1;
    EXPECT_OK(l2l_learner_get_grads(l, g, NP, &count));
    CHECK(count == NP);
    float small[NP];
    for (int i = 0; i < NP; i++) small[i] = -99;
    count = -1;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_learner_get_grads", l2l_learner_get_grads(l, small, NP - 1, &count));
    CHECK(count == NP && all_equal_to(small, NP, -99));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_get_grads", l2l_learner_get_grads(NULL, g, NP, &count));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_get_grads", l2l_learner_get_grads(l, NULL, 0, NULL));

    /* Central finite differences of the loss, each loss computed by l2l_learner_loss_grad
     * with perturbed parameters (then set back).
     *
     * Step: a ReLU kink inside [theta - h, theta + h] would make the difference quotient
     * meaningless, so h is chosen so that no hidden pre-activation can change sign: moving
     * one first-layer weight by h moves a pre-activation by at most h * max|x| <= h, a bias
     * by h, and second-layer parameters do not touch them; so h <= margin / 2 suffices
     * (margin = smallest |pre-activation|, from the C reimplementation).
     *
     * Tolerance: the loss (~1.1) comes back as a float computed in float32, so each value
     * carries a rounding error of at most a few ulps, say e = 1e-6 (8 ulps at 1.1); the
     * difference quotient then errs by at most 2e / 2h = e / h. The truncation error of a
     * central difference is h^2 / 6 * |L'''| and the third derivatives of this small net's
     * cross-entropy with inputs in [-1, 1] and weights below 1 are O(1): bounded by h^2.
     * The library's gradient is a float32 result: relative 1e-3 covers its rounding. The
     * perturbations are measured as actually stored in float (theta +- h rounded). */
    double h = margin / 2 < 1e-2 ? margin / 2 : 1e-2;
    CHECKF(h >= 1e-2, "test precondition: ReLU margin %g too small for finite differences", margin);
    int bad = 0;
    double worst = 0;
    float q[NP];
    memcpy(q, p, sizeof p);
    for (int i = 0; i < NP; i++) {
        float plus = (float)(p[i] + h), minus = (float)(p[i] - h);
        float lp = 0, lm = 0;
        q[i] = plus;
        REQUIRE_OK(l2l_learner_set_params(l, q, NP));
        REQUIRE_OK(l2l_learner_loss_grad(l, x, y, NB, IN, &lp));
        q[i] = minus;
        REQUIRE_OK(l2l_learner_set_params(l, q, NP));
        REQUIRE_OK(l2l_learner_loss_grad(l, x, y, NB, IN, &lm));
        q[i] = p[i];
        double fd = ((double)lp - (double)lm) / ((double)plus - (double)minus);
        double tol = 1e-6 / h + h * h + 1e-3 * fabs(g[i]);
        double err = fabs(fd - g[i]);
        if (err > worst) worst = err;
        if (err > tol) {
            bad++;
            printf("  parameter %d: gradient %.7g, finite difference %.7g (tolerance %.2g)\n", i, g[i], fd, tol);
        }
    }
    CHECKF(bad == 0, "%d gradient entries differ from finite differences (h = %g, worst %g)", bad, h, worst);
    int nonzero = 0;
    for (int i = 0; i < NP; i++) nonzero += g[i] != 0;
    CHECKF(nonzero > NP / 2, "only %d non-zero gradient entries", nonzero);

    /* Errors change nothing: neither the loss out-parameter, nor the parameters, nor the
     * stored gradient. */
    REQUIRE_OK(l2l_learner_set_params(l, p, NP));
    REQUIRE_OK(l2l_learner_loss_grad(l, x, y, NB, IN, &loss));
    float g0[NP], after[NP];
    REQUIRE_OK(l2l_learner_get_grads(l, g0, NP, NULL));
    CHECK(floats_equal(g0, g, NP)); /* deterministic */
    float l_out = -3;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, y, NB, IN + 1, &l_out));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, y, NB, IN - 1, &l_out));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad", l2l_learner_loss_grad(NULL, x, y, NB, IN, &l_out));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, NULL, y, NB, IN, &l_out));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, NULL, NB, IN, &l_out));
    int32_t saved_label = y[2];
    y[2] = OUT;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, y, NB, IN, &l_out));
    y[2] = -1;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, y, NB, IN, &l_out));
    y[2] = saved_label;
    float saved_x = x[4];
    x[4] = NAN;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, y, NB, IN, &l_out));
    x[4] = -INFINITY;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, y, NB, IN, &l_out));
    x[4] = saved_x;
    CHECK(l_out == -3);
    REQUIRE_OK(l2l_learner_get_grads(l, after, NP, NULL));
    CHECK(floats_equal(after, g0, NP));
    REQUIRE_OK(l2l_learner_get_params(l, after, NP, NULL));
    CHECK(floats_equal(after, p, NP));

    /* set_params forgets the stored gradient. */
    EXPECT_OK(l2l_learner_set_params(l, p, NP));
    EXPECT_ERR(L2L_ERR_STATE, "l2l_learner_get_grads", l2l_learner_get_grads(l, g, NP, &count));
    l2l_learner_free(l);
}

static void test_evaluate(void) {
    section = "learner_evaluate";
    enum { N = 40 };
    float x[N * IN];
    int32_t y[N];
    make_batch(x, y, N);
    l2l_dataset *d = NULL;
    REQUIRE_OK(l2l_dataset_create(&d, x, y, N, IN, OUT));
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=5,4,3", 99));
    float p[NP];
    REQUIRE_OK(l2l_learner_get_params(l, p, NP, NULL));
    double logits[N * OUT];
    int correct = 0;
    ref_forward(SIZES, 2, p, x, N, ACT_RELU, logits, NULL);
    double loss_ref = ref_loss(logits, y, N, OUT, &correct);

    float loss = -1, acc = -1;
    EXPECT_OK(l2l_learner_evaluate(l, d, &loss, &acc));
    CHECKF(fabs(loss - loss_ref) <= 1e-5 * (1 + loss_ref), "loss %.9g, C reimplementation %.9g", loss, loss_ref);
    /* An argmax tie is impossible here in practice; accuracy is a ratio of counts. */
    CHECKF(fabs(acc - (double)correct / N) < 1e-6, "accuracy %g, C reimplementation %g", acc, (double)correct / N);
    float acc2 = -1;
    EXPECT_OK(l2l_learner_evaluate(l, d, NULL, &acc2));
    CHECK(acc2 == acc);
    EXPECT_OK(l2l_learner_evaluate(l, d, NULL, NULL));

    /* A data set with other features, or more classes than the learner scores. */
    l2l_dataset *wrong = NULL;
    REQUIRE_OK(l2l_dataset_create(&wrong, x, y, N, IN - 1, OUT));
    loss = acc = -1;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_evaluate", l2l_learner_evaluate(l, wrong, &loss, &acc));
    l2l_dataset_free(wrong);
    REQUIRE_OK(l2l_dataset_create(&wrong, x, y, N, IN, OUT + 2));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_evaluate", l2l_learner_evaluate(l, wrong, &loss, &acc));
    l2l_dataset_free(wrong);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_evaluate", l2l_learner_evaluate(NULL, d, &loss, &acc));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_evaluate", l2l_learner_evaluate(l, NULL, &loss, &acc));
    CHECK(loss == -1 && acc == -1);
    l2l_learner_free(l);
    l2l_dataset_free(d);
}

/* ---------------------------------------------------------------------------------- */
/* Optimisers                                                                          */
/* ---------------------------------------------------------------------------------- */

static void test_optimizer(void) {
    section = "optimizer";
    l2l_optimizer *o = NULL;
    EXPECT_OK(l2l_optimizer_create(&o, "sgd", "lr=0.1"));
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=5,4,3", 77));
    if (o == NULL) return;

    /* A step before any gradient. */
    float p0[NP], p1[NP], g[NP];
    REQUIRE_OK(l2l_learner_get_params(l, p0, NP, NULL));
    EXPECT_ERR(L2L_ERR_STATE, "l2l_optimizer_step", l2l_optimizer_step(o, l));
    REQUIRE_OK(l2l_learner_get_params(l, p1, NP, NULL));
    CHECK(floats_equal(p0, p1, NP));

    float x[NB * IN];
    int32_t y[NB];
    make_batch(x, y, NB);
    float loss;
    REQUIRE_OK(l2l_learner_loss_grad(l, x, y, NB, IN, &loss));
    REQUIRE_OK(l2l_learner_get_grads(l, g, NP, NULL));
    EXPECT_OK(l2l_optimizer_step(o, l));
    REQUIRE_OK(l2l_learner_get_params(l, p1, NP, NULL));
    /* theta - lr * g, computed in float as the header writes it: lr * g rounded, then the
     * difference rounded. A kernel that fuses the two (one rounding) may differ by one ulp;
     * anything more is a wrong update. */
    int exact = 0, bad = 0;
    for (int i = 0; i < NP; i++) {
        volatile float step = 0.1f * g[i];
        volatile float want = p0[i] - step;
        if (p1[i] == want) {
            exact++;
        } else if (!(fabsf(p1[i] - want) <= nextafterf(fabsf(want), INFINITY) - fabsf(want))) {
            bad++;
            printf("  parameter %d: %.9g after the step, expected %.9g\n", i, p1[i], (float)want);
        }
    }
    CHECKF(bad == 0, "%d parameters are not theta - lr * g (%d bit-exact)", bad, exact);
    /* The step used up the gradient. */
    EXPECT_ERR(L2L_ERR_STATE, "l2l_optimizer_step", l2l_optimizer_step(o, l));
    EXPECT_ERR(L2L_ERR_STATE, "l2l_learner_get_grads", l2l_learner_get_grads(l, g, NP, NULL));
    REQUIRE_OK(l2l_learner_get_params(l, p0, NP, NULL));
    CHECK(floats_equal(p0, p1, NP));

    /* The optimiser is tied to the first learner's shapes until reset. */
    l2l_learner *other = NULL;
    REQUIRE_OK(l2l_learner_create(&other, "mlp", "sizes=2,3,2", 1));
    float xo[4] = {0.5f, -0.5f, 1, 0};
    int32_t yo[2] = {0, 1};
    float po[9 + 8], po2[9 + 8];
    REQUIRE_OK(l2l_learner_get_params(other, po, 17, NULL));
    REQUIRE_OK(l2l_learner_loss_grad(other, xo, yo, 2, 2, &loss));
    l2l_status s = l2l_optimizer_step(o, other);
    CHECKF(s == L2L_ERR_SHAPE, "a step on a learner of other shapes gave %d (%s)", (int)s, l2l_status_string(s));
    REQUIRE_OK(l2l_learner_get_params(other, po2, 17, NULL));
    CHECK(floats_equal(po, po2, 17));
    EXPECT_OK(l2l_optimizer_reset(o));
    REQUIRE_OK(l2l_learner_loss_grad(other, xo, yo, 2, 2, &loss));
    EXPECT_OK(l2l_optimizer_step(o, other));
    REQUIRE_OK(l2l_learner_get_params(other, po2, 17, NULL));
    CHECK(!floats_equal(po, po2, 17));
    l2l_learner_free(other);

    /* lr=0 leaves the parameters exactly as they were. */
    l2l_optimizer *zero = NULL;
    EXPECT_OK(l2l_optimizer_create(&zero, "sgd", "lr=0"));
    REQUIRE_OK(l2l_learner_loss_grad(l, x, y, NB, IN, &loss));
    EXPECT_OK(l2l_optimizer_step(zero, l));
    REQUIRE_OK(l2l_learner_get_params(l, p1, NP, NULL));
    CHECK(floats_equal(p0, p1, NP));
    l2l_optimizer_free(zero);

    /* The default lr is 0.01. */
    l2l_optimizer *def = NULL;
    EXPECT_OK(l2l_optimizer_create(&def, "sgd", NULL));
    REQUIRE_OK(l2l_learner_loss_grad(l, x, y, NB, IN, &loss));
    REQUIRE_OK(l2l_learner_get_grads(l, g, NP, NULL));
    EXPECT_OK(l2l_optimizer_step(def, l));
    REQUIRE_OK(l2l_learner_get_params(l, p1, NP, NULL));
    bad = 0;
    for (int i = 0; i < NP; i++) {
        volatile float step = 0.01f * g[i];
        volatile float want = p0[i] - step;
        if (fabsf(p1[i] - want) > 1e-7f * (1 + fabsf(want))) bad++;
    }
    CHECKF(bad == 0, "default lr: %d parameters are not theta - 0.01 * g", bad);
    l2l_optimizer_free(def);

    section = "optimizer errors";
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_step", l2l_optimizer_step(NULL, l));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_step", l2l_optimizer_step(o, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_reset", l2l_optimizer_reset(NULL));
    l2l_optimizer *bad_o = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create", l2l_optimizer_create(NULL, "sgd", NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create", l2l_optimizer_create(&bad_o, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create", l2l_optimizer_create(&bad_o, "adamw", NULL));
    const char *bad_options[] = {"lr=-0.1", "lr=nan", "lr=inf", "lr=1e39", "lr=fast", "lr=", "lr",
                                 "lr=0.1 speed=0.9", "lr=0.1;lr=0.2"};
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        prime_last_error("l2l_optimizer_create");
        s = l2l_optimizer_create(&bad_o, "sgd", bad_options[i]);
        CHECKF(s == L2L_ERR_INVALID_ARGUMENT, "sgd options \"%s\" gave %d", bad_options[i], (int)s);
        CHECK(names_function(l2l_last_error(), "l2l_optimizer_create"));
    }
    CHECK(bad_o == SENTINEL);
    l2l_optimizer_free(o);
    l2l_learner_free(l);
}

/* ---------------------------------------------------------------------------------- */
/* Training                                                                            */
/* ---------------------------------------------------------------------------------- */

enum { TN = 64, TSTEPS = 120 };

/* Two classes separated by the line x0 + x1 = 0, no point closer to it than 0.3. */
static l2l_dataset *separable_dataset(void) {
    float x[TN * 2];
    int32_t y[TN];
    for (int i = 0; i < TN; i++) {
        float a, b;
        do {
            a = uniform(-2, 2);
            b = uniform(-2, 2);
        } while (fabsf(a + b) < 0.3f * 1.4142f);
        x[2 * i] = a, x[2 * i + 1] = b;
        y[i] = a + b > 0;
    }
    l2l_dataset *d = NULL;
    REQUIRE_OK(l2l_dataset_create(&d, x, y, TN, 2, 2));
    return d;
}

struct progress_log {
    int64_t calls, cancel_at, last_step, bad_total;
    float losses[TSTEPS];
};

static int on_progress(void *user, int64_t step, int64_t total, float loss) {
    struct progress_log *log = user;
    log->calls++;
    if (step != log->last_step + 1) log->bad_total++;
    log->last_step = step;
    if (total != TSTEPS) log->bad_total++;
    if (step >= 1 && step <= TSTEPS) log->losses[step - 1] = loss;
    return log->cancel_at > 0 && step >= log->cancel_at;
}

/* Trains a fresh 2-8-2 net for `steps` steps; returns its parameters (17+... floats) and
 * losses; the status of l2l_train. */
static l2l_status train_fresh(l2l_dataset *d, uint64_t seed, int64_t steps, float *params, float *losses,
                              struct progress_log *log) {
    l2l_learner *l = NULL;
    l2l_optimizer *o = NULL;
    l2l_batches *b = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=2,8,2", seed));
    REQUIRE_OK(l2l_optimizer_create(&o, "sgd", "lr=0.5"));
    REQUIRE_OK(l2l_batches_create(&b, d, 16, seed + 1, NULL));
    l2l_status s = l2l_train(l, o, b, steps, losses, log ? on_progress : NULL, log);
    REQUIRE_OK(l2l_learner_get_params(l, params, 2 * 8 + 8 + 8 * 2 + 2, NULL));
    l2l_learner_free(l);
    l2l_optimizer_free(o);
    l2l_batches_free(b);
    return s;
}

static void test_train(void) {
    section = "train";
    enum { P = 2 * 8 + 8 + 8 * 2 + 2 };
    l2l_dataset *d = separable_dataset();

    l2l_learner *l = NULL;
    l2l_optimizer *o = NULL;
    l2l_batches *b = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=2,8,2", 5));
    REQUIRE_OK(l2l_optimizer_create(&o, "sgd", "lr=0.5"));
    REQUIRE_OK(l2l_batches_create(&b, d, 16, 6, NULL));
    float before = 0, after = 0, acc_before = 0, acc = 0;
    REQUIRE_OK(l2l_learner_evaluate(l, d, &before, &acc_before));
    float losses[TSTEPS];
    for (int i = 0; i < TSTEPS; i++) losses[i] = -1;
    struct progress_log log = {0, 0, 0, 0, {0}};
    EXPECT_OK(l2l_train(l, o, b, TSTEPS, losses, on_progress, &log));
    EXPECT_OK(l2l_learner_evaluate(l, d, &after, &acc));
    CHECKF(after < 0.5f * before && acc >= 0.95f, "training: loss %g -> %g, accuracy %g -> %g", before, after,
           acc_before, acc);
    double first = 0, last = 0;
    int finite = 1;
    for (int i = 0; i < 10; i++) first += losses[i], last += losses[TSTEPS - 10 + i];
    for (int i = 0; i < TSTEPS; i++) finite &= isfinite(losses[i]) && losses[i] >= 0;
    CHECK(finite);
    CHECKF(last < 0.5 * first, "mean loss of the first 10 steps %g, of the last 10 %g", first / 10, last / 10);
    CHECKF(log.calls == TSTEPS && log.bad_total == 0, "progress: %lld calls, %lld bad arguments",
           (long long)log.calls, (long long)log.bad_total);
    CHECK(memcmp(log.losses, losses, sizeof losses) == 0);
    /* Without losses or a callback, and for zero steps. */
    EXPECT_OK(l2l_train(l, o, b, 3, NULL, NULL, NULL));
    EXPECT_OK(l2l_train(l, o, b, 0, NULL, NULL, NULL));

    /* Same seeds, same parameters and losses. */
    float pa[P], pb[P], la[TSTEPS], lb[TSTEPS];
    EXPECT_OK(train_fresh(d, 8, 40, pa, la, NULL));
    EXPECT_OK(train_fresh(d, 8, 40, pb, lb, NULL));
    CHECK(floats_equal(pa, pb, P));
    CHECK(floats_equal(la, lb, 40));
    EXPECT_OK(train_fresh(d, 9, 40, pb, lb, NULL));
    CHECK(!floats_equal(pa, pb, P));

    /* A callback that cancels after step 3 of TSTEPS: L2L_ERR_CANCELLED, the losses of the
     * three completed steps written and nothing after them, and the parameters those of
     * three steps of training. */
    float lc[TSTEPS], p3[P], l3[3];
    for (int i = 0; i < TSTEPS; i++) lc[i] = -1;
    struct progress_log cancel = {0, 3, 0, 0, {0}};
    prime_last_error("l2l_train");
    l2l_status s = train_fresh(d, 8, TSTEPS, pb, lc, &cancel);
    CHECKF(s == L2L_ERR_CANCELLED, "cancelling gave %d (%s)", (int)s, l2l_status_string(s));
    CHECKF(names_function(l2l_last_error(), "l2l_train"), "last error \"%s\"", l2l_last_error());
    CHECK(cancel.calls == 3);
    CHECK(isfinite(lc[0]) && isfinite(lc[1]) && isfinite(lc[2]) && lc[0] >= 0 && lc[1] >= 0 && lc[2] >= 0);
    CHECK(all_equal_to(lc + 3, TSTEPS - 3, -1));
    CHECK(floats_equal(lc, la, 3)); /* the first three losses of the seed-8 run */
    EXPECT_OK(train_fresh(d, 8, 3, p3, l3, NULL));
    CHECK(floats_equal(pb, p3, P));

    /* Divergence. A linear 2-2 model from zero parameters on x = (10, 10) labelled 0 and
     * (-10, -10) labelled 1 has the gradient -5 / +5 for the weights of class 0 / 1 and 0
     * for the biases, so one SGD step of lr 1e37 gives weights of +-5e37 (finite), and the
     * second step's logits overflow (10 * 5e37 * 2 > FLT_MAX): its loss is not finite. The
     * call must stop with L2L_ERR_NON_FINITE, keeping the parameters of after step 1. */
    {
        float xd[4] = {10, 10, -10, -10}, zeros[6] = {0}, pd[6], p1[6], ld[5] = {-1, -1, -1, -1, -1}, l1[1];
        int32_t yd[2] = {0, 1};
        l2l_dataset *dd = NULL;
        REQUIRE_OK(l2l_dataset_create(&dd, xd, yd, 2, 2, 2));
        for (int run = 0; run < 2; run++) {
            l2l_learner *ll = NULL;
            l2l_optimizer *oo = NULL;
            l2l_batches *bb = NULL;
            REQUIRE_OK(l2l_learner_create(&ll, "mlp", "sizes=2,2", 0));
            REQUIRE_OK(l2l_learner_set_params(ll, zeros, 6));
            REQUIRE_OK(l2l_optimizer_create(&oo, "sgd", "lr=1e37"));
            REQUIRE_OK(l2l_batches_create(&bb, dd, 2, 0, "shuffle=0"));
            if (run == 0) {
                EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_train", l2l_train(ll, oo, bb, 5, ld, NULL, NULL));
                REQUIRE_OK(l2l_learner_get_params(ll, pd, 6, NULL));
            } else {
                EXPECT_OK(l2l_train(ll, oo, bb, 1, l1, NULL, NULL));
                REQUIRE_OK(l2l_learner_get_params(ll, p1, 6, NULL));
            }
            l2l_learner_free(ll);
            l2l_optimizer_free(oo);
            l2l_batches_free(bb);
        }
        l2l_dataset_free(dd);
        CHECKF(fabsf(ld[0] - 0.6931472f) < 1e-6f, "first loss %g, expected ln 2", ld[0]);
        CHECK(all_equal_to(ld + 2, 3, -1)); /* steps never taken wrote nothing */
        CHECK(floats_equal(pd, p1, 6));
        int finite = 1;
        for (int i = 0; i < 6; i++) finite &= isfinite(pd[i]) != 0;
        CHECKF(finite && fabsf(pd[0] - 5e37f) <= 1e31f && fabsf(pd[1] + 5e37f) <= 1e31f,
               "parameters after divergence %g %g %g %g %g %g", pd[0], pd[1], pd[2], pd[3], pd[4], pd[5]);
    }

    section = "train errors";
    l2l_learner *wrong = NULL;
    REQUIRE_OK(l2l_learner_create(&wrong, "mlp", "sizes=3,8,2", 5));
    float pw[3 * 8 + 8 + 8 * 2 + 2], pw2[3 * 8 + 8 + 8 * 2 + 2];
    REQUIRE_OK(l2l_learner_get_params(wrong, pw, 3 * 8 + 8 + 8 * 2 + 2, NULL));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_train", l2l_train(wrong, o, b, 5, NULL, NULL, NULL));
    REQUIRE_OK(l2l_learner_get_params(wrong, pw2, 3 * 8 + 8 + 8 * 2 + 2, NULL));
    CHECK(floats_equal(pw, pw2, 3 * 8 + 8 + 8 * 2 + 2));
    l2l_learner_free(wrong);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_train", l2l_train(NULL, o, b, 5, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_train", l2l_train(l, NULL, b, 5, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_train", l2l_train(l, o, NULL, 5, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_train", l2l_train(l, o, b, -1, NULL, NULL, NULL));

    l2l_learner_free(l);
    l2l_optimizer_free(o);
    l2l_batches_free(b);
    l2l_dataset_free(d);
}

/* Inputs that once crashed the host or let NaN through: each must now be a clean error
 * that changes nothing. */
/* Hessian-free optimisers: the same doors as the others (train, step, errors). */
static void test_hessian_free(void) {
    section = "hessian-free";
    enum { P = 2 * 8 + 8 + 8 * 2 + 2 };
    l2l_dataset *d = separable_dataset();
    const char *kinds[] = {"hf_fixed", "hf_lm"};
    for (int k = 0; k < 2; k++) {
        l2l_learner *l = NULL;
        l2l_optimizer *o = NULL;
        l2l_batches *b = NULL;
        REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=2,8,2", 5));
        EXPECT_OK(l2l_optimizer_create(&o, kinds[k], "cg_iters=5"));
        REQUIRE_OK(l2l_batches_create(&b, d, 16, 6, NULL));
        if (o == NULL) return;
        float before = 0, after = 0, acc = 0;
        REQUIRE_OK(l2l_learner_evaluate(l, d, &before, NULL));
        float losses[20];
        EXPECT_OK(l2l_train(l, o, b, 20, losses, NULL, NULL));
        EXPECT_OK(l2l_learner_evaluate(l, d, &after, &acc));
        CHECKF(after < 0.5f * before && acc >= 0.9f, "%s: loss %g -> %g, accuracy %g", kinds[k], before, after, acc);

        /* One step by hand: it uses the batch of the last loss_grad, then forgets it. */
        float x[2 * 16], p0[P], p1[P], loss = 0;
        int32_t y[16];
        for (int i = 0; i < 16; i++) {
            x[2 * i] = uniform(-2, 2), x[2 * i + 1] = uniform(-2, 2);
            y[i] = x[2 * i] + x[2 * i + 1] > 0;
        }
        REQUIRE_OK(l2l_learner_get_params(l, p0, P, NULL));
        EXPECT_ERR(L2L_ERR_STATE, "l2l_optimizer_step", l2l_optimizer_step(o, l));
        REQUIRE_OK(l2l_learner_loss_grad(l, x, y, 16, 2, &loss));
        EXPECT_OK(l2l_optimizer_step(o, l));
        REQUIRE_OK(l2l_learner_get_params(l, p1, P, NULL));
        CHECK(!floats_equal(p0, p1, P));
        EXPECT_ERR(L2L_ERR_STATE, "l2l_optimizer_step", l2l_optimizer_step(o, l));
        /* Tied to the learner's shapes until reset, as any optimiser. */
        l2l_learner *other = NULL;
        REQUIRE_OK(l2l_learner_create(&other, "mlp", "sizes=2,3,2", 1));
        REQUIRE_OK(l2l_learner_loss_grad(other, x, y, 16, 2, &loss));
        EXPECT_ERR(L2L_ERR_SHAPE, "l2l_optimizer_step", l2l_optimizer_step(o, other));
        EXPECT_OK(l2l_optimizer_reset(o));
        EXPECT_OK(l2l_optimizer_step(o, other));
        l2l_learner_free(other);
        l2l_learner_free(l);
        l2l_optimizer_free(o);
        l2l_batches_free(b);
    }

    /* Bad options are clear errors, never a crash. */
    const char *bad[][2] = {{"hf_fixed", "lambda=0"}, {"hf_fixed", "lr=-1"}, {"hf_fixed", "cg_iters=0"},
                            {"hf_fixed", "warm_start=1.5"}, {"hf_fixed", "decay=0.5"}, {"hf_fixed", "bogus=1"},
                            {"hf_lm", "decay=1"}, {"hf_lm", "lambda=5"}, {"hf_lm", "lambda_min=0.5 lambda_max=0.1"},
                            {"hf_lm", "tol=-1"}, {"hf_lm", "cg_iters=many"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        l2l_optimizer *bad_o = SENTINEL;
        prime_last_error("l2l_optimizer_create");
        l2l_status s = l2l_optimizer_create(&bad_o, bad[i][0], bad[i][1]);
        CHECKF(s == L2L_ERR_INVALID_ARGUMENT, "%s options \"%s\" gave %d", bad[i][0], bad[i][1], (int)s);
        CHECK(names_function(l2l_last_error(), "l2l_optimizer_create"));
        CHECK(bad_o == SENTINEL);
    }
    l2l_dataset_free(d);
}

static void test_hostile_inputs(void) {
    section = "hostile inputs";
    l2l_learner *l = SENTINEL;
    /* Each width is plausible; the 2^48-element product is not. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create",
               l2l_learner_create(&l, "mlp", "sizes=16777216,16777216", 1));
    CHECK(l == SENTINEL);
    l2l_dataset *d = SENTINEL;
    float one = 0;
    int32_t lab = 0;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create", l2l_dataset_create(&d, &one, &lab, 1LL << 39, 1LL << 39, 2));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_create", l2l_dataset_create(&d, &one, &lab, 1LL << 30, 1LL << 10, 2));
    CHECK(d == SENTINEL);
    /* A directory is not a readable file. */
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load_idx", l2l_dataset_load_idx(&d, "/tmp", "/tmp"));

    /* Finite inputs whose logits overflow: the loss is not finite, so no gradient. */
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=2,1,2", 1));
    const float p[7] = {1, 1, 0, 1, 1, 0, 0};
    REQUIRE_OK(l2l_learner_set_params(l, p, 7));
    const float huge[2] = {3e38f, 3e38f};
    const int32_t y[1] = {0};
    float loss = -7;
    int64_t n = 0;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, huge, y, 1, 2, &loss));
    CHECK(loss == -7);
    EXPECT_ERR(L2L_ERR_STATE, "l2l_learner_get_grads", l2l_learner_get_grads(l, NULL, 0, &n));
    l2l_dataset *bad = NULL;
    REQUIRE_OK(l2l_dataset_create(&bad, huge, y, 1, 2, 2));
    float acc = -1;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_evaluate", l2l_learner_evaluate(l, bad, &loss, &acc));
    CHECK(acc == -1);
    l2l_dataset_free(bad);
    l2l_learner_free(l);

    /* An SGD step that overflows the parameters is refused and changes nothing. */
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=2,2", 1));
    const float zeros[6] = {0, 0, 0, 0, 0, 0};
    REQUIRE_OK(l2l_learner_set_params(l, zeros, 6));
    const float x[4] = {10, 10, -10, -10};
    const int32_t y2[2] = {0, 1};
    l2l_optimizer *o = NULL;
    REQUIRE_OK(l2l_optimizer_create(&o, "sgd", "lr=1e38"));
    REQUIRE_OK(l2l_learner_loss_grad(l, x, y2, 2, 2, &loss));
    /* |gradient| = 5 for the weights, so lr * 5 overflows Float. */
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_optimizer_step", l2l_optimizer_step(o, l));
    float after[6];
    REQUIRE_OK(l2l_learner_get_params(l, after, 6, NULL));
    CHECK(memcmp(zeros, after, sizeof after) == 0);
    l2l_optimizer_free(o);
    l2l_learner_free(l);
}

/* The convolutional learners through the same calls as the MLP. */
static void test_conv_learners(void) {
    section = "conv learners";
    l2l_learner *l = NULL;
    int64_t np = 0, nt = 0, nf = 0, nc = 0;
    REQUIRE_OK(l2l_learner_create(&l, "resnet", NULL, 1));
    EXPECT_OK(l2l_learner_info(l, &np, &nt, &nf, &nc));
    CHECK(np == 269722 && nf == 3 * 32 * 32 && nc == 10);   /* ResNet20 */
    l2l_param_info info;
    EXPECT_OK(l2l_learner_param_info(l, 1, &info));
    CHECK(info.kind == L2L_PARAM_BN_GAMMA && info.rank == 1 && info.shape[0] == 16);
    l2l_learner_free(l);

    REQUIRE_OK(l2l_learner_create(&l, "convnet", NULL, 1));
    EXPECT_OK(l2l_learner_info(l, &np, NULL, &nf, NULL));
    CHECK(np == 832 + 51264 + 401536 + 1290 && nf == 784);
    l2l_learner_free(l);

    /* A tiny convnet trains: its loss falls on a fixed batch. */
    REQUIRE_OK(l2l_learner_create(&l, "convnet", "input=1,6,6 channels=2 kernel=3 hidden=4 classes=2", 3));
    float x[8 * 36];
    int32_t y[8];
    for (int i = 0; i < 8; i++) {
        y[i] = i % 2;
        for (int j = 0; j < 36; j++) x[i * 36 + j] = (float)(uniform01() - 0.5) + (y[i] ? 0.5f : -0.5f);
    }
    l2l_optimizer *o = NULL;
    REQUIRE_OK(l2l_optimizer_create(&o, "momentum", "lr=0.05"));
    float first = 0, loss = 0;
    for (int step = 0; step < 30; step++) {
        REQUIRE_OK(l2l_learner_loss_grad(l, x, y, 8, 36, &loss));
        if (step == 0) first = loss;
        REQUIRE_OK(l2l_optimizer_step(o, l));
    }
    CHECKF(loss < 0.5f * first, "convnet loss %g after 30 steps, %g at first", loss, first);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(&l, "convnet", "kernel=4", 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(&l, "resnet", "stages=16,31", 1));
    /* Issue 14: a 1 x 1 input was accepted with the default stages, which halve it twice. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create", l2l_learner_create(&l, "resnet", "input=3,1,1", 1));
    l2l_optimizer_free(o);
    l2l_learner_free(l);
}

/* ---------------------------------------------------------------------------------- */
/* Learned optimisers, meta-training and meta-testing                                   */
/* ---------------------------------------------------------------------------------- */

/* The learner of these tests: a 2-8-2 MLP (the separable set's), 50 parameters in 4 tensors. */
enum { LP = 2 * 8 + 8 + 8 * 2 + 2 };
static const char *const LEARNER_OPTIONS = "sizes=2,8,2";

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The whole file at `path` (malloc'd, *n bytes), or NULL. */
static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    long size = file_size(path);
    unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
    *n = size > 0 ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    return buf;
}

static void write_path(const char *path, const unsigned char *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        printf("FATAL: cannot write %s\n", path);
        exit(1);
    }
}

/* Whether `n` bytes at `p` contain the string `s`. */
static int contains(const unsigned char *p, size_t n, const char *s) {
    size_t m = strlen(s);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(p + i, s, m) == 0) return 1;
    return 0;
}

static l2l_learned *make_learned(const char *kind, const char *options, const l2l_learner *learner, uint64_t seed) {
    l2l_learned *h = NULL;
    REQUIRE_OK(l2l_learned_create(&h, kind, options, learner, seed));
    return h;
}

static void test_learned_create(void) {
    section = "learned create/info/describe";
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));

    /* Meta-SGD: one rate per learner parameter, all starting at lr. */
    l2l_learned *m = NULL;
    EXPECT_OK(l2l_learned_create(&m, "meta_sgd", "lr=0.05", l, 1));
    int64_t np = -1, nt = -1, n = -1;
    EXPECT_OK(l2l_learned_info(m, &np, &nt));
    CHECKF(np == LP && nt == 4, "meta_sgd: %lld meta-parameters in %lld tensors", (long long)np, (long long)nt);
    EXPECT_OK(l2l_learned_info(m, NULL, NULL));
    float phi[LP];
    EXPECT_OK(l2l_learned_get_meta(m, NULL, 0, &n));
    CHECK(n == LP);
    EXPECT_OK(l2l_learned_get_meta(m, phi, LP, &n));
    CHECK(all_equal_to(phi, LP, 0.05f));
    char kind[16], options[256];
    EXPECT_OK(l2l_learned_describe(m, kind, sizeof kind, options, sizeof options));
    CHECKF(strcmp(kind, "meta_sgd") == 0 && strstr(options, "lr=0.05") != NULL, "describe: \"%s\" \"%s\"", kind, options);
    EXPECT_OK(l2l_learned_describe(m, NULL, 0, options, sizeof options));
    EXPECT_OK(l2l_learned_describe(m, kind, sizeof kind, NULL, 0));

    /* The LSTM optimiser fits any learner: no learner needed; phi drawn from the seed. */
    l2l_learned *a = NULL, *b = NULL, *c = NULL;
    EXPECT_OK(l2l_learned_create(&a, "lstm", NULL, NULL, 7));
    EXPECT_OK(l2l_learned_create(&b, "lstm", "preset=paper", NULL, 7));
    EXPECT_OK(l2l_learned_create(&c, "lstm", NULL, l, 8));
    int64_t na = 0, nb = 0, nc = 0, ta = 0;
    EXPECT_OK(l2l_learned_info(a, &na, &ta));
    EXPECT_OK(l2l_learned_info(b, &nb, NULL));
    EXPECT_OK(l2l_learned_info(c, &nc, NULL));
    CHECKF(na > 1000 && na == nb && na == nc && ta >= 6, "lstm: %lld, %lld, %lld meta-parameters, %lld tensors",
           (long long)na, (long long)nb, (long long)nc, (long long)ta);
    float *pa = malloc(sizeof(float) * (size_t)na), *pb = malloc(sizeof(float) * (size_t)na),
          *pc = malloc(sizeof(float) * (size_t)na);
    EXPECT_OK(l2l_learned_get_meta(a, pa, na, NULL));
    EXPECT_OK(l2l_learned_get_meta(b, pb, na, NULL));
    EXPECT_OK(l2l_learned_get_meta(c, pc, na, NULL));
    CHECK(floats_equal(pa, pb, na));  /* same seed, same phi */
    CHECK(!floats_equal(pa, pc, na)); /* another seed */
    EXPECT_OK(l2l_learned_describe(a, kind, sizeof kind, options, sizeof options));
    CHECKF(strcmp(kind, "lstm") == 0 && strncmp(options, "preset=paper", 12) == 0, "lstm: \"%s\" \"%s\"", kind, options);
    l2l_learned *mt = NULL;
    EXPECT_OK(l2l_learned_create(&mt, "lstm", "preset=mtl2l", NULL, 7));
    int64_t nm = 0;
    EXPECT_OK(l2l_learned_info(mt, &nm, NULL));
    CHECKF(nm > 0 && nm < na, "mtl2l preset: %lld meta-parameters (paper: %lld)", (long long)nm, (long long)na);
    l2l_learned_free(mt);
    l2l_learned_free(b);
    l2l_learned_free(c);
    free(pb);
    free(pc);

    /* DMSGD and M2SGD: a coordinate-wise LSTM plus per-parameter beta_static. */
    l2l_learned *d = NULL, *d2 = NULL;
    EXPECT_OK(l2l_learned_create(&d, "dmsgd", "hidden=4", l, 3));
    EXPECT_OK(l2l_learned_create(&d2, "m2sgd", "hidden=4 xi=0.1 mask_during=both", l, 3));
    int64_t nd = 0, nd2 = 0;
    EXPECT_OK(l2l_learned_info(d, &nd, NULL));
    EXPECT_OK(l2l_learned_info(d2, &nd2, NULL));
    CHECKF(nd > LP && nd == nd2, "dmsgd %lld, m2sgd %lld meta-parameters", (long long)nd, (long long)nd2);
    EXPECT_OK(l2l_learned_describe(d2, kind, sizeof kind, options, sizeof options));
    CHECKF(strcmp(kind, "m2sgd") == 0 && strstr(options, "mask_during=both") != NULL, "m2sgd: \"%s\"", options);
    l2l_learned_free(d);
    l2l_learned_free(d2);

    section = "learned errors";
    l2l_learned *bad = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(NULL, "lstm", NULL, NULL, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, NULL, NULL, NULL, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "lstm2", NULL, NULL, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "lstm", "bogus=1", NULL, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "lstm", "preset=huge", NULL, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "meta_sgd", "lr=fast", l, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "m2sgd", "xi=-1", l, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "meta_sgd", NULL, NULL, 0));
    CHECKF(strstr(l2l_last_error(), "learner") != NULL, "a missing learner: \"%s\"", l2l_last_error());
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "dmsgd", NULL, NULL, 0));
    /* A handle of another kind where a learner is expected. */
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create",
               l2l_learned_create(&bad, "meta_sgd", NULL, (const l2l_learner *)(void *)a, 0));
    CHECK(bad == SENTINEL);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_info", l2l_learned_info(NULL, &np, &nt));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_info", l2l_learned_info((const l2l_learned *)(void *)l, &np, &nt));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_describe", l2l_learned_describe(NULL, kind, 16, NULL, 0));

    /* Small buffers: BUFFER_TOO_SMALL, nothing written. */
    memset(kind, 'x', sizeof kind);
    memset(options, 'x', sizeof options);
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_learned_describe", l2l_learned_describe(m, kind, 8, options, sizeof options));
    CHECK(kind[0] == 'x' && options[0] == 'x');
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_learned_describe", l2l_learned_describe(m, kind, sizeof kind, options, 4));
    CHECK(kind[0] == 'x' && options[0] == 'x');
    EXPECT_OK(l2l_learned_describe(m, kind, 9, NULL, 0)); /* "meta_sgd" and its NUL fit exactly */
    CHECK(strcmp(kind, "meta_sgd") == 0);
    float small[LP];
    for (int i = 0; i < LP; i++) small[i] = -1;
    n = -1;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_learned_get_meta", l2l_learned_get_meta(m, small, LP - 1, &n));
    CHECK(n == LP && all_equal_to(small, LP, -1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_get_meta", l2l_learned_get_meta(m, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_get_meta", l2l_learned_get_meta(NULL, phi, LP, &n));

    section = "learned set_meta";
    float values[LP];
    for (int i = 0; i < LP; i++) values[i] = 0.001f * (float)(i + 1);
    EXPECT_OK(l2l_learned_set_meta(m, values, LP));
    EXPECT_OK(l2l_learned_get_meta(m, phi, LP, NULL));
    CHECK(floats_equal(phi, values, LP));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learned_set_meta", l2l_learned_set_meta(m, values, LP - 1));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learned_set_meta", l2l_learned_set_meta(m, values, LP + 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_set_meta", l2l_learned_set_meta(m, values, -1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_set_meta", l2l_learned_set_meta(m, NULL, LP));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_set_meta", l2l_learned_set_meta(NULL, values, LP));
    float poisoned[LP];
    memcpy(poisoned, values, sizeof poisoned);
    for (int i = 0; i < LP; i++) poisoned[i] *= 2;
    poisoned[17] = NAN;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learned_set_meta", l2l_learned_set_meta(m, poisoned, LP));
    poisoned[17] = INFINITY;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learned_set_meta", l2l_learned_set_meta(m, poisoned, LP));
    EXPECT_OK(l2l_learned_get_meta(m, phi, LP, NULL));
    CHECK(floats_equal(phi, values, LP)); /* nothing changed */
    /* The LSTM optimiser's phi round-trips too. */
    for (int64_t i = 0; i < na; i++) pa[i] = (float)((i % 13) - 6) * 0.01f;
    EXPECT_OK(l2l_learned_set_meta(a, pa, na));
    float *back = malloc(sizeof(float) * (size_t)na);
    EXPECT_OK(l2l_learned_get_meta(a, back, na, NULL));
    CHECK(floats_equal(pa, back, na));
    free(back);
    free(pa);

    l2l_learned_free(a);
    l2l_learned_free(m);
    l2l_learner_free(l);
}

/* One gradient step of `o` on a fresh 2-8-2 learner (seed 11) on a fixed batch; returns the
 * parameters before and after and the gradient. */
static void one_step(l2l_optimizer *o, float *before, float *after, float *grad) {
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 11));
    float x[8 * 2] = {1, 0.5f, -1, 0.25f, 0.3f, -0.7f, -0.2f, -0.9f, 0.8f, 0.8f, -0.5f, 0.1f, 0.6f, -0.1f, -1, -1};
    int32_t y[8] = {1, 0, 0, 0, 1, 0, 1, 0};
    float loss;
    REQUIRE_OK(l2l_learner_get_params(l, before, LP, NULL));
    REQUIRE_OK(l2l_learner_loss_grad(l, x, y, 8, 2, &loss));
    if (grad != NULL) REQUIRE_OK(l2l_learner_get_grads(l, grad, LP, NULL));
    REQUIRE_OK(l2l_optimizer_step(o, l));
    REQUIRE_OK(l2l_learner_get_params(l, after, LP, NULL));
    l2l_learner_free(l);
}

static void test_learned_files(void) {
    section = "learned save/load";
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));
    l2l_learned *m = make_learned("meta_sgd", "lr=0.02", l, 1);
    float values[LP];
    for (int i = 0; i < LP; i++) values[i] = 0.01f + 0.003f * (float)(i % 7) - 0.001f * (float)(i % 3);
    REQUIRE_OK(l2l_learned_set_meta(m, values, LP));
    char path[512], lstm_path[512], bad_path[512];
    path_in_tmp(path, sizeof path, "meta_sgd.safetensors");
    path_in_tmp(lstm_path, sizeof lstm_path, "lstm.safetensors");
    path_in_tmp(bad_path, sizeof bad_path, "bad.safetensors");
    EXPECT_OK(l2l_learned_save(m, path));
    CHECK(file_size(path) > 8 + LP * 4);

    l2l_learned *loaded = SENTINEL;
    EXPECT_OK(l2l_learned_load(&loaded, path));
    if (loaded == SENTINEL) return;
    float phi[LP];
    int64_t n = 0;
    EXPECT_OK(l2l_learned_get_meta(loaded, phi, LP, &n));
    CHECK(n == LP && floats_equal(phi, values, LP));
    char k1[16], k2[16], o1[256], o2[256];
    EXPECT_OK(l2l_learned_describe(m, k1, sizeof k1, o1, sizeof o1));
    EXPECT_OK(l2l_learned_describe(loaded, k2, sizeof k2, o2, sizeof o2));
    CHECK(strcmp(k1, k2) == 0 && strcmp(o1, o2) == 0);

    /* Saved and loaded optimisers take the same step: theta - beta * g. */
    l2l_optimizer *om = NULL, *ol = NULL;
    EXPECT_OK(l2l_optimizer_create_learned(&om, m, NULL));
    EXPECT_OK(l2l_optimizer_create_learned(&ol, loaded, "phase=meta_testing"));
    float b1[LP], a1[LP], g1[LP], b2[LP], a2[LP];
    one_step(om, b1, a1, g1);
    one_step(ol, b2, a2, NULL);
    CHECK(floats_equal(b1, b2, LP) && floats_equal(a1, a2, LP));
    int bad = 0;
    for (int i = 0; i < LP; i++) {
        volatile float step = values[i] * g1[i];
        volatile float want = b1[i] - step;
        if (fabsf(a1[i] - want) > 1e-6f * (1 + fabsf(want))) bad++;
    }
    CHECKF(bad == 0, "%d parameters are not theta - beta * g after a Meta-SGD step", bad);
    /* The optimiser copied phi: changing the handle afterwards does not change its steps. */
    float zeros[LP] = {0};
    REQUIRE_OK(l2l_learned_set_meta(m, zeros, LP));
    one_step(om, b2, a2, NULL);
    CHECK(!floats_equal(a2, b2, LP)); /* om is stateless Meta-SGD: a fresh learner, same step */
    REQUIRE_OK(l2l_optimizer_reset(om));
    one_step(om, b2, a2, NULL);
    CHECK(floats_equal(a1, a2, LP));
    l2l_optimizer *oz = NULL;
    EXPECT_OK(l2l_optimizer_create_learned(&oz, m, "phase=meta_training"));
    one_step(oz, b2, a2, NULL);
    CHECK(floats_equal(b2, a2, LP)); /* beta = 0: no move */
    l2l_optimizer_free(oz);

    /* A learned per-parameter optimiser refuses a learner of other shapes. */
    l2l_learner *other = NULL;
    REQUIRE_OK(l2l_learner_create(&other, "mlp", "sizes=2,4,2", 1));
    float xo[4] = {0.5f, -0.5f, 1, 0};
    int32_t yo[2] = {0, 1};
    float loss;
    REQUIRE_OK(l2l_learner_loss_grad(other, xo, yo, 2, 2, &loss));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_optimizer_step", l2l_optimizer_step(ol, other));
    l2l_dataset *d = separable_dataset();
    l2l_batches *bt = NULL;
    REQUIRE_OK(l2l_batches_create(&bt, d, 16, 1, NULL));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_train", l2l_train(other, ol, bt, 3, NULL, NULL, NULL));
    l2l_learner_free(other);

    /* The LSTM optimiser, saved without a learner, trains any learner through l2l_train. */
    l2l_learned *lstm = make_learned("lstm", "preset=mtl2l", NULL, 5);
    EXPECT_OK(l2l_learned_save(lstm, lstm_path));
    l2l_learned *lstm2 = NULL;
    EXPECT_OK(l2l_learned_load(&lstm2, lstm_path));
    int64_t nl = 0;
    REQUIRE_OK(l2l_learned_info(lstm, &nl, NULL));
    float *p1 = malloc(sizeof(float) * (size_t)nl), *p2 = malloc(sizeof(float) * (size_t)nl);
    REQUIRE_OK(l2l_learned_get_meta(lstm, p1, nl, NULL));
    if (lstm2 != NULL) REQUIRE_OK(l2l_learned_get_meta(lstm2, p2, nl, NULL));
    CHECK(lstm2 != NULL && floats_equal(p1, p2, nl));
    free(p1);
    free(p2);
    l2l_optimizer *olstm = NULL, *olstm2 = NULL;
    EXPECT_OK(l2l_optimizer_create_learned(&olstm, lstm, NULL));
    EXPECT_OK(l2l_optimizer_create_learned(&olstm2, lstm2, NULL));
    one_step(olstm, b1, a1, NULL);
    one_step(olstm2, b2, a2, NULL);
    CHECK(floats_equal(a1, a2, LP) && !floats_equal(a1, b1, LP));
    l2l_learner *big = NULL;
    REQUIRE_OK(l2l_learner_create(&big, "mlp", "sizes=2,16,2", 2));
    float losses[5];
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_train", l2l_train(big, olstm, bt, 5, losses, NULL, NULL)); /* state of 2-8-2 */
    REQUIRE_OK(l2l_optimizer_reset(olstm));
    EXPECT_OK(l2l_train(big, olstm, bt, 5, losses, NULL, NULL));
    CHECK(isfinite(losses[0]) && isfinite(losses[4]));
    l2l_learner_free(big);
    l2l_optimizer_free(olstm);
    l2l_optimizer_free(olstm2);
    l2l_learned_free(lstm2);

    section = "learned file errors";
    l2l_learned *none = SENTINEL;
    char missing[512];
    path_in_tmp(missing, sizeof missing, "no-such.safetensors");
    EXPECT_ERR(L2L_ERR_IO, "l2l_learned_load", l2l_learned_load(&none, missing));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_load", l2l_learned_load(&none, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_load", l2l_learned_load(NULL, path));
    size_t size = 0;
    unsigned char *bytes = read_all(path, &size);
    REQUIRE_OK(bytes != NULL && size > 64 ? L2L_OK : L2L_ERR_IO);
    /* Truncated anywhere: in the length, the header, the data. */
    const size_t cuts[] = {0, 5, 8, 40, size / 2, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_path(bad_path, bytes, cuts[i]);
        EXPECT_ERR(L2L_ERR_FORMAT, "l2l_learned_load", l2l_learned_load(&none, bad_path));
    }
    /* One altered bit in the last tensor value: the checksum catches it. */
    bytes[size - 2] ^= 0x01;
    write_path(bad_path, bytes, size);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_learned_load", l2l_learned_load(&none, bad_path));
    bytes[size - 2] ^= 0x01;
    /* An altered kind in the metadata ("meta_sgd" -> "meta_sgx"). */
    unsigned char *at = NULL;
    for (size_t i = 0; i + 8 < size; i++)
        if (memcmp(bytes + i, "meta_sgd", 8) == 0) at = bytes + i;
    CHECK(at != NULL);
    if (at != NULL) {
        at[7] = 'x';
        write_path(bad_path, bytes, size);
        EXPECT_ERR(L2L_ERR_FORMAT, "l2l_learned_load", l2l_learned_load(&none, bad_path));
        at[7] = 'd';
    }
    /* Some other file. */
    write_path(bad_path, (const unsigned char *)"not a safetensors file at all", 29);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_learned_load", l2l_learned_load(&none, bad_path));
    CHECK(none == SENTINEL);
    free(bytes);
    char nodir[512];
    path_in_tmp(nodir, sizeof nodir, "no-such-dir/x.safetensors");
    EXPECT_ERR(L2L_ERR_IO, "l2l_learned_save", l2l_learned_save(m, nodir));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_save", l2l_learned_save(m, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_save", l2l_learned_save(NULL, path));

    section = "optimizer_create_learned errors";
    l2l_optimizer *ob = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_learned", l2l_optimizer_create_learned(&ob, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_learned", l2l_optimizer_create_learned(NULL, m, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_learned",
               l2l_optimizer_create_learned(&ob, m, "phase=testing"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_learned", l2l_optimizer_create_learned(&ob, m, "lr=1"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_learned",
               l2l_optimizer_create_learned(&ob, (const l2l_learned *)(void *)l, NULL));
    CHECK(ob == SENTINEL);

    l2l_batches_free(bt);
    l2l_dataset_free(d);
    l2l_optimizer_free(om);
    l2l_optimizer_free(ol);
    l2l_learned_free(lstm);
    l2l_learned_free(loaded);
    l2l_learned_free(m);
    l2l_learner_free(l);
}

/* MTL2L ("mtl2l"): built for the learner's input width, it reads the input batch of every
 * step: l2l_train passes it, l2l_optimizer_step uses the batch of the learner's last
 * l2l_learner_loss_grad; without one, or with another width, the step is refused. */
static void test_mtl2l(void) {
    section = "mtl2l create";
    l2l_learner *l = NULL, *twin = NULL, *wide = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));   /* 2 inputs */
    REQUIRE_OK(l2l_learner_create(&twin, "mlp", LEARNER_OPTIONS, 1));
    REQUIRE_OK(l2l_learner_create(&wide, "mlp", "sizes=3,8,2", 1)); /* 3 inputs */
    const char *small = "hidden=4 hyper_hidden=4";
    l2l_learned *m = make_learned("mtl2l", small, l, 3);
    char kind[16], options[512];
    EXPECT_OK(l2l_learned_describe(m, kind, sizeof kind, options, sizeof options));
    CHECKF(strcmp(kind, "mtl2l") == 0 && strstr(options, "inputs=2 ") != NULL
               && strstr(options, "preset=paper") != NULL,
           "mtl2l: \"%s\" \"%s\"", kind, options);
    /* Four hypernetworks 2 -> 4 -> 4 (w1 8, b1 4, w2 16, b2 4), w_in [2, 4], biases on all four
     * gates of both layers (16 + 4), w2 [4, 4], and 16 fixed 4 x 4 orthogonal bases. */
    const int64_t trainable = 4 * (8 + 4 + 16 + 4) + 8 + 16 + 16 + 4, fixed = 16 * 16;
    int64_t nm = 0;
    EXPECT_OK(l2l_learned_info(m, &nm, NULL));
    CHECKF(nm == trainable + fixed, "mtl2l: %lld meta-parameters, expected %lld", (long long)nm,
           (long long)(trainable + fixed));
    float *phi = malloc(sizeof(float) * (size_t)nm), *back = malloc(sizeof(float) * (size_t)nm);
    EXPECT_OK(l2l_learned_get_meta(m, phi, nm, NULL));
    int orthogonal = 1;
    for (int b = 0; b < 16; b++) {
        const float *q = phi + trainable + 16 * b;
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                double dot = 0;
                for (int k = 0; k < 4; k++) dot += (double)q[4 * i + k] * q[4 * j + k];
                if (fabs(dot - (i == j)) > 1e-5) orthogonal = 0;
            }
    }
    CHECKF(orthogonal, "the last 16 x 16 meta-parameters are orthogonal 4 x 4 matrices");
    l2l_learned *d = NULL, *c = NULL;
    EXPECT_OK(l2l_learned_create(&d, "mtl2l", NULL, NULL, 0)); /* no learner: 784 inputs */
    EXPECT_OK(l2l_learned_describe(d, NULL, 0, options, sizeof options));
    CHECKF(strstr(options, "inputs=784") != NULL, "mtl2l without a learner: \"%s\"", options);
    EXPECT_OK(l2l_learned_create(&c, "mtl2l", "preset=code", NULL, 0));
    int64_t ncode = 0;
    EXPECT_OK(l2l_learned_info(c, &ncode, NULL));
    CHECKF(ncode == 102226 + 16 * 400, "mtl2l code preset on 784 inputs: %lld", (long long)ncode);
    l2l_learned_free(d);
    l2l_learned_free(c);
    l2l_learned *bad = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "mtl2l", "preset=huge", l, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create", l2l_learned_create(&bad, "mtl2l", "hidden=0", l, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learned_create",
               l2l_learned_create(&bad, "mtl2l", "gate_biases=some", l, 0));
    CHECK(bad == SENTINEL);

    section = "mtl2l steps";
    l2l_optimizer *o = NULL, *o2 = NULL;
    REQUIRE_OK(l2l_optimizer_create_learned(&o, m, NULL));
    REQUIRE_OK(l2l_optimizer_create_learned(&o2, m, NULL));
    float before[LP], after[LP], other[LP];
    REQUIRE_OK(l2l_learner_get_params(l, before, LP, NULL));
    /* Nothing stored: no gradient, no batch. */
    EXPECT_ERR(L2L_ERR_STATE, "l2l_optimizer_step", l2l_optimizer_step(o, l));
    /* Stored, then forgotten by l2l_learner_set_params (gradient and batch go together). */
    float x[8 * 2] = {1, 0.5f, -1, 0.25f, 0.3f, -0.7f, -0.2f, -0.9f, 0.8f, 0.8f, -0.5f, 0.1f, 0.6f, -0.1f, -1, -1};
    int32_t y[8] = {1, 0, 0, 0, 1, 0, 1, 0};
    float loss;
    REQUIRE_OK(l2l_learner_loss_grad(l, x, y, 8, 2, &loss));
    REQUIRE_OK(l2l_learner_set_params(l, before, LP));
    EXPECT_ERR(L2L_ERR_STATE, "l2l_optimizer_step", l2l_optimizer_step(o, l));
    EXPECT_OK(l2l_learner_get_params(l, after, LP, NULL));
    CHECK(floats_equal(before, after, LP));
    /* Another input width: refused, the wide learner keeps its gradient, o still steps l. */
    float xw[4 * 3] = {0.1f, 0.2f, -0.3f, 1, -1, 0.5f, 0.7f, 0, -0.2f, -0.6f, 0.4f, 0.9f};
    int32_t yw[4] = {0, 1, 1, 0};
    REQUIRE_OK(l2l_learner_loss_grad(wide, xw, yw, 4, 3, &loss));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_optimizer_step", l2l_optimizer_step(o, wide));
    CHECKF(strstr(l2l_last_error(), "2") != NULL && strstr(l2l_last_error(), "3") != NULL, "width: \"%s\"",
           l2l_last_error());
    int64_t n = 0;
    EXPECT_OK(l2l_learner_get_grads(wide, NULL, 0, &n));
    /* The loop of loss_grad + step and l2l_train over the same batches give the same learner. */
    l2l_dataset *data = separable_dataset();
    l2l_batches *b1 = NULL, *b2 = NULL, *bw = NULL;
    REQUIRE_OK(l2l_batches_create(&b1, data, 16, 5, NULL));
    REQUIRE_OK(l2l_batches_create(&b2, data, 16, 5, NULL));
    float losses[6], looped[6], bx[16 * 2];
    int32_t by[16];
    EXPECT_OK(l2l_train(twin, o2, b1, 6, losses, NULL, NULL));
    for (int step = 0; step < 6; step++) {
        int64_t got = 0;
        REQUIRE_OK(l2l_batches_next(b2, bx, 32, by, 16, &got));
        if (got == 0) REQUIRE_OK(l2l_batches_next(b2, bx, 32, by, 16, &got)); /* a new epoch */
        EXPECT_OK(l2l_learner_loss_grad(l, bx, by, got, 2, &looped[step]));
        EXPECT_OK(l2l_optimizer_step(o, l));
    }
    REQUIRE_OK(l2l_learner_get_params(l, after, LP, NULL));
    REQUIRE_OK(l2l_learner_get_params(twin, other, LP, NULL));
    CHECK(floats_equal(losses, looped, 6) && isfinite(losses[5]));
    CHECK(floats_equal(after, other, LP) && !floats_equal(after, before, LP));
    /* l2l_train, meta-testing and meta-training refuse the wide learner. */
    REQUIRE_OK(l2l_optimizer_reset(o));
    l2l_dataset *wide_data = NULL;
    float wx[16 * 3];
    int32_t wy[16];
    for (int i = 0; i < 16 * 3; i++) wx[i] = uniform(-1, 1);
    for (int i = 0; i < 16; i++) wy[i] = i % 2;
    REQUIRE_OK(l2l_dataset_create(&wide_data, wx, wy, 16, 3, 2));
    REQUIRE_OK(l2l_batches_create(&bw, wide_data, 4, 1, NULL));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_train", l2l_train(wide, o, bw, 2, NULL, NULL, NULL));
    l2l_meta_test *mt = SENTINEL;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_test_run",
               l2l_meta_test_run(&mt, wide, o, wide_data, wide_data, "learners=1 steps=2 batch=4", NULL, NULL));
    CHECK(mt == SENTINEL);
    const l2l_learner *learners[2] = {l, wide};
    const l2l_dataset *datasets[2] = {data, wide_data};
    l2l_meta_trainer *t = SENTINEL;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&t, m, learners, datasets, 2, "trials=1 steps=5 unroll=5 batch=8"));
    CHECK(t == SENTINEL);
    /* Meta-training on a learner of the right width runs. */
    EXPECT_OK(l2l_meta_trainer_create(&t, m, learners, datasets, 1, "trials=2 steps=5 unroll=5 batch=8 seed=1"));
    if (t != SENTINEL) {
        float history[2] = {NAN, NAN};
        EXPECT_OK(l2l_meta_trainer_run(t, -1, NULL, NULL));
        EXPECT_OK(l2l_meta_trainer_history(t, history, 2, &n));
        CHECK(n == 2 && isfinite(history[0]) && isfinite(history[1]));
        l2l_meta_trainer_free(t);
    }

    section = "mtl2l save/load";
    /* Other values everywhere, bases included (a signed permutation is orthogonal): the file
     * keeps every bit. */
    for (int64_t i = 0; i < trainable; i++) phi[i] = (float)((i % 11) - 5) * 0.037f + 1e-6f * (float)i;
    for (int bsis = 0; bsis < 16; bsis++) {
        float *q = phi + trainable + 16 * bsis;
        for (int i = 0; i < 16; i++) q[i] = 0;
        for (int i = 0; i < 4; i++) q[4 * i + (i + bsis) % 4] = (bsis + i) % 3 == 0 ? -1.0f : 1.0f;
    }
    REQUIRE_OK(l2l_learned_set_meta(m, phi, nm));
    char path[512];
    path_in_tmp(path, sizeof path, "mtl2l.safetensors");
    EXPECT_OK(l2l_learned_save(m, path));
    l2l_learned *loaded = NULL;
    EXPECT_OK(l2l_learned_load(&loaded, path));
    if (loaded != NULL) {
        char options2[512];
        EXPECT_OK(l2l_learned_get_meta(loaded, back, nm, &n));
        CHECK(n == nm && memcmp(phi, back, sizeof(float) * (size_t)nm) == 0);
        EXPECT_OK(l2l_learned_describe(m, NULL, 0, options, sizeof options));
        EXPECT_OK(l2l_learned_describe(loaded, kind, sizeof kind, options2, sizeof options2));
        CHECK(strcmp(kind, "mtl2l") == 0 && strcmp(options, options2) == 0);
        /* Both step a learner the same way. */
        l2l_optimizer *os = NULL, *ol = NULL;
        REQUIRE_OK(l2l_optimizer_create_learned(&os, m, NULL));
        REQUIRE_OK(l2l_optimizer_create_learned(&ol, loaded, NULL));
        float b1p[LP], a1p[LP], b2p[LP], a2p[LP];
        one_step(os, b1p, a1p, NULL);
        one_step(ol, b2p, a2p, NULL);
        CHECK(floats_equal(a1p, a2p, LP) && !floats_equal(a1p, b1p, LP));
        l2l_optimizer_free(os);
        l2l_optimizer_free(ol);
        l2l_learned_free(loaded);
    }

    free(phi);
    free(back);
    l2l_batches_free(b1);
    l2l_batches_free(b2);
    l2l_batches_free(bw);
    l2l_dataset_free(data);
    l2l_dataset_free(wide_data);
    l2l_optimizer_free(o);
    l2l_optimizer_free(o2);
    l2l_learned_free(m);
    l2l_learner_free(l);
    l2l_learner_free(twin);
    l2l_learner_free(wide);
}

/* Meta-training progress: every call's arguments, and a call after which to cancel. */
struct meta_log {
    int64_t calls, cancel_at;
    int64_t trials[64], steps[64];
    float losses[64];
};

static int on_meta_progress(void *user, int64_t trial, int64_t step, float meta_loss) {
    struct meta_log *log = user;
    if (log->calls < 64) {
        log->trials[log->calls] = trial;
        log->steps[log->calls] = step;
        log->losses[log->calls] = meta_loss;
    }
    log->calls++;
    return log->cancel_at > 0 && log->calls >= log->cancel_at;
}

static const char *const META_OPTIONS = "trials=2 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=3";
static const char *const META_OPTIONS4 = "trials=4 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=3";

/* A trainer of a fresh Meta-SGD (lr 0.05) on the 2-8-2 learner and the separable set. */
static l2l_meta_trainer *meta_sgd_trainer(l2l_learned **learned, const char *options, l2l_learner *l, l2l_dataset *d) {
    *learned = make_learned("meta_sgd", "lr=0.05", l, 1);
    const l2l_learner *learners[1] = {l};
    const l2l_dataset *datasets[1] = {d};
    l2l_meta_trainer *t = NULL;
    REQUIRE_OK(l2l_meta_trainer_create(&t, *learned, learners, datasets, 1, options));
    return t;
}

static void trained_phi(l2l_meta_trainer *t, l2l_learned *into, float *phi) {
    REQUIRE_OK(l2l_meta_trainer_get_learned(t, into));
    REQUIRE_OK(l2l_learned_get_meta(into, phi, LP, NULL));
}

static void test_meta_trainer(void) {
    section = "meta-training";
    l2l_dataset *d = separable_dataset();
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));
    l2l_learned *learned = NULL;
    l2l_meta_trainer *t = meta_sgd_trainer(&learned, META_OPTIONS, l, d);
    float before[LP], after[LP];
    REQUIRE_OK(l2l_learned_get_meta(learned, before, LP, NULL));

    int64_t trials = -1, steps = -1, unrolls = -1;
    EXPECT_OK(l2l_meta_trainer_info(t, &trials, &steps, &unrolls));
    CHECK(trials == 0 && steps == 0 && unrolls == 0);
    int64_t n = -1;
    EXPECT_OK(l2l_meta_trainer_history(t, NULL, 0, &n));
    CHECK(n == 0);

    struct meta_log log;
    memset(&log, 0, sizeof log);
    EXPECT_OK(l2l_meta_trainer_run(t, -1, on_meta_progress, &log));
    EXPECT_OK(l2l_meta_trainer_info(t, &trials, &steps, &unrolls));
    /* 2 trials x 10 steps / unroll 5 = 4 unrolls, each a meta-update. */
    CHECKF(trials == 2 && steps == 4 && unrolls == 4, "after the run: %lld trials, %lld meta-steps, %lld unrolls",
           (long long)trials, (long long)steps, (long long)unrolls);
    CHECKF(log.calls == 4, "%lld progress calls", (long long)log.calls);
    const int64_t want_trials[4] = {0, 0, 1, 1}, want_steps[4] = {5, 10, 5, 10};
    for (int i = 0; i < 4 && i < log.calls; i++)
        CHECKF(log.trials[i] == want_trials[i] && log.steps[i] == want_steps[i], "progress call %d: trial %lld step %lld",
               i, (long long)log.trials[i], (long long)log.steps[i]);
    float history[4] = {-1, -1, -1, -1};
    EXPECT_OK(l2l_meta_trainer_history(t, history, 4, &n));
    CHECK(n == 4 && floats_equal(history, log.losses, 4));
    for (int i = 0; i < 4; i++) CHECKF(isfinite(history[i]) && history[i] > 0, "meta-loss %d: %g", i, history[i]);
    EXPECT_OK(l2l_meta_trainer_history(t, history, 4, NULL));
    float short_history[3] = {-1, -1, -1};
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_meta_trainer_history", l2l_meta_trainer_history(t, short_history, 3, &n));
    CHECK(n == 4 && all_equal_to(short_history, 3, -1));
    int64_t events = -1;
    EXPECT_OK(l2l_meta_trainer_events(t, NULL, NULL, NULL, 0, &events));
    CHECKF(events == 0, "%lld events in a healthy run", (long long)events);

    /* phi moved; the learned handle itself still holds the initial phi until copied. */
    REQUIRE_OK(l2l_learned_get_meta(learned, after, LP, NULL));
    CHECK(floats_equal(before, after, LP));
    EXPECT_OK(l2l_meta_trainer_get_learned(t, learned));
    REQUIRE_OK(l2l_learned_get_meta(learned, after, LP, NULL));
    int finite = 1;
    for (int i = 0; i < LP; i++) finite &= isfinite(after[i]) != 0;
    CHECK(finite && !floats_equal(before, after, LP));
    /* A run with nothing left, or of 0 trials, does nothing. */
    EXPECT_OK(l2l_meta_trainer_run(t, -1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_run(t, 0, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_info(t, &trials, NULL, &unrolls));
    CHECK(trials == 2 && unrolls == 4);

    /* Deterministic: the same run again gives the same history and phi. */
    l2l_learned *learned2 = NULL;
    l2l_meta_trainer *t2 = meta_sgd_trainer(&learned2, META_OPTIONS, l, d);
    EXPECT_OK(l2l_meta_trainer_run(t2, 1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_run(t2, 5, NULL, NULL)); /* clamped to the one remaining */
    float history2[4], phi2[LP];
    EXPECT_OK(l2l_meta_trainer_history(t2, history2, 4, &n));
    trained_phi(t2, learned2, phi2);
    CHECK(n == 4 && floats_equal(history, history2, 4) && floats_equal(after, phi2, LP));
    l2l_meta_trainer_free(t2);

    section = "meta-training checkpoints";
    /* Uninterrupted: 4 trials. Interrupted: 2 trials, checkpoint, resume, 2 more. */
    char ckpt[512];
    path_in_tmp(ckpt, sizeof ckpt, "meta.ckpt");
    l2l_learned *la = NULL, *lb = NULL;
    l2l_meta_trainer *ta = meta_sgd_trainer(&la, META_OPTIONS4, l, d);
    l2l_meta_trainer *tb = meta_sgd_trainer(&lb, META_OPTIONS4, l, d);
    EXPECT_OK(l2l_meta_trainer_run(ta, -1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_run(tb, 2, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_save_checkpoint(tb, ckpt));
    l2l_meta_trainer_free(tb);
    const l2l_learner *learners[2] = {l, l};
    const l2l_dataset *datasets[2] = {d, d};
    l2l_meta_trainer *tr = SENTINEL;
    EXPECT_OK(l2l_meta_trainer_resume(&tr, ckpt, lb, learners, datasets, 1, META_OPTIONS4));
    if (tr == SENTINEL) return;
    EXPECT_OK(l2l_meta_trainer_info(tr, &trials, NULL, &unrolls));
    CHECK(trials == 2 && unrolls == 4);
    EXPECT_OK(l2l_meta_trainer_run(tr, -1, NULL, NULL));
    float pa[LP], pb[LP], ha[8], hb[8];
    trained_phi(ta, la, pa);
    trained_phi(tr, lb, pb);
    CHECK(floats_equal(pa, pb, LP));
    EXPECT_OK(l2l_meta_trainer_history(ta, ha, 8, &n));
    CHECK(n == 8);
    EXPECT_OK(l2l_meta_trainer_history(tr, hb, 8, &n));
    CHECK(n == 8 && floats_equal(ha, hb, 8));
    CHECK(floats_equal(ha, history, 4)); /* the first two trials are those of the 2-trial run */
    l2l_meta_trainer_free(ta);
    l2l_meta_trainer_free(tr);

    /* Resume errors: missing, truncated or altered files; another optimiser or options. */
    char bad[512], missing[512];
    path_in_tmp(bad, sizeof bad, "bad.ckpt");
    path_in_tmp(missing, sizeof missing, "no-such.ckpt");
    tr = SENTINEL;
    EXPECT_ERR(L2L_ERR_IO, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(&tr, missing, lb, learners, datasets, 1, META_OPTIONS4));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(&tr, ckpt, lb, learners, datasets, 1, META_OPTIONS));
    l2l_learned *other_kind = make_learned("meta_sgd", "lr=0.01", l, 1);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(&tr, ckpt, other_kind, learners, datasets, 1, META_OPTIONS4));
    size_t size = 0;
    unsigned char *bytes = read_all(ckpt, &size);
    REQUIRE_OK(bytes != NULL && size > 64 ? L2L_OK : L2L_ERR_IO);
    write_path(bad, bytes, size / 2);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(&tr, bad, lb, learners, datasets, 1, META_OPTIONS4));
    bytes[size - 3] ^= 0x10;
    write_path(bad, bytes, size);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(&tr, bad, lb, learners, datasets, 1, META_OPTIONS4));
    free(bytes);
    char learned_file[512];
    path_in_tmp(learned_file, sizeof learned_file, "meta_sgd.safetensors");
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(&tr, learned_file, lb, learners, datasets, 1, META_OPTIONS4));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(&tr, NULL, lb, learners, datasets, 1, META_OPTIONS4));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_resume",
               l2l_meta_trainer_resume(NULL, ckpt, lb, learners, datasets, 1, META_OPTIONS4));
    CHECK(tr == SENTINEL);
    l2l_learned_free(other_kind);

    section = "meta-training cancel";
    l2l_learned *lc = NULL;
    l2l_meta_trainer *tc = meta_sgd_trainer(&lc, META_OPTIONS, l, d);
    memset(&log, 0, sizeof log);
    log.cancel_at = 3;
    EXPECT_ERR(L2L_ERR_CANCELLED, "l2l_meta_trainer_run", l2l_meta_trainer_run(tc, -1, on_meta_progress, &log));
    CHECK(log.calls == 3);
    EXPECT_OK(l2l_meta_trainer_info(tc, &trials, &steps, &unrolls));
    /* The work so far is kept: trial 0 completed, one unroll of trial 1. */
    CHECKF(trials == 1 && steps == 3 && unrolls == 3, "after cancelling: %lld trials, %lld meta-steps, %lld unrolls",
           (long long)trials, (long long)steps, (long long)unrolls);
    float hc[3];
    EXPECT_OK(l2l_meta_trainer_history(tc, hc, 3, &n));
    CHECK(n == 3 && floats_equal(hc, history, 3));
    l2l_meta_trainer_free(tc);
    l2l_learned_free(lc);

    section = "meta-training events";
    /* Rates of 1e37 blow every learner up: each unroll's update is skipped and reported,
     * and after rollback_after=2 consecutive skips phi rolls back; phi stays finite. */
    l2l_learned *lh = make_learned("meta_sgd", NULL, l, 1);
    float huge[LP];
    for (int i = 0; i < LP; i++) huge[i] = 1e37f;
    REQUIRE_OK(l2l_learned_set_meta(lh, huge, LP));
    l2l_meta_trainer *th = NULL;
    EXPECT_OK(l2l_meta_trainer_create(&th, lh, learners, datasets, 1,
                                      "trials=1 steps=20 unroll=5 batch=16 rollback_after=2 seed=1"));
    EXPECT_OK(l2l_meta_trainer_run(th, -1, NULL, NULL));
    int64_t ne = 0;
    EXPECT_OK(l2l_meta_trainer_events(th, NULL, NULL, NULL, 0, &ne));
    CHECKF(ne >= 4, "%lld events", (long long)ne);
    int32_t kinds[16];
    int64_t etrials[16], esteps[16];
    for (int i = 0; i < 16; i++) kinds[i] = -9;
    if (ne > 0 && ne <= 16) {
        EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_meta_trainer_events",
                   l2l_meta_trainer_events(th, kinds, etrials, esteps, ne - 1, &n));
        CHECK(n == ne && kinds[0] == -9);
        EXPECT_OK(l2l_meta_trainer_events(th, kinds, etrials, esteps, 16, &n));
        EXPECT_OK(l2l_meta_trainer_events(th, kinds, NULL, NULL, 16, NULL));
        int skips = 0, rollbacks = 0, others = 0;
        for (int64_t i = 0; i < ne; i++) {
            if (kinds[i] == L2L_EVENT_NON_FINITE_LOSS || kinds[i] == L2L_EVENT_NON_FINITE_GRADIENT) skips++;
            else if (kinds[i] == L2L_EVENT_ROLLBACK) rollbacks++;
            else if (kinds[i] != L2L_EVENT_COLLAPSE) others++;
            CHECK(etrials[i] == 0 && esteps[i] % 5 == 0 && esteps[i] >= 5 && esteps[i] <= 20);
        }
        CHECKF(skips == 4 && rollbacks == 2 && others == 0, "%d skipped updates, %d rollbacks, %d unknown kinds",
               skips, rollbacks, others);
    }
    EXPECT_OK(l2l_meta_trainer_info(th, NULL, &steps, &unrolls));
    CHECK(steps == 0 && unrolls == 4);
    float ph[LP];
    trained_phi(th, lh, ph);
    CHECK(floats_equal(ph, huge, LP)); /* no update reached phi */
    l2l_meta_trainer_free(th);
    l2l_learned_free(lh);

    section = "meta-training errors";
    l2l_meta_trainer *te = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(NULL, learned, learners, datasets, 1, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, NULL, learners, datasets, 1, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, learned, NULL, datasets, 1, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, learned, learners, NULL, 1, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, learned, learners, datasets, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, learned, learners, datasets, -1, NULL));
    const l2l_learner *with_null[2] = {l, NULL};
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, learned, with_null, datasets, 2, NULL));
    const char *bad_options[] = {"bogus=1", "steps=12 unroll=5", "trials=0", "meta_lr=-1", "clip=sometimes",
                                 "weights=1,1", "unroll=0"};
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++)
        EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create",
                   l2l_meta_trainer_create(&te, learned, learners, datasets, 1, bad_options[i]));
    /* A Meta-SGD built for 2-8-2 cannot meta-train a 2-4-2 learner; data must fit the learner. */
    l2l_learner *small_net = NULL, *wide = NULL;
    REQUIRE_OK(l2l_learner_create(&small_net, "mlp", "sizes=2,4,2", 1));
    REQUIRE_OK(l2l_learner_create(&wide, "mlp", "sizes=3,8,2", 1));
    const l2l_learner *mismatched[1] = {small_net};
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, learned, mismatched, datasets, 1, NULL));
    const l2l_learner *wrong_features[1] = {wide};
    l2l_learned *lw = make_learned("lstm", "preset=mtl2l", NULL, 1);
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_create",
               l2l_meta_trainer_create(&te, lw, wrong_features, datasets, 1, NULL));
    CHECK(te == SENTINEL);
    /* The LSTM optimiser meta-trains learners of different sizes in one run. */
    const l2l_learner *mixed[2] = {l, small_net};
    EXPECT_OK(l2l_meta_trainer_create(&te, lw, mixed, datasets, 2, "trials=2 steps=5 unroll=5 batch=16"));
    EXPECT_OK(l2l_meta_trainer_run(te, -1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_get_learned(te, lw));
    /* get_learned needs a handle of the same kind, options and shapes. */
    l2l_learned *other_lstm = make_learned("lstm", "preset=paper", NULL, 1);
    l2l_learned *other_sgd = make_learned("meta_sgd", "lr=0.05", small_net, 1);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_get_learned", l2l_meta_trainer_get_learned(te, other_lstm));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_get_learned", l2l_meta_trainer_get_learned(te, learned));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_get_learned", l2l_meta_trainer_get_learned(t, other_sgd));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_get_learned", l2l_meta_trainer_get_learned(t, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_get_learned", l2l_meta_trainer_get_learned(NULL, learned));
    l2l_learned_free(other_lstm);
    l2l_learned_free(other_sgd);
    l2l_meta_trainer_free(te);
    l2l_learned_free(lw);
    l2l_learner_free(small_net);
    l2l_learner_free(wide);

    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_run", l2l_meta_trainer_run(NULL, 1, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_run",
               l2l_meta_trainer_run((l2l_meta_trainer *)(void *)learned, 1, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_info", l2l_meta_trainer_info(NULL, &trials, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_history", l2l_meta_trainer_history(NULL, history, 4, &n));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_history", l2l_meta_trainer_history(t, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_events",
               l2l_meta_trainer_events(NULL, NULL, NULL, NULL, 0, &n));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_events", l2l_meta_trainer_events(t, NULL, NULL, NULL, 0, NULL));
    char nodir[512];
    path_in_tmp(nodir, sizeof nodir, "no-such-dir/meta.ckpt");
    EXPECT_ERR(L2L_ERR_IO, "l2l_meta_trainer_save_checkpoint", l2l_meta_trainer_save_checkpoint(t, nodir));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_save_checkpoint", l2l_meta_trainer_save_checkpoint(t, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_save_checkpoint",
               l2l_meta_trainer_save_checkpoint(NULL, ckpt));

    l2l_meta_trainer_free(t);
    l2l_learned_free(learned);
    l2l_learned_free(learned2);
    l2l_learned_free(la);
    l2l_learned_free(lb);
    l2l_learner_free(l);
    l2l_dataset_free(d);
}

/* Runs a fresh Meta-SGD (lr 0.05) trainer with `options` to the end; its history (capacity
 * `capacity`) and trained phi; the history's length. */
static int64_t meta_sgd_run(const char *options, l2l_learner *l, l2l_dataset *d, float *history, int64_t capacity,
                            float *phi) {
    l2l_learned *learned = NULL;
    l2l_meta_trainer *t = meta_sgd_trainer(&learned, options, l, d);
    int64_t n = -1;
    EXPECT_OK(l2l_meta_trainer_run(t, -1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_history(t, history, capacity, &n));
    trained_phi(t, learned, phi);
    l2l_meta_trainer_free(t);
    l2l_learned_free(learned);
    return n;
}

static int all_finite(const float *a, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* Whether |a - b| <= tol * max(1, |b|) element-wise. */
static int floats_close(const float *a, const float *b, int64_t n, float tol) {
    for (int64_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= tol * fmaxf(1.0f, fabsf(b[i])))) return 0;
    return 1;
}

static void test_meta_estimators(void) {
    section = "meta-training estimators";
    l2l_dataset *d = separable_dataset();
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));
    float start[LP];
    l2l_learned *fresh = make_learned("meta_sgd", "lr=0.05", l, 1);
    REQUIRE_OK(l2l_learned_get_meta(fresh, start, LP, NULL));

    /* PES over meta-batches of 2: 3 trials x 10 steps / unroll 5 = 6 unrolls; the same
     * options twice give the same history and phi, and phi moved. */
    const char *pes = "trials=3 steps=10 unroll=5 batch=16 meta_lr=0.01 estimator=pes es_pairs=4 es_std=0.02 "
                      "meta_batch=2 seed=5";
    float h1[8], h2[8], p1[LP], p2[LP];
    int64_t n1 = meta_sgd_run(pes, l, d, h1, 8, p1);
    int64_t n2 = meta_sgd_run(pes, l, d, h2, 8, p2);
    CHECKF(n1 == 6 && n2 == 6, "pes: %lld and %lld unrolls", (long long)n1, (long long)n2);
    CHECK(all_finite(h1, 6) && all_finite(p1, LP));
    CHECK(floats_equal(h1, h2, 6) && floats_equal(p1, p2, LP));
    CHECK(!floats_equal(p1, start, LP));
    /* Another seed draws other perturbations: another phi. */
    n2 = meta_sgd_run("trials=3 steps=10 unroll=5 batch=16 meta_lr=0.01 estimator=pes es_pairs=4 es_std=0.02 "
                      "meta_batch=2 seed=6", l, d, h2, 8, p2);
    CHECK(n2 == 6 && !floats_equal(p1, p2, LP));

    /* estimator=bptt is the default; memory_budget (1 byte: the unroll is recomputed one
     * step at a time in the backward pass) gives the same run up to float rounding. */
    const char *plain = "trials=2 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=3";
    float hb[4], hx[4], hm[4], pb[LP], px[LP], pm[LP];
    CHECK(meta_sgd_run(plain, l, d, hb, 4, pb) == 4);
    CHECK(meta_sgd_run("trials=2 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=3 estimator=bptt", l, d, hx, 4, px) == 4);
    CHECK(floats_equal(hb, hx, 4) && floats_equal(pb, px, LP));
    CHECK(meta_sgd_run("trials=2 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=3 memory_budget=1", l, d, hm, 4, pm) == 4);
    CHECKF(floats_close(hm, hb, 4, 1e-5f) && floats_close(pm, pb, LP, 1e-5f),
           "memory_budget: history %g %g %g %g vs %g %g %g %g", hm[0], hm[1], hm[2], hm[3], hb[0], hb[1], hb[2], hb[3]);

    /* Another meta-optimiser (and its options) takes other steps from the same gradients. */
    CHECK(meta_sgd_run("trials=2 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=3 meta_optimizer=sgd "
                       "meta_optimizer_options=momentum:0.5", l, d, hx, 4, px) == 4);
    CHECK(hx[0] == hb[0] && all_finite(px, LP) && !floats_equal(px, pb, LP));
    /* Adam with its defaults spelled out is the default meta-optimiser. */
    CHECK(meta_sgd_run("trials=2 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=3 meta_optimizer=adam "
                       "meta_optimizer_options=beta1:0.9,beta2:0.999", l, d, hx, 4, px) == 4);
    CHECK(floats_equal(hx, hb, 4) && floats_equal(px, pb, LP));

    const l2l_learner *learners[1] = {l};
    const l2l_dataset *datasets[1] = {d};
    l2l_meta_trainer *te = SENTINEL;
    const char *bad_options[] = {"estimator=bogus", "estimator=es es_pairs=0", "estimator=es second_order=1",
                                 "estimator=pes second_order=1", "estimator=pes memory_budget=4096",
                                 "estimator=es es_std=0", "meta_batch=0", "memory_budget=-1",
                                 "meta_optimizer=bogus", "meta_optimizer=hf_fixed",
                                 "meta_optimizer_options=bogus:1"};
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        prime_last_error("l2l_meta_trainer_create");
        l2l_status status = l2l_meta_trainer_create(&te, fresh, learners, datasets, 1, bad_options[i]);
        CHECKF(status == L2L_ERR_INVALID_ARGUMENT && names_function(l2l_last_error(), "l2l_meta_trainer_create"),
               "options \"%s\": status %d, last error \"%s\"", bad_options[i], (int)status, l2l_last_error());
    }
    CHECK(te == SENTINEL);

    section = "meta-training evaluate";
    /* ES on Meta-SGD with small rates: the meta-loss of fresh learners (a seed other than
     * the run's) falls; evaluating changes nothing in the trainer. */
    l2l_learned *slow = make_learned("meta_sgd", "lr=0.01", l, 1);
    l2l_meta_trainer *t = NULL;
    REQUIRE_OK(l2l_meta_trainer_create(&t, slow, learners, datasets, 1,
                                       "trials=10 steps=20 unroll=5 batch=16 meta_lr=0.05 estimator=es "
                                       "es_pairs=4 seed=2"));
    float before = -1, again = -2, after = -3;
    EXPECT_OK(l2l_meta_trainer_evaluate(t, 4, 11, &before));
    EXPECT_OK(l2l_meta_trainer_evaluate(t, 4, 11, &again));
    CHECKF(isfinite(before) && before > 0 && before == again, "evaluate: %g then %g", before, again);
    float other = -1;
    EXPECT_OK(l2l_meta_trainer_evaluate(t, 4, 12, &other));
    CHECKF(isfinite(other) && other != before, "evaluate with seeds 11 and 12: %g and %g", before, other);
    int64_t trials = -1, steps = -1, unrolls = -1;
    EXPECT_OK(l2l_meta_trainer_info(t, &trials, &steps, &unrolls));
    CHECK(trials == 0 && steps == 0 && unrolls == 0);
    EXPECT_OK(l2l_meta_trainer_run(t, -1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_evaluate(t, 4, 11, &after));
    CHECKF(isfinite(after) && after < 0.9f * before, "ES meta-training: meta-loss %g before, %g after", before, after);
    EXPECT_OK(l2l_meta_trainer_info(t, &trials, &steps, &unrolls));
    CHECK(trials == 10 && steps == 40 && unrolls == 40);

    float untouched = -7;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_evaluate", l2l_meta_trainer_evaluate(NULL, 4, 11, &untouched));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_evaluate", l2l_meta_trainer_evaluate(t, 4, 11, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_evaluate", l2l_meta_trainer_evaluate(t, 0, 11, &untouched));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_evaluate", l2l_meta_trainer_evaluate(t, -1, 11, &untouched));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_evaluate",
               l2l_meta_trainer_evaluate(t, 1000001, 11, &untouched));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_evaluate",
               l2l_meta_trainer_evaluate((const l2l_meta_trainer *)(void *)slow, 4, 11, &untouched));
    CHECK(untouched == -7);
    l2l_meta_trainer_free(t);

    /* Rates of 1e37 blow the learners up: L2L_ERR_NON_FINITE, nothing written. */
    float huge[LP];
    for (int i = 0; i < LP; i++) huge[i] = 1e37f;
    REQUIRE_OK(l2l_learned_set_meta(slow, huge, LP));
    REQUIRE_OK(l2l_meta_trainer_create(&t, slow, learners, datasets, 1, "steps=10 unroll=5 batch=16"));
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_meta_trainer_evaluate", l2l_meta_trainer_evaluate(t, 2, 11, &untouched));
    CHECK(untouched == -7);
    l2l_meta_trainer_free(t);

    l2l_learned_free(slow);
    l2l_learned_free(fresh);
    l2l_learner_free(l);
    l2l_dataset_free(d);
}

/* Meta-testing progress: calls, the last step, arguments out of order. */
struct test_log {
    int64_t calls, last, total, bad, cancel_at;
};

static int on_test_progress(void *user, int64_t step, int64_t total, float loss) {
    struct test_log *log = user;
    log->calls++;
    if (step != log->last + 1 || total != log->total || !isnan(loss)) log->bad++;
    log->last = step;
    return log->cancel_at > 0 && step >= log->cancel_at;
}

/* The caller's model for the callback-task tests: w (4 values) and b (1) with loss
 * 0.5·Σ(w_i − t_i)² + 0.5·(b − 1)², t_i = 0.1·(i + 1) + 0.05·(step mod 3); `fail_at` makes
 * loss_grad fail at that step (−1: never). */
typedef struct { int calls; int64_t fail_at; } toy_model;

static int toy_init(void *user, uint64_t seed, float *const *parameters) {
    (void)user;
    uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (int i = 0; i < 4; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        parameters[0][i] = (float)((x >> 40) % 1000) / 1000.0f - 0.5f;
    }
    parameters[1][0] = 0;
    return 0;
}

static int toy_loss_grad(void *user, int64_t step, const float *const *parameters, float *loss, float *const *gradients) {
    toy_model *m = user;
    m->calls++;
    if (step == m->fail_at) return 7;
    float total = 0;
    for (int i = 0; i < 4; i++) {
        float d = parameters[0][i] - (0.1f * (float)(i + 1) + 0.05f * (float)(step % 3));
        total += 0.5f * d * d;
        gradients[0][i] = d;
    }
    float e = parameters[1][0] - 1;
    gradients[1][0] = e;
    *loss = total + 0.5f * e * e;
    return 0;
}

static void test_callback_task(void) {
    section = "callback tasks";
    int64_t ranks[2] = {1, 1}, dims[2] = {4, 1};
    toy_model model = {0, -1};
    l2l_task *task = NULL;
    REQUIRE_OK(l2l_task_create_callback(&task, 2, ranks, dims, toy_init, toy_loss_grad, &model));

    l2l_learned *lstm = make_learned("lstm", "preset=mtl2l", NULL, 3);
    l2l_meta_trainer *t = NULL;
    const l2l_task *tasks[1] = {task};
    REQUIRE_OK(l2l_meta_trainer_create_from_tasks(&t, lstm, tasks, 1, "trials=8 steps=20 unroll=5 meta_lr=0.01 clip=value seed=1"));
    float before = 0, after = 0;
    EXPECT_OK(l2l_meta_trainer_evaluate(t, 3, 4, &before));
    int calls = model.calls;
    EXPECT_OK(l2l_meta_trainer_run(t, -1, NULL, NULL));
    /* 8 trials × 4 unrolls × (5 + 1) evaluations, the first of each unroll reused: 8 × 21. */
    CHECKF(model.calls - calls == 8 * 21, "loss_grad called %d times", model.calls - calls);
    EXPECT_OK(l2l_meta_trainer_evaluate(t, 3, 4, &after));
    CHECKF(after < 0.9f * before, "callback task meta-loss %g -> %g", before, after);
    int64_t done = 0, steps = 0;
    EXPECT_OK(l2l_meta_trainer_info(t, &done, &steps, NULL));
    CHECK(done == 8 && steps == 32);
    l2l_meta_trainer_free(t);

    /* A failing callback stops the run with L2L_ERR_CANCELLED; the trainer goes on after. */
    REQUIRE_OK(l2l_meta_trainer_create_from_tasks(&t, lstm, tasks, 1, "trials=2 steps=20 unroll=5 seed=1"));
    model.fail_at = 12;
    EXPECT_ERR(L2L_ERR_CANCELLED, "l2l_meta_trainer_run", l2l_meta_trainer_run(t, -1, NULL, NULL));
    CHECKF(strstr(l2l_last_error(), "loss_grad callback returned 7 at step 12") != NULL, "%s", l2l_last_error());
    EXPECT_OK(l2l_meta_trainer_info(t, &done, &steps, NULL));
    CHECK(done == 0 && steps == 2);
    model.fail_at = -1;
    EXPECT_OK(l2l_meta_trainer_run(t, -1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_info(t, &done, &steps, NULL));
    CHECK(done == 2);
    l2l_meta_trainer_free(t);

    /* Refused: second order, an optimiser built for other shapes, bad arguments. */
    l2l_meta_trainer *never = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create_from_tasks",
               l2l_meta_trainer_create_from_tasks(&never, lstm, tasks, 1, "second_order=1"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create_from_tasks",
               l2l_meta_trainer_create_from_tasks(&never, lstm, tasks, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_create_from_tasks",
               l2l_meta_trainer_create_from_tasks(&never, lstm, NULL, 1, NULL));
    CHECK(never == SENTINEL);
    l2l_task *bad = SENTINEL;
    int64_t zero[2] = {4, 0}, rank9[1] = {9};
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_task_create_callback", l2l_task_create_callback(&bad, 2, ranks, zero, toy_init, toy_loss_grad, &model));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_task_create_callback", l2l_task_create_callback(&bad, 1, rank9, dims, toy_init, toy_loss_grad, &model));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_task_create_callback", l2l_task_create_callback(&bad, 2, ranks, dims, toy_init, NULL, &model));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_task_create_callback", l2l_task_create_callback(&bad, 0, ranks, dims, toy_init, toy_loss_grad, &model));
    CHECK(bad == SENTINEL);
    l2l_task_free(NULL);
    l2l_learned_free(lstm);
    l2l_task_free(task);
}

/* Freed handles, double frees and pointers l2l never made: errors and no-ops, not crashes. */
static void test_stale_handles(void) {
    section = "stale handles";
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=3,2,2", 1));
    l2l_learner_free(l);
    int64_t params = 0;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_info", l2l_learner_info(l, &params, NULL, NULL, NULL));
    CHECKF(strstr(l2l_last_error(), "not a live l2l handle") != NULL, "%s", l2l_last_error());
    l2l_learner_free(l);   /* a double free is a no-op */
    int not_a_handle = 0;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_info",
               l2l_learner_info((const l2l_learner *)&not_a_handle, &params, NULL, NULL, NULL));
    l2l_learner_free((l2l_learner *)&not_a_handle);
    /* Freeing a handle through another kind's free leaves it alive. */
    l2l_optimizer *o = NULL;
    REQUIRE_OK(l2l_optimizer_create(&o, "sgd", NULL));
    l2l_learner_free((l2l_learner *)o);
    EXPECT_OK(l2l_optimizer_reset(o));
    l2l_optimizer_free(o);
}

/* Readers refuse devices up front instead of reading /dev/zero forever. */
static void test_readers_refuse_devices(void) {
    section = "readers and devices";
    l2l_learned *learned = SENTINEL;
    EXPECT_ERR(L2L_ERR_IO, "l2l_learned_load", l2l_learned_load(&learned, "/dev/zero"));
    CHECK(learned == SENTINEL);
    l2l_mlhf *mlhf = SENTINEL;
    EXPECT_ERR(L2L_ERR_IO, "l2l_mlhf_load", l2l_mlhf_load(&mlhf, "/dev/zero"));
    l2l_dataset *d = SENTINEL;
    EXPECT_ERR(L2L_ERR_IO, "l2l_dataset_load_idx", l2l_dataset_load_idx(&d, "/dev/zero", "/dev/zero"));
    CHECKF(strstr(l2l_last_error(), "not a regular file") != NULL, "%s", l2l_last_error());
    CHECK(mlhf == SENTINEL && d == SENTINEL);
}

/* Optimisers on the caller's own arrays: l2l_optimizer_update, _fork, _parameter_shapes. */
static void test_optimizer_update(void) {
    section = "optimizer update on arrays";
    l2l_optimizer *sgd = NULL;
    REQUIRE_OK(l2l_optimizer_create(&sgd, "momentum", "lr=0.1; momentum=0.5"));
    float w[3] = {1, 2, 3}, b[1] = {0.5f};
    float gw[3] = {0.5f, -1, 0}, gb[1] = {2};
    float *params[2] = {w, b};
    const float *grads[2] = {gw, gb};
    int64_t ranks[2] = {1, 1}, dims[2] = {3, 1};
    EXPECT_OK(l2l_optimizer_update(sgd, 2, ranks, dims, params, grads, NULL, 0, 0));
    /* v = g, theta -= 0.1 v */
    CHECKF(w[0] == 1 - 0.1f * 0.5f && w[1] == 2 + 0.1f && w[2] == 3 && b[0] == 0.5f - 0.2f, "%g %g %g %g", w[0], w[1], w[2], b[0]);
    EXPECT_OK(l2l_optimizer_update(sgd, 2, ranks, dims, params, grads, NULL, 0, 0));
    /* v = 0.5 v + g = 1.5 g */
    CHECKF(fabsf(w[0] - (0.95f - 0.075f)) < 1e-6f && fabsf(b[0] - (0.3f - 0.3f)) < 1e-6f, "%g %g", w[0], b[0]);

    /* A fork has the same optimiser and a fresh state: its first update is the plain step. */
    l2l_optimizer *other = NULL;
    REQUIRE_OK(l2l_optimizer_fork(&other, sgd));
    float u[3] = {1, 2, 3}, c[1] = {0.5f};
    float *params2[2] = {u, c};
    EXPECT_OK(l2l_optimizer_update(other, 2, ranks, dims, params2, grads, NULL, 0, 0));
    CHECK(u[0] == 1 - 0.1f * 0.5f && c[0] == 0.5f - 0.2f);

    /* Other shapes than the state's; NaN; NULLs; a rank out of range: errors, nothing written. */
    int64_t dims_other[2] = {2, 1};
    float keep = w[0];
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_optimizer_update", l2l_optimizer_update(sgd, 2, ranks, dims_other, params, grads, NULL, 0, 0));
    float gnan[3] = {0, NAN, 0};
    const float *bad[2] = {gnan, gb};
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_optimizer_update", l2l_optimizer_update(sgd, 2, ranks, dims, params, bad, NULL, 0, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_update", l2l_optimizer_update(sgd, 2, ranks, dims, NULL, grads, NULL, 0, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_update", l2l_optimizer_update(NULL, 2, ranks, dims, params, grads, NULL, 0, 0));
    int64_t rank0[2] = {0, 1};
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_update", l2l_optimizer_update(sgd, 2, rank0, dims, params, grads, NULL, 0, 0));
    CHECK(w[0] == keep);
    char text[64];
    int64_t length = 0;
    EXPECT_OK(l2l_optimizer_parameter_shapes(sgd, text, sizeof text, &length));
    CHECKF(strcmp(text, "null") == 0 && length == 5, "%s", text);
    l2l_optimizer_free(other);
    l2l_optimizer_free(sgd);

    /* Adam's state read from one handle and written into a fresh one: the next updates agree. */
    l2l_optimizer *adam = NULL, *copy = NULL;
    REQUIRE_OK(l2l_optimizer_create(&adam, "adam", "lr=0.01"));
    REQUIRE_OK(l2l_optimizer_fork(&copy, adam));
    int64_t n_state = 0, step = 0;
    EXPECT_ERR(L2L_ERR_STATE, "l2l_optimizer_get_state", l2l_optimizer_get_state(adam, NULL, 0, &n_state, &step));
    float a1[3] = {1, 2, 3}, a2[1] = {0.5f};
    float *ap[2] = {a1, a2};
    for (int i = 0; i < 2; i++) EXPECT_OK(l2l_optimizer_update(adam, 2, ranks, dims, ap, grads, NULL, 0, 0));
    EXPECT_OK(l2l_optimizer_get_state(adam, NULL, 0, &n_state, &step));
    CHECKF(n_state == 8 && step == 2, "adam state: %lld values, step %lld", (long long)n_state, (long long)step);
    float state[8];
    EXPECT_OK(l2l_optimizer_get_state(adam, state, 8, &n_state, &step));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_optimizer_set_state", l2l_optimizer_set_state(copy, 2, ranks, dims, state, 7, 2));
    EXPECT_OK(l2l_optimizer_set_state(copy, 2, ranks, dims, state, 8, 2));
    float b1[3], b2[1];
    memcpy(b1, a1, sizeof a1);
    memcpy(b2, a2, sizeof a2);
    float *bp[2] = {b1, b2};
    EXPECT_OK(l2l_optimizer_update(adam, 2, ranks, dims, ap, grads, NULL, 0, 0));
    EXPECT_OK(l2l_optimizer_update(copy, 2, ranks, dims, bp, grads, NULL, 0, 0));
    CHECK(floats_equal(a1, b1, 3) && floats_equal(a2, b2, 1));
    l2l_optimizer_free(copy);
    l2l_optimizer_free(adam);

    /* A learned optimiser tied to shapes says which, and refuses others. */
    l2l_learner *net = NULL;
    REQUIRE_OK(l2l_learner_create(&net, "mlp", "sizes=3,2,2", 1));
    l2l_learned *ms = make_learned("meta_sgd", "lr=0.5", net, 1);
    l2l_optimizer *o = NULL;
    REQUIRE_OK(l2l_optimizer_create_learned(&o, ms, NULL));
    EXPECT_OK(l2l_optimizer_parameter_shapes(o, NULL, 0, &length));
    char shapes[128];
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_optimizer_parameter_shapes", l2l_optimizer_parameter_shapes(o, shapes, 4, &length));
    EXPECT_OK(l2l_optimizer_parameter_shapes(o, shapes, sizeof shapes, &length));
    CHECKF(strcmp(shapes, "[[3,2],[2],[2,2],[2]]") == 0 && length == (int64_t)strlen(shapes) + 1, "%s", shapes);
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_optimizer_update", l2l_optimizer_update(o, 2, ranks, dims, params, grads, NULL, 0, 0));
    float p0[6] = {1, 1, 1, 1, 1, 1}, p1[2] = {0, 0}, p2[4] = {1, 1, 1, 1}, p3[2] = {0, 0};
    float g0[6] = {1, 2, 3, 4, 5, 6}, g1[2] = {1, 1}, g2[4] = {0, 0, 0, 0}, g3[2] = {-1, 1};
    float *mp[4] = {p0, p1, p2, p3};
    const float *mg[4] = {g0, g1, g2, g3};
    int64_t mr[4] = {2, 1, 2, 1}, md[6] = {3, 2, 2, 2, 2, 2};
    EXPECT_OK(l2l_optimizer_update(o, 4, mr, md, mp, mg, NULL, 0, 0));
    CHECKF(p0[5] == 1 - 0.5f * 6 && p3[0] == 0.5f && p2[0] == 1, "%g %g %g", p0[5], p3[0], p2[0]);
    l2l_optimizer_free(o);
    l2l_learned_free(ms);
    l2l_learner_free(net);
}

static void test_meta_test(void) {
    section = "meta-test";
    l2l_dataset *train = separable_dataset(), *test = separable_dataset();
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));
    float params_before[LP], params_after[LP];
    REQUIRE_OK(l2l_learner_get_params(l, params_before, LP, NULL));
    l2l_optimizer *sgd = NULL;
    REQUIRE_OK(l2l_optimizer_create(&sgd, "sgd", "lr=0.5"));
    enum { K = 3, T = 20, E = 3 };
    const char *options = "learners=3 steps=20 batch=16 eval=20,0,10 seed=1";
    l2l_meta_test *r = SENTINEL;
    struct test_log log = {0, 0, K * T, 0, 0};
    EXPECT_OK(l2l_meta_test_run(&r, l, sgd, train, test, options, on_test_progress, &log));
    if (r == SENTINEL) return;
    CHECKF(log.calls == K * T && log.bad == 0, "progress: %lld calls, %lld bad", (long long)log.calls, (long long)log.bad);
    REQUIRE_OK(l2l_learner_get_params(l, params_after, LP, NULL));
    CHECK(floats_equal(params_before, params_after, LP)); /* the learner passed in is not trained */

    int64_t k = -1, t = -1, e = -1, tensors = -1;
    double sparsity = -1, seconds = -1;
    EXPECT_OK(l2l_meta_test_info(r, &k, &t, &e, &tensors, &sparsity, &seconds));
    CHECKF(k == K && t == T && e == E && tensors == 4, "info: %lld learners, %lld steps, %lld evaluations, %lld tensors",
           (long long)k, (long long)t, (long long)e, (long long)tensors);
    CHECKF(sparsity >= 0 && sparsity <= 1 && seconds > 0 && seconds < 1, "sparsity %g, %g s per step", sparsity, seconds);
    EXPECT_OK(l2l_meta_test_info(r, NULL, NULL, NULL, NULL, NULL, NULL));

    float loss[K * T], tloss[K * E], acc[K * E];
    int64_t at[E];
    EXPECT_OK(l2l_meta_test_curves(r, loss, tloss, acc, at));
    CHECKF(at[0] == 0 && at[1] == 10 && at[2] == 20, "evaluation steps %lld %lld %lld", (long long)at[0],
           (long long)at[1], (long long)at[2]);
    int ok = 1;
    for (int i = 0; i < K * T; i++) ok &= isfinite(loss[i]) && loss[i] >= 0;
    for (int i = 0; i < K * E; i++) ok &= isfinite(tloss[i]) && acc[i] >= 0 && acc[i] <= 1;
    CHECK(ok);
    for (int j = 0; j < K; j++)
        CHECKF(tloss[j * E + 2] < tloss[j * E] && acc[j * E + 2] >= 0.9f, "learner %d: test loss %g -> %g, accuracy %g", j,
               tloss[j * E], tloss[j * E + 2], acc[j * E + 2]);
    EXPECT_OK(l2l_meta_test_curves(r, NULL, NULL, acc, NULL));
    EXPECT_OK(l2l_meta_test_curves(r, NULL, NULL, NULL, NULL));

    double zeros[4];
    int64_t sizes[4];
    EXPECT_OK(l2l_meta_test_zero_weights(r, zeros, sizes, 4));
    CHECK(sizes[0] == 16 && sizes[1] == 8 && sizes[2] == 16 && sizes[3] == 2);
    for (int i = 0; i < 4; i++) CHECK(zeros[i] >= 0 && zeros[i] <= (double)sizes[i]);
    EXPECT_OK(l2l_meta_test_zero_weights(r, NULL, sizes, 4));
    sizes[0] = -5;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_meta_test_zero_weights", l2l_meta_test_zero_weights(r, zeros, sizes, 3));
    CHECK(sizes[0] == -5);
    /* SGD has no rates beta_t: available 0 and the buffers untouched. */
    int32_t available = -1;
    double masked[K * E];
    masked[0] = -5;
    EXPECT_OK(l2l_meta_test_rates(r, &available, NULL, masked, NULL, K * E));
    CHECKF(available == 0 && masked[0] == -5, "SGD's rates: available %d", (int)available);

    /* Deterministic for a seed: the same curves again. */
    l2l_meta_test *r2 = NULL;
    EXPECT_OK(l2l_meta_test_run(&r2, l, sgd, train, test, options, NULL, NULL));
    float loss2[K * T];
    EXPECT_OK(l2l_meta_test_curves(r2, loss2, NULL, NULL, NULL));
    CHECK(floats_equal(loss, loss2, K * T));
    l2l_meta_test_free(r2);

    section = "meta-test files";
    char json[512], csv[512], nodir[512];
    path_in_tmp(json, sizeof json, "meta-test.json");
    path_in_tmp(csv, sizeof csv, "meta-test.csv");
    path_in_tmp(nodir, sizeof nodir, "no-such-dir/meta-test.json");
    EXPECT_OK(l2l_meta_test_save(r, json, "json"));
    EXPECT_OK(l2l_meta_test_save(r, csv, "csv"));
    size_t nj = 0, nc = 0;
    unsigned char *tj = read_all(json, &nj), *tc = read_all(csv, &nc);
    CHECK(tj != NULL && nj > 100 && tj[0] == '{' && contains(tj, nj, "\"test_accuracy\""));
    CHECK(tc != NULL && nc > 100 && memcmp(tc, "learner,step,train_loss,test_loss,test_accuracy\n", 48) == 0);
    int lines = 0;
    for (size_t i = 0; tc != NULL && i < nc; i++) lines += tc[i] == '\n';
    CHECKF(lines == 1 + K * T, "the CSV has %d lines", lines);
    free(tj);
    free(tc);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_save", l2l_meta_test_save(r, json, "xml"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_save", l2l_meta_test_save(r, json, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_save", l2l_meta_test_save(r, NULL, "json"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_save", l2l_meta_test_save(NULL, json, "json"));
    EXPECT_ERR(L2L_ERR_IO, "l2l_meta_test_save", l2l_meta_test_save(r, nodir, "csv"));
    l2l_meta_test_free(r);

    section = "meta-test of learned optimisers";
    /* Default evaluation: the last step. A Meta-SGD at rate 0.5 everywhere trains like SGD 0.5. */
    l2l_learned *m = make_learned("meta_sgd", "lr=0.5", l, 1);
    l2l_optimizer *om = NULL;
    REQUIRE_OK(l2l_optimizer_create_learned(&om, m, NULL));
    l2l_meta_test *rm = NULL, *rs = NULL;
    EXPECT_OK(l2l_meta_test_run(&rm, l, om, train, test, "learners=2 steps=15 batch=16 seed=4", NULL, NULL));
    EXPECT_OK(l2l_meta_test_run(&rs, l, sgd, train, test, "learners=2 steps=15 batch=16 seed=4", NULL, NULL));
    if (rm != NULL && rs != NULL) {
        EXPECT_OK(l2l_meta_test_info(rm, &k, &t, &e, NULL, NULL, NULL));
        CHECK(k == 2 && t == 15 && e == 1);
        float lm[30], ls[30], am[2], as[2];
        int64_t em = 0;
        EXPECT_OK(l2l_meta_test_curves(rm, lm, NULL, am, &em));
        EXPECT_OK(l2l_meta_test_curves(rs, ls, NULL, as, NULL));
        CHECK(em == 15);
        int close = 1;
        for (int i = 0; i < 30; i++) close &= fabsf(lm[i] - ls[i]) <= 1e-4f * (1 + fabsf(ls[i]));
        CHECK(close);
    }
    l2l_meta_test_free(rm);
    l2l_meta_test_free(rs);
    /* ... but not a learner of other shapes. */
    l2l_learner *other = NULL;
    REQUIRE_OK(l2l_learner_create(&other, "mlp", "sizes=2,4,2", 1));
    l2l_meta_test *rx = SENTINEL;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_test_run", l2l_meta_test_run(&rx, other, om, train, test, "learners=1 steps=2", NULL, NULL));
    /* M2SGD at xi = 0.1 above every rate masks every weight away: sparsity 1, every rate
     * at or below xi after a step, and none before the first. */
    l2l_learned *mask = make_learned("m2sgd", "hidden=4 xi=0.1", other, 1);
    l2l_optimizer *omask = NULL;
    REQUIRE_OK(l2l_optimizer_create_learned(&omask, mask, NULL));
    EXPECT_OK(l2l_meta_test_run(&rx, other, omask, train, test, "learners=2 steps=3 batch=16 eval=0,3", NULL, NULL));
    if (rx != SENTINEL) {
        EXPECT_OK(l2l_meta_test_info(rx, NULL, NULL, NULL, NULL, &sparsity, NULL));
        CHECKF(sparsity == 1.0, "M2SGD with xi above every rate: sparsity %g", sparsity);
        float quantiles[2 * 2 * 5];
        double share[4], saturated[4];
        available = -1;
        EXPECT_OK(l2l_meta_test_rates(rx, &available, quantiles, share, saturated, 4));
        CHECK(available == 1);
        for (int j = 0; j < 2; j++) {
            const float *before = quantiles + 10 * j, *after = before + 5;
            CHECKF(isnan(before[0]) && isnan(share[2 * j]) && isnan(saturated[2 * j]), "learner %d: rates at step 0", j);
            CHECKF(share[2 * j + 1] == 1.0 && after[4] <= 0.1f && saturated[2 * j + 1] >= 0 && saturated[2 * j + 1] <= 1,
                   "learner %d at step 3: %g masked, max rate %g, %g saturated", j, share[2 * j + 1], after[4],
                   saturated[2 * j + 1]);
            for (int q = 1; q < 5; q++) CHECKF(after[q - 1] <= after[q], "learner %d: quantiles not ascending", j);
        }
        EXPECT_OK(l2l_meta_test_rates(rx, &available, NULL, NULL, NULL, 0));
        share[0] = -5;
        quantiles[0] = -5;
        EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_meta_test_rates",
                   l2l_meta_test_rates(rx, &available, quantiles, share, NULL, 3));
        CHECK(share[0] == -5 && quantiles[0] == -5);
        EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_rates", l2l_meta_test_rates(rx, NULL, NULL, share, NULL, 4));
        l2l_meta_test_free(rx);
    }
    l2l_optimizer_free(omask);
    l2l_learned_free(mask);

    section = "meta-test cancel and errors";
    struct test_log cancel = {0, 0, 2 * 10, 0, 13};
    r = SENTINEL;
    EXPECT_ERR(L2L_ERR_CANCELLED, "l2l_meta_test_run",
               l2l_meta_test_run(&r, l, sgd, train, test, "learners=2 steps=10", on_test_progress, &cancel));
    CHECK(r == SENTINEL && cancel.calls == 13 && cancel.bad == 0);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_run", l2l_meta_test_run(NULL, l, sgd, train, test, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_run", l2l_meta_test_run(&r, NULL, sgd, train, test, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_run", l2l_meta_test_run(&r, l, NULL, train, test, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_run", l2l_meta_test_run(&r, l, sgd, NULL, test, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_run", l2l_meta_test_run(&r, l, sgd, train, NULL, NULL, NULL, NULL));
    const char *bad_options[] = {"bogus=1", "learners=0", "steps=0", "steps=10 eval=11", "steps=10 eval=5,5",
                                 "eval=-1", "batch=0", "seed=-3", "eval=a"};
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        prime_last_error("l2l_meta_test_run");
        l2l_status s = l2l_meta_test_run(&r, l, sgd, train, test, bad_options[i], NULL, NULL);
        CHECKF(s == L2L_ERR_INVALID_ARGUMENT, "meta-test options \"%s\" gave %d", bad_options[i], (int)s);
        CHECK(names_function(l2l_last_error(), "l2l_meta_test_run"));
    }
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_test_run",
               l2l_meta_test_run(&r, l, sgd, train, test, "learners=70000 steps=70000", NULL, NULL));
    l2l_learner *wide = NULL;
    REQUIRE_OK(l2l_learner_create(&wide, "mlp", "sizes=3,4,2", 1));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_test_run", l2l_meta_test_run(&r, wide, sgd, train, test, "learners=1 steps=2", NULL, NULL));
    CHECK(r == SENTINEL);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_info", l2l_meta_test_info(NULL, &k, NULL, NULL, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_curves", l2l_meta_test_curves(NULL, loss, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_zero_weights", l2l_meta_test_zero_weights(NULL, zeros, sizes, 4));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_rates", l2l_meta_test_rates(NULL, &available, NULL, NULL, NULL, 0));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_test_info",
               l2l_meta_test_info((const l2l_meta_test *)(void *)l, &k, NULL, NULL, NULL, NULL, NULL));

    l2l_learner_free(wide);
    l2l_learner_free(other);
    l2l_optimizer_free(om);
    l2l_learned_free(m);
    l2l_optimizer_free(sgd);
    l2l_learner_free(l);
    l2l_dataset_free(train);
    l2l_dataset_free(test);
}

/* ---------------------------------------------------------------------------------- */
/* MLHF                                                                                */
/* ---------------------------------------------------------------------------------- */

/* MLHF meta-training progress: every call's arguments, and a call after which to cancel. */
struct mlhf_log {
    int64_t calls, cancel_at;
    int64_t iterations[16];
    l2l_mlhf_record records[16];
};

static int on_mlhf_progress(void *user, int64_t iteration, const l2l_mlhf_record *record) {
    struct mlhf_log *log = user;
    if (log->calls < 16) {
        log->iterations[log->calls] = iteration;
        log->records[log->calls] = *record;
    }
    log->calls++;
    return log->cancel_at > 0 && log->calls >= log->cancel_at;
}

static const char *const MLHF_TRAIN_OPTIONS = "iterations=5 unroll=3 batch=16 meta_lr=0.01 reset=0.5 seed=4";

static l2l_mlhf *make_mlhf(const char *options, uint64_t seed) {
    l2l_mlhf *h = NULL;
    REQUIRE_OK(l2l_mlhf_create(&h, options, seed));
    return h;
}

/* phi of `h` (malloc'd, *n values). */
static float *mlhf_phi(const l2l_mlhf *h, int64_t *n) {
    REQUIRE_OK(l2l_mlhf_get_meta(h, NULL, 0, n));
    float *phi = malloc(sizeof(float) * (size_t)*n);
    REQUIRE_OK(l2l_mlhf_get_meta(h, phi, *n, n));
    return phi;
}

/* Trains a fresh 2-8-2 learner (seed 5) for 6 steps with an MLHF optimiser made from `h`
 * and returns its parameters in `params` and the losses in `losses`. */
static void mlhf_train(const l2l_mlhf *h, l2l_dataset *d, float *params, float *losses) {
    l2l_learner *l = NULL;
    l2l_optimizer *o = NULL;
    l2l_batches *b = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 5));
    REQUIRE_OK(l2l_optimizer_create_mlhf(&o, h, l, NULL));
    REQUIRE_OK(l2l_batches_create(&b, d, 16, 6, NULL));
    EXPECT_OK(l2l_train(l, o, b, 6, losses, NULL, NULL));
    REQUIRE_OK(l2l_learner_get_params(l, params, LP, NULL));
    l2l_batches_free(b);
    l2l_optimizer_free(o);
    l2l_learner_free(l);
}

static void test_mlhf(void) {
    section = "mlhf create/info/meta";
    l2l_mlhf *m = SENTINEL;
    EXPECT_OK(l2l_mlhf_create(&m, "cg_iters=3", 7));
    if (m == SENTINEL) return;
    int64_t np = -1, nt = -1;
    EXPECT_OK(l2l_mlhf_info(m, &np, &nt));
    CHECKF(np == 2 * 6 * 277 && nt == 2 * 6 * 8, "%lld meta-parameters in %lld tensors", (long long)np, (long long)nt);
    EXPECT_OK(l2l_mlhf_info(m, NULL, NULL));
    char options[512], tiny[8] = "x";
    EXPECT_OK(l2l_mlhf_describe(m, options, sizeof options));
    CHECKF(strstr(options, "cg_iters=3") != NULL && strstr(options, "preconditioner=rnn") != NULL, "options \"%s\"", options);
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_mlhf_describe", l2l_mlhf_describe(m, tiny, sizeof tiny));
    CHECK(tiny[0] == 'x');
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_describe", l2l_mlhf_describe(m, NULL, 64));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_info", l2l_mlhf_info(NULL, &np, NULL));

    /* phi: the seed decides it; get/set round-trip; refused values change nothing. */
    int64_t n = 0;
    float *phi = mlhf_phi(m, &n);
    CHECK(n == np);
    l2l_mlhf *same = make_mlhf("cg_iters=3", 7), *other = make_mlhf("cg_iters=3", 8);
    int64_t n2 = 0;
    float *phi_same = mlhf_phi(same, &n2), *phi_other = mlhf_phi(other, &n2);
    CHECK(floats_equal(phi, phi_same, n) && !floats_equal(phi, phi_other, n));
    float small[4] = {-1, -1, -1, -1};
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_mlhf_get_meta", l2l_mlhf_get_meta(m, small, 4, &n2));
    CHECK(n2 == np && all_equal_to(small, 4, -1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_get_meta", l2l_mlhf_get_meta(m, NULL, 0, NULL));
    EXPECT_OK(l2l_mlhf_set_meta(same, phi_other, n));
    float *back = mlhf_phi(same, &n2);
    CHECK(floats_equal(back, phi_other, n));
    free(back);
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_mlhf_set_meta", l2l_mlhf_set_meta(same, phi, n - 1));
    phi_other[n / 2] = NAN;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_mlhf_set_meta", l2l_mlhf_set_meta(same, phi_other, n));
    phi_other[n / 2] = INFINITY;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_mlhf_set_meta", l2l_mlhf_set_meta(same, phi_other, n));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_set_meta", l2l_mlhf_set_meta(same, NULL, n));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_set_meta", l2l_mlhf_set_meta(same, phi, -1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_set_meta", l2l_mlhf_set_meta(NULL, phi, n));
    back = mlhf_phi(same, &n2);
    phi_other[n / 2] = back[n / 2];
    CHECK(floats_equal(back, phi_other, n)); /* unchanged by the refused calls */
    free(back);

    /* Bad options and arguments: clear errors, *out untouched. */
    const char *bad[] = {"cg_iters=0", "damping=-1", "damping=lots", "preconditioner=maybe", "noise=1",
                         "hidden=0", "lr=0", "bogus=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        l2l_mlhf *bad_m = SENTINEL;
        prime_last_error("l2l_mlhf_create");
        l2l_status s = l2l_mlhf_create(&bad_m, bad[i], 0);
        CHECKF(s == L2L_ERR_INVALID_ARGUMENT, "options \"%s\" gave %d", bad[i], (int)s);
        CHECK(names_function(l2l_last_error(), "l2l_mlhf_create"));
        CHECK(bad_m == SENTINEL);
    }
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_create", l2l_mlhf_create(NULL, NULL, 0));
    /* A handle of another kind is refused, not misread. */
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_info", l2l_mlhf_info((const l2l_mlhf *)(void *)l, &np, NULL));

    section = "mlhf optimizer";
    l2l_dataset *d = separable_dataset();
    l2l_optimizer *o = SENTINEL;
    EXPECT_OK(l2l_optimizer_create_mlhf(&o, m, l, NULL));
    l2l_batches *b = NULL;
    REQUIRE_OK(l2l_batches_create(&b, d, 32, 2, NULL));
    float before = 0, after = 0, acc = 0, losses[20];
    REQUIRE_OK(l2l_learner_evaluate(l, d, &before, NULL));
    EXPECT_OK(l2l_train(l, o, b, 20, losses, NULL, NULL));
    EXPECT_OK(l2l_learner_evaluate(l, d, &after, &acc));
    CHECKF(after < 0.7f * before, "untrained MLHF: loss %g -> %g (accuracy %g)", before, after, acc);
    /* The same kinds in the same order (another width) after a reset; other kinds never. */
    l2l_learner *wide = NULL, *deep = NULL;
    REQUIRE_OK(l2l_learner_create(&wide, "mlp", "sizes=2,16,2", 2));
    REQUIRE_OK(l2l_learner_create(&deep, "mlp", "sizes=2,4,4,2", 2));
    REQUIRE_OK(l2l_optimizer_reset(o));
    EXPECT_OK(l2l_train(wide, o, b, 3, NULL, NULL, NULL));
    REQUIRE_OK(l2l_optimizer_reset(o));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_train", l2l_train(deep, o, b, 3, NULL, NULL, NULL));
    float xo[4] = {0.5f, -0.5f, 1, 0};
    int32_t yo[2] = {0, 1};
    float loss;
    REQUIRE_OK(l2l_learner_loss_grad(deep, xo, yo, 2, 2, &loss));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_optimizer_step", l2l_optimizer_step(o, deep));
    /* Meta-testing takes it like any optimiser. */
    l2l_meta_test *r = SENTINEL;
    EXPECT_OK(l2l_meta_test_run(&r, l, o, d, d, "learners=2 steps=4 batch=16 seed=1", NULL, NULL));
    if (r != SENTINEL) {
        int64_t k = 0, t = 0;
        EXPECT_OK(l2l_meta_test_info(r, &k, &t, NULL, NULL, NULL, NULL));
        CHECK(k == 2 && t == 4);
        l2l_meta_test_free(r);
    }
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_test_run",
               l2l_meta_test_run(&r, deep, o, d, d, "learners=1 steps=2 batch=16", NULL, NULL));
    l2l_optimizer *ob = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_mlhf", l2l_optimizer_create_mlhf(&ob, m, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_mlhf", l2l_optimizer_create_mlhf(&ob, NULL, l, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_mlhf", l2l_optimizer_create_mlhf(NULL, m, l, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_mlhf", l2l_optimizer_create_mlhf(&ob, m, l, "lr=1"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_optimizer_create_mlhf",
               l2l_optimizer_create_mlhf(&ob, m, (const l2l_learner *)(void *)d, NULL));
    CHECK(ob == SENTINEL);
    l2l_optimizer_free(o);
    l2l_batches_free(b);
    l2l_learner_free(wide);

    section = "mlhf save/load";
    char path[512], bad_path[512], learned_path[512];
    path_in_tmp(path, sizeof path, "mlhf.safetensors");
    path_in_tmp(bad_path, sizeof bad_path, "bad.safetensors");
    path_in_tmp(learned_path, sizeof learned_path, "meta_sgd.safetensors");
    EXPECT_OK(l2l_mlhf_save(m, path));
    l2l_mlhf *loaded = SENTINEL;
    EXPECT_OK(l2l_mlhf_load(&loaded, path));
    if (loaded == SENTINEL) return;
    float *phi_loaded = mlhf_phi(loaded, &n2);
    CHECK(n2 == n && floats_equal(phi, phi_loaded, n));
    free(phi_loaded);
    char options2[512];
    EXPECT_OK(l2l_mlhf_describe(loaded, options2, sizeof options2));
    CHECK(strcmp(options, options2) == 0);
    /* The same training, step for step (recurrent state and warm starts included). */
    float p1[LP], p2[LP], l1[6], l2[6];
    mlhf_train(m, d, p1, l1);
    mlhf_train(loaded, d, p2, l2);
    CHECK(floats_equal(p1, p2, LP) && floats_equal(l1, l2, 6));
    /* Damage and files of other kinds. */
    l2l_mlhf *none = SENTINEL;
    size_t size = 0;
    unsigned char *bytes = read_all(path, &size);
    REQUIRE_OK(bytes != NULL && size > 64 ? L2L_OK : L2L_ERR_IO);
    const size_t cuts[] = {0, 7, 100, size / 2, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_path(bad_path, bytes, cuts[i]);
        EXPECT_ERR(L2L_ERR_FORMAT, "l2l_mlhf_load", l2l_mlhf_load(&none, bad_path));
    }
    bytes[size - 5] ^= 0x04;
    write_path(bad_path, bytes, size);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_mlhf_load", l2l_mlhf_load(&none, bad_path));
    CHECK(strstr(l2l_last_error(), "checksum") != NULL);
    free(bytes);
    char missing[512];
    path_in_tmp(missing, sizeof missing, "no-such.safetensors");
    EXPECT_ERR(L2L_ERR_IO, "l2l_mlhf_load", l2l_mlhf_load(&none, missing));
    l2l_learned *sgd = make_learned("meta_sgd", NULL, l, 1);
    REQUIRE_OK(l2l_learned_save(sgd, learned_path));
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_mlhf_load", l2l_mlhf_load(&none, learned_path));
    CHECK(strstr(l2l_last_error(), "meta_sgd") != NULL);
    l2l_learned *not_learned = SENTINEL;
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_learned_load", l2l_learned_load(&not_learned, path));
    CHECK(strstr(l2l_last_error(), "MLHF") != NULL && not_learned == SENTINEL);
    l2l_learned_free(sgd);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_load", l2l_mlhf_load(&none, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_load", l2l_mlhf_load(NULL, path));
    CHECK(none == SENTINEL);
    char nodir[512];
    path_in_tmp(nodir, sizeof nodir, "no-such-dir/m.safetensors");
    EXPECT_ERR(L2L_ERR_IO, "l2l_mlhf_save", l2l_mlhf_save(m, nodir));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_save", l2l_mlhf_save(m, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_save", l2l_mlhf_save(NULL, path));

    section = "mlhf meta-training";
    l2l_mlhf_trainer *t = SENTINEL;
    EXPECT_OK(l2l_mlhf_trainer_create(&t, m, l, d, MLHF_TRAIN_OPTIONS));
    if (t == SENTINEL) return;
    int64_t done = -1, configured = -1, events = -1;
    EXPECT_OK(l2l_mlhf_trainer_info(t, &done, &configured, &events));
    CHECK(done == 0 && configured == 5 && events == 0);
    l2l_mlhf_record first, again;
    EXPECT_OK(l2l_mlhf_trainer_evaluate(t, NULL, 2, 99, &first));
    CHECKF(isfinite(first.precondition_loss) && first.precondition_loss < 0 && isfinite(first.damping_loss) &&
               first.residual_norm >= 0 && first.training_loss > 0 && first.damping > 0,
           "evaluation: l_p %g l_s %g |r| %g loss %g s %g", first.precondition_loss, first.damping_loss,
           first.residual_norm, first.training_loss, first.damping);
    EXPECT_OK(l2l_mlhf_trainer_evaluate(t, m, 2, 99, &again)); /* m holds the trainer's starting phi */
    CHECK(memcmp(&first, &again, sizeof first) == 0);
    struct mlhf_log log;
    memset(&log, 0, sizeof log);
    EXPECT_OK(l2l_mlhf_trainer_run(t, -1, on_mlhf_progress, &log));
    CHECKF(log.calls == 5, "%lld progress calls", (long long)log.calls);
    for (int i = 0; i < 5 && i < log.calls; i++) CHECK(log.iterations[i] == i);
    EXPECT_OK(l2l_mlhf_trainer_info(t, &done, NULL, &events));
    CHECK(done == 5 && events == 0);
    float lp[5], ls[5], res[5], tl[5], damp[5];
    EXPECT_OK(l2l_mlhf_trainer_history(t, lp, ls, res, tl, damp, 5, &n2));
    CHECK(n2 == 5);
    int same_as_log = 1, finite = 1;
    for (int i = 0; i < 5; i++) {
        same_as_log &= lp[i] == log.records[i].precondition_loss && ls[i] == log.records[i].damping_loss &&
                       res[i] == log.records[i].residual_norm && tl[i] == log.records[i].training_loss &&
                       damp[i] == log.records[i].damping;
        finite &= isfinite(lp[i]) && isfinite(ls[i]) && isfinite(res[i]) && isfinite(tl[i]) && damp[i] > 0;
    }
    CHECK(same_as_log && finite);
    EXPECT_OK(l2l_mlhf_trainer_history(t, NULL, NULL, NULL, NULL, NULL, 0, &n2));
    CHECK(n2 == 5);
    EXPECT_OK(l2l_mlhf_trainer_history(t, NULL, ls, NULL, NULL, NULL, 5, NULL));
    float short_lp[4] = {-1, -1, -1, -1};
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_mlhf_trainer_history",
               l2l_mlhf_trainer_history(t, short_lp, NULL, NULL, NULL, NULL, 4, &n2));
    CHECK(n2 == 5 && all_equal_to(short_lp, 4, -1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_history",
               l2l_mlhf_trainer_history(t, NULL, NULL, NULL, NULL, NULL, 0, NULL));
    EXPECT_OK(l2l_mlhf_trainer_events(t, NULL, NULL, NULL, 0, &events));
    CHECK(events == 0);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_events", l2l_mlhf_trainer_events(t, NULL, NULL, NULL, 0, NULL));
    /* Nothing remains of the configured iterations; explicit counts go on. */
    EXPECT_OK(l2l_mlhf_trainer_run(t, -1, NULL, NULL));
    EXPECT_OK(l2l_mlhf_trainer_run(t, 0, NULL, NULL));
    EXPECT_OK(l2l_mlhf_trainer_run(t, 1, NULL, NULL));
    EXPECT_OK(l2l_mlhf_trainer_info(t, &done, NULL, NULL));
    CHECK(done == 6);

    /* The trained phi: copied into a handle on request, then evaluated, saved or used. */
    float *untrained = mlhf_phi(m, &n2);
    CHECK(floats_equal(untrained, phi, n));
    EXPECT_OK(l2l_mlhf_trainer_get_mlhf(t, m));
    float *trained = mlhf_phi(m, &n2);
    int all_finite = 1;
    for (int64_t i = 0; i < n; i++) all_finite &= isfinite(trained[i]) != 0;
    CHECK(all_finite && !floats_equal(trained, phi, n));
    EXPECT_OK(l2l_mlhf_trainer_evaluate(t, NULL, 2, 99, &first));
    EXPECT_OK(l2l_mlhf_trainer_evaluate(t, m, 2, 99, &again));
    CHECK(memcmp(&first, &again, sizeof first) == 0);
    free(untrained);
    free(trained);
    l2l_mlhf *no_rnn = make_mlhf("preconditioner=none", 1);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_get_mlhf", l2l_mlhf_trainer_get_mlhf(t, no_rnn));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_get_mlhf", l2l_mlhf_trainer_get_mlhf(t, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_evaluate", l2l_mlhf_trainer_evaluate(t, no_rnn, 1, 0, &first));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_evaluate", l2l_mlhf_trainer_evaluate(t, NULL, 0, 0, &first));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_evaluate", l2l_mlhf_trainer_evaluate(t, NULL, 1, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_run", l2l_mlhf_trainer_run(NULL, 1, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_info", l2l_mlhf_trainer_info(NULL, NULL, NULL, NULL));

    /* Deterministic: the same trainer again gives the same history; cancelling keeps the work. */
    l2l_mlhf *m2 = make_mlhf("cg_iters=3", 7);
    l2l_mlhf_trainer *t2 = NULL;
    REQUIRE_OK(l2l_mlhf_trainer_create(&t2, m2, l, d, MLHF_TRAIN_OPTIONS));
    memset(&log, 0, sizeof log);
    log.cancel_at = 2;
    EXPECT_ERR(L2L_ERR_CANCELLED, "l2l_mlhf_trainer_run", l2l_mlhf_trainer_run(t2, -1, on_mlhf_progress, &log));
    EXPECT_OK(l2l_mlhf_trainer_info(t2, &done, NULL, NULL));
    CHECK(log.calls == 2 && done == 2);
    EXPECT_OK(l2l_mlhf_trainer_run(t2, -1, NULL, NULL));
    float lp2[5];
    EXPECT_OK(l2l_mlhf_trainer_history(t2, lp2, NULL, NULL, NULL, NULL, 5, &n2));
    CHECK(n2 == 5 && floats_equal(lp, lp2, 5));
    l2l_mlhf_trainer_free(t2);
    l2l_mlhf_free(m2);

    /* Creation errors. */
    l2l_mlhf_trainer *tb = SENTINEL;
    const char *bad_train[] = {"unroll=1", "reset=2", "clip=sometimes", "iterations=0", "bogus=1"};
    for (size_t i = 0; i < sizeof bad_train / sizeof bad_train[0]; i++)
        EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_create", l2l_mlhf_trainer_create(&tb, m, l, d, bad_train[i]));
    l2l_learner *three = NULL;
    REQUIRE_OK(l2l_learner_create(&three, "mlp", "sizes=3,4,2", 1));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_mlhf_trainer_create", l2l_mlhf_trainer_create(&tb, m, three, d, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_create", l2l_mlhf_trainer_create(&tb, NULL, l, d, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_create", l2l_mlhf_trainer_create(&tb, m, NULL, d, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_create", l2l_mlhf_trainer_create(&tb, m, l, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_mlhf_trainer_create", l2l_mlhf_trainer_create(NULL, m, l, d, NULL));
    CHECK(tb == SENTINEL);

    l2l_learner_free(three);
    l2l_mlhf_free(no_rnn);
    l2l_mlhf_trainer_free(t);
    l2l_mlhf_free(loaded);
    l2l_learner_free(deep);
    l2l_dataset_free(d);
    l2l_learner_free(l);
    free(phi);
    free(phi_same);
    free(phi_other);
    l2l_mlhf_free(same);
    l2l_mlhf_free(other);
    l2l_mlhf_free(m);
}

/* Regression: a linear regressor y = x.W + b (sizes=2,1, objective=mse) against a mean
 * squared error and its gradient computed here by hand. */
static void test_regression(void) {
    section = "regression";
    enum { N = 4, F = 2 };
    const float x[N * F] = {1, 2, -1, 0.5f, 3, -2, 0.25f, 1};
    const float y[N] = {0.5f, -1, 2, 0};
    const float params[3] = {0.3f, -0.7f, 0.1f}; /* fc0.weight [2, 1], fc0.bias [1] */
    l2l_learner *l = NULL, *ce = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=2,1; objective=mse", 1));
    REQUIRE_OK(l2l_learner_create(&ce, "mlp", "sizes=2,3", 1));
    REQUIRE_OK(l2l_learner_set_params(l, params, 3));
    double want = 0, gw0 = 0, gw1 = 0, gb = 0;
    for (int i = 0; i < N; i++) {
        double r = params[0] * x[i * F] + params[1] * x[i * F + 1] + params[2] - y[i];
        want += r * r / N;
        gw0 += 2 * r * x[i * F] / N;
        gw1 += 2 * r * x[i * F + 1] / N;
        gb += 2 * r / N;
    }
    float loss = -1, grads[3] = {0};
    int64_t count = 0;
    EXPECT_OK(l2l_learner_loss_grad_values(l, x, y, N, F, 1, &loss));
    CHECKF(fabs(loss - want) < 1e-5, "loss %g, expected %g", loss, want);
    EXPECT_OK(l2l_learner_get_grads(l, grads, 3, &count));
    CHECK(count == 3);
    CHECKF(fabs(grads[0] - gw0) < 1e-5 && fabs(grads[1] - gw1) < 1e-5 && fabs(grads[2] - gb) < 1e-5,
           "gradient (%g, %g, %g), expected (%g, %g, %g)", grads[0], grads[1], grads[2], gw0, gw1, gb);

    /* Labels for a regressor, targets for a classifier, wrong widths, NaN: errors, not traps. */
    const int32_t labels[N] = {0, 0, 0, 0};
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad", l2l_learner_loss_grad(l, x, labels, N, F, &loss));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad_values", l2l_learner_loss_grad_values(ce, x, y, N, F, 1, &loss));
    const float y3[N * 3] = {0};
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad_values", l2l_learner_loss_grad_values(ce, x, y3, N, F, 3, &loss));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_learner_loss_grad_values", l2l_learner_loss_grad_values(l, x, y3, N, F, 2, &loss));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad_values", l2l_learner_loss_grad_values(l, x, NULL, N, F, 1, &loss));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_loss_grad_values", l2l_learner_loss_grad_values(NULL, x, y, N, F, 1, &loss));
    float ynan[N] = {0, 0, 0, 0};
    ynan[2] = NAN;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_learner_loss_grad_values", l2l_learner_loss_grad_values(l, x, ynan, N, F, 1, &loss));

    /* A regression data set: read back, evaluated (loss as above, NaN accuracy), trained. */
    l2l_dataset *d = NULL, *labelled = NULL;
    EXPECT_OK(l2l_dataset_create_regression(&d, x, y, N, F, 1));
    REQUIRE_OK(l2l_dataset_create(&labelled, x, labels, N, F, 1));
    int32_t regression = -1;
    EXPECT_OK(l2l_dataset_is_regression(d, &regression));
    CHECK(regression == 1);
    EXPECT_OK(l2l_dataset_is_regression(labelled, &regression));
    CHECK(regression == 0);
    float back[N] = {0};
    EXPECT_OK(l2l_dataset_read_values(d, 1, 3, back));
    CHECK(back[0] == y[1] && back[1] == y[2] && back[2] == y[3]);
    EXPECT_ERR(L2L_ERR_STATE, "l2l_dataset_read_values", l2l_dataset_read_values(labelled, 0, 1, back));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_dataset_read_values", l2l_dataset_read_values(d, 2, 3, back));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_dataset_create_regression", l2l_dataset_create_regression(&d, x, y, N, F, 0));
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_dataset_create_regression", l2l_dataset_create_regression(&d, x, ynan, N, F, 1));
    float eval_loss = -1, accuracy = 0;
    EXPECT_OK(l2l_learner_evaluate(l, d, &eval_loss, &accuracy));
    CHECKF(fabs(eval_loss - want) < 1e-5, "evaluate loss %g, expected %g", eval_loss, want);
    CHECK(isnan(accuracy));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_evaluate", l2l_learner_evaluate(l, labelled, &eval_loss, &accuracy));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_evaluate", l2l_learner_evaluate(ce, d, &eval_loss, &accuracy));
    l2l_optimizer *sgd = NULL;
    l2l_batches *b = NULL;
    REQUIRE_OK(l2l_optimizer_create(&sgd, "sgd", "lr=0.05"));
    REQUIRE_OK(l2l_batches_create(&b, d, N, 0, "shuffle=0"));
    float losses[50], bx[N * F];
    int32_t by[N];
    int64_t got = -1;
    EXPECT_ERR(L2L_ERR_STATE, "l2l_batches_next", l2l_batches_next(b, bx, N * F, by, N, &got));
    CHECK(got == -1);
    EXPECT_OK(l2l_train(l, sgd, b, 50, losses, NULL, NULL));
    CHECKF(fabs(losses[0] - want) < 1e-5 && losses[49] < 0.5f * losses[0], "train losses %g -> %g", losses[0], losses[49]);
    l2l_batches_free(b);
    l2l_optimizer_free(sgd);
    l2l_dataset_free(labelled);
    l2l_dataset_free(d);
    l2l_learner_free(ce);
    l2l_learner_free(l);
}

/* Few-shot meta-learning: a sine regressor meta-trained by MAML and Meta-SGD. */
static int stop_after_three(void *user, int64_t step, int64_t total, float loss) {
    int *calls = (int *)user;
    (*calls)++;
    return step >= 3 && total == 50 && isfinite(loss);
}

static void test_fewshot(void) {
    section = "fewshot";
    enum { P = 1 * 8 + 8 + 8 * 1 + 1, K = 5 };
    l2l_learner *net = NULL, *into = NULL, *ce = NULL, *other = NULL;
    REQUIRE_OK(l2l_learner_create(&net, "mlp", "sizes=1,8,1; activation=tanh; objective=mse", 3));
    REQUIRE_OK(l2l_learner_create(&into, "mlp", "sizes=1,8,1; activation=tanh; objective=mse", 9));
    REQUIRE_OK(l2l_learner_create(&ce, "mlp", "sizes=1,8,2", 3));
    REQUIRE_OK(l2l_learner_create(&other, "mlp", "sizes=1,9,1; objective=mse", 3));
    l2l_fewshot *maml = NULL, *msgd = NULL, *back = NULL, *f = SENTINEL;
    EXPECT_OK(l2l_fewshot_create(&maml, net, "seed=3; inner_lr=0.1; meta_batch=5; meta_lr=0.01"));
    EXPECT_OK(l2l_fewshot_create(&msgd, net, "method=meta_sgd; seed=8; inner_lr=0.1; shots=5"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_create", l2l_fewshot_create(&f, net, "method=reptile"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_create", l2l_fewshot_create(&f, net, "inner_steps=0"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_create", l2l_fewshot_create(&f, net, "bogus=1"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_create", l2l_fewshot_create(&f, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_create", l2l_fewshot_create(NULL, net, NULL));
    CHECK(f == SENTINEL);

    /* theta starts as the learner's current parameters; Meta-SGD's alpha = inner_lr. */
    int64_t n = 0, iterations = -1, events = -1;
    EXPECT_OK(l2l_fewshot_info(maml, &n, &iterations, &events));
    CHECK(n == P && iterations == 0 && events == 0);
    EXPECT_OK(l2l_fewshot_get_meta(msgd, NULL, 0, &n));
    CHECK(n == 2 * P);
    float theta[2 * P], params[P], alpha_ok = 1;
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_fewshot_get_meta", l2l_fewshot_get_meta(msgd, theta, P, &n));
    EXPECT_OK(l2l_fewshot_get_meta(msgd, theta, 2 * P, &n));
    EXPECT_OK(l2l_learner_get_params(net, params, P, &n));
    CHECK(floats_equal(theta, params, P));
    for (int i = P; i < 2 * P; i++) alpha_ok = alpha_ok && theta[i] == 0.1f;
    CHECK(alpha_ok);

    /* Adaptation: 0 steps gives theta; 1 step is theta - 0.1 * the support gradient. */
    float x[K] = {-4, -1.5f, 0.2f, 2, 4.5f}, y[K], grads[P], adapted[P], expected[P];
    for (int i = 0; i < K; i++) y[i] = 2 * sinf(x[i] - 1);
    EXPECT_OK(l2l_fewshot_adapt(maml, x, y, K, 1, 1, 0, into));
    EXPECT_OK(l2l_learner_get_params(into, adapted, P, &n));
    CHECK(floats_equal(adapted, params, P));
    REQUIRE_OK(l2l_learner_loss_grad_values(net, x, y, K, 1, 1, NULL));
    REQUIRE_OK(l2l_learner_get_grads(net, grads, P, &n));
    for (int i = 0; i < P; i++) expected[i] = params[i] - 0.1f * grads[i];
    EXPECT_OK(l2l_fewshot_adapt(msgd, x, y, K, 1, 1, -1, into));
    EXPECT_OK(l2l_learner_get_params(into, adapted, P, &n));
    float worst = 0;
    for (int i = 0; i < P; i++) worst = fmaxf(worst, fabsf(adapted[i] - expected[i]));
    CHECKF(worst < 1e-5f, "adapted parameters differ from a hand-made SGD step by %g", worst);
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_fewshot_adapt", l2l_fewshot_adapt(maml, x, y, K, 1, 1, 1, other));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_fewshot_adapt", l2l_fewshot_adapt(maml, x, y, K, 2, 1, 1, into));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_adapt", l2l_fewshot_adapt(maml, x, NULL, K, 1, 1, 1, into));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_adapt", l2l_fewshot_adapt(maml, x, y, K, 1, 1, 1, NULL));

    /* Meta-training lowers the held-out 10-shot loss; a cancelled run keeps its iterations. */
    const int64_t shots[2] = {5, 10};
    float before[2], after[2], intervals[2], losses[2 * 30], fit_losses[200];
    EXPECT_OK(l2l_fewshot_evaluate(maml, "sine", NULL, 30, shots, 2, -1, 7, NULL, before, NULL));
    EXPECT_OK(l2l_fewshot_fit(maml, "sine", NULL, "shots=10", 200, fit_losses, NULL, NULL));
    EXPECT_OK(l2l_fewshot_evaluate(maml, "sine", "evaluation_points=100", 30, shots, 2, -1, 7, losses, after, intervals));
    CHECKF(after[1] < 0.8f * before[1], "10-shot loss %g before, %g after meta-training", before[1], after[1]);
    double sum = 0;
    for (int i = 30; i < 60; i++) sum += losses[i];
    CHECKF(fabs(sum / 30 - after[1]) < 1e-4 * (1 + after[1]), "mean %g of the losses, reported %g", sum / 30, after[1]);
    CHECK(intervals[0] > 0 && intervals[1] > 0 && isfinite(fit_losses[199]));
    int calls = 0;
    EXPECT_ERR(L2L_ERR_CANCELLED, "l2l_fewshot_fit", l2l_fewshot_fit(maml, "sine", NULL, NULL, 50, NULL, stop_after_three, &calls));
    EXPECT_OK(l2l_fewshot_info(maml, NULL, &iterations, NULL));
    CHECK(calls == 3 && iterations == 203);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_fit", l2l_fewshot_fit(maml, "omniglot", NULL, NULL, 1, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_fit", l2l_fewshot_fit(maml, "sine", NULL, "method=fomaml", 1, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_evaluate", l2l_fewshot_evaluate(maml, "sine", NULL, 0, shots, 2, -1, 7, NULL, NULL, NULL));
    l2l_fewshot *classifier = NULL;
    REQUIRE_OK(l2l_fewshot_create(&classifier, ce, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_fit", l2l_fewshot_fit(classifier, "sine", NULL, NULL, 1, NULL, NULL, NULL));

    /* Files: a round trip onto the same shapes; other shapes and missing files fail. */
    char path[512];
    path_in_tmp(path, sizeof path, "fewshot.safetensors");
    EXPECT_OK(l2l_fewshot_save(msgd, path));
    EXPECT_OK(l2l_fewshot_load(&back, path, into));
    float again[2 * P];
    EXPECT_OK(l2l_fewshot_get_meta(back, again, 2 * P, &n));
    CHECK(n == 2 * P && floats_equal(again, theta, 2 * P));
    f = SENTINEL;
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_fewshot_load", l2l_fewshot_load(&f, path, other));
    path_in_tmp(path, sizeof path, "missing.safetensors");
    EXPECT_ERR(L2L_ERR_IO, "l2l_fewshot_load", l2l_fewshot_load(&f, path, net));
    CHECK(f == SENTINEL);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_fewshot_save", l2l_fewshot_save(NULL, path));

    l2l_fewshot_free(classifier);
    l2l_fewshot_free(back);
    l2l_fewshot_free(msgd);
    l2l_fewshot_free(maml);
    l2l_learner_free(other);
    l2l_learner_free(ce);
    l2l_learner_free(into);
    l2l_learner_free(net);
}

static void test_free_null(void) {
    section = "free(NULL)";
    /* Each is a no-op; reaching the next line is the check. */
    l2l_dataset_free(NULL);
    l2l_batches_free(NULL);
    l2l_learner_free(NULL);
    l2l_optimizer_free(NULL);
    l2l_learned_free(NULL);
    l2l_meta_trainer_free(NULL);
    l2l_meta_test_free(NULL);
    l2l_mlhf_free(NULL);
    l2l_mlhf_trainer_free(NULL);
    l2l_fewshot_free(NULL);
    CHECK(1);
}

/* One meta-iteration in two halves: two "processes" (trainers a and b, members {0, 2} and
 * {1}) exchanging rows in memory end with phi bit for bit as one l2l_meta_trainer_run;
 * bad sizes, order and NaN give their statuses. */
static void test_meta_split(void) {
    section = "meta-training split across processes";
    const char *options = "trials=2 steps=10 unroll=5 batch=16 meta_lr=0.01 seed=5 meta_batch=3";
    l2l_dataset *d = separable_dataset();
    l2l_learner *l = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", LEARNER_OPTIONS, 1));
    l2l_learned *la = NULL, *lb = NULL, *lc = NULL;
    l2l_meta_trainer *one = meta_sgd_trainer(&la, options, l, d);
    l2l_meta_trainer *a = meta_sgd_trainer(&lb, options, l, d);
    l2l_meta_trainer *b = meta_sgd_trainer(&lc, options, l, d);
    int64_t batch = 0, p = 0, trials = 0, per_trial = 0;
    EXPECT_OK(l2l_meta_trainer_sizes(a, &batch, &p, &trials, &per_trial));
    CHECKF(batch == 3 && p == LP && trials == 2 && per_trial == 2, "sizes %lld %lld %lld %lld", (long long)batch,
           (long long)p, (long long)trials, (long long)per_trial);
    EXPECT_OK(l2l_meta_trainer_sizes(a, NULL, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_sizes", l2l_meta_trainer_sizes(NULL, &batch, NULL, NULL, NULL));

    float phi[LP], grads[3 * LP], summaries[3 * L2L_META_SUMMARY_SIZE], combined[LP];
    int64_t n = 0;
    EXPECT_OK(l2l_meta_trainer_get_phi(a, NULL, 0, &n));
    CHECK(n == LP);
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_meta_trainer_get_phi", l2l_meta_trainer_get_phi(a, phi, LP - 1, &n));
    EXPECT_OK(l2l_meta_trainer_get_phi(a, phi, LP, &n));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_set_phi", l2l_meta_trainer_set_phi(b, phi, LP - 1));
    float nan_phi[LP];
    memcpy(nan_phi, phi, sizeof phi);
    nan_phi[1] = NAN;
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_meta_trainer_set_phi", l2l_meta_trainer_set_phi(b, nan_phi, LP));
    EXPECT_OK(l2l_meta_trainer_set_phi(b, phi, LP)); /* "broadcast" a's phi */

    const int64_t mine_a[2] = {0, 2}, mine_b[1] = {1}, bad[2] = {1, 1}, out_of_range[1] = {3};
    EXPECT_ERR(L2L_ERR_STATE, "l2l_meta_trainer_apply", l2l_meta_trainer_apply(a, summaries, 12, combined, LP));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_estimate",
               l2l_meta_trainer_estimate(a, bad, 2, grads, 3 * LP, summaries, 12));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_estimate",
               l2l_meta_trainer_estimate(a, out_of_range, 1, grads, 3 * LP, summaries, 12));
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_meta_trainer_estimate",
               l2l_meta_trainer_estimate(a, mine_a, 2, grads, 2 * LP - 1, summaries, 12));
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_combine", l2l_meta_trainer_combine(a, grads, 2 * LP, combined, LP));
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_meta_trainer_combine",
               l2l_meta_trainer_combine(a, grads, 3 * LP, combined, LP - 1));

    EXPECT_OK(l2l_meta_trainer_run(one, -1, NULL, NULL));
    for (int it = 0; it < 4; it++) {
        /* Each process estimates its members; rows go to their member's place. */
        float ga[2 * LP], sa[2 * L2L_META_SUMMARY_SIZE], gb[LP], sb[L2L_META_SUMMARY_SIZE];
        if (it == 1) /* mid-trial, member 1's learner is b's: a may not take it over */
            EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_estimate",
                       l2l_meta_trainer_estimate(a, mine_b, 1, gb, LP, sb, L2L_META_SUMMARY_SIZE));
        EXPECT_OK(l2l_meta_trainer_estimate(a, mine_a, 2, ga, 2 * LP, sa, 2 * L2L_META_SUMMARY_SIZE));
        EXPECT_OK(l2l_meta_trainer_estimate(b, mine_b, 1, gb, LP, sb, L2L_META_SUMMARY_SIZE));
        if (it == 0) {
            EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_estimate",
                       l2l_meta_trainer_estimate(a, mine_a, 1, ga, LP, sa, L2L_META_SUMMARY_SIZE));
            EXPECT_ERR(L2L_ERR_STATE, "l2l_meta_trainer_set_phi", l2l_meta_trainer_set_phi(a, phi, LP));
        }
        memcpy(grads, ga, LP * sizeof(float));
        memcpy(grads + LP, gb, LP * sizeof(float));
        memcpy(grads + 2 * LP, ga + LP, LP * sizeof(float));
        memcpy(summaries, sa, L2L_META_SUMMARY_SIZE * sizeof(float));
        memcpy(summaries + L2L_META_SUMMARY_SIZE, sb, L2L_META_SUMMARY_SIZE * sizeof(float));
        memcpy(summaries + 2 * L2L_META_SUMMARY_SIZE, sa + L2L_META_SUMMARY_SIZE, L2L_META_SUMMARY_SIZE * sizeof(float));
        EXPECT_OK(l2l_meta_trainer_combine(a, grads, 3 * LP, combined, LP));
        if (it == 1) {
            EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_apply", l2l_meta_trainer_apply(a, summaries, 8, combined, LP));
            EXPECT_ERR(L2L_ERR_SHAPE, "l2l_meta_trainer_apply", l2l_meta_trainer_apply(a, summaries, 12, NULL, 0));
            float lying[3 * L2L_META_SUMMARY_SIZE];
            memcpy(lying, summaries, sizeof lying);
            lying[3] = 0.5f;
            EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_meta_trainer_apply", l2l_meta_trainer_apply(a, lying, 12, combined, LP));
            lying[3] = 0;
            lying[0] = NAN;
            EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_meta_trainer_apply", l2l_meta_trainer_apply(a, lying, 12, combined, LP));
        }
        EXPECT_OK(l2l_meta_trainer_apply(a, summaries, 12, combined, LP));
        EXPECT_OK(l2l_meta_trainer_apply(b, summaries, 12, combined, LP));
    }
    float want[LP], got_a[LP], got_b[LP];
    EXPECT_OK(l2l_meta_trainer_get_phi(one, want, LP, NULL));
    EXPECT_OK(l2l_meta_trainer_get_phi(a, got_a, LP, NULL));
    EXPECT_OK(l2l_meta_trainer_get_phi(b, got_b, LP, NULL));
    CHECK(!floats_equal(want, phi, LP));
    CHECK(floats_equal(want, got_a, LP) && floats_equal(want, got_b, LP));
    float h1[4], h2[4];
    EXPECT_OK(l2l_meta_trainer_history(one, h1, 4, NULL));
    EXPECT_OK(l2l_meta_trainer_history(b, h2, 4, NULL));
    CHECK(floats_equal(h1, h2, 4));
    EXPECT_ERR(L2L_ERR_STATE, "l2l_meta_trainer_estimate",
               l2l_meta_trainer_estimate(a, mine_a, 2, grads, 3 * LP, summaries, 12));

    /* A NaN meta-gradient is skipped and recorded, as in one process. */
    l2l_learned *ld = NULL;
    l2l_meta_trainer *c = meta_sgd_trainer(&ld, "trials=1 steps=5 unroll=5 batch=16 seed=5", l, d);
    float g1[LP], s1[L2L_META_SUMMARY_SIZE], before[LP], after[LP];
    const int64_t only[1] = {0};
    EXPECT_OK(l2l_meta_trainer_get_phi(c, before, LP, NULL));
    EXPECT_OK(l2l_meta_trainer_estimate(c, NULL, 0, NULL, 0, NULL, 0)); /* opens the iteration only */
    EXPECT_ERR(L2L_ERR_STATE, "l2l_meta_trainer_set_phi", l2l_meta_trainer_set_phi(c, before, LP));
    EXPECT_OK(l2l_meta_trainer_estimate(c, only, 1, g1, LP, s1, L2L_META_SUMMARY_SIZE));
    g1[0] = NAN;
    EXPECT_OK(l2l_meta_trainer_apply(c, s1, L2L_META_SUMMARY_SIZE, g1, LP));
    EXPECT_OK(l2l_meta_trainer_get_phi(c, after, LP, NULL));
    CHECK(floats_equal(before, after, LP));
    int32_t kinds[4];
    int64_t events = 0;
    EXPECT_OK(l2l_meta_trainer_events(c, kinds, NULL, NULL, 4, &events));
    CHECK(events == 1 && kinds[0] == L2L_EVENT_NON_FINITE_GRADIENT);

    l2l_meta_trainer_free(one);
    l2l_meta_trainer_free(a);
    l2l_meta_trainer_free(b);
    l2l_meta_trainer_free(c);
    l2l_learned_free(la);
    l2l_learned_free(lb);
    l2l_learned_free(lc);
    l2l_learned_free(ld);
    l2l_learner_free(l);
    l2l_dataset_free(d);
}

/* ---------------------------------------------------------------------------------- */
/* LSTM learner (Bosc 2016)                                                            */
/* ---------------------------------------------------------------------------------- */

/* P(y = 1) of the d-h-1 ReLU/sigmoid MLP whose weights are flattened in theta. */
static float cell_state_mlp(const float *theta, const float *x, int d, int h) {
    double out = theta[d * h + 2 * h];
    for (int j = 0; j < h; j++) {
        double a = theta[d * h + j];
        for (int i = 0; i < d; i++) a += (double)x[i] * theta[i * h + j];
        out += (a > 0 ? a : 0) * theta[d * h + h + j];
    }
    return (float)(1 / (1 + exp(-out)));
}

static void test_lstm_learner(void) {
    section = "lstm_learner";
    enum { D = 2, H = 4, P = D * H + 2 * H + 1, META = P + (D + 3) * 4 + 4 + 4 * 3 + 3 + 3 * 3 * P + 3 * P, N = 6 };
    l2l_lstm_learner *m = NULL, *back = NULL, *f = SENTINEL;
    REQUIRE_OK(l2l_lstm_learner_create(&m, "dimension=2; hidden=4; gate_sizes=4,3; samples=40; meta_lr=0.01; seed=3"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_create", l2l_lstm_learner_create(&f, "gate_sizes=0"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_create", l2l_lstm_learner_create(&f, "train_min=0.9; train_max=0.2"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_create", l2l_lstm_learner_create(&f, "test_updates=sometimes"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_create", l2l_lstm_learner_create(&f, "bogus=1"));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_create", l2l_lstm_learner_create(NULL, NULL));
    CHECK(f == SENTINEL);

    int64_t d = 0, p = 0, n = 0, iterations = -1, events = -1;
    EXPECT_OK(l2l_lstm_learner_info(m, &d, &p, &n, &iterations, &events));
    CHECK(d == D && p == P && n == META && iterations == 0 && events == 0);
    float meta[META];
    EXPECT_OK(l2l_lstm_learner_get_meta(m, NULL, 0, &n));
    CHECK(n == META);
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_lstm_learner_get_meta", l2l_lstm_learner_get_meta(m, meta, META - 1, &n));
    EXPECT_OK(l2l_lstm_learner_get_meta(m, meta, META, &n));

    /* Predictions are the cell-state MLP with the weights before each sample's update;
       the flag stops updates on the test part (samples 4 and 5). */
    float x[N * D] = {0.5f, -1, 1.5f, 0.2f, -0.7f, -0.3f, 1, 1, -1.2f, 0.4f, 0.3f, -2},
          y[N] = {1, 0, 0, 1, 1, 0}, pred[N], weights[(N + 1) * P], losses[3];
    EXPECT_OK(l2l_lstm_learner_run(m, x, y, N, D, 4, pred, weights, (N + 1) * P, losses));
    CHECK(floats_equal(weights, meta, P));
    float worst = 0;
    double test_ce = 0;
    for (int t = 0; t < N; t++) worst = fmaxf(worst, fabsf(pred[t] - cell_state_mlp(weights + t * P, x + t * D, D, H)));
    CHECKF(worst < 1e-5f, "predictions differ from the cell-state MLP by %g", worst);
    CHECK(!floats_equal(weights + 4 * P, weights + 3 * P, P) && floats_equal(weights + 5 * P, weights + 4 * P, P)
          && floats_equal(weights + 6 * P, weights + 4 * P, P));
    for (int t = 4; t < N; t++) test_ce -= log(y[t] == 1 ? pred[t] : 1 - pred[t]) / 2;
    CHECKF(fabs(test_ce - losses[1]) < 1e-4, "test cross-entropy %g, reported %g", test_ce, losses[1]);
    EXPECT_OK(l2l_lstm_learner_run(m, x, y, N, D, 0, pred, NULL, 0, NULL));
    worst = 0;
    for (int t = 0; t < N; t++) worst = fmaxf(worst, fabsf(pred[t] - cell_state_mlp(meta, x + t * D, D, H)));
    CHECKF(worst < 1e-5f, "with no training part, predictions differ from the prior's by %g", worst);

    /* Bad sequences are statuses. */
    float nan_x[N * D], bad_y[N] = {0, 1, 2, 0, 1, 0};
    memcpy(nan_x, x, sizeof x);
    nan_x[3] = NAN;
    EXPECT_ERR(L2L_ERR_SHAPE, "l2l_lstm_learner_run", l2l_lstm_learner_run(m, x, y, 4, 3, 2, pred, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_NON_FINITE, "l2l_lstm_learner_run", l2l_lstm_learner_run(m, nan_x, y, N, D, 2, pred, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_run", l2l_lstm_learner_run(m, x, bad_y, N, D, 2, pred, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_run", l2l_lstm_learner_run(m, x, y, N, D, 7, pred, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_run", l2l_lstm_learner_run(m, x, y, 0, D, 0, pred, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_run", l2l_lstm_learner_run(m, NULL, y, N, D, 2, pred, NULL, 0, NULL));
    EXPECT_ERR(L2L_ERR_BUFFER_TOO_SMALL, "l2l_lstm_learner_run", l2l_lstm_learner_run(m, x, y, N, D, 2, pred, weights, N * P, NULL));

    /* Meta-training lowers the test-part loss on fresh, less noisy data sets. */
    float before = 0, after = 0, std = 0, scores[40], fit_losses[300];
    EXPECT_OK(l2l_lstm_learner_evaluate(m, "noise_scale=0.5; samples=60", 40, 77, NULL, &before, NULL));
    EXPECT_OK(l2l_lstm_learner_fit(m, 300, fit_losses, NULL, NULL));
    EXPECT_OK(l2l_lstm_learner_evaluate(m, "noise_scale=0.5; samples=60", 40, 77, scores, &after, &std));
    CHECKF(after < before - 0.03f, "test-part loss %g before, %g after meta-training", before, after);
    double sum = 0;
    for (int i = 0; i < 40; i++) sum += scores[i];
    CHECKF(fabs(sum / 40 - after) < 1e-5, "mean %g of the losses, reported %g", sum / 40, after);
    CHECK(std > 0 && isfinite(fit_losses[299]));
    int calls = 0;
    EXPECT_ERR(L2L_ERR_CANCELLED, "l2l_lstm_learner_fit", l2l_lstm_learner_fit(m, 50, NULL, stop_after_three, &calls));
    EXPECT_OK(l2l_lstm_learner_info(m, NULL, NULL, NULL, &iterations, NULL));
    CHECK(calls == 3 && iterations == 303);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_fit", l2l_lstm_learner_fit(m, -1, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_evaluate", l2l_lstm_learner_evaluate(m, NULL, 0, 1, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_evaluate", l2l_lstm_learner_evaluate(m, "dimension=3", 1, 1, NULL, NULL, NULL));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_evaluate", l2l_lstm_learner_evaluate(m, "bogus=1", 1, 1, NULL, NULL, NULL));

    /* Files: a bit-exact round trip; altered, truncated and missing files are refused. */
    char path[512], bad_path[512];
    path_in_tmp(path, sizeof path, "lstm-learner.safetensors");
    path_in_tmp(bad_path, sizeof bad_path, "bad.safetensors");
    float trained[META], again[META];
    EXPECT_OK(l2l_lstm_learner_get_meta(m, trained, META, &n));
    EXPECT_OK(l2l_lstm_learner_save(m, path));
    EXPECT_OK(l2l_lstm_learner_load(&back, path));
    EXPECT_OK(l2l_lstm_learner_get_meta(back, again, META, &n));
    CHECK(n == META && memcmp(again, trained, sizeof trained) == 0);
    size_t size = 0;
    unsigned char *bytes = read_all(path, &size);
    REQUIRE_OK(bytes != NULL && size > 64 ? L2L_OK : L2L_ERR_IO);
    write_path(bad_path, bytes, size - 7);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_lstm_learner_load", l2l_lstm_learner_load(&f, bad_path));
    bytes[size - 2] ^= 0x01;
    write_path(bad_path, bytes, size);
    EXPECT_ERR(L2L_ERR_FORMAT, "l2l_lstm_learner_load", l2l_lstm_learner_load(&f, bad_path));
    free(bytes);
    remove(path);
    path_in_tmp(path, sizeof path, "missing.safetensors");
    EXPECT_ERR(L2L_ERR_IO, "l2l_lstm_learner_load", l2l_lstm_learner_load(&f, path));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_save", l2l_lstm_learner_save(m, NULL));
    CHECK(f == SENTINEL);

    /* A freed handle or a handle of another kind is refused, not dereferenced. */
    l2l_lstm_learner_free(back);
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_info", l2l_lstm_learner_info(back, &d, NULL, NULL, NULL, NULL));
    l2l_learner *net = NULL;
    REQUIRE_OK(l2l_learner_create(&net, "mlp", "sizes=2,3,2", 1));
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_lstm_learner_info",
               l2l_lstm_learner_info((const l2l_lstm_learner *)(const void *)net, &d, NULL, NULL, NULL, NULL));
    l2l_learner_free(net);
    l2l_lstm_learner_free(NULL);
    l2l_lstm_learner_free(m);
}

/* ---------------------------------------------------------------------------------- */
/* Traps the precondition audit found reachable (issue 14): each is now a status      */
/* ---------------------------------------------------------------------------------- */

static void test_audited_traps(void) {
    section = "audited traps";
    /* A ResNet whose last stage is 1 x 1: batch normalisation of a single example had no
     * variance (a precondition failure in training); now refused at creation. */
    l2l_learner *tiny = SENTINEL;
    EXPECT_ERR(L2L_ERR_INVALID_ARGUMENT, "l2l_learner_create",
               l2l_learner_create(&tiny, "resnet", "input=3,4,4; stages=2,2,2; blocks=1", 1));
    CHECK(tiny == SENTINEL);
    l2l_learner *small = NULL;
    REQUIRE_OK(l2l_learner_create(&small, "resnet", "input=3,4,4; stages=2,2; blocks=1; classes=2", 1));
    float x[48] = {0}, loss = 0;
    int32_t y[1] = {1};
    EXPECT_OK(l2l_learner_loss_grad(small, x, y, 1, 48, &loss));
    l2l_learner_free(small);

    /* l2l_meta_trainer_run with INT64_MAX trials after a first trial overflowed the trainer's
     * counter arithmetic; the header clamps it to the trials remaining. */
    static const float dx[8] = {0, 1, 1, 0, 0.5f, 0.2f, 0.9f, 0.4f};
    static const int32_t dy[4] = {0, 1, 0, 1};
    l2l_learner *l = NULL;
    l2l_dataset *d = NULL;
    REQUIRE_OK(l2l_learner_create(&l, "mlp", "sizes=2,3,2", 1));
    REQUIRE_OK(l2l_dataset_create(&d, dx, dy, 4, 2, 2));
    l2l_learned *h = NULL;
    REQUIRE_OK(l2l_learned_create(&h, "meta_sgd", "lr=0.05", l, 1));
    const l2l_learner *learners[1] = {l};
    const l2l_dataset *datasets[1] = {d};
    l2l_meta_trainer *t = NULL;
    REQUIRE_OK(l2l_meta_trainer_create(&t, h, learners, datasets, 1, "trials=3 steps=2 unroll=2 batch=2"));
    EXPECT_OK(l2l_meta_trainer_run(t, 1, NULL, NULL));
    EXPECT_OK(l2l_meta_trainer_run(t, INT64_MAX, NULL, NULL));
    int64_t done = 0;
    EXPECT_OK(l2l_meta_trainer_info(t, &done, NULL, NULL));
    CHECKF(done == 3, "trials done %lld, expected 3", (long long)done);
    l2l_meta_trainer_free(t);
    l2l_learned_free(h);
    l2l_dataset_free(d);
    l2l_learner_free(l);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/l2l-c-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        printf("FATAL: mkdtemp failed\n");
        return 1;
    }
    test_versions_and_errors(); /* first: it checks the last error before any failure */
    test_build_info();
    test_free_null();
    test_dataset_create_read();
    test_dataset_statistics();
    test_idx_files();
    test_dataset_load();
    test_batches();
    test_catalogue();
    test_example_shape();
    test_grey_crop();
    test_split();
    test_feature_statistics();
    test_synthetic();
    test_sine_tasks();
    test_quadratic_tasks();
    test_learner_info();
    test_learner_create_errors();
    test_learner_params();
    test_forward();
    test_loss_grad();
    test_evaluate();
    test_optimizer();
    test_train();
    test_hessian_free();
    test_hostile_inputs();
    test_conv_learners();
    test_learned_create();
    test_learned_files();
    test_meta_trainer();
    test_callback_task();
    test_optimizer_update();
    test_readers_refuse_devices();
    test_stale_handles();
    test_meta_estimators();
    test_meta_split();
    test_meta_test();
    test_mlhf();
    test_regression();
    test_fewshot();
    test_lstm_learner();
    test_audited_traps();
    test_mtl2l(); /* last: it draws from the shared generator, which earlier tests' data come from */
    remove_tmp();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

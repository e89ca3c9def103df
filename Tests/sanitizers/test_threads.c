/*
 * test_threads.c — four threads, each with its own handles (data set, learner, optimiser,
 * batches, and a failing call for its thread-local last error), train at once; every
 * thread's parameters must equal those of the same work done serially, bit for bit.
 * scripts/sanitize.sh runs it against the ThreadSanitizer build of libl2l.so, which
 * reports any data race inside the library (the live-handle registry, shared caches,
 * the BLAS threads). Prints "N passed, N failed".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "l2l.h"

enum { THREADS = 4, EXAMPLES = 64, FEATURES = 6, CLASSES = 3, STEPS = 30, MAX_PARAMS = 256 };

struct work {
    int seed;
    float params[MAX_PARAMS];
    int64_t count;
    int ok;
};

static int train(struct work *w) {
    float x[EXAMPLES * FEATURES];
    int32_t y[EXAMPLES];
    for (int i = 0; i < EXAMPLES; i++) {
        y[i] = (i * 7 + w->seed) % CLASSES;
        for (int j = 0; j < FEATURES; j++) x[i * FEATURES + j] = (float)((i * 31 + j * 17 + w->seed) % 13) / 13.0f - 0.5f + 0.3f * (float)y[i];
    }
    l2l_dataset *d = NULL;
    l2l_learner *l = NULL;
    l2l_optimizer *o = NULL;
    l2l_batches *b = NULL;
    int ok = l2l_dataset_create(&d, x, y, EXAMPLES, FEATURES, CLASSES) == L2L_OK &&
             l2l_learner_create(&l, "mlp", "sizes=6,16,3", (uint64_t)w->seed) == L2L_OK &&
             l2l_optimizer_create(&o, "adam", "lr=0.01") == L2L_OK &&
             l2l_batches_create(&b, d, 8, (uint64_t)w->seed, NULL) == L2L_OK &&
             l2l_train(l, o, b, STEPS, NULL, NULL, NULL) == L2L_OK &&
             l2l_learner_get_params(l, w->params, MAX_PARAMS, &w->count) == L2L_OK;
    /* A failure on this thread names its own function, whatever the others are doing. */
    ok = ok && l2l_learner_info(NULL, NULL, NULL, NULL, NULL) == L2L_ERR_INVALID_ARGUMENT &&
         strncmp(l2l_last_error(), "l2l_learner_info:", 17) == 0;
    l2l_batches_free(b);
    l2l_optimizer_free(o);
    l2l_learner_free(l);
    l2l_dataset_free(d);
    return ok;
}

static void *run(void *arg) {
    struct work *w = arg;
    w->ok = train(w);
    return NULL;
}

int main(void) {
    struct work serial[THREADS], parallel[THREADS];
    pthread_t threads[THREADS];
    int passed = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        serial[i].seed = parallel[i].seed = i + 1;
        run(&serial[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, run, &parallel[i]);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        int same = serial[i].ok && parallel[i].ok && serial[i].count == parallel[i].count &&
                   memcmp(serial[i].params, parallel[i].params, sizeof(float) * (size_t)serial[i].count) == 0;
        if (same) passed++;
        else {
            failed++;
            printf("FAIL thread %d: %s\n", i, serial[i].ok && parallel[i].ok ? "parameters differ from the serial run" : l2l_last_error());
        }
    }
    printf("threads: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

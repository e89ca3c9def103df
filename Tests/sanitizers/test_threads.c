/*
 * test_threads.c — four threads, each with its own handles (data set, learner, optimiser,
 * batches, and a failing call for its thread-local last error), train at once; every
 * thread's parameters must equal those of the same work done serially, bit for bit. Then
 * two meta-trainings whose work the library spreads over its own threads (L2L_NUM_THREADS=3
 * here): PES's six particles, and BPTT's meta-batch of three learners. scripts/sanitize.sh runs
 * it against the ThreadSanitizer build of libl2l.so, which reports any data race inside
 * the library (the live-handle registry, shared caches, the BLAS threads, the particles'
 * and members' graphs and buffers). Prints "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200112L   /* setenv */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* One trial of meta-training of the LSTM optimiser with `options`: succeeds with a finite phi. */
static int meta_train(const char *options) {
    float x[EXAMPLES * FEATURES];
    int32_t y[EXAMPLES];
    for (int i = 0; i < EXAMPLES; i++) {
        y[i] = i % CLASSES;
        for (int j = 0; j < FEATURES; j++) x[i * FEATURES + j] = (float)((i * 13 + j * 5) % 11) / 11.0f - 0.5f + 0.4f * (float)y[i];
    }
    l2l_dataset *d = NULL;
    l2l_learner *l = NULL;
    l2l_learned *opt = NULL;
    l2l_meta_trainer *t = NULL;
    float *phi = NULL;
    int64_t count = 0;
    int ok = l2l_dataset_create(&d, x, y, EXAMPLES, FEATURES, CLASSES) == L2L_OK &&
             l2l_learner_create(&l, "mlp", "sizes=6,16,3", 1) == L2L_OK &&
             l2l_learned_create(&opt, "lstm", "", NULL, 2) == L2L_OK &&
             l2l_meta_trainer_create(&t, opt, (const l2l_learner *const *)&l, (const l2l_dataset *const *)&d, 1,
                                     options) == L2L_OK &&
             l2l_meta_trainer_run(t, 1, NULL, NULL) == L2L_OK &&
             l2l_meta_trainer_get_phi(t, NULL, 0, &count) == L2L_OK && count > 0 &&
             (phi = malloc(sizeof(float) * (size_t)count)) != NULL &&
             l2l_meta_trainer_get_phi(t, phi, count, &count) == L2L_OK;
    for (int64_t i = 0; ok && i < count; i++) ok = isfinite(phi[i]);
    if (!ok) printf("FAIL meta-training with %s: %s\n", options, l2l_last_error());
    free(phi);
    l2l_meta_trainer_free(t);
    l2l_learned_free(opt);
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
    setenv("L2L_NUM_THREADS", "3", 1);   /* read on the library's first use of its threads */
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
    const char *options[] = {"trials=1 steps=10 unroll=5 batch=8 estimator=pes es_pairs=3 seed=4",
                             "trials=1 steps=10 unroll=5 batch=8 meta_batch=3 seed=4"};
    for (int i = 0; i < 2; i++) {
        if (meta_train(options[i])) passed++;
        else failed++;
    }
    printf("threads: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

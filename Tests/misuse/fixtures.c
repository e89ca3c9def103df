/*
 * fixtures.c — fresh, live handles of every kind for the generated misuse calls
 * (generate.py): small enough that a call on them is quick, valid enough that a call
 * reaches past its handle checks.
 */
#include <stddef.h>
#include <string.h>

#include "l2l.h"

#include "fixtures.h"

/* Two-feature, two-class examples: the data set every fixture trains on. */
static l2l_dataset *make_dataset(void) {
    static const float x[8] = {0, 1, 1, 0, 0.5f, 0.2f, 0.9f, 0.4f};
    static const int32_t y[4] = {0, 1, 0, 1};
    l2l_dataset *d = NULL;
    l2l_dataset_create(&d, x, y, 4, 2, 2);
    return d;
}

static l2l_learner *make_learner(void) {
    l2l_learner *l = NULL;
    l2l_learner_create(&l, "mlp", "sizes=2,3,2", 1);
    return l;
}

static l2l_learned *make_learned(void) {
    l2l_learned *h = NULL;
    l2l_learner *l = make_learner();
    l2l_learned_create(&h, "meta_sgd", "lr=0.05", l, 1);
    l2l_learner_free(l);
    return h;
}

static l2l_mlhf *make_mlhf(void) {
    l2l_mlhf *h = NULL;
    l2l_mlhf_create(&h, "cg_iters=2", 1);
    return h;
}

static int task_init(void *user, uint64_t seed, float *const *parameters) {
    (void)user, (void)seed;
    parameters[0][0] = 1;
    return 0;
}

static int task_loss_grad(void *user, int64_t step, const float *const *parameters, float *loss, float *const *gradients) {
    (void)user, (void)step;
    *loss = 0.5f * parameters[0][0] * parameters[0][0];
    gradients[0][0] = parameters[0][0];
    return 0;
}

void *misuse_make(const char *type) {
    if (strcmp(type, "l2l_dataset") == 0) return make_dataset();
    if (strcmp(type, "l2l_learner") == 0) return make_learner();
    if (strcmp(type, "l2l_learned") == 0) return make_learned();
    if (strcmp(type, "l2l_mlhf") == 0) return make_mlhf();
    if (strcmp(type, "l2l_lstm_learner") == 0) {
        l2l_lstm_learner *m = NULL;
        l2l_lstm_learner_create(&m, "dimension=2; hidden=4; gate_sizes=4,3; samples=20; seed=1");
        return m;
    }
    if (strcmp(type, "l2l_batches") == 0) {
        l2l_dataset *d = make_dataset();
        l2l_batches *b = NULL;
        l2l_batches_create(&b, d, 2, 1, NULL);
        l2l_dataset_free(d);
        return b;
    }
    if (strcmp(type, "l2l_optimizer") == 0) {
        l2l_optimizer *o = NULL;
        l2l_optimizer_create(&o, "sgd", "lr=0.1");
        return o;
    }
    if (strcmp(type, "l2l_meta_trainer") == 0) {
        l2l_learned *h = make_learned();
        const l2l_learner *learners[1] = {make_learner()};
        const l2l_dataset *datasets[1] = {make_dataset()};
        l2l_meta_trainer *t = NULL;
        l2l_meta_trainer_create(&t, h, learners, datasets, 1, "trials=1 steps=2 unroll=1 batch=2");
        l2l_learned_free(h);
        l2l_learner_free((l2l_learner *)learners[0]);
        l2l_dataset_free((l2l_dataset *)datasets[0]);
        return t;
    }
    if (strcmp(type, "l2l_task") == 0) {
        int64_t ranks[1] = {1}, dims[1] = {1};
        l2l_task *t = NULL;
        l2l_task_create_callback(&t, 1, ranks, dims, task_init, task_loss_grad, NULL);
        return t;
    }
    if (strcmp(type, "l2l_mlhf_trainer") == 0) {
        l2l_mlhf *h = make_mlhf();
        l2l_learner *l = make_learner();
        l2l_dataset *d = make_dataset();
        l2l_mlhf_trainer *t = NULL;
        l2l_mlhf_trainer_create(&t, h, l, d, "iterations=1 unroll=2 batch=2");
        l2l_mlhf_free(h);
        l2l_learner_free(l);
        l2l_dataset_free(d);
        return t;
    }
    if (strcmp(type, "l2l_meta_test") == 0) {
        l2l_learner *l = make_learner();
        l2l_dataset *d = make_dataset();
        l2l_optimizer *o = NULL;
        l2l_optimizer_create(&o, "sgd", "lr=0.1");
        l2l_meta_test *r = NULL;
        l2l_meta_test_run(&r, l, o, d, d, "learners=1 steps=2 batch=2", NULL, NULL);
        l2l_learner_free(l);
        l2l_dataset_free(d);
        l2l_optimizer_free(o);
        return r;
    }
    if (strcmp(type, "l2l_fewshot") == 0) {
        l2l_learner *l = NULL;
        l2l_learner_create(&l, "mlp", "sizes=1,4,1; objective=mse", 1);
        l2l_fewshot *f = NULL;
        l2l_fewshot_create(&f, l, NULL);
        l2l_learner_free(l);
        return f;
    }
    return NULL;
}

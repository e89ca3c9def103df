/* subjects.c — see subjects.h. */
#include <stdio.h>
#include <stdlib.h>

#include "subjects.h"

static void require(l2l_status status, const char *what) {
    if (status != L2L_OK) {
        fprintf(stderr, "fuzz: cannot make %s: %s\n", what, l2l_last_error());
        abort();
    }
}

const l2l_learner *fuzz_fewshot_learner(void) {
    static l2l_learner *learner;
    if (learner == NULL) require(l2l_learner_create(&learner, "mlp", "sizes=1,4,1; objective=mse", 1), "the few-shot learner");
    return learner;
}

const struct fuzz_meta_run *fuzz_meta_run(void) {
    static struct fuzz_meta_run run;
    if (run.learned == NULL) {
        static const float x[8] = {0, 1, 1, 0, 0.5f, 0.2f, 0.9f, 0.4f};
        static const int32_t y[4] = {0, 1, 0, 1};
        l2l_learner *learner = NULL;
        l2l_dataset *dataset = NULL;
        require(l2l_learner_create(&learner, "mlp", "sizes=2,3,2", 1), "the meta-training learner");
        require(l2l_dataset_create(&dataset, x, y, 4, 2, 2), "the meta-training data set");
        require(l2l_learned_create(&run.learned, "meta_sgd", "lr=0.05", learner, 1), "the learned optimiser");
        run.learners[0] = learner;
        run.datasets[0] = dataset;
        run.options = "trials=2 steps=4 unroll=2 batch=2 seed=1";
    }
    return &run;
}

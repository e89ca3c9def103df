/* subjects.h — the objects that the few-shot and checkpoint files are loaded onto: the
 * targets (targets/fewshot.c, targets/checkpoint.c) and make_seeds.c build the same ones,
 * so the seeds are files these readers accept. */
#ifndef L2L_FUZZ_SUBJECTS_H
#define L2L_FUZZ_SUBJECTS_H

#include "l2l.h"

/* The 1-4-1 regression MLP that few-shot files are saved for (made once). */
const l2l_learner *fuzz_fewshot_learner(void);

/* A meta-training run's parts (made once): a Meta-SGD on a 2-3-2 MLP and a 4-example
 * data set, and the options of the run whose checkpoints the seeds are. */
struct fuzz_meta_run {
    l2l_learned *learned;
    const l2l_learner *learners[1];
    const l2l_dataset *datasets[1];
    const char *options;
};
const struct fuzz_meta_run *fuzz_meta_run(void);

#endif

/* checkpoint.c — l2l_meta_trainer_resume: a meta-training checkpoint (.safetensors), resumed
 * with the run's own optimiser, tasks and options (subjects.c). */
#include "fuzz.h"
#include "subjects.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_file(path, "checkpoint.safetensors", data, size);
    const struct fuzz_meta_run *run = fuzz_meta_run();
    l2l_meta_trainer *t = NULL;
    fuzz_check(l2l_meta_trainer_resume(&t, path, run->learned, run->learners, run->datasets, 1, run->options),
               "l2l_meta_trainer_resume");
    l2l_meta_trainer_free(t);
    return 0;
}

/* fewshot.c — l2l_fewshot_load: a few-shot meta-learner's .safetensors file (MAML and
 * Meta-SGD seeds), loaded onto the learner it was saved for (subjects.c). */
#include "fuzz.h"
#include "subjects.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_file(path, "fewshot.safetensors", data, size);
    l2l_fewshot *f = NULL;
    fuzz_check(l2l_fewshot_load(&f, path, fuzz_fewshot_learner()), "l2l_fewshot_load");
    l2l_fewshot_free(f);
    return 0;
}

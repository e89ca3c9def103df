/* learned.c — l2l_learned_load: a learned optimiser's .safetensors file (LSTM, Meta-SGD,
 * DMSGD, M2SGD, MTL2L; the seeds have one of each). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_file(path, "learned.safetensors", data, size);
    l2l_learned *h = NULL;
    fuzz_check(l2l_learned_load(&h, path), "l2l_learned_load");
    l2l_learned_free(h);
    return 0;
}

/* mlhf.c — l2l_mlhf_load: an MLHF meta-parameter .safetensors file. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_file(path, "mlhf.safetensors", data, size);
    l2l_mlhf *h = NULL;
    fuzz_check(l2l_mlhf_load(&h, path), "l2l_mlhf_load");
    l2l_mlhf_free(h);
    return 0;
}

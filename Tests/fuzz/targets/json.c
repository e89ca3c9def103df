/* json.c — the JSON reader: the input is the header of a .safetensors file (8-byte length,
 * then the JSON text), read by l2l_learned_load, which parses it before anything else. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *file = malloc(size + 8);
    if (file == NULL) return 0;
    for (int i = 0; i < 8; i++) file[i] = (uint8_t)((uint64_t)size >> (8 * i));
    if (size > 0) memcpy(file + 8, data, size);
    char path[FUZZ_PATH_MAX];
    fuzz_file(path, "header.safetensors", file, size + 8);
    free(file);
    l2l_learned *h = NULL;
    fuzz_check(l2l_learned_load(&h, path), "l2l_learned_load");
    l2l_learned_free(h);
    return 0;
}

/* cifar10.c — l2l_dataset_load("cifar10", "test"): the input is test_batch.bin (records of
 * one label byte and 3072 pixel bytes). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_file(path, "test_batch.bin", data, size);
    l2l_dataset *d = NULL;
    fuzz_check(l2l_dataset_load(&d, "cifar10", "test", fuzz_directory()), "l2l_dataset_load");
    l2l_dataset_free(d);
    return 0;
}

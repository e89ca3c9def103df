/* stl10.c — l2l_dataset_load("stl10", "test"): test_X.bin (96x96x3 column-major images) and
 * test_y.bin (labels 1-10), the input split in two (fuzz_split). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *images, *labels;
    size_t images_size, labels_size;
    fuzz_split(data, size, &images, &images_size, &labels, &labels_size);
    char path[FUZZ_PATH_MAX];
    fuzz_file(path, "test_X.bin", images, images_size);
    fuzz_file(path, "test_y.bin", labels, labels_size);
    l2l_dataset *d = NULL;
    fuzz_check(l2l_dataset_load(&d, "stl10", "test", fuzz_directory()), "l2l_dataset_load");
    l2l_dataset_free(d);
    return 0;
}

/* idx.c — l2l_dataset_load_idx: an IDX images file and an IDX labels file (raw or gzip),
 * the input split in two (fuzz_split). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *images, *labels;
    size_t images_size, labels_size;
    fuzz_split(data, size, &images, &images_size, &labels, &labels_size);
    char images_path[FUZZ_PATH_MAX], labels_path[FUZZ_PATH_MAX];
    fuzz_file(images_path, "images", images, images_size);
    fuzz_file(labels_path, "labels", labels, labels_size);
    l2l_dataset *d = NULL;
    fuzz_check(l2l_dataset_load_idx(&d, images_path, labels_path), "l2l_dataset_load_idx");
    l2l_dataset_free(d);
    return 0;
}

/* options.c — the key=value option parser (and the option checks behind it): the input,
 * up to its first NUL, is the options text of one creation call, which the input's last
 * byte chooses: an optimiser of each kind, batches, a meta-trainer or a few-shot learner.
 * (Options that size a network, such as an MLP's sizes, are left out: a valid text can ask
 * for gigabytes, which is the caller's choice, not a parser's bug.) */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "subjects.h"

static const char *const optimizers[] = {"sgd", "momentum", "nesterov", "adam", "rmsprop",
                                         "adagrad", "smorms3", "hf_fixed", "hf_lm"};
enum { OPTIMIZERS = sizeof optimizers / sizeof optimizers[0] };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    unsigned choice = data[size - 1] % (OPTIMIZERS + 3);
    char *text = malloc(size);
    if (text == NULL) return 0;
    memcpy(text, data, size - 1);
    text[size - 1] = '\0';
    const struct fuzz_meta_run *run = fuzz_meta_run();
    if (choice < OPTIMIZERS) {
        l2l_optimizer *o = NULL;
        fuzz_check(l2l_optimizer_create(&o, optimizers[choice], text), "l2l_optimizer_create");
        l2l_optimizer_free(o);
    } else if (choice == OPTIMIZERS) {
        l2l_batches *b = NULL;
        fuzz_check(l2l_batches_create(&b, run->datasets[0], 2, 1, text), "l2l_batches_create");
        l2l_batches_free(b);
    } else if (choice == OPTIMIZERS + 1) {
        l2l_meta_trainer *t = NULL;
        fuzz_check(l2l_meta_trainer_create(&t, run->learned, run->learners, run->datasets, 1, text),
                   "l2l_meta_trainer_create");
        l2l_meta_trainer_free(t);
    } else {
        l2l_fewshot *f = NULL;
        fuzz_check(l2l_fewshot_create(&f, fuzz_fewshot_learner(), text), "l2l_fewshot_create");
        l2l_fewshot_free(f);
    }
    free(text);
    return 0;
}

/*
 * train_mlp.c — trains a 784-32-10 ReLU MLP on Fashion-MNIST for one epoch with SGD
 * (lr 0.1, batches of 128) through l2l's C API, then prints the test accuracy.
 *
 * The training loop is written out (l2l_batches_next, l2l_learner_loss_grad,
 * l2l_optimizer_step) to show the API; l2l_train does the same in one call.
 *
 * Build and run, from the repository root:
 *
 *   swift build -c release --product l2l
 *   cc -std=c99 -O2 -I include examples/c/train_mlp.c -L .build/release -ll2l \
 *      -Wl,-rpath,"$PWD/.build/release" -o .build/train_mlp
 *   .build/train_mlp [DATA_DIR [MAX_STEPS]]
 *
 * (or `make -C examples/c run`). DATA_DIR holds Fashion-MNIST's IDX files, gzipped or
 * raw; without it the library looks in $L2L_DATA, then in Debian's
 * /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist). MAX_STEPS, if given,
 * stops the epoch early (a quick smoke test). Expect a test accuracy of about 83 %.
 */
#include "l2l.h"

#include <stdio.h>
#include <stdlib.h>

/* Every l2l call returns a status: on failure, say what failed and why, then stop. */
static void check(l2l_status status, const char *what) {
    if (status == L2L_OK) return;
    fprintf(stderr, "train_mlp: %s failed: %s (%s)\n", what, l2l_last_error(), l2l_status_string(status));
    exit(1);
}

int main(int argc, char **argv) {
    const char *directory = argc > 1 ? argv[1] : NULL;
    long max_steps = argc > 2 ? strtol(argv[2], NULL, 10) : -1;
    printf("l2l %s\n", l2l_version());

    /* Data: pixels in [0, 1], standardised with the training split's mean and std. */
    l2l_dataset *train = NULL, *test = NULL;
    check(l2l_dataset_load(&train, "fashion-mnist", "train", directory), "loading the training split");
    check(l2l_dataset_load(&test, "fashion-mnist", "test", directory), "loading the test split");
    float mean = 0, std = 0;
    check(l2l_dataset_statistics(train, &mean, &std), "l2l_dataset_statistics");
    check(l2l_dataset_standardize(train, mean, std), "standardising the training split");
    check(l2l_dataset_standardize(test, mean, std), "standardising the test split");
    int64_t n_train = 0, n_test = 0, features = 0;
    check(l2l_dataset_info(train, &n_train, &features, NULL), "l2l_dataset_info");
    check(l2l_dataset_info(test, &n_test, NULL, NULL), "l2l_dataset_info");
    printf("Fashion-MNIST: %lld training and %lld test images of %lld pixels (mean %.4f, std %.4f)\n",
           (long long)n_train, (long long)n_test, (long long)features, mean, std);

    /* The model, the optimiser and a seeded, shuffled stream of mini-batches. */
    l2l_learner *mlp = NULL;
    l2l_optimizer *sgd = NULL;
    l2l_batches *batches = NULL;
    check(l2l_learner_create(&mlp, "mlp", "sizes=784,32,10; activation=relu", 0), "creating the MLP");
    check(l2l_optimizer_create(&sgd, "sgd", "lr=0.1"), "creating SGD");
    const int64_t batch_size = 128;
    check(l2l_batches_create(&batches, train, batch_size, 1, "shuffle=1"), "l2l_batches_create");
    int64_t num_params = 0;
    check(l2l_learner_info(mlp, &num_params, NULL, NULL, NULL), "l2l_learner_info");
    printf("MLP 784-32-10 (ReLU): %lld parameters; SGD lr 0.1, batches of %lld\n", (long long)num_params,
           (long long)batch_size);

    /* One epoch: l2l_batches_next gives count 0 when it is over. */
    float *inputs = malloc(sizeof(float) * (size_t)(batch_size * features));
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)batch_size);
    if (inputs == NULL || labels == NULL) {
        fprintf(stderr, "train_mlp: out of memory\n");
        return 1;
    }
    long step = 0;
    double recent = 0;
    for (;;) {
        if (max_steps >= 0 && step >= max_steps) break;
        int64_t count = 0;
        check(l2l_batches_next(batches, inputs, batch_size * features, labels, batch_size, &count),
              "l2l_batches_next");
        if (count == 0) break;
        float loss = 0;
        check(l2l_learner_loss_grad(mlp, inputs, labels, count, features, &loss), "l2l_learner_loss_grad");
        check(l2l_optimizer_step(sgd, mlp), "l2l_optimizer_step");
        step++;
        recent += loss;
        if (step % 100 == 0) {
            printf("step %4ld  mean training loss of the last 100 batches %.4f\n", step, recent / 100);
            recent = 0;
        }
    }

    float test_loss = 0, accuracy = 0;
    check(l2l_learner_evaluate(mlp, test, &test_loss, &accuracy), "l2l_learner_evaluate");
    printf("steps %ld  test loss %.4f  test accuracy %.2f %%\n", step, test_loss, 100.0 * accuracy);

    free(inputs);
    free(labels);
    l2l_batches_free(batches);
    l2l_optimizer_free(sgd);
    l2l_learner_free(mlp);
    l2l_dataset_free(test);
    l2l_dataset_free(train);
    return 0;
}

/*
 * l2l.h — the C interface of l2l, a learning-to-learn library.
 *
 * Link with -ll2l (libl2l.so). Conventions, shared by every function:
 *
 *  - Every function that can fail returns an l2l_status (L2L_OK == 0) and hands its
 *    results back through out-parameters, which are written only on success unless
 *    the function says otherwise. After a failure, l2l_last_error() describes it.
 *  - Objects are opaque handles made by l2l_<object>_create... and released by
 *    l2l_<object>_free; free(NULL) is a no-op. A NULL handle where one is required
 *    gives L2L_ERR_INVALID_ARGUMENT, never a crash.
 *  - Arrays cross as pointer + count. The library copies what it keeps. Outputs are
 *    written into the caller's buffer of a stated capacity (in elements); functions
 *    named *_get_* accept a NULL buffer to ask for the size (in *count), and return
 *    L2L_ERR_BUFFER_TOO_SMALL (with *count set to what is needed) when it is too small.
 *  - Sizes are bounded: no single array may exceed 2^31 elements; larger requests give
 *    L2L_ERR_INVALID_ARGUMENT (a count) or L2L_ERR_SHAPE (a product of dimensions).
 *  - Options cross as a short text of key=value pairs separated by ';', spaces or
 *    newlines, e.g. "sizes=784,32,10; activation=relu". NULL or "" means defaults.
 *    Unknown keys and out-of-range values are errors (L2L_ERR_INVALID_ARGUMENT).
 *  - Thread safety: a handle is used by one thread at a time; different handles are
 *    independent, and functions without a handle may be called from any thread.
 *  - Inputs that must be finite (data, parameters) are checked: NaN or infinity gives
 *    L2L_ERR_NON_FINITE and changes nothing.
 *
 * The header compiles as C99 and as C++.
 */
#ifndef L2L_H
#define L2L_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------- */
/* Versions and errors                                                               */
/* ---------------------------------------------------------------------------------- */

#define L2L_VERSION_MAJOR 0
#define L2L_VERSION_MINOR 1
#define L2L_VERSION_PATCH 0
#define L2L_VERSION_STRING "0.1.0"

/** A status code: L2L_OK or one of the L2L_ERR_* values below. */
typedef int32_t l2l_status;

enum {
    L2L_OK = 0,
    /** A NULL or malformed argument, an unknown option or an out-of-range value. */
    L2L_ERR_INVALID_ARGUMENT = 1,
    /** Sizes or shapes that do not fit together (e.g. 783 features for a 784-input net). */
    L2L_ERR_SHAPE = 2,
    /** NaN or infinity in input that must be finite, or a computation that diverged. */
    L2L_ERR_NON_FINITE = 3,
    /** A file that cannot be opened or read. */
    L2L_ERR_IO = 4,
    /** A file that is truncated, corrupt or of the wrong kind. */
    L2L_ERR_FORMAT = 5,
    /** An output buffer is smaller than the result; *count says how large it must be. */
    L2L_ERR_BUFFER_TOO_SMALL = 6,
    /** A progress callback returned non-zero; the work done so far is kept. */
    L2L_ERR_CANCELLED = 7,
    /** A call out of order (e.g. an optimiser step before any gradient was computed). */
    L2L_ERR_STATE = 8,
    /** A bug in l2l; please report it with l2l_last_error(). */
    L2L_ERR_INTERNAL = 9
};

/** The library's version, e.g. "0.1.0" (static storage; never NULL). Thread-safe. */
const char *l2l_version(void);

/** A short, static, human-readable name for a status code (never NULL). Thread-safe. */
const char *l2l_status_string(l2l_status status);

/**
 * The message of the most recent failed call on the calling thread, or "" if none has
 * failed. Successful calls leave it unchanged. The string is owned by the library and
 * valid until the next failing call on this thread; never NULL.
 */
const char *l2l_last_error(void);

/* ---------------------------------------------------------------------------------- */
/* Data sets: labelled examples held in memory, inputs as [count, features] floats     */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_dataset l2l_dataset;

/**
 * Loads split `split` ("train" or "test") of the data set called `name`:
 *
 *   "fashion-mnist"  IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte,
 *                    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz);
 *                    60000 / 10000 examples of 784 features, example shape [28, 28].
 *   "mnist", "kmnist"  the same file names and layout as Fashion-MNIST.
 *   "cifar10"        CIFAR-10's binary version: data_batch_1.bin ... data_batch_5.bin
 *                    (train) or test_batch.bin (test), records of 1 label + 3072 bytes;
 *                    3072 features channel-major, example shape [3, 32, 32].
 *   "stl10"          STL-10's binary version: train_X.bin/train_y.bin or test_X.bin/
 *                    test_y.bin (column-major 96x96 channels, labels 1-10); 27648 features
 *                    row-major per channel, example shape [3, 96, 96], labels shifted to 0-9.
 *
 * Every set has 10 classes and pixels scaled to [0, 1]. `directory` holds the files, directly
 * or in a sub-folder named after the set (fashion-mnist, mnist, kmnist, cifar-10-batches-bin,
 * stl10_binary); NULL means $L2L_DATA (that sub-folder or $L2L_DATA itself), and for
 * "fashion-mnist" only, if L2L_DATA is not set, Debian's /usr/share/datasets/fashion-mnist.
 * Returns L2L_ERR_INVALID_ARGUMENT for an unknown name (the message lists the known ones) or
 * split, L2L_ERR_IO if a file is missing (or no directory is given and L2L_DATA is unset),
 * L2L_ERR_FORMAT if one is corrupt or truncated. On success *out is a new handle the caller
 * frees with l2l_dataset_free.
 */
l2l_status l2l_dataset_load(l2l_dataset **out, const char *name, const char *split,
                            const char *directory);

/**
 * Loads an IDX images file ([n, ...] of uint8, scaled to [0, 1]) and an IDX labels file
 * ([n] of uint8, classes 0..9), each gzipped or raw. Errors as l2l_dataset_load.
 */
l2l_status l2l_dataset_load_idx(l2l_dataset **out, const char *images_path,
                                const char *labels_path);

/**
 * Makes a data set from arrays, which are copied: `inputs` holds count*features floats
 * (row-major), `labels` holds count integers in [0, classes).
 */
l2l_status l2l_dataset_create(l2l_dataset **out, const float *inputs, const int32_t *labels,
                              int64_t count, int64_t features, int64_t classes);

/** Releases a data set (NULL is a no-op). Batch iterators made from it stay valid. */
void l2l_dataset_free(l2l_dataset *dataset);

/** Number of examples, features per example and classes. Any out-pointer may be NULL. */
l2l_status l2l_dataset_info(const l2l_dataset *dataset, int64_t *count, int64_t *features,
                            int64_t *classes);

/**
 * Mean and standard deviation over all input values (what standardisation uses).
 * Either out-pointer may be NULL.
 */
l2l_status l2l_dataset_statistics(const l2l_dataset *dataset, float *mean, float *std);

/**
 * Maps every input x to (x - mean) / std in place. Use the training split's statistics
 * for every split. `std` must be positive and both finite (else L2L_ERR_INVALID_ARGUMENT).
 */
l2l_status l2l_dataset_standardize(l2l_dataset *dataset, float mean, float std);

/**
 * Copies examples [start, start + count) into `inputs` (count*features floats) and
 * `labels` (count integers); either buffer may be NULL to skip it. A negative start or
 * count gives L2L_ERR_INVALID_ARGUMENT; a range reaching past the end, L2L_ERR_SHAPE.
 */
l2l_status l2l_dataset_read(const l2l_dataset *dataset, int64_t start, int64_t count,
                            float *inputs, int32_t *labels);

/**
 * Writes the shape of one example before flattening into `shape` (capacity `capacity`
 * values) and its length into *rank: e.g. [3, 32, 32] for CIFAR-10, [28, 28] for the IDX
 * sets, [features] for a set made by l2l_dataset_create. `rank` is required; `shape` may be
 * NULL to ask for the rank only. A capacity below the rank gives L2L_ERR_BUFFER_TOO_SMALL
 * (with *rank set). L2L_ERR_INVALID_ARGUMENT for a NULL dataset or rank.
 */
l2l_status l2l_dataset_example_shape(const l2l_dataset *dataset, int64_t *shape, int64_t capacity,
                                     int64_t *rank);

/**
 * The "modified CIFAR-10" of the MTL2L paper (its Appendix B.2) as a transform: each
 * [3, H, W] colour example made grey by weighted channels and cut to its first `rows` rows
 * and `columns` columns (top-left corner, no resizing), giving `rows*columns` features,
 * example shape [rows, columns]; labels and classes unchanged. Options: weights=mtl2l
 * (0.30 R + 0.59 G + 0.11 B, the default), mtl2l_as_printed (0.30 R + 0.11 G + 0.59 B, the
 * paper's text taken literally) or itu601 (0.299 R + 0.587 G + 0.114 B). The usual call is
 * rows = columns = 28 on CIFAR-10.
 *
 * Returns L2L_ERR_SHAPE unless `dataset`'s examples have shape [3, H, W] (see
 * l2l_dataset_example_shape) with 1 <= rows <= H and 1 <= columns <= W;
 * L2L_ERR_INVALID_ARGUMENT for a NULL pointer, a negative size or a bad option. On success
 * *out is a new handle (free it with l2l_dataset_free); `dataset` is unchanged (it is only
 * read, so other threads may read it meanwhile, but not modify it).
 */
l2l_status l2l_dataset_grey_crop(l2l_dataset **out, const l2l_dataset *dataset, int64_t rows,
                                 int64_t columns, const char *options);

/**
 * Splits a data set at random, deterministically for `seed`, into parts of `train`,
 * `validation` and `test` examples, which must sum to its count (else
 * L2L_ERR_INVALID_ARGUMENT, as for a negative count). A permutation drawn from the seed is
 * cut in that order, and each part keeps the original order of its examples; the parts are
 * disjoint and cover every example. Each part is a new handle stored in its out-pointer
 * (free each with l2l_dataset_free); a part whose count is 0 is not made: its out-pointer
 * receives NULL, and may itself be NULL. Out-pointers of non-empty parts are required.
 * Nothing is written on failure. `dataset` is only read (other threads may read it meanwhile,
 * not modify it), and may be freed afterwards: the parts share nothing with it.
 * L2L_ERR_INVALID_ARGUMENT for a NULL dataset.
 */
l2l_status l2l_dataset_split(const l2l_dataset *dataset, int64_t train, int64_t validation,
                             int64_t test, uint64_t seed, l2l_dataset **train_out,
                             l2l_dataset **validation_out, l2l_dataset **test_out);

/**
 * Mean and standard deviation (population, divisor count) of each input column, computed in
 * double: `features` floats into each of `mean` and `std` (capacity `capacity` floats each).
 * Either buffer may be NULL to skip it (both NULL: nothing to do, L2L_OK). A capacity below
 * the number of features gives L2L_ERR_BUFFER_TOO_SMALL (ask l2l_dataset_info for it) and
 * writes nothing; a NULL dataset, L2L_ERR_INVALID_ARGUMENT. An empty data set gives zeros.
 */
l2l_status l2l_dataset_feature_statistics(const l2l_dataset *dataset, float *mean, float *std,
                                          int64_t capacity);

/**
 * Maps input column j to (x - mean[j]) / std[j] in place, for every example; a column whose
 * std is 0 is only centred. Use the training split's l2l_dataset_feature_statistics for
 * every split. `count` must equal the number of features (else L2L_ERR_SHAPE); `mean` and
 * `std` are required and only read during the call; a NULL pointer, a negative count, a
 * non-finite mean or a negative or non-finite std gives L2L_ERR_INVALID_ARGUMENT and changes
 * nothing. Modifies `dataset`: no other thread may use it meanwhile.
 */
l2l_status l2l_dataset_standardize_features(l2l_dataset *dataset, const float *mean,
                                            const float *std, int64_t count);

/* ---------------------------------------------------------------------------------- */
/* Synthetic data and task families                                                    */
/* ---------------------------------------------------------------------------------- */

/**
 * Draws one synthetic data set of `family` from `seed` (the same seed gives the same data
 * set here, in Python and in Swift). `family` "binary_xor": the random binary classification
 * sets of Bosc (2016), "Learning to Learn Neural Networks" (random covariance A A^T with A
 * uniform in [-1, 1], exponential noise, two random linear thresholds combined by XOR,
 * draws with a minority class below minimum_balance rejected, columns standardised); labels
 * 0/1, 2 classes. Options (the Swift BinaryXORDatasets' parameters): dimension=10 (features,
 * 1..4096), samples=200 (examples, 2..2^24), noise_scale=1 (lambda, the mean of the
 * per-set noise parameter), minimum_balance=0.15 (0..0.5), maximum_attempts=1000,
 * threshold_spread=0 (thresholds drawn this many standard deviations around the centre).
 *
 * Returns L2L_ERR_INVALID_ARGUMENT for a NULL pointer, an unknown family or option, a value
 * out of range, or when no draw reaches minimum_balance within maximum_attempts. On success
 * *out is a new handle the caller frees with l2l_dataset_free. Thread-safe.
 */
l2l_status l2l_dataset_synthetic(l2l_dataset **out, const char *family, const char *options,
                                 uint64_t seed);

/**
 * Samples `tasks` few-shot sine-regression tasks of MAML / Meta-SGD, y = A sin(x - phase)
 * with A uniform in [0.1, 5], phase uniform in [0, pi] and inputs x uniform in [-5, 5],
 * each with `k` points. Everything is drawn in sequence from one generator seeded with
 * `seed`: task 1's amplitude and phase, its k inputs, task 2, ...; the same seed gives the
 * same numbers as the Swift SineTask.sample(tasks:k:seed:) and Python's
 * l2l.datasets.sine_tasks. (Inputs are drawn one per value, so with k = 2K the first K
 * points of a task are a K-shot support set and the last K its query set.)
 *
 * `x` and `y` (required) receive tasks*k floats each, task after task ([tasks, k, 1]);
 * `amplitude` and `phase` receive `tasks` floats each, or may be NULL. Returns
 * L2L_ERR_INVALID_ARGUMENT for a negative count, k above 2^24 or a NULL x or y;
 * L2L_ERR_SHAPE if tasks*k exceeds 2^31. Nothing is written on failure. Thread-safe.
 */
l2l_status l2l_sine_tasks(uint64_t seed, int64_t tasks, int64_t k, float *x, float *y,
                          float *amplitude, float *phase);

/**
 * Samples `tasks` quadratic tasks f(theta) = |W theta - y|^2 of Andrychowicz et al. (2016):
 * per task a `dimension` x `dimension` matrix W (row-major) then a `dimension`-vector y,
 * drawn in sequence from one generator seeded with `seed` (the same numbers as the Swift
 * QuadraticTask.sample(tasks:dimension:distribution:seed:) and Python's
 * l2l.datasets.quadratic_tasks). Options: distribution=normal (standard normal, as the
 * paper says; the default) or uniform (in [0, 1), as DeepMind's released code).
 *
 * `w` (required) receives tasks*dimension*dimension floats, `y` (required) tasks*dimension.
 * Returns L2L_ERR_INVALID_ARGUMENT for a NULL pointer, a negative count, a dimension outside
 * 1..16384 or a bad option; L2L_ERR_SHAPE if tasks*dimension^2 exceeds 2^31. Nothing is
 * written on failure. Thread-safe.
 */
l2l_status l2l_quadratic_tasks(uint64_t seed, int64_t tasks, int64_t dimension, const char *options,
                               float *w, float *y);

/* ---------------------------------------------------------------------------------- */
/* Batches: seeded mini-batches over a data set                                        */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_batches l2l_batches;

/**
 * An iterator over mini-batches of `batch_size` examples. Options: shuffle=1 (a new
 * order every epoch, drawn from `seed`), drop_last=0 (drop an epoch's last, smaller
 * batch). The iterator keeps its own reference to the data, so `dataset` may be freed.
 */
l2l_status l2l_batches_create(l2l_batches **out, const l2l_dataset *dataset,
                              int64_t batch_size, uint64_t seed, const char *options);

/** Releases a batch iterator (NULL is a no-op). */
void l2l_batches_free(l2l_batches *batches);

/**
 * Sizes of a batch iterator: examples per batch (after reduction to the data set's
 * count), features per example, batches per epoch, and epochs started so far. Any
 * out-pointer may be NULL.
 */
l2l_status l2l_batches_info(const l2l_batches *batches, int64_t *batch_size, int64_t *features,
                            int64_t *batches_per_epoch, int64_t *epochs);

/**
 * Copies the next batch into `inputs` (capacity `inputs_capacity` floats) and `labels`
 * (capacity `labels_capacity` integers) and sets *count to its number of examples.
 * At the end of an epoch it sets *count to 0 and copies nothing; the next call starts a
 * new epoch. All four pointers are required (the size is fixed: batch_size*features
 * floats and batch_size labels, where a batch_size above the data set's count is reduced
 * to it). Smaller capacities give L2L_ERR_BUFFER_TOO_SMALL without consuming a batch.
 */
l2l_status l2l_batches_next(l2l_batches *batches, float *inputs, int64_t inputs_capacity,
                            int32_t *labels, int64_t labels_capacity, int64_t *count);

/* ---------------------------------------------------------------------------------- */
/* Learners: models whose parameters an optimiser trains                                */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_learner l2l_learner;

/** What a parameter tensor is (l2l_param_info.kind). */
enum {
    L2L_PARAM_FC_WEIGHT = 0,
    L2L_PARAM_FC_BIAS = 1,
    L2L_PARAM_CONV_KERNEL = 2,
    L2L_PARAM_CONV_BIAS = 3,
    L2L_PARAM_BN_GAMMA = 4,
    L2L_PARAM_BN_BETA = 5
};

#define L2L_MAX_RANK 8
#define L2L_MAX_NAME 64

/** One parameter tensor of a learner: where it sits in the flat parameter vector. */
typedef struct l2l_param_info {
    char name[L2L_MAX_NAME];      /**< e.g. "fc0.weight", NUL-terminated */
    int32_t kind;                 /**< an L2L_PARAM_* value */
    int32_t rank;                 /**< number of dimensions used in `shape` */
    int64_t shape[L2L_MAX_RANK];  /**< dimensions, outermost first */
    int64_t offset;               /**< first element in the flat parameter vector */
    int64_t count;                /**< number of elements */
} l2l_param_info;

/**
 * Creates a learner with freshly initialised parameters drawn from `seed`. Inputs are
 * always rows of `input_features` floats (images flattened channel-major, [c, h, w]).
 *
 * "mlp": sizes=784,32,10 (required: input, hidden..., outputs), activation=relu|sigmoid|
 *   tanh (relu), init=fan_in_uniform|glorot|he (fan_in_uniform: U(+-1/sqrt(fan_in)) for
 *   weights and biases), objective=ce|bce|mse (ce: softmax cross-entropy; bce: one sigmoid
 *   output, labels 0/1; mse: regression). Weights are [in, out].
 * "convnet": input=1,28,28, channels=32,64 (5x5 "same" convolutions, each followed by the
 *   activation and pool x pool max pooling), kernel=5, pool=2, hidden=128 (dense widths,
 *   or "none"), classes=10, activation=relu, pooling=max|avg. U(+-1/sqrt(fan_in)) init.
 * "resnet": input=3,32,32, stages=16,32,64, blocks=3 (per stage), version=v1|v2
 *   (v2: pre-activation), classes=10, activation=relu. The defaults are ResNet20
 *   (269,722 parameters). Batch norm uses batch statistics in l2l_learner_loss_grad and
 *   l2l_train, and running statistics in l2l_learner_forward and l2l_learner_evaluate.
 */
l2l_status l2l_learner_create(l2l_learner **out, const char *kind, const char *options,
                              uint64_t seed);

/** Releases a learner (NULL is a no-op). */
void l2l_learner_free(l2l_learner *learner);

/**
 * Sizes of a learner: total scalar parameters, parameter tensors, input features and
 * classes. Any out-pointer may be NULL.
 */
l2l_status l2l_learner_info(const l2l_learner *learner, int64_t *num_params,
                            int64_t *num_tensors, int64_t *input_features, int64_t *classes);

/** Describes parameter tensor `index` (0 <= index < num_tensors) into *info. */
l2l_status l2l_learner_param_info(const l2l_learner *learner, int64_t index,
                                  l2l_param_info *info);

/**
 * Copies all parameters, tensor after tensor (see l2l_param_info.offset), into `out`
 * (capacity `capacity` floats) and sets *count to num_params. `out` may be NULL to ask
 * for the size.
 */
l2l_status l2l_learner_get_params(const l2l_learner *learner, float *out, int64_t capacity,
                                  int64_t *count);

/**
 * Replaces all parameters with `count` values laid out as l2l_learner_get_params gives
 * them. `count` must equal num_params and every value be finite; otherwise nothing
 * changes. Forgets the stored gradients.
 */
l2l_status l2l_learner_set_params(l2l_learner *learner, const float *values, int64_t count);

/**
 * Computes the mean softmax cross-entropy of a batch — `inputs` holds count*features
 * floats, `labels` count integers in [0, classes) — writes it to *loss (which may be
 * NULL) and stores its gradient with respect to every parameter in the learner (read it
 * with l2l_learner_get_grads; l2l_optimizer_step uses it). `count` must be at least 1 and
 * `features` the learner's input width (else L2L_ERR_SHAPE). If the loss is NaN or
 * infinite the call returns L2L_ERR_NON_FINITE; on any failure the learner keeps the
 * gradient it had stored before.
 */
l2l_status l2l_learner_loss_grad(l2l_learner *learner, const float *inputs,
                                 const int32_t *labels, int64_t count, int64_t features,
                                 float *loss);

/**
 * Copies the gradient stored by the last l2l_learner_loss_grad (flat, laid out like the
 * parameters) into `out` and sets *count to num_params. L2L_ERR_STATE if there is none.
 */
l2l_status l2l_learner_get_grads(const l2l_learner *learner, float *out, int64_t capacity,
                                 int64_t *count);

/**
 * Writes the logits of a batch of `count` examples (count*features floats) into
 * `logits` (capacity `capacity` floats; count*classes are written). `count` must be at
 * least 1 and `features` the learner's input width (else L2L_ERR_SHAPE).
 */
l2l_status l2l_learner_forward(const l2l_learner *learner, const float *inputs,
                               int64_t count, int64_t features, float *logits,
                               int64_t capacity);

/**
 * Mean loss and accuracy (in [0, 1]) over a whole data set. Either out-pointer may be
 * NULL. L2L_ERR_SHAPE if the data do not fit the learner; L2L_ERR_NON_FINITE if the loss
 * is NaN or infinite.
 */
l2l_status l2l_learner_evaluate(const l2l_learner *learner, const l2l_dataset *dataset,
                                float *loss, float *accuracy);

/* ---------------------------------------------------------------------------------- */
/* Optimisers                                                                          */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_optimizer l2l_optimizer;

/**
 * Creates an optimiser (g: gradient; defaults in brackets):
 *
 * "sgd": lr [0.01], momentum [0], nesterov [0]: v <- momentum v + g; theta -= lr v
 *   (Nesterov: theta -= lr (g + momentum v)).
 * "momentum", "nesterov": as "sgd" with momentum [0.9] (and nesterov on).
 * "adam": lr [1e-3], beta1 [0.9], beta2 [0.999], eps [1e-8], eps_inside [1]: with bias
 *   corrected moments, theta -= lr m / sqrt(v + eps^2) (eps_inside=0: m / (sqrt(v) + eps)).
 * "rmsprop": lr [1e-2], alpha [0.99], eps [1e-8], momentum [0], centered [0] (PyTorch's).
 * "adagrad": lr [1e-2], lr_decay [0], initial_accumulator [0], eps [1e-10].
 * "smorms3": lr [1e-3], eps [1e-16] (Simon Funk's).
 *
 * The optimiser's state (if any) is created for the first learner it steps and is
 * tied to that learner's shapes until l2l_optimizer_reset.
 */
l2l_status l2l_optimizer_create(l2l_optimizer **out, const char *kind, const char *options);

/** Releases an optimiser (NULL is a no-op). */
void l2l_optimizer_free(l2l_optimizer *optimizer);

/**
 * Updates the learner's parameters with the gradient its last l2l_learner_loss_grad
 * stored (L2L_ERR_STATE if none), then forgets that gradient. L2L_ERR_SHAPE if the
 * optimiser's state belongs to a learner of other shapes (see l2l_optimizer_reset);
 * L2L_ERR_NON_FINITE, with parameters and state unchanged, if the step would make a
 * parameter NaN or infinite. Both handles must not be used by another thread meanwhile.
 */
l2l_status l2l_optimizer_step(l2l_optimizer *optimizer, l2l_learner *learner);

/** Forgets the optimiser's state, so it can start afresh (on another learner too). */
l2l_status l2l_optimizer_reset(l2l_optimizer *optimizer);

/* ---------------------------------------------------------------------------------- */
/* Training loops                                                                      */
/* ---------------------------------------------------------------------------------- */

/**
 * Progress callback for long calls: `step` of `total` is done with loss `loss`. Return 0
 * to go on, anything else to cancel (the call then returns L2L_ERR_CANCELLED).
 * Called on the calling thread. The callback must not call l2l functions on the handles
 * the long call is using (they are in use); other handles are fine.
 */
typedef int (*l2l_progress_fn)(void *user, int64_t step, int64_t total, float loss);

/**
 * Takes `steps` optimiser steps on batches drawn from `batches` (moving on to new epochs
 * as needed). If `losses` is not NULL it receives the loss of each step (`steps` floats).
 * `progress` may be NULL. If a step's loss or updated parameters would be NaN or
 * infinite the call stops with L2L_ERR_NON_FINITE; the parameters are those from before
 * that step, and `losses` holds the losses of the steps completed before it. Any
 * gradient stored in the learner by l2l_learner_loss_grad is forgotten. The three
 * handles must not be used by another thread during the call.
 */
l2l_status l2l_train(l2l_learner *learner, l2l_optimizer *optimizer, l2l_batches *batches,
                     int64_t steps, float *losses, l2l_progress_fn progress, void *user);

#ifdef __cplusplus
}
#endif

#endif /* L2L_H */

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
 *    gives L2L_ERR_INVALID_ARGUMENT, never a crash. The library keeps a registry of live
 *    handles: a handle freed already, a pointer l2l never made, or a handle of another
 *    kind gives L2L_ERR_INVALID_ARGUMENT too, and freeing such a pointer (a double free)
 *    is a no-op. What stays undefined: a freed handle whose address the allocator has
 *    handed to a new handle of the same kind is that new handle.
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

/**
 * What this build runs on, as NUL-terminated `key=value` lines (each ending in "\n") written
 * into `info` (capacity `capacity` bytes); sets *length to the bytes needed, NUL included.
 * Keys: version, configuration ("release" or "debug"), cores (those of the process's CPU
 * affinity mask), kernels (the instruction set l2l's own SIMD kernels run on: "avx512",
 * "avx2" or "baseline"; results are the same bits on each), kernel_threads (the threads
 * those kernels use: the environment variable L2L_NUM_THREADS when the library loads, else
 * cores; results are the same bits for any count), blas (the BLAS's name, e.g.
 * "OpenBLAS"), blas_threads (the most threads a product of 100 MFLOP or more runs on:
 * kernel_threads, capped by the count the BLAS chose when it opened: OPENBLAS_NUM_THREADS,
 * GOTO_NUM_THREADS or OMP_NUM_THREADS if set, else its cores; smaller products run on one;
 * with OpenBLAS's SkylakeX kernels the bits do not depend on it, with its Haswell kernels
 * the last bits of a large product can), blas_version, blas_core (the kernel family in use, e.g. "Haswell", chosen for
 * the CPU when the library first needs its BLAS; the environment variable L2L_BLAS_CORETYPE
 * forces one, OPENBLAS_CORETYPE does not), blas_config (the BLAS's build configuration) and
 * blas_library (the file loaded, "" if unknown); more keys may be added.
 * `info` may be NULL to ask for the size (then `length` must not be). A capacity below
 * *length gives L2L_ERR_BUFFER_TOO_SMALL and writes nothing; both NULL gives
 * L2L_ERR_INVALID_ARGUMENT. Thread-safe.
 */
l2l_status l2l_build_info(char *info, int64_t capacity, int64_t *length);

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
 * Hessian-free (Martens 2010), from a Gauss-Newton model G of the batch (G = J^T H_L J,
 * J the Jacobian of the logits, H_L the loss's Hessian in the logits): conjugate gradient
 * solves (G + lambda I) d = g with at most cg_iters products and tolerance tol on ||r||,
 * starting from warm_start times the previous solution; then theta -= lr d.
 * "hf_fixed": lr [0.5], lambda [1] (> 0), cg_iters [10], tol [1e-5], warm_start [0.95]
 *   (in [0, 1]; 0: start from zero). Where G is near zero the step is about lr g / lambda:
 *   lambda 0.01-0.1 at lr 1 overshoots; lambda 1 is stable.
 * "hf_lm": as "hf_fixed", with Levenberg-Marquardt damping: rho = (L(theta_new) - L(theta)) / q
 *   with q = -lr <g,d> + lr^2/2 <d,(G+lambda I)d>; lambda /= decay if rho < 0.25,
 *   lambda *= decay if rho > 0.75, clipped to [lambda_min, lambda_max]. Options: lambda [0.3]
 *   (initial), decay [2/3] (in (0, 1)), lambda_min [1e-3], lambda_max [1], rho [next]:
 *   "next" measures both losses on the next batch (at the next step), "same" on the batch
 *   the step was solved on (Martens; the MLHF authors' code), which on small batches lets
 *   lambda fall too far and the learner diverge; with "same" a step whose new loss is not
 *   finite is refused.
 * Each Hessian-free step costs about 1 + cg_iters gradient evaluations (a Gauss-Newton
 * product costs 1.05 of them on l2l-bench's MLP, 1.12 on its convnet; plus one forward
 * pass for "hf_lm"). With l2l_optimizer_step it works on the batch of the learner's last
 * l2l_learner_loss_grad (the learner keeps a copy of that batch with the gradient).
 *
 * The optimiser's state (if any) is created for the first learner it steps and is
 * tied to that learner's shapes until l2l_optimizer_reset.
 */
l2l_status l2l_optimizer_create(l2l_optimizer **out, const char *kind, const char *options);

/** Releases an optimiser (NULL is a no-op). */
void l2l_optimizer_free(l2l_optimizer *optimizer);

/**
 * Updates the learner's parameters with the gradient its last l2l_learner_loss_grad
 * stored (L2L_ERR_STATE if none), then forgets that gradient. A Hessian-free optimiser
 * ("hf_fixed", "hf_lm") builds its model of the loss from the batch of that same call, and
 * a learned "mtl2l" optimiser reads that batch's inputs (its hypernetworks' input); the
 * learner keeps the batch exactly as long as the gradient, so without a stored gradient
 * and batch the call returns L2L_ERR_STATE and changes nothing, and "mtl2l" on a learner
 * of another input width than it was built for returns L2L_ERR_SHAPE. L2L_ERR_SHAPE if the
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

/* ---------------------------------------------------------------------------------- */
/* Learned optimisers: an optimiser network with its meta-parameters phi                */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_learned l2l_learned;

/**
 * Creates a learned optimiser of `kind` with meta-parameters phi drawn from `seed` (the
 * untrained optimiser; train it with l2l_meta_trainer_*). Kinds and options (defaults in
 * brackets; g: the learner's gradient, pre(g): the log/sign gradient preprocessing of
 * Andrychowicz et al. with parameter p):
 *
 * "lstm": the coordinate-wise LSTM optimiser of Andrychowicz et al. (2016), theta <- theta +
 *   scale * out, one small network shared by every coordinate, so it fits learners of any
 *   size. preset [paper] (paper: 2 x 20 LSTM + linear head; mtl2l: 20 then 1 unit, no
 *   head, forget/input biases +1/-1), layers (comma list, overrides the preset's),
 *   head [preset's], scale [0.1], p [10], forget_bias, input_bias [preset's], head_init
 *   [0.01] (half-width of the head's uniform initialisation), init_scales (comma list,
 *   one per layer: the half-width factor of each layer's initial draw U(±s/sqrt(H));
 *   preset's: 1 for paper, 0.5 for mtl2l), rms_decay [0 = off] (0 to 0.999999: the network
 *   reads pre(g / sqrt(v_hat)), v_hat Adam's bias-corrected running mean of g^2 with this
 *   decay, so its inputs do not depend on the scale of the learner's gradients), inputs
 *   [log_sign] (adam: RNNprop's features of Lv et al. 2017 in place of pre(g), g / (sqrt(v_hat)
 *   + 1e-8) and m_hat / (sqrt(v_hat) + 1e-8), m_hat and v_hat Adam's bias-corrected running
 *   means of g and g^2; not with rms_decay), beta1 [0.95], beta2 [0.95] (their decays),
 *   squash [0] (1: theta <- theta + scale * tanh(out), RNNprop's bounded output), odd [0]
 *   (1: the network also runs on each coordinate's mirror image, the features of -g with
 *   a state of its own, and the update is (out(g) - out(-g)) / 2: odd in the gradients, so
 *   no phi can push every weight the same way whatever the gradients' signs; twice the
 *   network's work).
 * "meta_sgd": Meta-SGD, theta <- theta - beta * g with one learned rate per learner
 *   parameter; lr [1e-3] (every beta's start).
 * "dmsgd": Dynamic Meta-SGD (M2SGD paper, eqs. 6-9): beta_t = ReLU(beta_static + gamma *
 *   tanh(U h_t)) with h_t from a coordinate-wise LSTM over pre(g); theta <- theta - beta_t * g.
 *   hidden [20], beta_static [1e-3], u_beta_init [0] (a > 0 draws U from U(-a, a); 0 starts it
 *   at zero), u_beta_sign [random] (positive: the draw is negated if it would put every first
 *   rate at 0), learn_gamma [0] (gamma the constant 1, else learned per parameter), p [10].
 * "m2sgd": DMSGD, then theta <- theta * 1[beta_t > xi] (Masked Meta-SGD, eqs. 10-11); the
 *   options of "dmsgd" plus xi [0], mask_during [meta_testing] (meta_training or both) and
 *   rate_penalty [0] (not the paper's: meta-training adds rate_penalty * mean(beta_t) to each
 *   step's loss, pulling rates towards 0, where the mask removes the weight). The main job's
 *   recipe, which reaches the paper's xi = 0 point on the mean of seven seeds (README: 60 %
 *   removed at 0.49 points below DMSGD; larger xi loses more than the paper):
 *   "xi=0 mask_during=both u_beta_init=0.05 u_beta_sign=positive", meta-trained with
 *   trials=4 steps=1000 meta_batch=2 on the 784-32-10 MLP, its phi then tested at any xi.
 * "mtl2l": MTL2L (Kuo et al., "MTL2L: A Context Aware Neural Optimiser", arXiv:2007.09343):
 *   a coordinate-wise 2-layer LSTM over pre(g) (layer 2 of hidden size 1, theta <- theta +
 *   scale * h2) whose layer-1 synapses are Q diag(e) P^T, with fixed random orthogonal Q, P
 *   (part of phi: saved and loaded with it, never changed by meta-training unless
 *   bases=learned) and e running averages (0.9 / 0.1, zero for a fresh learner) of
 *   hypernetworks (inputs -> hyper_hidden -> ReLU -> hidden, 4 x hidden with
 *   eigenvalues=per_gate) applied to the learner's input batch; hypernetwork dropout and noise
 *   on theta during meta-training only. preset [paper] (paper: gate biases on all gates, the
 *   paper's equations; code: the authors' released code, biases on the forget and input
 *   gates only and a ReLU on the first two context statistics: 102,226 trainable
 *   meta-parameters plus 16 x 400 fixed ones for a 784-input learner), hidden [20],
 *   hyper_hidden [32], inputs [the learner's input features; 784 if `learner` is NULL],
 *   gate_biases=all|forget_input [preset's], context_relu [preset's], dropout [1], noise [1],
 *   noise_horizon [100], scale [0.1], p [10], gradient_inputs [log_sign] (adam: layer 1 reads
 *   RNNprop's features, as the "lstm" kind's inputs=adam), beta1 [0.95], beta2 [0.95], odd [0]
 *   (as the "lstm" kind's), eigenvalues=shared|per_gate [shared] (per_gate: each of layer 1's
 *   gates has its own eigenvalues), bases=fixed|learned [fixed] (learned: Q and P are
 *   meta-trained). Every step reads the input batch [B, inputs]
 *   that produced the gradient: l2l_train, l2l_meta_test_run and meta-training pass it;
 *   l2l_optimizer_step uses the batch of the learner's last l2l_learner_loss_grad. A learner
 *   of another input width gives L2L_ERR_SHAPE (from l2l_optimizer_step, l2l_train,
 *   l2l_meta_test_run and l2l_meta_trainer_create).
 *
 * "meta_sgd", "dmsgd" and "m2sgd" have meta-parameters per learner parameter: `learner` is
 * required, and the optimiser only fits learners with its parameter shapes (its
 * parameters are not used otherwise, and it may be freed afterwards). For "lstm" `learner`
 * may be NULL (and is ignored); for "mtl2l" only its input width is read (NULL: 784). Returns L2L_ERR_INVALID_ARGUMENT for a NULL out or kind,
 * an unknown kind or option, a value out of range, or a NULL learner for a per-parameter
 * kind. On success *out is a new handle the caller frees with l2l_learned_free.
 * Thread-safe for distinct handles (the learner is only read).
 */
l2l_status l2l_learned_create(l2l_learned **out, const char *kind, const char *options,
                              const l2l_learner *learner, uint64_t seed);

/** Releases a learned optimiser (NULL is a no-op). Optimisers and trainers made from it stay valid. */
void l2l_learned_free(l2l_learned *learned);

/**
 * Sizes of a learned optimiser: the number of meta-parameters (scalars) and of
 * meta-parameter tensors. Either out-pointer may be NULL. L2L_ERR_INVALID_ARGUMENT for a
 * NULL handle.
 */
l2l_status l2l_learned_info(const l2l_learned *learned, int64_t *num_meta_params,
                            int64_t *num_tensors);

/**
 * Writes the kind (e.g. "m2sgd") and the full options text that rebuilds the optimiser
 * (every option, defaults included, e.g. "hidden=20 beta_static=0.001 learn_gamma=0 p=10.0
 * xi=0.0 mask_during=meta_testing") as NUL-terminated strings into `kind` (capacity
 * `kind_capacity` bytes) and `options` (`options_capacity` bytes). Either buffer may be
 * NULL to skip it. If a buffer is too short for its string and NUL the call returns
 * L2L_ERR_BUFFER_TOO_SMALL and writes neither (l2l_last_error() says how many bytes are
 * needed): 16 bytes hold every kind; the options text of the built-in kinds and presets
 * is under 200 bytes, longer only when long lists are given (lstm layers=...), so retry
 * with a larger buffer. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_learned_describe(const l2l_learned *learned, char *kind, int64_t kind_capacity,
                                char *options, int64_t options_capacity);

/**
 * Copies phi, tensor after tensor in the optimiser's order (flat, row-major), into `out`
 * (capacity `capacity` floats) and sets *count to num_meta_params. `out` may be NULL to ask
 * for the size; a smaller capacity gives L2L_ERR_BUFFER_TOO_SMALL (with *count set).
 * L2L_ERR_INVALID_ARGUMENT for a NULL handle, or both `out` and `count` NULL.
 */
l2l_status l2l_learned_get_meta(const l2l_learned *learned, float *out, int64_t capacity,
                                int64_t *count);

/**
 * Replaces phi with `count` values laid out as l2l_learned_get_meta gives them (copied).
 * `count` must equal num_meta_params (else L2L_ERR_SHAPE); any NaN or infinity gives
 * L2L_ERR_NON_FINITE. On any failure phi is unchanged. Optimisers already made with
 * l2l_optimizer_create_learned keep the phi they copied. L2L_ERR_INVALID_ARGUMENT for a NULL
 * handle or values, or a negative count. Modifies the handle: no other thread may use it.
 */
l2l_status l2l_learned_set_meta(l2l_learned *learned, const float *values, int64_t count);

/**
 * Saves the optimiser to `path` as .safetensors: phi's tensors under their names, and in the
 * metadata the format tag "l2l.learned_optimiser", the kind, the options, the learner
 * parameter shapes it was built for, the library version and a CRC-32 of the data. The file
 * is written to `path`.tmp and renamed, so `path` is never left half-written. L2L_ERR_IO if
 * it cannot be written; L2L_ERR_INVALID_ARGUMENT for a NULL handle or path.
 */
l2l_status l2l_learned_save(const l2l_learned *learned, const char *path);

/**
 * Loads an optimiser saved by l2l_learned_save (or by the Swift or Python API): kind,
 * options, phi and learner shapes. L2L_ERR_IO if the file is missing or unreadable;
 * L2L_ERR_FORMAT if it is truncated, altered (checksum), of another kind of file, or its
 * kind, options, tensor names or shapes do not make a valid optimiser;
 * L2L_ERR_INVALID_ARGUMENT for a NULL out or path. On success *out is a new handle the caller
 * frees with l2l_learned_free. Thread-safe.
 */
l2l_status l2l_learned_load(l2l_learned **out, const char *path);

/**
 * Makes an ordinary optimiser from a learned one, with a copy of its current phi (later
 * changes to `learned` do not affect it): use it with l2l_optimizer_step, l2l_train and
 * l2l_meta_test_run like any other. Its state (recurrent states, last rates) starts afresh
 * on the first learner it steps, as for any optimiser (see l2l_optimizer_reset). Option:
 * phase=meta_testing|meta_training [meta_testing] (what the optimiser's phase-dependent
 * behaviour follows: M2SGD masks in the phases its mask_during names). An optimiser of a
 * per-parameter kind steps only learners of the shapes it was built for: others give
 * L2L_ERR_SHAPE from l2l_optimizer_step, l2l_train and l2l_meta_test_run.
 * L2L_ERR_INVALID_ARGUMENT for a NULL pointer or a bad option. On success *out is a new
 * handle the caller frees with l2l_optimizer_free. `learned` is only read.
 */
l2l_status l2l_optimizer_create_learned(l2l_optimizer **out, const l2l_learned *learned,
                                        const char *options);

/* ---------------------------------------------------------------------------------- */
/* Meta-training: Algorithm 1 (truncated backprop or evolution strategies on unrolls)    */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_meta_trainer l2l_meta_trainer;

/** Kinds of meta-training events (l2l_meta_trainer_events). */
enum {
    /** The meta-loss of an unroll was NaN or infinite: no update; the learner restarted. */
    L2L_EVENT_NON_FINITE_LOSS = 0,
    /** A meta-gradient was NaN or infinite: no update. */
    L2L_EVENT_NON_FINITE_GRADIENT = 1,
    /** After rollback_after consecutive skipped updates phi went back to its last good value. */
    L2L_EVENT_ROLLBACK = 2,
    /** The learner sat at chance level with a vanishing gradient (optimiser collapse). */
    L2L_EVENT_COLLAPSE = 3
};

/**
 * Progress callback of meta-training, called after every unroll on the calling thread:
 * `trial` (0-based) is the trial being run, `step` the learner steps done in that trial (a
 * multiple of the unroll), `meta_loss` the unroll's meta-loss (the mean over the trial's
 * meta_batch learners; with estimator=pes, over the perturbed particles), NaN or infinite
 * if it was not finite. Return 0 to go on, anything else to cancel (the call then returns
 * L2L_ERR_CANCELLED). It must not call l2l functions on the trainer.
 */
typedef int (*l2l_meta_progress_fn)(void *user, int64_t trial, int64_t step, float meta_loss);

/**
 * Creates a meta-trainer for `learned` starting from its current phi: `tasks` tasks, task i
 * a learner `learners[i]` trained on mini-batches of `datasets[i]`. A trial trains
 * meta_batch fresh learners side by side for `steps` steps, one meta-update of phi after
 * every unroll (their meta-gradients averaged): member m of trial q trains task
 * (q * meta_batch + m) mod tasks (or a random task with sample_tasks=1), freshly
 * initialised from the run's seed: the learners' current parameters are not used. The
 * learners and data sets are copied, so the caller may free them afterwards.
 *
 * Options (defaults in brackets): trials [1] (Q, trials run one after another), steps [100]
 * (S, steps per learner; a multiple of unroll), unroll [5] (steps per meta-update), meta_lr
 * [1e-3] (the meta-optimiser's learning rate on phi), meta_optimizer [adam] (any gradient
 * optimiser kind of l2l_optimizer_create: sgd, momentum, nesterov, adam, rmsprop, adagrad,
 * smorms3), meta_optimizer_options [none] (its options other than lr, written with ':' for
 * '=' and ',' between them, e.g. "meta_optimizer_options=beta1:0.5,eps:1e-6"), batch [128],
 * weights (unroll comma-separated non-negative weights of each step's loss in the
 * meta-loss; uniform), same_batch [0] (score an update on the batch that produced its
 * gradient, as the authors' code), clip=none|value|norm [none] with clip_at [1]
 * (element-wise clamp or global-norm scaling of the meta-gradient), second_order [0]
 * (differentiate through the learner's gradient; bptt only), sample_tasks [0],
 * rollback_after [3], warmup [0] (each learner first takes a number of steps drawn from
 * 0..warmup with the current phi and no meta-gradient), random_scaling [0] (k > 0: each
 * learner trains on f(c*theta) from theta0/c, c_i = exp(U(-k, k)) per coordinate, Lv et al.
 * 2017), theta_noise [0] (c in [0, 1]; c > 0: after every update of a meta-training unroll
 * theta gets Gaussian noise of standard deviation c*max|theta|*(S - t)/S, the max over all
 * the learner's parameters, at the learner's step t < S (S = steps; t counts warmup steps,
 * which get no noise): the MTL2L authors' noise on theta, for any learned optimiser; the same
 * draws for every particle of an estimator; not applied by meta-testing), meta_batch [1] (learners per trial
 * and meta-update; their unrolls, like the es/pes particles, run on up to kernel_threads
 * threads at once (l2l_build_info; L2L_NUM_THREADS) with the same results for any count, so
 * bptt without a memory budget holds up to that many unroll graphs at once; with a budget,
 * and for callback tasks, one at a time), seed [0], and:
 *
 *  - estimator=bptt|es|pes [bptt]: how the meta-gradient of an unroll is obtained.
 *    "bptt": truncated backpropagation through the unroll (Algorithm 1).
 *    "es": antithetic evolution strategies (Salimans et al., "Evolution Strategies as a
 *    Scalable Alternative to Reinforcement Learning", arXiv:1703.03864): each unroll is
 *    also run from the same learner state with phi + e and phi - e for es_pairs draws
 *    e ~ N(0, es_std^2 I), and the loss differences weight the e; no backward pass goes
 *    through the unroll. Truncated like bptt, hence biased over the whole horizon.
 *    "pes": persistent evolution strategies (Vicol, Metz and Sohl-Dickstein, "Unbiased
 *    Gradient Estimation in Unrolled Computation Graphs with Persistent Evolution
 *    Strategies", arXiv:2112.13835): as es, but each perturbed particle keeps its own
 *    learner across the unrolls of a trial and its perturbations accumulate, so the
 *    estimate is unbiased for the whole horizon of `steps`.
 *    es_std [0.01] (in 1e-8..1e3) and es_pairs [8] (>= 1) are used by es and pes only.
 *  - memory_budget [0: none] (bytes; bptt only): the most memory one unroll's meta-gradient
 *    may hold. Past it the unroll is cut into segments whose activations are recomputed in
 *    the backward pass (gradient checkpointing), keeping the peak near the budget at the
 *    cost of time; the meta-gradient is the same up to float rounding.
 *
 * Returns L2L_ERR_INVALID_ARGUMENT for a NULL out, learned, array or array element, tasks < 1,
 * an unknown option or a value out of range (including steps not a multiple of unroll, an
 * unknown estimator or meta-optimiser, a meta-optimiser option it does not take, es_pairs
 * < 1, meta_batch < 1, and second_order=1 or memory_budget > 0 with estimator es or pes);
 * L2L_ERR_SHAPE if a data set does not fit its learner, or (per-parameter kinds) a learner's
 * parameter shapes differ from those `learned` was built for. On success *out is a new
 * handle the caller frees with l2l_meta_trainer_free.
 */
l2l_status l2l_meta_trainer_create(l2l_meta_trainer **out, const l2l_learned *learned,
                                   const l2l_learner *const *learners,
                                   const l2l_dataset *const *datasets, int64_t tasks,
                                   const char *options);

/**
 * Resumes meta-training from a checkpoint written by l2l_meta_trainer_save_checkpoint: phi,
 * the meta-optimiser's state, the random generator's position, counters, history and events
 * come from the file; `learned` (kind and options; its phi is not used), the tasks and the
 * options must be those of the run that wrote it. Running the resumed trainer then gives
 * bit-identical results to a run that never stopped. L2L_ERR_IO if the file is missing;
 * L2L_ERR_FORMAT if it is truncated, altered or not a checkpoint; L2L_ERR_INVALID_ARGUMENT if
 * it belongs to another optimiser or other options, and as l2l_meta_trainer_create.
 */
l2l_status l2l_meta_trainer_resume(l2l_meta_trainer **out, const char *checkpoint_path,
                                   const l2l_learned *learned, const l2l_learner *const *learners,
                                   const l2l_dataset *const *datasets, int64_t tasks,
                                   const char *options);

/** Releases a meta-trainer (NULL is a no-op). */
void l2l_meta_trainer_free(l2l_meta_trainer *trainer);

/**
 * Runs the next `trials` trials (clamped to those remaining of the configured trials), or all
 * remaining ones if `trials` is negative; 0 does nothing. `progress` (may be NULL) is called
 * after every unroll with `user`; a non-zero return stops the run with L2L_ERR_CANCELLED,
 * keeping phi's updates, history and events so far, but the interrupted trial is not counted
 * in trials_done (a later run starts it again, from new random draws). Non-finite
 * meta-losses or meta-gradients never reach phi: they are recorded as events (see
 * l2l_meta_trainer_events) and the run goes on. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 * The trainer must not be used by another thread meanwhile.
 */
l2l_status l2l_meta_trainer_run(l2l_meta_trainer *trainer, int64_t trials,
                                l2l_meta_progress_fn progress, void *user);

/**
 * Counters: trials completed, meta-updates applied (unrolls whose update was not skipped),
 * and unrolls run (the length of the history). Any out-pointer may be NULL.
 * L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_meta_trainer_info(const l2l_meta_trainer *trainer, int64_t *trials_done,
                                 int64_t *meta_steps, int64_t *unrolls);

/**
 * Copies the meta-loss of every unroll so far, in order (trials * steps / unroll values after
 * a complete run), into `out` (capacity `capacity` floats) and sets *count to their number.
 * `out` may be NULL to ask for the size; a smaller capacity gives L2L_ERR_BUFFER_TOO_SMALL
 * (with *count set). L2L_ERR_INVALID_ARGUMENT for a NULL handle, or both `out` and `count` NULL.
 */
l2l_status l2l_meta_trainer_history(const l2l_meta_trainer *trainer, float *out, int64_t capacity,
                                    int64_t *count);

/**
 * Copies the events so far, in order: their kinds (L2L_EVENT_*), 0-based trials and learner
 * steps (within the trial) into `kinds`, `trials` and `steps` (each of capacity `capacity`
 * values, each may be NULL to skip it) and sets *count (which may be NULL) to their number.
 * With all three buffers NULL it only sets *count. A capacity below the count gives
 * L2L_ERR_BUFFER_TOO_SMALL (with *count set) and writes no event. L2L_ERR_INVALID_ARGUMENT
 * for a NULL handle, or every pointer NULL.
 */
l2l_status l2l_meta_trainer_events(const l2l_meta_trainer *trainer, int32_t *kinds,
                                   int64_t *trials, int64_t *steps, int64_t capacity,
                                   int64_t *count);

/**
 * The meta-loss of the trainer's current phi, without training it, in *meta_loss: the mean,
 * over `instances` fresh learners (task i mod tasks for the i-th, initialised and batched
 * from `seed`) each trained for `steps` steps by the learned optimiser with that phi, of
 * their unrolls' meta-losses (as the history records them, weights included). Two calls
 * with the same seed see the same learners and batches, so evaluating before and after
 * l2l_meta_trainer_run compares two phi on the same data; use a seed other than the run's
 * to score on learners it did not train. Changes nothing in the trainer.
 * L2L_ERR_NON_FINITE if a learner's loss stops being finite (*meta_loss unchanged);
 * L2L_ERR_INVALID_ARGUMENT for a NULL trainer or meta_loss, or instances outside
 * 1..1000000. The trainer must not be used by another thread meanwhile.
 */
l2l_status l2l_meta_trainer_evaluate(const l2l_meta_trainer *trainer, int64_t instances,
                                     uint64_t seed, float *meta_loss);

/**
 * Saves everything needed to resume the run exactly (phi, the meta-optimiser's state, the
 * generator's position, counters, history, events, the rollback point) to `path` as
 * .safetensors, written to `path`.tmp and renamed. Take it between runs: a trial interrupted by a
 * cancelled run is not in it. L2L_ERR_IO if the file cannot be written;
 * L2L_ERR_INVALID_ARGUMENT for a NULL handle or path.
 */
l2l_status l2l_meta_trainer_save_checkpoint(const l2l_meta_trainer *trainer, const char *path);

/**
 * Copies the trainer's current phi into `into`, which must be a learned optimiser of the
 * same kind and options (else L2L_ERR_INVALID_ARGUMENT) built for the same learner shapes
 * (else L2L_ERR_SHAPE); typically the handle the trainer was created from. Then save it,
 * make an optimiser from it, or meta-test it. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 * Modifies `into`: no other thread may use it meanwhile.
 */
l2l_status l2l_meta_trainer_get_learned(const l2l_meta_trainer *trainer, l2l_learned *into);

/* ---------------------------------------------------------------------------------- */
/* Optimisers on your own arrays: any l2l optimiser, learned ones included               */
/* ---------------------------------------------------------------------------------- */

/**
 * A new optimizer handle with the same optimiser (kind, options, phi of a learned one) and no
 * state: one per set of parameters the caller trains (the state lives in the handle and is
 * fixed to the shapes of its first update). L2L_ERR_INVALID_ARGUMENT for a NULL out or
 * optimizer. The caller frees the new handle with l2l_optimizer_free.
 */
l2l_status l2l_optimizer_fork(l2l_optimizer **out, const l2l_optimizer *optimizer);

/**
 * One update of the caller's parameters from their gradients, in place: `tensors` arrays,
 * tensor k of rank ranks[k] (1...8) with its dimensions next in `dims`, its values at
 * parameters[k] (row-major floats, overwritten with the updated values) and its gradient at
 * gradients[k]. `inputs` is the input batch (`rows` x `features`, row-major) that produced
 * the gradients, read by optimisers that need it (mtl2l) and ignored (may be NULL) by the
 * others. The optimiser's state is kept in the handle: the first update fixes the shapes
 * (l2l_optimizer_reset forgets them). Returns L2L_ERR_SHAPE if the shapes differ from the
 * state's or (per-parameter learned kinds) from those the optimiser was built for (see
 * l2l_optimizer_parameter_shapes), or if the batch has the wrong width;
 * L2L_ERR_INVALID_ARGUMENT for NULL pointers, a rank out of range, or a missing batch for an
 * optimiser that needs one; L2L_ERR_NON_FINITE if the parameters or gradients hold NaN or
 * infinity, or the update would make them so; L2L_ERR_STATE for a Hessian-free optimiser
 * (it steps from a model of the loss: use l2l_optimizer_step). On any error nothing is
 * written. One handle is used by one thread at a time.
 */
l2l_status l2l_optimizer_update(l2l_optimizer *optimizer, int64_t tensors, const int64_t *ranks,
                                const int64_t *dims, float *const *parameters,
                                const float *const *gradients, const float *inputs, int64_t rows,
                                int64_t features);

/**
 * The parameter shapes a learned optimiser with per-parameter meta-parameters (meta_sgd,
 * dmsgd, m2sgd) was built for, as JSON text ("[[784,32],[32],[32,10],[10]]"), or "null" for
 * optimisers that take any shapes. Writes the NUL-terminated text into `buffer` (capacity
 * bytes) and its size with the NUL to *length (either may be NULL; a NULL buffer asks for the
 * size). L2L_ERR_BUFFER_TOO_SMALL if it does not fit (nothing written but *length);
 * L2L_ERR_INVALID_ARGUMENT for a NULL optimizer or both buffer and length NULL.
 */
l2l_status l2l_optimizer_parameter_shapes(const l2l_optimizer *optimizer, char *buffer, int64_t capacity,
                                          int64_t *length);

/**
 * Copies the optimiser's state (moments, a learned optimiser's recurrent states, ...) as
 * floats into `out` (capacity floats; NULL asks for the size through *n) and its step count
 * to *step (may be NULL): everything l2l_optimizer_set_state needs to continue exactly.
 * L2L_ERR_STATE before the first update (no state yet) or for an optimiser whose state cannot
 * be exported (Hessian-free, MLHF); L2L_ERR_BUFFER_TOO_SMALL (with *n set) if it does not fit;
 * L2L_ERR_INVALID_ARGUMENT for a NULL optimizer, or out and n both NULL.
 */
l2l_status l2l_optimizer_get_state(const l2l_optimizer *optimizer, float *out, int64_t capacity,
                                   int64_t *n, int64_t *step);

/**
 * Replaces the optimiser's state with `n` values read by l2l_optimizer_get_state, for
 * parameters of the shapes given as in l2l_optimizer_update, and its step count: the next
 * update continues as the one that wrote them would have. Returns L2L_ERR_SHAPE if `n` is
 * not the size of a state for those shapes (or the shapes are not those a per-parameter
 * learned optimiser was built for); L2L_ERR_NON_FINITE for NaN or infinite values;
 * L2L_ERR_INVALID_ARGUMENT for NULL pointers, a negative step or an optimiser whose state
 * cannot be restored. Nothing changes on error.
 */
l2l_status l2l_optimizer_set_state(l2l_optimizer *optimizer, int64_t tensors, const int64_t *ranks,
                                   const int64_t *dims, const float *values, int64_t n, int64_t step);

/* ---------------------------------------------------------------------------------- */
/* Tasks of the caller's model: meta-training on any model through two callbacks        */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_task l2l_task;

/**
 * Draws a fresh instance's parameters: writes tensor k's values (row-major, as many floats
 * as its shape holds) to parameters[k]. `seed` comes from the meta-training run's generator,
 * so drawing from it keeps runs reproducible. Return 0 on success, anything else to stop
 * meta-training (the call then returns L2L_ERR_CANCELLED). Called on the thread that runs
 * the meta-trainer; it must not call l2l functions on that trainer.
 */
typedef int (*l2l_task_init_fn)(void *user, uint64_t seed, float *const *parameters);

/**
 * The loss of the caller's model at `parameters` (tensor k at parameters[k], read-only,
 * valid during the call) on the batch of learner step `step` (0-based from the instance's
 * start: every particle of an estimator asks for the same step with the same batch), and its
 * gradient: writes the loss to *loss and tensor k's gradient to gradients[k]. Return 0 on
 * success, anything else to stop meta-training with L2L_ERR_CANCELLED (phi keeps the updates
 * made before). A NaN or infinite loss is not an error: that update is skipped and an event
 * recorded, as for l2l's own learners. Same thread rules as l2l_task_init_fn.
 */
typedef int (*l2l_task_loss_grad_fn)(void *user, int64_t step, const float *const *parameters,
                                     float *loss, float *const *gradients);

/**
 * Creates a task defined by the caller's model: `tensors` parameter tensors, tensor k of rank
 * ranks[k] (1...8) with its dimensions next in `dims` (all ranks' dimensions one after
 * another), `init` drawing an instance's parameters and `loss_grad` the loss and gradient;
 * `user` is handed to both unchanged (the caller keeps it valid while the task or a trainer
 * built from it lives). Meta-training differentiates through the learned optimiser with the
 * caller's gradients held constant (first order, as the papers do; second_order=1 is
 * refused), with any estimator (bptt, es, pes) and memory budget. An unroll of Xi steps calls
 * loss_grad Xi + 1 times per particle (the loss after each update is the next step's
 * gradient evaluation). Returns L2L_ERR_INVALID_ARGUMENT for a NULL out, ranks, dims or
 * callback, tensors < 1 or a rank out of range; L2L_ERR_SHAPE for a dimension < 1 or a tensor
 * too large. On success *out is a new handle the caller frees with l2l_task_free.
 */
l2l_status l2l_task_create_callback(l2l_task **out, int64_t tensors, const int64_t *ranks,
                                    const int64_t *dims, l2l_task_init_fn init,
                                    l2l_task_loss_grad_fn loss_grad, void *user);

/** Releases a task (NULL is a no-op); trainers built from it keep what they need. */
void l2l_task_free(l2l_task *task);

/**
 * As l2l_meta_trainer_create, with tasks made by l2l_task_create_callback: trial q trains a
 * fresh instance of task q mod n (or a random one with sample_tasks=1). The same options;
 * L2L_ERR_SHAPE if a per-parameter optimiser (meta_sgd, dmsgd, m2sgd) was built for other
 * parameter shapes; L2L_ERR_INVALID_ARGUMENT for a NULL out, learned, tasks or element, n < 1,
 * an unknown option, second_order=1, or an optimiser that reads input batches (mtl2l). The
 * trainer is used with the l2l_meta_trainer_* functions (run, evaluate, history, events,
 * checkpoints, get_learned).
 */
l2l_status l2l_meta_trainer_create_from_tasks(l2l_meta_trainer **out, const l2l_learned *learned,
                                              const l2l_task *const *tasks, int64_t n,
                                              const char *options);

/* ---------------------------------------------------------------------------------- */
/* MLHF: meta-learning with Hessian-free (learned damping and preconditioner)          */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_mlhf l2l_mlhf;
typedef struct l2l_mlhf_trainer l2l_mlhf_trainer;

/**
 * Creates an MLHF (Chen et al.) with meta-parameters phi drawn from `seed` (untrained;
 * train it with l2l_mlhf_trainer_*). Each step solves (G + diag(s)) d = g by cg_iters
 * iterations of preconditioned conjugate gradient, G the Gauss-Newton matrix of the batch,
 * warm-started from the last solution, then theta -= lr d. The damping s and the diagonal
 * preconditioner come from two small coordinate-wise recurrent networks (two LSTM layers
 * and a linear layer with softplus), one weight set per parameter kind (L2L_PARAM_*), so
 * phi's size does not depend on the learner and an MLHF trained on one learner steps
 * others (a convnet's on a ResNet). Options (defaults in brackets): cg_iters [4], lr [1],
 * damping [rnn] ("rnn", or a non-negative number for a constant damping), preconditioner
 * [rnn] ("rnn" or "none"), damping_floor [2e-5] (added to s), step_clip [0.25] (while
 * meta-training the step is clipped to a norm of step_clip ||theta|| / lr; 0: off),
 * clip_when_used [0] (1: clip when the MLHF is used as an optimiser too), noise [0.02]
 * (while meta-training the step is multiplied by U(1 - noise, 1 + noise) noise), hidden
 * [4,4] (LSTM units per layer). With the defaults phi has 3324 values.
 *
 * L2L_ERR_INVALID_ARGUMENT for a NULL out, an unknown option or a value out of range. On
 * success *out is a new handle the caller frees with l2l_mlhf_free. Thread-safe.
 */
l2l_status l2l_mlhf_create(l2l_mlhf **out, const char *options, uint64_t seed);

/** Releases an MLHF (NULL is a no-op). Optimisers and trainers made from it stay valid. */
void l2l_mlhf_free(l2l_mlhf *mlhf);

/**
 * Sizes of phi: the number of meta-parameters (scalars) and of meta-parameter tensors.
 * Either out-pointer may be NULL. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_mlhf_info(const l2l_mlhf *mlhf, int64_t *num_meta_params, int64_t *num_tensors);

/**
 * Writes the full options text that rebuilds the MLHF (every option, defaults included,
 * e.g. "cg_iters=4 lr=1.0 damping=rnn ...") as a NUL-terminated string into `options`
 * (capacity `capacity` bytes; 512 bytes hold it unless `hidden` is a long list).
 * L2L_ERR_BUFFER_TOO_SMALL if it does not fit (nothing written; l2l_last_error() says how
 * many bytes are needed); L2L_ERR_INVALID_ARGUMENT for a NULL handle or buffer.
 */
l2l_status l2l_mlhf_describe(const l2l_mlhf *mlhf, char *options, int64_t capacity);

/**
 * Copies phi, tensor after tensor (RNN_s's weight sets, then RNN_p's, each in L2L_PARAM_*
 * order; flat, row-major), into `out` (capacity `capacity` floats) and sets *count to
 * num_meta_params. `out` may be NULL to ask for the size; a smaller capacity gives
 * L2L_ERR_BUFFER_TOO_SMALL (with *count set). L2L_ERR_INVALID_ARGUMENT for a NULL handle, or
 * both `out` and `count` NULL.
 */
l2l_status l2l_mlhf_get_meta(const l2l_mlhf *mlhf, float *out, int64_t capacity, int64_t *count);

/**
 * Replaces phi with `count` values laid out as l2l_mlhf_get_meta gives them (copied). `count`
 * must equal num_meta_params (else L2L_ERR_SHAPE); any NaN or infinity gives
 * L2L_ERR_NON_FINITE. On any failure phi is unchanged. Optimisers and trainers already made
 * keep the phi they copied. L2L_ERR_INVALID_ARGUMENT for a NULL handle or values, or a
 * negative count. Modifies the handle: no other thread may use it meanwhile.
 */
l2l_status l2l_mlhf_set_meta(l2l_mlhf *mlhf, const float *values, int64_t count);

/**
 * Saves the MLHF to `path` as .safetensors in the learned-optimiser format of
 * l2l_learned_save: phi's tensors under their names (e.g. "s.fc_weight.lstm0.w"), and in
 * the metadata the format tag "l2l.learned_optimiser", kind "mlhf", the options, the library
 * version and a CRC-32 of the data (no learner shapes: an MLHF fits any learner). Written to
 * `path`.tmp and renamed. L2L_ERR_IO if it cannot be written; L2L_ERR_INVALID_ARGUMENT for a
 * NULL handle or path.
 */
l2l_status l2l_mlhf_save(const l2l_mlhf *mlhf, const char *path);

/**
 * Loads an MLHF saved by l2l_mlhf_save (or by the Swift or Python API): options and phi.
 * L2L_ERR_IO if the file is missing or unreadable; L2L_ERR_FORMAT if it is truncated,
 * altered (checksum), not a learned-optimiser file, a learned optimiser of another kind
 * (load those with l2l_learned_load, which in turn refuses MLHF files), or its options,
 * tensor names or shapes do not make a valid MLHF; L2L_ERR_INVALID_ARGUMENT for a NULL out
 * or path. On success *out is a new handle the caller frees with l2l_mlhf_free. Thread-safe.
 */
l2l_status l2l_mlhf_load(l2l_mlhf **out, const char *path);

/**
 * Makes an ordinary optimiser from an MLHF, with a copy of its current phi, set up for the
 * parameter kinds of `learner` (only its parameter list is read): use it with
 * l2l_optimizer_step, l2l_train and l2l_meta_test_run like "hf_fixed". It steps learners with
 * the same parameter kinds in the same order (the same architecture; widths may differ),
 * others give L2L_ERR_SHAPE from those calls. No noise is added; the step clip acts only with
 * clip_when_used=1. As for "hf_fixed", l2l_optimizer_step works on the batch of the
 * learner's last l2l_learner_loss_grad. `options`: none yet (NULL or ""; any key gives L2L_ERR_INVALID_ARGUMENT). L2L_ERR_INVALID_ARGUMENT for
 * a NULL out, mlhf or learner. On success *out is a new handle the caller frees with
 * l2l_optimizer_free. `mlhf` and `learner` are only read.
 */
l2l_status l2l_optimizer_create_mlhf(l2l_optimizer **out, const l2l_mlhf *mlhf,
                                     const l2l_learner *learner, const char *options);

/** One meta-iteration's figures (l2l_mlhf_trainer_run's callback, l2l_mlhf_trainer_evaluate). */
typedef struct l2l_mlhf_record {
    float precondition_loss; /**< l_p: mean over the unroll of -<d,g>/sqrt(<d,(G+diag s)d>) (lower: better) */
    float damping_loss;      /**< l_s: softmax-weighted loss changes over the unroll (lower: better) */
    float residual_norm;     /**< mean ||r|| after conjugate gradient */
    float training_loss;     /**< mean learner training loss over the unroll (before each step) */
    float damping;           /**< geometric mean of the damping s over coordinates and steps */
} l2l_mlhf_record;

/**
 * Progress callback of MLHF meta-training, called after every meta-iteration on the calling
 * thread: `iteration` is its 0-based index over the trainer's life, `record` its figures
 * (NaN where the iteration failed; valid during the call only). Return 0 to go on, anything
 * else to cancel (the call then returns L2L_ERR_CANCELLED). It must not call l2l functions
 * on the trainer.
 */
typedef int (*l2l_mlhf_progress_fn)(void *user, int64_t iteration, const l2l_mlhf_record *record);

/**
 * Creates a meta-trainer for `mlhf` starting from its current phi, on `learner`'s
 * architecture and mini-batches of `dataset` (the paper's section 3.1): each meta-iteration
 * runs `unroll` MLHF steps of one learner (freshly initialised from the seed: `learner`'s own
 * parameters are not used), then the meta-optimiser (Adam by default) updates RNN_p's
 * weights on l_p and RNN_s's on l_s;
 * afterwards the learner goes on training, or restarts from its initial weights with
 * probability `reset`. The learner and data set are copied, so the caller may free them.
 *
 * Options (defaults in brackets): iterations [100] (what a run with iterations < 0 does),
 * unroll [10] (>= 2), meta_lr [1e-3] (the meta-optimiser's learning rate), meta_optimizer
 * [adam] (any gradient optimiser kind of l2l_optimizer_create, with its default options),
 * batch [64], reset [0.7], ls_weight [10] (l_s's weight), clip [phi] ("phi": the
 * meta-gradient is clipped to the norm of phi; "none"), rollback_after [3] (after this many
 * consecutive skipped updates phi goes back to its last good value, 1..1000), seed [0].
 *
 * L2L_ERR_INVALID_ARGUMENT for a NULL pointer, an unknown option, meta-optimiser or a value
 * out of range;
 * L2L_ERR_SHAPE if the data set does not fit the learner. On success *out is a new handle the
 * caller frees with l2l_mlhf_trainer_free. `mlhf`, `learner` and `dataset` are only read.
 */
l2l_status l2l_mlhf_trainer_create(l2l_mlhf_trainer **out, const l2l_mlhf *mlhf,
                                   const l2l_learner *learner, const l2l_dataset *dataset,
                                   const char *options);

/** Releases an MLHF meta-trainer (NULL is a no-op). */
void l2l_mlhf_trainer_free(l2l_mlhf_trainer *trainer);

/**
 * Runs `iterations` more meta-iterations, or, if `iterations` is negative, those remaining of
 * the configured `iterations` option (none if as many have run). `progress` (may be NULL) is
 * called after every meta-iteration with `user`; a non-zero return stops the run with
 * L2L_ERR_CANCELLED, keeping phi's updates, history and events so far (the iteration just
 * reported included). A non-finite loss or meta-gradient never reaches phi: the update is
 * skipped, an event recorded (see l2l_mlhf_trainer_events), the learner restarted, and the
 * run goes on. Deterministic for a seed. L2L_ERR_INVALID_ARGUMENT for a NULL handle. The
 * trainer must not be used by another thread meanwhile.
 */
l2l_status l2l_mlhf_trainer_run(l2l_mlhf_trainer *trainer, int64_t iterations,
                                l2l_mlhf_progress_fn progress, void *user);

/**
 * Counters: meta-iterations run (the length of the history), the configured `iterations`
 * option, and events recorded. Any out-pointer may be NULL. L2L_ERR_INVALID_ARGUMENT for a
 * NULL handle.
 */
l2l_status l2l_mlhf_trainer_info(const l2l_mlhf_trainer *trainer, int64_t *iterations_done,
                                 int64_t *iterations_configured, int64_t *events);

/**
 * Copies the figures of every meta-iteration so far, in order, one array per field of
 * l2l_mlhf_record (each of capacity `capacity` floats; each may be NULL to skip it), and sets
 * *count (which may be NULL) to their number. With every buffer NULL it only sets *count. A
 * capacity below the count gives L2L_ERR_BUFFER_TOO_SMALL (with *count set) and writes
 * nothing. L2L_ERR_INVALID_ARGUMENT for a NULL handle, or every pointer NULL.
 */
l2l_status l2l_mlhf_trainer_history(const l2l_mlhf_trainer *trainer, float *precondition_loss,
                                    float *damping_loss, float *residual_norm, float *training_loss,
                                    float *damping, int64_t capacity, int64_t *count);

/**
 * Copies the events so far, as l2l_meta_trainer_events does: kinds (L2L_EVENT_NON_FINITE_LOSS,
 * L2L_EVENT_NON_FINITE_GRADIENT or L2L_EVENT_ROLLBACK), the 0-based meta-iterations and the
 * steps within their unroll, into buffers of capacity `capacity` (each may be NULL), and
 * *count. With all three buffers NULL it only sets *count; a capacity below the count gives
 * L2L_ERR_BUFFER_TOO_SMALL. L2L_ERR_INVALID_ARGUMENT for a NULL handle, or every pointer NULL.
 */
l2l_status l2l_mlhf_trainer_events(const l2l_mlhf_trainer *trainer, int32_t *kinds,
                                   int64_t *iterations, int64_t *steps, int64_t capacity,
                                   int64_t *count);

/**
 * Scores a phi without training it: `unrolls` consecutive unrolls of one learner from the
 * trainer's initial weights, on batches and noise drawn from `seed`, in *out (means over the
 * unrolls). `mlhf` gives the phi (it must have the trainer's options, else
 * L2L_ERR_INVALID_ARGUMENT), or NULL for the trainer's current phi: with the same seed, two
 * phi are compared on the same data (e.g. before and after meta-training, on a seed other
 * than the trainer's). Changes nothing in the trainer. L2L_ERR_NON_FINITE if the learner's
 * loss stops being finite; L2L_ERR_INVALID_ARGUMENT for a NULL trainer or out, or unrolls
 * outside 1..1000000.
 */
l2l_status l2l_mlhf_trainer_evaluate(const l2l_mlhf_trainer *trainer, const l2l_mlhf *mlhf,
                                     int64_t unrolls, uint64_t seed, l2l_mlhf_record *out);

/**
 * Copies the trainer's current phi into `into`, which must be an MLHF with the same options
 * (else L2L_ERR_INVALID_ARGUMENT); typically the handle the trainer was created from. Then
 * save it, make an optimiser from it, or meta-test it. L2L_ERR_INVALID_ARGUMENT for a NULL
 * handle. Modifies `into`: no other thread may use it meanwhile.
 */
l2l_status l2l_mlhf_trainer_get_mlhf(const l2l_mlhf_trainer *trainer, l2l_mlhf *into);

/* ---------------------------------------------------------------------------------- */
/* Meta-testing: fresh learners trained by one optimiser, curves and scores             */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_meta_test l2l_meta_test;

/**
 * Trains `learners` fresh learners of the same architecture as `learner` (freshly
 * initialised from the seed: `learner`'s own parameters are not used nor changed) for
 * `steps` steps each on mini-batches of `train`, each with a fresh copy of `optimizer`
 * (hand-crafted, or from l2l_optimizer_create_learned; `optimizer`'s own state is not used
 * nor changed), and records every step's training loss, the loss and accuracy on `test` at
 * the evaluation steps, the weights exactly zero at the end, and the wall time per step.
 * A step whose update would make a parameter NaN or infinite is refused (the learner stays
 * where it was and the curve shows the loss).
 *
 * Options (defaults in brackets): learners [10], steps [1000], batch [128], eval (comma list
 * of distinct steps in 0..steps at which `test` is scored, 0 meaning before training; [the
 * last step]), seed [0].
 *
 * `progress` (may be NULL) is called after every step with (user, learner * steps + step,
 * learners * steps, NaN) — the loss argument is NaN: read the curves afterwards — and a
 * non-zero return stops the run with L2L_ERR_CANCELLED (no result is made).
 * Returns L2L_ERR_INVALID_ARGUMENT for a NULL pointer, an unknown option or a value out of
 * range; L2L_ERR_SHAPE if a data set does not fit the learner, learners * steps exceeds
 * 2^31, or a learned per-parameter optimiser was built for other learner shapes. On success
 * *out is a new handle the caller frees with l2l_meta_test_free. The handles are only read
 * (other threads may read them meanwhile, not modify them).
 */
l2l_status l2l_meta_test_run(l2l_meta_test **out, const l2l_learner *learner,
                             const l2l_optimizer *optimizer, const l2l_dataset *train,
                             const l2l_dataset *test, const char *options,
                             l2l_progress_fn progress, void *user);

/** Releases a meta-test result (NULL is a no-op). */
void l2l_meta_test_free(l2l_meta_test *test);

/**
 * Sizes and summary of a meta-test: learners K, steps T, evaluations E, parameter tensors of
 * the learner, sparsity (the fraction of all parameters exactly zero at the end, mean over
 * learners) and the mean wall time of one step (gradient and update) in seconds. Any
 * out-pointer may be NULL. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_meta_test_info(const l2l_meta_test *test, int64_t *learners, int64_t *steps,
                              int64_t *evaluations, int64_t *tensors, double *sparsity,
                              double *seconds_per_step);

/**
 * Copies the curves, row-major with one row per learner: `training_loss` K*T floats (the loss
 * of each step's batch, before its update), `test_loss` and `test_accuracy` K*E floats each
 * (accuracy in [0, 1]), and `evaluation_steps` the E steps they were taken after, ascending.
 * Sizes from l2l_meta_test_info; any buffer may be NULL to skip it.
 * L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_meta_test_curves(const l2l_meta_test *test, float *training_loss, float *test_loss,
                                float *test_accuracy, int64_t *evaluation_steps);

/**
 * Per parameter tensor of the learner (tensor i is the learner's tensor i, named by
 * l2l_learner_param_info): the number of its weights exactly zero at the end, mean over
 * learners, into `zeros`, and its size into `sizes` (capacity `capacity` values each; either
 * may be NULL to skip it). A capacity below the number of tensors gives
 * L2L_ERR_BUFFER_TOO_SMALL and writes nothing. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_meta_test_zero_weights(const l2l_meta_test *test, double *zeros, int64_t *sizes,
                                      int64_t capacity);

/**
 * The distribution of the rates beta_t of a trained "dmsgd" or "m2sgd" after each evaluation
 * step (issue 15; pitfalls: tanh(h U_beta) saturating freezes beta_t and M2SGD's masks).
 * *available is 1 when the run recorded such rates (the optimiser a trained dmsgd or m2sgd,
 * evaluated after at least one step) and 0 otherwise (then nothing else is written).
 * Row-major, one row per learner and one entry per evaluation step (K*E entries, sizes from
 * l2l_meta_test_info): `quantiles` 5 floats an entry, [K][E][5] (beta_t's minimum, 10th, 50th
 * and 90th percentiles and maximum; room for 5 * capacity floats), `masked` the share of
 * coordinates with beta_t <= xi (the weights M2SGD's mask sets to zero in the phases it acts
 * in; xi = 0 for DMSGD) and `saturated` the share whose |tanh(h U_beta)| exceeds 0.999; NaN
 * before any step has succeeded (step 0). Any of the three may be NULL to skip it. A capacity
 * (entries) below K*E gives L2L_ERR_BUFFER_TOO_SMALL and writes nothing but *available. L2L_ERR_INVALID_ARGUMENT for a NULL handle or `available`, or a negative
 * capacity.
 */
l2l_status l2l_meta_test_rates(const l2l_meta_test *test, int32_t *available, float *quantiles,
                               double *masked, double *saturated, int64_t capacity);

/**
 * Saves the results to `path`: format "json" (an object with training_loss, evaluation_steps,
 * test_loss, test_accuracy, zero_weights, tensor_sizes, tensor_names, sparsity,
 * seconds_per_step and rates: null, or per learner and evaluation step null or an object
 * with quantiles, masked_fraction, threshold and saturated_fraction as l2l_meta_test_rates
 * gives them; non-finite numbers as null) or "csv" (header
 * learner,step,train_loss,test_loss,test_accuracy, one row per learner step, the test
 * columns empty between evaluations). Written to `path`.tmp and renamed. L2L_ERR_IO if the
 * file cannot be written; L2L_ERR_INVALID_ARGUMENT for a NULL pointer or another format.
 */
l2l_status l2l_meta_test_save(const l2l_meta_test *test, const char *path, const char *format);

/* ---------------------------------------------------------------------------------- */
/* Regression: real-valued targets for learners with objective=mse                     */
/* ---------------------------------------------------------------------------------- */

/*
 * A learner made with objective=mse (mean squared error) is a regressor: it takes
 * real-valued targets, `outputs` floats per example (its number of outputs, the `classes`
 * of l2l_learner_info). Label functions (l2l_learner_loss_grad) refuse it with
 * L2L_ERR_INVALID_ARGUMENT, and the functions below refuse classifiers the same way.
 * l2l_learner_evaluate, l2l_train and l2l_learner_forward take regressors with regression
 * data sets (evaluate then gives the mean squared error and a NaN accuracy); the
 * meta-trainers and l2l_meta_test_run take classification data and learners only
 * (L2L_ERR_INVALID_ARGUMENT otherwise).
 */

/**
 * Computes the mean squared error of a batch — `inputs` holds count*features floats,
 * `targets` count*outputs floats, row-major — writes it to *loss (which may be NULL) and
 * stores its gradient in the learner like l2l_learner_loss_grad. `outputs` must equal the
 * learner's number of outputs and `features` its input width (else L2L_ERR_SHAPE); count
 * must be at least 1. L2L_ERR_INVALID_ARGUMENT for a learner that is not a regressor or a
 * NULL pointer; L2L_ERR_NON_FINITE for NaN or infinity in the batch or in the loss. On any
 * failure the learner keeps the gradient it had. A Hessian-free l2l_optimizer_step after
 * this call gives L2L_ERR_STATE (its Gauss-Newton model needs a labelled batch).
 */
l2l_status l2l_learner_loss_grad_values(l2l_learner *learner, const float *inputs,
                                        const float *targets, int64_t count, int64_t features,
                                        int64_t outputs, float *loss);

/**
 * Creates a regression data set from `count` examples: `inputs` count*features floats and
 * `targets` count*outputs floats, row-major, all finite (else L2L_ERR_NON_FINITE), copied.
 * `features` and `outputs` must be at least 1. l2l_dataset_info reports `outputs` as its
 * classes; l2l_dataset_read writes no labels for it (read targets with
 * l2l_dataset_read_values); l2l_batches_next refuses it with L2L_ERR_STATE (its batches
 * serve l2l_train). On success *out is a new handle the caller frees with l2l_dataset_free.
 */
l2l_status l2l_dataset_create_regression(l2l_dataset **out, const float *inputs,
                                         const float *targets, int64_t count, int64_t features,
                                         int64_t outputs);

/** Sets *regression to 1 for a regression data set, 0 for a labelled one. */
l2l_status l2l_dataset_is_regression(const l2l_dataset *dataset, int32_t *regression);

/**
 * Copies the targets of examples start..start+count-1 of a regression set into `values`
 * (count*outputs floats, required). L2L_ERR_SHAPE if the range is outside the set;
 * L2L_ERR_STATE for a labelled set.
 */
l2l_status l2l_dataset_read_values(const l2l_dataset *dataset, int64_t start, int64_t count,
                                   float *values);

/* ---------------------------------------------------------------------------------- */
/* Few-shot meta-learning: MAML, first-order MAML, Meta-SGD                            */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_fewshot l2l_fewshot;

/**
 * Creates a few-shot meta-learner over the architecture of `learner`, starting from its
 * current parameters (a fresh learner's initialisation, or pretrained ones); `learner` is
 * only read, and may be freed afterwards.
 * It meta-learns an initialisation theta, and for Meta-SGD a per-parameter inner learning
 * rate alpha shaped like theta, such that k inner steps
 * theta <- theta - alpha * grad L_support(theta) on a task's few examples adapt well; each
 * meta-iteration draws meta_batch tasks and takes one Adam step on the mean query loss
 * after adaptation (non-finite meta-losses or gradients skip the step; repeated skips roll
 * back). `seed` seeds the meta-training task draws.
 *
 * Options (defaults in brackets): method=maml|fomaml|meta_sgd [maml] (maml: second order
 * through all inner steps; fomaml: first order; meta_sgd: theta and alpha, second order),
 * inner_steps [1] (k, 1..1000), inner_lr [0.01] (MAML's rate; Meta-SGD's initial alpha),
 * meta_batch [25], shots [10] (support examples per task in meta-training), query [0: as
 * many as shots] (query examples per task), meta_lr [1e-3] (Adam), clip=none|value|norm
 * [none], clip_at [1], rollback_after [3], seed [0].
 *
 * L2L_ERR_INVALID_ARGUMENT for a NULL pointer, an unknown option, a value out of range or
 * a learner with buffers (batch norm). On success *out is a new handle the caller frees
 * with l2l_fewshot_free.
 */
l2l_status l2l_fewshot_create(l2l_fewshot **out, const l2l_learner *learner, const char *options);

/** Releases a few-shot meta-learner (NULL is a no-op). */
void l2l_fewshot_free(l2l_fewshot *fewshot);

/**
 * Sizes of a few-shot meta-learner: meta-parameters (theta, then alpha for Meta-SGD),
 * meta-iterations done, and events (skipped steps and rollbacks). Any out-pointer may be
 * NULL. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_fewshot_info(const l2l_fewshot *fewshot, int64_t *num_meta_params,
                            int64_t *iterations, int64_t *events);

/**
 * Copies the meta-parameters, flat: theta laid out like the learner's parameters
 * (l2l_learner_get_params), then for Meta-SGD alpha in the same layout, into `out`
 * (capacity `capacity` floats) and sets *count to num_meta_params. `out` may be NULL to ask
 * for the size; a smaller capacity gives L2L_ERR_BUFFER_TOO_SMALL.
 */
l2l_status l2l_fewshot_get_meta(const l2l_fewshot *fewshot, float *out, int64_t capacity,
                                int64_t *count);

/**
 * Runs `iterations` meta-iterations on tasks of the family `tasks` configured by
 * `task_options`: "sine" — y = A sin(x - phase), A in [0.1, 5], phase in [0, pi], x in
 * [-5, 5], for a learner of one input and one output with objective=mse; option
 * evaluation_points [100] (the grid l2l_fewshot_evaluate scores on). `options` (may be
 * NULL) changes meta_batch, shots and query from here on (other keys are errors). Task
 * draws come from the meta-learner's own generator (seeded at creation), so a run is
 * reproducible. `losses` (NULL, or room for `iterations` floats) receives each
 * iteration's meta-loss. `progress` (may be NULL) is called after every iteration with
 * (user, iteration, iterations, meta-loss); a non-zero return stops with
 * L2L_ERR_CANCELLED, keeping the iterations done.
 * L2L_ERR_INVALID_ARGUMENT for an unknown family or option, or a learner whose objective
 * does not fit the family's targets; L2L_ERR_SHAPE if its input or output width does not.
 */
l2l_status l2l_fewshot_fit(l2l_fewshot *fewshot, const char *tasks, const char *task_options,
                           const char *options, int64_t iterations, float *losses,
                           l2l_progress_fn progress, void *user);

/**
 * Adapts to one task: `steps` inner steps (a negative value: inner_steps) from the
 * meta-learned theta (with alpha for Meta-SGD) on `count` examples — `inputs`
 * count*features floats, `targets` count*outputs floats (regression) — and writes the
 * adapted parameters into `into`, a learner of the same parameter shapes (else
 * L2L_ERR_SHAPE), whose stored gradient is forgotten. The meta-learner is not changed.
 * L2L_ERR_SHAPE or L2L_ERR_INVALID_ARGUMENT for examples that do not fit the learner (as
 * l2l_learner_loss_grad_values); L2L_ERR_NON_FINITE if adaptation diverges (`into` is then
 * unchanged).
 */
l2l_status l2l_fewshot_adapt(const l2l_fewshot *fewshot, const float *inputs,
                             const float *targets, int64_t count, int64_t features,
                             int64_t outputs, int64_t steps, l2l_learner *into);

/**
 * Scores the meta-learner on `task_count` fresh tasks of the family `tasks` (as
 * l2l_fewshot_fit), drawn from `seed` (not the meta-training generator; task i from its
 * own generator derived from `seed` and i, which draws the task and then max(shots)
 * examples, of which the first K form the K-shot support set, so a task's score at K does
 * not depend on the other shot counts): for each task and each K of `shots` (`shot_count`
 * values, each in 1..1000000), `steps` adaptation steps (negative: inner_steps) on the
 * K-shot support set, and the loss on the family's
 * evaluation set (for "sine" the mean squared error on evaluation_points evenly spaced
 * points of [-5, 5]). Writes, for shot count j, the per-task losses to
 * losses[j*task_count .. j*task_count + task_count - 1], their mean to means[j] and the
 * half-width of the normal 95 % interval of the mean (1.96 s / sqrt(n)) to intervals[j];
 * each buffer may be NULL. Errors as l2l_fewshot_fit and l2l_fewshot_adapt.
 */
l2l_status l2l_fewshot_evaluate(const l2l_fewshot *fewshot, const char *tasks,
                                const char *task_options, int64_t task_count,
                                const int64_t *shots, int64_t shot_count, int64_t steps,
                                uint64_t seed, float *losses, float *means, float *intervals);

/**
 * Saves theta (and alpha) and the options to `path` as .safetensors (metadata: format
 * "l2l.learned_optimiser", kind "fewshot", options, library version, CRC-32), written to
 * `path`.tmp and renamed. The meta-optimiser's state is not saved. L2L_ERR_IO if the file
 * cannot be written.
 */
l2l_status l2l_fewshot_save(const l2l_fewshot *fewshot, const char *path);

/**
 * Loads a meta-learner saved by l2l_fewshot_save onto the architecture of `learner`
 * (whose parameter shapes must be those it was saved with). Meta-training resumes with a
 * fresh Adam state and task generator. L2L_ERR_IO if the file is missing or unreadable;
 * L2L_ERR_FORMAT if it is truncated, altered, not a few-shot meta-learner, or saved for
 * other shapes. On success *out is a new handle the caller frees with l2l_fewshot_free.
 */
l2l_status l2l_fewshot_load(l2l_fewshot **out, const char *path, const l2l_learner *learner);

/* ---------------------------------------------------------------------------------- */
/* Meta-training across processes: one meta-iteration in two halves, buffers for MPI     */
/* ---------------------------------------------------------------------------------- */

/*
 * A meta-iteration (one unroll of each of the meta_batch members, then one meta-update of
 * phi) can be split over N processes that each hold a meta-trainer created with the same
 * learned optimiser, tasks and options: every process calls l2l_meta_trainer_estimate for
 * its share of the members (process r: members r, r+N, ...), the processes exchange the
 * gradient rows and summaries (l2l never communicates: use your MPI), and every process
 * calls l2l_meta_trainer_combine on all meta_batch rows in member order and then
 * l2l_meta_trainer_apply with the same values. Every random draw is taken by every
 * process, so they stay in lockstep, and phi comes out bit for bit as from one process's
 * l2l_meta_trainer_run (which sums the members' gradients in the same order). A process
 * that did not estimate a member in an unroll no longer holds that member's learner and
 * may not estimate it again in the trial (unless the learner restarts after a non-finite
 * loss). Start every process from the same phi (l2l_meta_trainer_get_phi on one,
 * l2l_meta_trainer_set_phi on the others) or from the same checkpoint; save checkpoints
 * between trials from one process.
 */

/** Floats per member summary of l2l_meta_trainer_estimate: meta-loss, the learner's last
 *  loss, its last gradient norm, lost (1: a loss was not finite, no gradient; else 0). */
#define L2L_META_SUMMARY_SIZE 4

/**
 * The sizes of a split meta-iteration: members per meta-batch, phi's float count (the
 * length of a gradient row and of phi), trials configured, unrolls (meta-iterations) per
 * trial. Any out-pointer may be NULL. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_meta_trainer_sizes(const l2l_meta_trainer *trainer, int64_t *meta_batch,
                                  int64_t *phi_count, int64_t *trials,
                                  int64_t *iterations_per_trial);

/**
 * Copies the trainer's current phi (phi_count floats, laid out as l2l_learned_get_meta)
 * into `out` (capacity `capacity`) and sets *count. `out` NULL asks for the size; a smaller
 * capacity gives L2L_ERR_BUFFER_TOO_SMALL (with *count set). L2L_ERR_INVALID_ARGUMENT for a
 * NULL handle, or both `out` and `count` NULL.
 */
l2l_status l2l_meta_trainer_get_phi(const l2l_meta_trainer *trainer, float *out,
                                    int64_t capacity, int64_t *count);

/**
 * Replaces the trainer's phi with `count` values (copied) laid out as
 * l2l_meta_trainer_get_phi gives them, keeping the meta-optimiser's state and the rollback
 * point. L2L_ERR_SHAPE if count is not phi_count; L2L_ERR_NON_FINITE for NaN or infinity;
 * L2L_ERR_STATE between l2l_meta_trainer_estimate and l2l_meta_trainer_apply;
 * L2L_ERR_INVALID_ARGUMENT for a NULL handle or values, or a negative count. Nothing changes
 * on failure.
 */
l2l_status l2l_meta_trainer_set_phi(l2l_meta_trainer *trainer, const float *values,
                                    int64_t count);

/**
 * Runs the current unroll of meta-batch members `members[0..count-1]` (distinct indices in
 * 0..meta_batch-1) with the current phi, opening the meta-iteration (and, at its first
 * one, the trial) if it is not open yet; count 0 only opens it (a process with no member:
 * every process must open every iteration, which draws the random numbers). Row i of
 * `gradients` (capacity `gradients_capacity` floats, at least count × phi_count) receives
 * member members[i]'s meta-gradient (NaN if the member was lost); row i of `summaries` (at
 * least count × L2L_META_SUMMARY_SIZE floats) its summary. L2L_ERR_INVALID_ARGUMENT for a
 * NULL pointer (the buffers may be NULL when count is 0), a negative count, a member out
 * of range or repeated, one already estimated in this iteration, or one whose learner
 * another process holds; L2L_ERR_BUFFER_TOO_SMALL for a small buffer; L2L_ERR_STATE once
 * every trial is done; a callback task's error as l2l_meta_trainer_run (the trial in
 * progress is then abandoned). The trainer must not be used by another thread meanwhile.
 */
l2l_status l2l_meta_trainer_estimate(l2l_meta_trainer *trainer, const int64_t *members,
                                     int64_t count, float *gradients, int64_t gradients_capacity,
                                     float *summaries, int64_t summaries_capacity);

/**
 * The meta-batch's meta-gradient from all members' gradient rows: `gradients` holds
 * meta_batch × phi_count floats, member 0's row first (`count` is their number); `out`
 * (capacity at least phi_count) receives their sum in member order divided by meta_batch,
 * exactly as l2l_meta_trainer_run combines them. Rows may hold NaN (the result then does).
 * L2L_ERR_SHAPE for another count; L2L_ERR_BUFFER_TOO_SMALL for a small `out`;
 * L2L_ERR_INVALID_ARGUMENT for a NULL pointer or a negative count.
 */
l2l_status l2l_meta_trainer_combine(const l2l_meta_trainer *trainer, const float *gradients,
                                    int64_t count, float *out, int64_t capacity);

/**
 * Closes the open meta-iteration: `summaries` holds all meta_batch members' summaries
 * (meta_batch × L2L_META_SUMMARY_SIZE floats, `summaries_count` their number, member 0
 * first), `gradient` the combined meta-gradient of l2l_meta_trainer_combine (`gradient_count`
 * = phi_count floats; may be NULL if a member was lost, and is then ignored). Records the
 * history entry and events, restarts lost learners, and updates phi by the meta-optimiser
 * unless a member was lost or the gradient is not finite (skipped and recorded, as
 * l2l_meta_trainer_run does); after the trial's last unroll the trial counts as done.
 * L2L_ERR_STATE if no iteration is open; L2L_ERR_SHAPE for other counts or a NULL gradient
 * when no member was lost; L2L_ERR_NON_FINITE if a member not lost has a non-finite
 * meta-loss; L2L_ERR_INVALID_ARGUMENT for a NULL handle or summaries, or a lost flag other
 * than 0 or 1. Nothing changes on failure.
 */
l2l_status l2l_meta_trainer_apply(l2l_meta_trainer *trainer, const float *summaries,
                                  int64_t summaries_count, const float *gradient,
                                  int64_t gradient_count);

/* ---------------------------------------------------------------------------------- */
/* LSTM learner (Bosc 2016): an MLP's weights in an LSTM's cell state                   */
/* ---------------------------------------------------------------------------------- */

typedef struct l2l_lstm_learner l2l_lstm_learner;

/**
 * Creates the LSTM learner of Bosc (2016), "Learning to Learn Neural Networks": an LSTM
 * whose cell state theta holds the P = d*h + 2h + 1 weights of a d-h-1 MLP (ReLU hidden
 * units, one sigmoid output; flattened as fc0.weight [d, h] row-major, fc0.bias [h],
 * fc1.weight [h, 1], fc1.bias [1]). At each sample (x, y) of a sequence the MLP first
 * predicts p = P(y = 1) with the current theta; then a gate network (ReLU layers of
 * gate_sizes on [x, y, p, flag], then 3P outputs) gives an input gate i, a forget gate f
 * and a candidate a per weight, and theta <- sigmoid(f) * theta + sigmoid(i) * tanh(a).
 * There is no output gate. The flag is 1 on the test part of a sequence, whose targets
 * are never shown; with test_updates=off it also switches updates off there.
 * Meta-parameters: the prior theta_0 and the gate network, meta-trained by SMORMS3 on one
 * random sequence per iteration (a fresh data set of the XOR-of-thresholds family, see
 * l2l_dataset_synthetic "binary_xor") on the mean cross-entropy over all its samples.
 *
 * Options (defaults in brackets): dimension [10] (d), hidden [32] (h), gate_sizes [64,64],
 * forget_bias [6] and input_bias [-4] (initial gate biases), test_updates=off|learned
 * [off]; the meta-training data: samples [200], noise_scale [1], minimum_balance [0.15],
 * maximum_attempts [1000], threshold_spread [0] (as "binary_xor"), train_min [0.2] and
 * train_max [0.8] (the training part is a uniform fraction of each sequence in this
 * range); meta_lr [3e-3] (SMORMS3), clip=none|value|norm [none], clip_at [1],
 * rollback_after [3], seed [0] (initialisation and meta-training draws).
 *
 * L2L_ERR_INVALID_ARGUMENT for a NULL `out`, an unknown option or a value out of range.
 * On success *out is a new handle the caller frees with l2l_lstm_learner_free.
 */
l2l_status l2l_lstm_learner_create(l2l_lstm_learner **out, const char *options);

/** Releases an LSTM learner (NULL is a no-op). */
void l2l_lstm_learner_free(l2l_lstm_learner *learner);

/**
 * Sizes of an LSTM learner: the model's input size d, its weight count P (the cell
 * state), the number of meta-parameters, meta-iterations done and events (skipped steps,
 * rollbacks). Any out-pointer may be NULL. L2L_ERR_INVALID_ARGUMENT for a NULL handle.
 */
l2l_status l2l_lstm_learner_info(const l2l_lstm_learner *learner, int64_t *dimension,
                                 int64_t *num_params, int64_t *num_meta_params,
                                 int64_t *iterations, int64_t *events);

/**
 * Copies the meta-parameters, flat — the prior theta_0 (P floats, laid out as above), then
 * the gate network's layers (weight [in, out] row-major, then bias, layer by layer; the
 * last layer's 3P outputs are the input-gate, forget-gate and candidate blocks) — into
 * `out` (capacity `capacity` floats) and sets *count to num_meta_params. `out` may be NULL
 * to ask for the size; a smaller capacity gives L2L_ERR_BUFFER_TOO_SMALL.
 */
l2l_status l2l_lstm_learner_get_meta(const l2l_lstm_learner *learner, float *out,
                                     int64_t capacity, int64_t *count);

/**
 * Runs `iterations` meta-iterations (SMORMS3 steps, one fresh sequence each, drawn from the
 * learner's own generator, so a run is reproducible). `losses` (NULL, or room for
 * `iterations` floats) receives each iteration's objective, the mean cross-entropy over
 * all samples of its sequence. `progress` (may be NULL) is called after every iteration
 * with (user, iteration, iterations, objective); a non-zero return stops with
 * L2L_ERR_CANCELLED, keeping the iterations done. A non-finite objective or meta-gradient
 * skips the step (an event). L2L_ERR_INVALID_ARGUMENT for a NULL handle or a negative count.
 */
l2l_status l2l_lstm_learner_fit(l2l_lstm_learner *learner, int64_t iterations, float *losses,
                                l2l_progress_fn progress, void *user);

/**
 * Runs the learner over one sequence of `count` samples — `inputs` count*features floats
 * (row-major), `labels` count floats, each 0 or 1 — whose first `train_count` samples are
 * the training part and the rest the test part (labels of the test part are only used to
 * score). Writes P(y = 1) of each sample, predicted before its own update, to
 * `predictions` (NULL, or room for `count` floats); the cell state theta_0 .. theta_count
 * to `weights` (NULL, or room for (count + 1) * P floats, `weights_capacity`; less gives
 * L2L_ERR_BUFFER_TOO_SMALL); and the mean cross-entropy of the training part, of the test
 * part and of all samples to losses[0..2] (NULL allowed; an empty part scores 0). The
 * learner is not changed.
 * L2L_ERR_SHAPE if `features` is not d; L2L_ERR_INVALID_ARGUMENT for NULL inputs or
 * labels, count < 1, a label other than 0 or 1, or train_count outside 0..count;
 * L2L_ERR_NON_FINITE for NaN or infinite inputs.
 */
l2l_status l2l_lstm_learner_run(const l2l_lstm_learner *learner, const float *inputs,
                                const float *labels, int64_t count, int64_t features,
                                int64_t train_count, float *predictions, float *weights,
                                int64_t weights_capacity, float *losses);

/**
 * The paper's evaluation: the test-part mean cross-entropy on `datasets` fresh data sets
 * of the XOR family, drawn from `seed` (data set i from its own generator derived from
 * `seed` and i, which draws the data set, then its training fraction). `options` (may be
 * NULL) changes the data and fractions from those of meta-training: samples, noise_scale,
 * minimum_balance, maximum_attempts, threshold_spread, train_min, train_max (dimension
 * must stay d). Writes the per-data-set losses to `losses` (NULL, or room for `datasets`
 * floats), their mean to *mean and sample standard deviation to *std (each may be NULL).
 * The learner is not changed. L2L_ERR_INVALID_ARGUMENT for datasets < 1, an unknown
 * option or a value out of range.
 */
l2l_status l2l_lstm_learner_evaluate(const l2l_lstm_learner *learner, const char *options,
                                     int64_t datasets, uint64_t seed, float *losses,
                                     float *mean, float *std);

/**
 * Saves the meta-parameters and the options to `path` as .safetensors (tensors "prior",
 * "gates.fc<l>.weight", "gates.fc<l>.bias"; metadata: format "l2l.learned_optimiser",
 * kind "lstm_learner", options, library version, CRC-32), written to `path`.tmp and
 * renamed. The SMORMS3 state is not saved. L2L_ERR_IO if the file cannot be written.
 */
l2l_status l2l_lstm_learner_save(const l2l_lstm_learner *learner, const char *path);

/**
 * Loads an LSTM learner saved by l2l_lstm_learner_save. Meta-training resumes with a fresh
 * SMORMS3 state and generator. L2L_ERR_IO if the file is missing or unreadable;
 * L2L_ERR_FORMAT if it is truncated, altered or not an LSTM learner. On success *out is a
 * new handle the caller frees with l2l_lstm_learner_free.
 */
l2l_status l2l_lstm_learner_load(l2l_lstm_learner **out, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* L2L_H */

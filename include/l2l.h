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
 * Loads a named data set. `name` is "fashion-mnist"; `split` is "train" or "test";
 * `directory` holds the IDX files (gzipped or raw), or NULL for $L2L_DATA, else Debian's
 * /usr/share/datasets/fashion-mnist. Pixels are scaled to [0, 1]; images flattened.
 * Returns L2L_ERR_IO if a file is missing, L2L_ERR_FORMAT if one is corrupt or truncated.
 * On success *out is a new handle the caller frees with l2l_dataset_free.
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
 * Creates a learner with freshly initialised parameters drawn from `seed`.
 * `kind` "mlp": options sizes=784,32,10 (required: input, hidden..., classes),
 * activation=relu|sigmoid|tanh (default relu), init=fan_in_uniform|glorot|he (default
 * fan_in_uniform: U(+-1/sqrt(fan_in)) for weights and biases). Weights are [in, out].
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
 * Creates an optimiser. `kind` "sgd": options lr=0.01 (theta <- theta - lr * grad).
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

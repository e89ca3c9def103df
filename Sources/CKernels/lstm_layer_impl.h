// The coordinate-wise LSTM layer's kernels (CKernels.h), written once and compiled once per
// instruction set: lstm_layer.c includes this file with SUFFIX (the function-name suffix),
// TILE_ROWS × TILE_VECTORS (the forward's register tile, in rows × 16-float vectors) and
// TILE_K (weight-gradient rows per register tile) and VECTOR_CASES (see FOR_VECTOR_GROUPS)
// defined, under that instruction set's target attribute (this file undefines them again).
// Vectors are 16 floats everywhere; a narrower instruction set runs each as 2 or 4
// registers, so the tiles are sized per set to fit its register file.
//
// Every element goes through the same operations in every build (see CKernels.h), so the
// element-wise code is written once per width by the ELEMENTWISE macros below and a row's
// tail runs at narrower widths down to single floats.

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)

// MARK: Element-wise math, one definition per width (T: the type, M: its comparison mask).

#define SELECT_VECTOR(T, M, mask, a, b) ((T)(((M)(mask) & (M)(a)) | (~(M)(mask) & (M)(b))))
#define SELECT_SCALAR(T, M, mask, a, b) ((mask) ? (a) : (b))

/// tanh as x·P(x²)/Q(x²) on [−7.905, 7.905] and ±1 beyond (Eigen's float coefficients, as
/// FastMath.rationalTanh); NaN stays NaN. σ(x) = 0.5 + 0.5·tanh(x/2).
#define DEFINE_ACTIVATIONS(T, M, W, SELECT)                                                        \
    static inline __attribute__((always_inline)) T FN(CAT(tanh, W))(T x) {                         \
        const T lo = (T){0} + -7.9053111f, hi = (T){0} + 7.9053111f;                                \
        T c = SELECT(T, M, x < lo, lo, x);                                                         \
        c = SELECT(T, M, c > hi, hi, c);                                                           \
        const T z = c * c;                                                                         \
        T p = (T){0} + -2.76076847742355e-16f;                                                     \
        p = __builtin_elementwise_fma(p, z, (T){0} + 2.00018790482477e-13f);                       \
        p = __builtin_elementwise_fma(p, z, (T){0} + -8.60467152213735e-11f);                      \
        p = __builtin_elementwise_fma(p, z, (T){0} + 5.12229709037114e-08f);                       \
        p = __builtin_elementwise_fma(p, z, (T){0} + 1.48572235717979e-05f);                       \
        p = __builtin_elementwise_fma(p, z, (T){0} + 6.37261928875436e-04f);                       \
        p = __builtin_elementwise_fma(p, z, (T){0} + 4.89352455891786e-03f);                       \
        T q = (T){0} + 1.19825839466702e-06f;                                                      \
        q = __builtin_elementwise_fma(q, z, (T){0} + 1.18534705686654e-04f);                       \
        q = __builtin_elementwise_fma(q, z, (T){0} + 2.26843463243900e-03f);                       \
        q = __builtin_elementwise_fma(q, z, (T){0} + 4.89352518554385e-03f);                       \
        return c * p / q;                                                                          \
    }                                                                                              \
    static inline __attribute__((always_inline)) T FN(CAT(sigmoid, W))(T x) {                      \
        return __builtin_elementwise_fma((T){0} + 0.5f, FN(CAT(tanh, W))(x * 0.5f), (T){0} + 0.5f); \
    }

DEFINE_ACTIVATIONS(v16, i16, 16, SELECT_VECTOR)
DEFINE_ACTIVATIONS(v4, i4, 4, SELECT_VECTOR)
DEFINE_ACTIVATIONS(float, int, 1, SELECT_SCALAR)

/// Runs BODY(T, W, LOAD, STORE, j) over j = 0 ..< count: 16 at a time, then 4, then 1.
#define ELEMENTWISE(count, BODY)                                                                   \
    do {                                                                                           \
        ptrdiff_t j_ = 0;                                                                          \
        for (; j_ + 16 <= (count); j_ += 16) BODY(v16, 16, load16, store16, j_)                    \
        for (; j_ + 4 <= (count); j_ += 4) BODY(v4, 4, load4, store4, j_)                          \
        for (; j_ < (count); j_ += 1) BODY(float, 1, load1, store1, j_)                            \
    } while (0)

/// Runs TILE(nv, v) over the `total` column vectors in groups of TILE_VECTORS (nv = the
/// group's size, v = its first vector); the includer's VECTOR_CASES(TILE) lists the group
/// sizes above 1 that its TILE_VECTORS allows, so each call gets a constant nv.
#define FOR_VECTOR_GROUPS(total, TILE)                                                             \
    for (ptrdiff_t v = 0; v < (total); v += TILE_VECTORS) {                                        \
        switch ((total) - v < TILE_VECTORS ? (total) - v : TILE_VECTORS) {                         \
            VECTOR_CASES(TILE)                                                                     \
            default: TILE(1, v); break;                                                            \
        }                                                                                          \
    }

// MARK: Prefetching

/// Rows ahead of the one being worked on whose inputs the backward prefetches: the saved
/// activations of a long unroll come from memory, and the hardware prefetchers stop at page
/// boundaries (measured: 2–4 % of a meta-training step; the same in the forward, whose rows
/// were written just before, made it slower).
#ifndef PREFETCH_ROWS
#define PREFETCH_ROWS 8
#endif

/// Prefetches the cache lines of `count` floats from `p` into L1.
static inline __attribute__((always_inline)) void FN(prefetch_span)(const float *p, ptrdiff_t count) {
    for (ptrdiff_t k = 0; k < count; k += 16) __builtin_prefetch(p + k);
    __builtin_prefetch(p + count - 1);
}

// MARK: Forward

/// Gate pre-activations of TILE_ROWS rows for `nv` vectors of columns from vector v0:
/// g[t·cols + column] for row t of the tile.
static inline __attribute__((always_inline)) void FN(gates_tile)(
    int nv, ptrdiff_t n, ptrdiff_t hidden, ptrdiff_t cols, const float *const *xr, const float *const *hr,
    const float *packed, ptrdiff_t v0, float *g) {
    v16 acc[TILE_ROWS][TILE_VECTORS];
    const float *bias = packed + v0 * 16;
    for (int t = 0; t < TILE_ROWS; t++)
        for (int q = 0; q < nv; q++) acc[t][q] = load16(bias + q * 16);
    const float *w = packed + cols + v0 * 16;
    for (ptrdiff_t k = 0; k < n; k++, w += cols) {
        for (int q = 0; q < nv; q++) {
            const v16 wq = load16(w + q * 16);
            for (int t = 0; t < TILE_ROWS; t++) acc[t][q] = __builtin_elementwise_fma(splat16(xr[t][k]), wq, acc[t][q]);
        }
    }
    for (ptrdiff_t k = 0; k < hidden; k++, w += cols) {
        for (int q = 0; q < nv; q++) {
            const v16 wq = load16(w + q * 16);
            for (int t = 0; t < TILE_ROWS; t++) acc[t][q] = __builtin_elementwise_fma(splat16(hr[t][k]), wq, acc[t][q]);
        }
    }
    for (int t = 0; t < TILE_ROWS; t++)
        for (int q = 0; q < nv; q++) store16(g + t * cols + (v0 + q) * 16, acc[t][q]);
}

/// The cell at columns j… of a row (or, gathered, of four rows at once): LOADG reads the
/// gate pre-activations, LOADC the cell, STOREO writes h' and c', STORES the saved values.
#define CELL_FORWARD_WITH(T, W, LOADG, LOADC, STOREO, STORES, j)                                   \
    {                                                                                              \
        const T i = FN(CAT(sigmoid, W))(LOADG(g + j)), f = FN(CAT(sigmoid, W))(LOADG(g + hidden + j)); \
        const T a = FN(CAT(tanh, W))(LOADG(g + 2 * hidden + j));                                   \
        const T o = FN(CAT(sigmoid, W))(LOADG(g + 3 * hidden + j));                                \
        const T cn = __builtin_elementwise_fma(f, LOADC(c + j), i * a);                            \
        const T t = FN(CAT(tanh, W))(cn);                                                          \
        STOREO(out + j, o * t);                                                                    \
        STOREO(out + hidden + j, cn);                                                              \
        if (saved) {                                                                               \
            STORES(saved + j, i); STORES(saved + hidden + j, f); STORES(saved + 2 * hidden + j, a); \
            STORES(saved + 3 * hidden + j, o); STORES(saved + 4 * hidden + j, t);                  \
        }                                                                                          \
    }
#define CELL_FORWARD(T, W, LOAD, STORE, j) CELL_FORWARD_WITH(T, W, LOAD, LOAD, STORE, STORE, j)

/// One row's cell from its gate pre-activations g [4H].
static inline __attribute__((always_inline)) void FN(cell_row)(
    ptrdiff_t from, ptrdiff_t hidden, const float *g, const float *c, float *out, float *saved) {
    g += from; c += from; out += from; saved = saved ? saved + from : NULL;
    ELEMENTWISE(hidden - from, CELL_FORWARD);
}

// Four floats from each of four rows `stride` apart, as one vector (and back).
#define GATHER4(p, stride) ({                                                                      \
    const float *gp_ = (p);                                                                         \
    const v8 lo_ = __builtin_shufflevector(load4(gp_), load4(gp_ + (stride)), 0, 1, 2, 3, 4, 5, 6, 7); \
    const v8 hi_ = __builtin_shufflevector(load4(gp_ + 2 * (stride)), load4(gp_ + 3 * (stride)), 0, 1, 2, 3, 4, 5, 6, 7); \
    __builtin_shufflevector(lo_, hi_, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); })
#define SCATTER4(p, stride, v) ({                                                                  \
    float *sp_ = (p); const v16 sv_ = (v);                                                           \
    store4(sp_, __builtin_shufflevector(sv_, sv_, 0, 1, 2, 3));                                       \
    store4(sp_ + (stride), __builtin_shufflevector(sv_, sv_, 4, 5, 6, 7));                            \
    store4(sp_ + 2 * (stride), __builtin_shufflevector(sv_, sv_, 8, 9, 10, 11));                      \
    store4(sp_ + 3 * (stride), __builtin_shufflevector(sv_, sv_, 12, 13, 14, 15)); })
#define GATHER_G(p) GATHER4(p, cols)
#define GATHER_C(p) GATHER4(p, 2 * hidden)
#define SCATTER_O(p, v) SCATTER4(p, 2 * hidden, v)
#define SCATTER_S(p, v) SCATTER4(p, 5 * hidden, v)

/// The cell of a whole tile of four rows: each row's columns in 16s, then the rows' last
/// H mod 16 columns four at a time from all four rows together (one 16-float vector instead
/// of four 4-float ones; the same operations on every element, so the same bits).
static inline __attribute__((always_inline)) void FN(cell_tile4)(
    ptrdiff_t hidden, ptrdiff_t cols, const float *g, const float *c, float *out, float *saved) {
    const ptrdiff_t body = hidden / 16 * 16;
    for (ptrdiff_t j = 0; j < body; j += 16) {
        for (int t = 0; t < 4; t++) {
            const float *gt = g + t * cols, *ct = c + t * 2 * hidden;
            float *ot = out + t * 2 * hidden, *st = saved ? saved + t * 5 * hidden : NULL;
            {
                const float *g = gt, *c = ct; float *out = ot, *saved = st;
                CELL_FORWARD(v16, 16, load16, store16, j)
            }
        }
    }
    for (ptrdiff_t j = body; j + 4 <= hidden; j += 4) CELL_FORWARD_WITH(v16, 16, GATHER_G, GATHER_C, SCATTER_O, SCATTER_S, j)
    if (hidden % 4)
        for (int t = 0; t < 4; t++)
            FN(cell_row)(hidden / 4 * 4, hidden, g + t * cols, c + t * 2 * hidden, out + t * 2 * hidden,
                         saved ? saved + t * 5 * hidden : NULL);
}

#ifdef WIDE_CELLS
// MARK: H = 4 (MLHF's networks)
//
// With four units a tile's cell is one gathered 16-float vector (cell_tile4) whose chain of
// rational functions (σ and tanh of the gates, then tanh of the new cell) is long and leaves
// the core waiting. Sixteen rows' cells side by side, as one 64-float vector, keep four such
// chains in flight: 270 → 198 µs for 25,450 rows of MLHF's first layer (l2l-bench --only
// coordinate_ops). The same operations on every element, so the same bits.

DEFINE_ACTIVATIONS(v64, i64, 64, SELECT_VECTOR)

// Sixteen rows' four floats from p, rows `stride` apart, as one vector (and back).
#define JOIN16(a, b) __builtin_shufflevector((a), (b), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31)
#define JOIN32(a, b) __builtin_shufflevector((a), (b), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63)
#define GATHER16(p, stride) ({                                                                     \
    const float *g16_ = (p);                                                                         \
    JOIN32(JOIN16(GATHER4(g16_, stride), GATHER4(g16_ + 4 * (stride), stride)),                       \
           JOIN16(GATHER4(g16_ + 8 * (stride), stride), GATHER4(g16_ + 12 * (stride), stride))); })
#define SCATTER16(p, stride, v) ({                                                                  \
    float *s16_ = (p); const v64 s16v_ = (v);                                                          \
    SCATTER4(s16_, stride, __builtin_shufflevector(s16v_, s16v_, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));                          \
    SCATTER4(s16_ + 4 * (stride), stride, __builtin_shufflevector(s16v_, s16v_, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31));           \
    SCATTER4(s16_ + 8 * (stride), stride, __builtin_shufflevector(s16v_, s16v_, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47));           \
    SCATTER4(s16_ + 12 * (stride), stride, __builtin_shufflevector(s16v_, s16v_, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63)); })
#define GATHER16_G(p) GATHER16(p, cols)
#define GATHER16_C(p) GATHER16(p, 2 * hidden)
#define SCATTER16_O(p, v) SCATTER16(p, 2 * hidden, v)
#define SCATTER16_S(p, v) SCATTER16(p, 5 * hidden, v)

/// The cells of sixteen rows of a four-unit layer, their gate pre-activations `cols` apart in g.
static inline __attribute__((always_inline)) void FN(cell_rows16_h4)(ptrdiff_t cols, const float *g, const float *c,
                                                                     float *out, float *saved) {
    const ptrdiff_t hidden = 4;
    CELL_FORWARD_WITH(v64, 64, GATHER16_G, GATHER16_C, SCATTER16_O, SCATTER16_S, 0)
}
#endif

#define GATES_TILE(nv, v) FN(gates_tile)(nv, n, hidden, cols, xr, hr, packed, v, g)

int FN(l2lk_lstm_forward)(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n, ptrdiff_t hidden,
                          const float *x, ptrdiff_t ldx, const float *state, const float *packed,
                          float *out, float *saved) {
    const ptrdiff_t cols = (ptrdiff_t)l2lk_lstm_columns(hidden), vectors = cols / 16;
    const ptrdiff_t widest = n > hidden ? n : hidden;
#ifdef WIDE_CELLS
    const ptrdiff_t tiles = hidden == 4 ? 4 : 1;   // gate tiles held at once
#else
    const ptrdiff_t tiles = 1;
#endif
    float *scratch = (float *)calloc((size_t)(tiles * TILE_ROWS * cols + widest), sizeof(float));
    if (!scratch) return -1;
    float *g = scratch;
    const float *zeros = scratch + tiles * TILE_ROWS * cols;   // the inputs of a tile's missing rows
    ptrdiff_t r = r0;
#ifdef WIDE_CELLS
    if (hidden == 4)
        for (; r + 4 * TILE_ROWS <= r1; r += 4 * TILE_ROWS) {
            for (ptrdiff_t s = 0; s < 4; s++) {
                const float *xr[TILE_ROWS], *hr[TILE_ROWS];
                for (ptrdiff_t t = 0; t < TILE_ROWS; t++) {
                    xr[t] = x + (r + s * TILE_ROWS + t) * ldx;
                    hr[t] = state + (r + s * TILE_ROWS + t) * 2 * hidden;
                }
                FN(gates_tile)(1, n, hidden, cols, xr, hr, packed, 0, g + s * TILE_ROWS * cols);
            }
            FN(cell_rows16_h4)(cols, g, state + r * 2 * hidden + hidden, out + r * 2 * hidden,
                               saved ? saved + r * 5 * hidden : NULL);
        }
#endif
    for (; r < r1; r += TILE_ROWS) {
        const ptrdiff_t rows = r1 - r < TILE_ROWS ? r1 - r : TILE_ROWS;
        const float *xr[TILE_ROWS], *hr[TILE_ROWS];
        for (ptrdiff_t t = 0; t < TILE_ROWS; t++) {
            xr[t] = t < rows ? x + (r + t) * ldx : zeros;
            hr[t] = t < rows ? state + (r + t) * 2 * hidden : zeros;
        }
        FOR_VECTOR_GROUPS(vectors, GATES_TILE);
        if (rows == 4 && TILE_ROWS == 4) {
            FN(cell_tile4)(hidden, cols, g, state + r * 2 * hidden + hidden, out + r * 2 * hidden,
                           saved ? saved + r * 5 * hidden : NULL);
        } else {
            for (ptrdiff_t t = 0; t < rows; t++) {
                const ptrdiff_t row = r + t;
                FN(cell_row)(0, hidden, g + t * cols, state + row * 2 * hidden + hidden, out + row * 2 * hidden,
                             saved ? saved + row * 5 * hidden : NULL);
            }
        }
    }
    free(scratch);
    return 0;
}

// MARK: Backward

#define CELL_BACKWARD(T, W, LOAD, STORE, j)                                                        \
    {                                                                                              \
        const T i = LOAD(s + j), f = LOAD(s + hidden + j), a = LOAD(s + 2 * hidden + j);           \
        const T o = LOAD(s + 3 * hidden + j), t = LOAD(s + 4 * hidden + j);                        \
        const T dh = LOAD(grad + j);                                                               \
        const T one = (T){0} + 1.0f;                                                               \
        const T dcn = __builtin_elementwise_fma(dh * o, one - t * t, LOAD(grad + hidden + j));     \
        STORE(dg + j, dcn * a * (i * (one - i)));                                                  \
        STORE(dg + hidden + j, dcn * LOAD(c + j) * (f * (one - f)));                               \
        STORE(dg + 2 * hidden + j, dcn * i * (one - a * a));                                       \
        STORE(dg + 3 * hidden + j, dh * t * (o * (one - o)));                                      \
        if (dc) STORE(dc + j, dcn * f);                                                            \
    }

/// One row's gate gradients dg [4H] (and its cell gradient dc [H] unless NULL).
static inline __attribute__((always_inline)) void FN(cell_backward_row)(
    ptrdiff_t hidden, const float *s, const float *grad, const float *c, float *dg, float *dc) {
    ELEMENTWISE(hidden, CELL_BACKWARD);
}

/// d(x, h) of TILE_ROWS rows: out[t·kcols + k] = Σ_j dg_t[j] · packedT[j·kcols + k], j ascending,
/// for `nv` 16-column vectors from vector v0 and, if `tail8`, 8 more columns after them: a
/// row of d(x, h) whose length is not a multiple of 16 (2 + 20, 20 + 20) ends in an 8-float
/// vector, half the work of a 16-float one on CPUs that split a 16-float multiply-add in two
/// (AMD Zen 4); the same operations on each element either way.
static inline __attribute__((always_inline)) void FN(input_gradient_tile)(
    int nv, int tail8, ptrdiff_t gates, ptrdiff_t kcols, ptrdiff_t cols, const float *dg, const float *packed_t,
    ptrdiff_t v0, float *out) {
    v16 acc[TILE_ROWS][TILE_VECTORS];
    v8 acc8[TILE_ROWS];
    for (int t = 0; t < TILE_ROWS; t++) {
        for (int q = 0; q < nv; q++) acc[t][q] = (v16){0};
        acc8[t] = (v8){0};
    }
    const float *w = packed_t + v0 * 16;
    for (ptrdiff_t j = 0; j < gates; j++, w += kcols) {
        v16 wq[TILE_VECTORS];
        for (int q = 0; q < nv; q++) wq[q] = load16(w + q * 16);
        const v8 w8 = tail8 ? load8(w + nv * 16) : (v8){0};
        for (int t = 0; t < TILE_ROWS; t++) {
            const v16 d = splat16(dg[t * cols + j]);
            for (int q = 0; q < nv; q++) acc[t][q] = __builtin_elementwise_fma(d, wq[q], acc[t][q]);
            if (tail8) acc8[t] = __builtin_elementwise_fma(__builtin_shufflevector(d, d, 0, 1, 2, 3, 4, 5, 6, 7), w8, acc8[t]);
        }
    }
    for (int t = 0; t < TILE_ROWS; t++) {
        for (int q = 0; q < nv; q++) store16(out + t * kcols + (v0 + q) * 16, acc[t][q]);
        if (tail8) store8(out + t * kcols + (v0 + nv) * 16, acc8[t]);
    }
}

/// A block's weight-gradient partials for `nk` ≤ TILE_K input features and `nv` column
/// vectors from v0: partial[(row + kk)·cols + column] = Σ_r feature_r[kk] · dg[r][column],
/// rows ascending, where feature_r = features + r·stride (a row of x or of h, read in place).
static inline __attribute__((always_inline)) void FN(weight_gradient_tile)(
    int nk, int nv, ptrdiff_t rows, const float *features, ptrdiff_t stride, ptrdiff_t cols, const float *dg,
    ptrdiff_t row, ptrdiff_t v0, float *partial) {
    v16 acc[TILE_K][TILE_VECTORS];
    for (int kk = 0; kk < TILE_K; kk++)
        for (int q = 0; q < nv; q++) acc[kk][q] = (v16){0};
    for (ptrdiff_t r = 0; r < rows; r++) {
        float feature[TILE_K];
        for (int kk = 0; kk < TILE_K; kk++) feature[kk] = kk < nk ? features[r * stride + kk] : 0.0f;
        for (int q = 0; q < nv; q++) {
            const v16 d = load16(dg + r * cols + (v0 + q) * 16);
            for (int kk = 0; kk < TILE_K; kk++) acc[kk][q] = __builtin_elementwise_fma(splat16(feature[kk]), d, acc[kk][q]);
        }
    }
    for (int kk = 0; kk < nk; kk++)
        for (int q = 0; q < nv; q++) store16(partial + (row + kk) * cols + (v0 + q) * 16, acc[kk][q]);
}

#define WEIGHT_GRADIENT_FULL(nv, v) \
    FN(weight_gradient_tile)(TILE_K, nv, rows, features + k, stride, cols, dgs, row + k, v, partial)
#define WEIGHT_GRADIENT_REST(nv, v) \
    FN(weight_gradient_tile)((int)(count - k), nv, rows, features + k, stride, cols, dgs, row + k, v, partial)

/// The weight-gradient partials of `count` features read from rows `stride` apart, into
/// partial rows from `row`: whole tiles of TILE_K (a constant count, so no bounds check in
/// the loop), then the rest.
static inline __attribute__((always_inline)) void FN(weight_gradients)(
    ptrdiff_t count, ptrdiff_t rows, const float *features, ptrdiff_t stride, ptrdiff_t cols, ptrdiff_t vectors,
    const float *dgs, ptrdiff_t row, float *partial) {
    for (ptrdiff_t k = 0; k < count; k += TILE_K) {
        if (count - k >= TILE_K) {
            FOR_VECTOR_GROUPS(vectors, WEIGHT_GRADIENT_FULL);
        } else {
            FOR_VECTOR_GROUPS(vectors, WEIGHT_GRADIENT_REST);
        }
    }
}

#define INPUT_GRADIENT_TILE(nv, v) FN(input_gradient_tile)(nv, 0, 4 * hidden, kcols, cols, dgs + r * cols, packed_t, v, dxh)
#define INPUT_GRADIENT_TILE_TAIL8(nv, v) FN(input_gradient_tile)(nv, 1, 4 * hidden, kcols, cols, dgs + r * cols, packed_t, v, dxh)

int FN(l2lk_lstm_backward)(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t p, ptrdiff_t n, ptrdiff_t hidden,
                           const float *x, ptrdiff_t ldx, const float *state, const float *saved, const float *grad,
                           const float *packed_t, float *dx, int add_dx, float *dstate, float *partials) {
    const ptrdiff_t cols = (ptrdiff_t)l2lk_lstm_columns(hidden), vectors = cols / 16;
    const ptrdiff_t features = n + hidden, kcols = (features + 15) / 16 * 16, kvectors = kcols / 16;
    const ptrdiff_t tail = features % 16;
    const ptrdiff_t block = L2LK_LSTM_BLOCK;
    // dg for the block's rows (zero-padded to `cols`; a short last tile reads TILE_ROWS rows
    // more, whose results are dropped), and one tile of d(x, h).
    float *scratch = (float *)calloc((size_t)((block + TILE_ROWS) * cols + TILE_ROWS * kcols), sizeof(float));
    if (!scratch) return -1;
    float *dgs = scratch, *dxh = scratch + (block + TILE_ROWS) * cols;
    const ptrdiff_t partial_count = (ptrdiff_t)l2lk_lstm_partial_count(n, hidden);
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t r0 = b * block, rows = p - r0 < block ? p - r0 : block;
        for (ptrdiff_t r = 0; r < rows; r++) {
            const ptrdiff_t row = r0 + r;
            if (row + PREFETCH_ROWS < p) {   // the first reads of each row, some rows ahead
                const ptrdiff_t ahead = row + PREFETCH_ROWS;
                FN(prefetch_span)(saved + ahead * 5 * hidden, 5 * hidden);
                FN(prefetch_span)(grad + ahead * 2 * hidden, 2 * hidden);
                FN(prefetch_span)(state + ahead * 2 * hidden, 2 * hidden);
                FN(prefetch_span)(x + ahead * ldx, n);
            }
            FN(cell_backward_row)(hidden, saved + row * 5 * hidden, grad + row * 2 * hidden,
                                  state + row * 2 * hidden + hidden, dgs + r * cols,
                                  dstate ? dstate + row * 2 * hidden + hidden : NULL);
        }
        if (dx || dstate) {
            for (ptrdiff_t r = 0; r < rows; r += TILE_ROWS) {
                // Up to TILE_VECTORS whole 16-column vectors and a last 8 columns in one tile
                // (2 + 20 and 20 + 20 features); otherwise 16-column vectors throughout.
                if (tail > 0 && tail <= 8 && kvectors - 1 <= TILE_VECTORS) {
                    const ptrdiff_t v = 0;
                    switch (kvectors - 1) {
                        VECTOR_CASES(INPUT_GRADIENT_TILE_TAIL8)
                        case 1: INPUT_GRADIENT_TILE_TAIL8(1, v); break;
                        default: INPUT_GRADIENT_TILE_TAIL8(0, v); break;
                    }
                } else {
                    FOR_VECTOR_GROUPS(kvectors, INPUT_GRADIENT_TILE);
                }
                for (ptrdiff_t t = 0; t < TILE_ROWS && r + t < rows; t++) {
                    const ptrdiff_t row = r0 + r + t;
                    if (dx && add_dx) {
                        for (ptrdiff_t k = 0; k < n; k++) dx[row * ldx + k] += dxh[t * kcols + k];
                    } else if (dx) {
                        memcpy(dx + row * ldx, dxh + t * kcols, (size_t)n * sizeof(float));
                        memset(dx + row * ldx + n, 0, (size_t)(ldx - n) * sizeof(float));
                    }
                    if (dstate) memcpy(dstate + row * 2 * hidden, dxh + t * kcols + n, (size_t)hidden * sizeof(float));
                }
            }
        }
        if (partials) {
            float *partial = partials + b * partial_count;
            for (ptrdiff_t v = 0; v < vectors; v++) {   // the bias: column sums of dg, rows ascending
                v16 sum = (v16){0};
                for (ptrdiff_t r = 0; r < rows; r++) sum = sum + load16(dgs + r * cols + v * 16);
                store16(partial + v * 16, sum);
            }
            // dW from x's columns, then dU from h's, each read in place.
            FN(weight_gradients)(n, rows, x + r0 * ldx, ldx, cols, vectors, dgs, 1, partial);
            FN(weight_gradients)(hidden, rows, state + r0 * 2 * hidden, 2 * hidden, cols, vectors, dgs, 1 + n, partial);
        }
    }
    free(scratch);
    return 0;
}

#undef GATES_TILE
#undef WIDE_CELLS
#undef INPUT_GRADIENT_TILE
#undef INPUT_GRADIENT_TILE_TAIL8
#undef WEIGHT_GRADIENT_FULL
#undef WEIGHT_GRADIENT_REST
#undef FOR_VECTOR_GROUPS
#undef FN
#undef SUFFIX
#undef TILE_ROWS
#undef TILE_VECTORS
#undef TILE_K
#undef VECTOR_CASES

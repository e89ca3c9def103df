// l2l's own SIMD kernels, in C so that one source compiles for several instruction sets
// (AVX-512, AVX2 + FMA, and a baseline x86-64 / portable build) chosen at run time: Swift
// builds the package for baseline x86-64 and cannot target a function at AVX-512.
//
// Determinism: every kernel gives the same bits whichever instruction set runs it and
// however its rows are split across threads. Each output element is computed by the same
// sequence of IEEE operations (fused multiply-adds in a fixed order, the same selects and
// divisions) in every build — the vector width only decides how many elements go at once —
// and the reductions over rows sum fixed blocks of rows, then the blocks in order. Two
// functions take libm's bits instead, softplus and the gradient preprocessing's logarithm:
// their baseline build calls libm and their AVX2/AVX-512 builds repeat glibc 2.36's FMA code,
// so with another C library the builds may differ by an ulp there (elementwise.c).
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// Instruction sets the kernels are built for (higher is wider).
enum {
    L2LK_ISA_BASELINE = 0,   ///< baseline x86-64 (SSE2) or any other CPU: 4 lanes
    L2LK_ISA_AVX2 = 1,       ///< AVX2 + FMA: 8 lanes
    L2LK_ISA_AVX512 = 2      ///< AVX-512 F/VL: 16 lanes
};

/// The widest instruction set this CPU supports.
int l2lk_isa_supported(void);
/// The instruction set the kernels use now (the widest supported unless set).
int l2lk_isa(void);
/// Makes the kernels use `isa` (capped at what the CPU supports; negative: the widest);
/// returns the one now in use. For tests and benchmarks; results do not change.
int l2lk_set_isa(int isa);
/// "avx512", "avx2" or "baseline".
const char *l2lk_isa_name(int isa);

/// The CPUs this process may run on: those of its affinity mask (1 for a process bound to
/// one core, as `mpirun --bind-to core` does), else the online CPUs; at least 1.
int l2lk_available_cpus(void);

// MARK: The coordinate-wise LSTM layer
//
// One layer for P rows (coordinates), row-major throughout: input x (the first n columns of
// each row, rows `ldx` floats apart, ldx ≥ n), state [P, 2H] (h in columns 0..<H, c in
// H..<2H), weights W [n, 4H], U [H, 4H], bias b [4H], gate blocks in the order i, f, a, o:
//
//     z = x·W + h·U + b,   c' = σ(z_f) ⊙ c + σ(z_i) ⊙ tanh(z_a),   h' = σ(z_o) ⊙ tanh(c')
//
// σ and tanh are rational approximations (|error| ≤ 4e-7). Each gate pre-activation is
// b_j, then + x_k·W_kj for k = 0…n−1, then + h_k·U_kj for k = 0…H−1, one fused
// multiply-add at a time.

/// Floats per row of the packed weights: 4H rounded up to a multiple of 16.
size_t l2lk_lstm_columns(ptrdiff_t hidden);
/// Floats of the packed forward weights: (1 + n + H) rows of l2lk_lstm_columns(H) — the
/// bias, then the rows of W, then those of U, zero-padded.
size_t l2lk_lstm_packed_count(ptrdiff_t inputs, ptrdiff_t hidden);
/// Packs W, U, b into `packed` (l2lk_lstm_packed_count floats).
void l2lk_lstm_pack(ptrdiff_t inputs, ptrdiff_t hidden, const float *w, const float *u, const float *b, float *packed);

/// Floats per saved row: 5H (σ(z_i), σ(z_f), tanh(z_a), σ(z_o), tanh(c')).
size_t l2lk_lstm_saved_columns(ptrdiff_t hidden);

/// The forward for rows [r0, r1): writes out [P, 2H] (h' in columns 0..<H, c' in H..<2H:
/// the layer's next state) and, if `saved` is not NULL, saved [P, 5H] for the backward.
/// Returns 0, or -1 if its scratch memory could not be allocated (nothing written then).
int l2lk_lstm_forward(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t inputs, ptrdiff_t hidden,
                      const float *x, ptrdiff_t ldx, const float *state, const float *packed,
                      float *out, float *saved);

/// Floats of the packed backward weights: 4H rows of (n + H) rounded up to 16 — row j
/// holds (W_0j … W_{n−1}j, U_0j … U_{H−1}j).
size_t l2lk_lstm_packed_transpose_count(ptrdiff_t inputs, ptrdiff_t hidden);
/// Packs Wᵀ and Uᵀ side by side into `packed` (l2lk_lstm_packed_transpose_count floats).
void l2lk_lstm_pack_transpose(ptrdiff_t inputs, ptrdiff_t hidden, const float *w, const float *u, float *packed);

/// Rows per block of the weight-gradient reduction.
enum { L2LK_LSTM_BLOCK = 256 };
/// Floats of one block's weight-gradient partial sums: (1 + n + H) rows of l2lk_lstm_columns(H).
size_t l2lk_lstm_partial_count(ptrdiff_t inputs, ptrdiff_t hidden);

/// The backward for the rows of blocks [b0, b1) (block k = rows k·256 ..< min(P, (k+1)·256)),
/// given the upstream gradient grad [P, 2H] (of h' then c'), the forward's `saved` rows and
/// its inputs. Writes, for those rows, dx (rows `ldx` apart: the first n columns, zeros in the
/// others; if `add_dx` is not 0, adds into the first n columns instead, dx + d, and leaves the
/// others) and dstate [P, 2H] (dh, dc), each skipped when NULL, and, if `partials` is not
/// NULL, each block's partial sums of (db, dW, dU) at partials + k·l2lk_lstm_partial_count
/// (to be summed by l2lk_lstm_reduce). Returns 0, or -1 if its scratch memory could not be
/// allocated.
int l2lk_lstm_backward(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t rows, ptrdiff_t inputs, ptrdiff_t hidden,
                       const float *x, ptrdiff_t ldx, const float *state, const float *saved, const float *grad,
                       const float *packed_transpose, float *dx, int add_dx, float *dstate, float *partials);

/// Sums the `blocks` partials in block order into rows [row0, row1) of (db, dW, dU) — row 0
/// is db [4H], rows 1…n those of dW [n, 4H], the next H those of dU [H, 4H] — so threads can
/// share the rows out; each element's sum has the same order whatever the split.
void l2lk_lstm_reduce(ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t blocks, ptrdiff_t inputs, ptrdiff_t hidden,
                      const float *partials, float *dw, float *du, float *db);

// MARK: The output head of a coordinate-wise network

/// out[r] = (Σ_l x[r·ldx + l]·w[l]) (+ *bias) for rows [r0, r1): the sum a chain of fused
/// multiply-adds over l = 0…k−1 in order from 0 (the bits OpenBLAS's SkylakeX sgemm gives
/// for a [P, k]·[k, 1] product), then the bias added if `bias` is not NULL.
void l2lk_linear_head(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t k, const float *x, ptrdiff_t ldx, const float *w,
                      const float *bias, float *out);

// MARK: Copies

/// out[r·k + j] = columns[j][r] for r < rows, j < k: k columns side by side as [rows, k].
/// `out` must not overlap the columns.
void l2lk_interleave(ptrdiff_t k, ptrdiff_t rows, const float *const *columns, float *out);
/// dst[r·dst_stride + k] = src[r·src_stride + k] for r < rows, k < width: rows narrower than a
/// vector between strided layouts. `dst` must not overlap `src`.
void l2lk_copy_narrow_rows(ptrdiff_t rows, ptrdiff_t width, const float *src, ptrdiff_t src_stride, float *dst,
                           ptrdiff_t dst_stride);

/// c[r] (+)= Σ_l a[r·k + l]·b[l] for r < rows, each sum a chain of multiplications and
/// additions in the order of l from 0 (or from c[r] when `accumulate`): the bits of a plain
/// loop, which `matmul` has always given for k ≤ 4 (MLHF's output heads). l2lk_linear_head
/// computes the same product with fused multiply-adds, the bits of OpenBLAS's sgemm that the
/// other learned optimisers' heads had; each keeps its users' results. `c` must not overlap
/// `a` or `b`.
void l2lk_row_dot(ptrdiff_t rows, ptrdiff_t k, const float *a, const float *b, float *c, int accumulate);

// MARK: Element-wise functions

/// The functions of l2lk_map.
enum { L2LK_MAP_EXP = 0, L2LK_MAP_TANH = 1, L2LK_MAP_SIGMOID = 2, L2LK_MAP_SOFTPLUS = 3 };

/// out[i] = f(x[i]) for i < n, f one of L2LK_MAP_*: e^x (0 below −87.3365, +∞ above
/// 88.7228), tanh (an odd polynomial for |x| < 0.625, else 1 − 2/(e^{2|x|} + 1)), or
/// σ(x) = 1/(1 + e^{−x}); relative error about 2e-7, NaN stays NaN; or softplus
/// max(x, 0) + log1p(e^{−|x|}) with the bits of libm's log1pf(expf(−|x|)) (glibc 2.36 on
/// CPUs with FMA; elementwise.c). `x` and `out` must not overlap.
void l2lk_map(int function, ptrdiff_t n, const float *x, float *out);

/// The gradient preprocessing of Andrychowicz et al. for x[0..<n]: out[2i], out[2i + 1] =
/// (−1, scale·v) where |v| < threshold, else (logf(|v|)/p, sign v) — with the bits of libm's
/// logf (glibc 2.36 on CPUs with FMA; elementwise.c). `x` and `out` must not overlap.
void l2lk_log_magnitude_and_sign(ptrdiff_t n, const float *x, float p, float threshold, float scale, float *out);

#endif

// The run-time choice of instruction set for l2l's kernels (CKernels.h).
#include <stdatomic.h>

#include "CKernels.h"
#include "isa.h"

static int detect(void) {
#if L2LK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return L2LK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return L2LK_ISA_AVX2;
#endif
    return L2LK_ISA_BASELINE;
}

/// -1 until first asked.
static _Atomic int chosen = -1;

int l2lk_isa_supported(void) { return detect(); }

int l2lk_isa(void) {
    int isa = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (isa < 0) {
        isa = detect();
        atomic_store_explicit(&chosen, isa, memory_order_relaxed);
    }
    return isa;
}

int l2lk_set_isa(int isa) {
    const int best = detect();
    const int use = isa < 0 || isa > best ? best : isa;
    atomic_store_explicit(&chosen, use, memory_order_relaxed);
    return use;
}

const char *l2lk_isa_name(int isa) {
    switch (isa) {
    case L2LK_ISA_AVX512: return "avx512";
    case L2LK_ISA_AVX2: return "avx2";
    default: return "baseline";
    }
}

// Internal: whether the x86-64 kernels are built (CKernels.h has the public side).
#ifndef L2LK_ISA_H
#define L2LK_ISA_H
#if defined(__x86_64__) && defined(__clang__)
#define L2LK_X86 1
#else
#define L2LK_X86 0
#endif
#endif

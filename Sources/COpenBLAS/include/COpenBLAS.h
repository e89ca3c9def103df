// l2l's BLAS loader: OpenBLAS from PyPI's scipy-openblas32 wheel, the LP64 build of the OpenBLAS
// numpy ships (DYNAMIC_ARCH: it picks its kernels for the CPU when it loads). Its symbols
// carry the prefix `scipy_`, so it never clashes with another BLAS in the same process
// (Debian's libopenblas, numpy's scipy_openblas64_). scripts/setup.sh copies it to
// /usr/local/lib. l2l opens it at run time (Sources/L2LTensor/BLAS.swift) through
// blas_open, which hides OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from its initialisation:
// those variables are set on some machines for older OpenBLAS builds and would force this
// one onto slower kernels; L2L_BLAS_CORETYPE forces a kernel family for l2l's copy alone.
// A C target (not a system-library module) so that the libc headers its implementation
// needs stay out of the module Swift imports (they clash with SwiftGlibc's on a clean build).
#ifndef COPENBLAS_H
#define COPENBLAS_H

/// `dlopen(file, RTLD_NOW | RTLD_LOCAL)` while the process's environment lacks
/// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE and, if L2L_BLAS_CORETYPE is set to a non-empty
/// value, has OPENBLAS_CORETYPE set to it (the environment is the same again on return;
/// only the table of variables is swapped, so no variable is ever unset or set). NULL on
/// failure (dlerror() says why). Meant to be called once per process: the swapped-in
/// table is kept until the library unloads (a destructor frees it), as another thread's
/// getenv may still be reading it when the call returns; a setenv on another thread during
/// the call would be lost.
void *blas_open(const char *file);

/// The file a symbol at `address` was loaded from, or NULL if the loader cannot tell.
const char *blas_file_of(const void *address);

#endif

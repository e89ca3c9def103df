// l2l's BLAS: OpenBLAS from PyPI's scipy-openblas32 wheel, the LP64 build of the OpenBLAS
// numpy ships (DYNAMIC_ARCH: it picks its kernels for the CPU when it loads). Its symbols
// carry the prefix `scipy_`, so it never clashes with another BLAS in the same process
// (Debian's libopenblas, numpy's scipy_openblas64_). scripts/setup.sh copies it to
// /usr/local/lib. l2l opens it at run time (Sources/L2LTensor/BLAS.swift) through
// blas_open, which hides OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from its initialisation:
// those variables are set on some machines for older OpenBLAS builds and would force this
// one onto slower kernels; L2L_BLAS_CORETYPE forces a kernel family for l2l's copy alone.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // dladdr
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/// `dlopen(file, RTLD_NOW | RTLD_LOCAL)` while the process's environment lacks
/// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE and, if L2L_BLAS_CORETYPE is set to a non-empty
/// value, has OPENBLAS_CORETYPE set to it (the environment is the same again on return;
/// only the table of variables is swapped, so no variable is ever unset or set). NULL on
/// failure (dlerror() says why). Called once per process: the swapped-in table is never
/// freed, as another thread's getenv may still be reading it; a setenv on another thread
/// during the call would be lost.
static inline void *blas_open(const char *file) {
    size_t n = 0;
    while (environ != NULL && environ[n] != NULL) n++;
    char **hidden = (char **)malloc((n + 2) * sizeof *hidden);
    if (hidden == NULL) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OPENBLAS_CORETYPE=", 18) != 0 && strncmp(environ[i], "OPENBLAS_L2_SIZE=", 17) != 0)
            hidden[k++] = environ[i];
    const char *forced = getenv("L2L_BLAS_CORETYPE");
    if (forced != NULL && forced[0] != '\0') {
        // Kept for the life of the process, like the table: OpenBLAS may hold on to what getenv returned.
        char *coretype = (char *)malloc(strlen(forced) + 19);
        if (coretype != NULL) {
            strcpy(coretype, "OPENBLAS_CORETYPE=");
            strcat(coretype, forced);
            hidden[k++] = coretype;
        }
    }
    hidden[k] = NULL;
    char **saved = environ;
    environ = hidden;
    void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    environ = saved;
    return handle;
}

/// The file a symbol at `address` was loaded from, or NULL if the loader cannot tell.
static inline const char *blas_file_of(const void *address) {
    Dl_info info;
    return dladdr(address, &info) ? info.dli_fname : NULL;
}

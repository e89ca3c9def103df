// The implementation of include/COpenBLAS.h (see there).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // dladdr
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "COpenBLAS.h"

extern char **environ;

// The environment table blas_open swapped in, with the OPENBLAS_CORETYPE= string it may
// add stored after it (one allocation). Nothing refers to it once `environ` is restored:
// OpenBLAS reads its variables in its constructor, during dlopen, and keeps numbers and
// kernel tables, not what getenv returned. It is freed at unload rather than on return
// because another thread's getenv may have loaded `environ` during the swap and still be
// walking the table.
static char **swapped_table = NULL;

__attribute__((destructor)) static void blas_open_release(void) {
    free(swapped_table);
    swapped_table = NULL;
}

void *blas_open(const char *file) {
    size_t n = 0;
    while (environ != NULL && environ[n] != NULL) n++;
    const char *forced = getenv("L2L_BLAS_CORETYPE");
    size_t forced_length = forced != NULL && forced[0] != '\0' ? strlen(forced) : 0;
    // n variables at most, the forced core type and the terminating NULL; then the string.
    size_t table_bytes = (n + 2) * sizeof(char *);
    char **hidden = (char **)malloc(table_bytes + (forced_length > 0 ? forced_length + 19 : 0));
    if (hidden == NULL) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OPENBLAS_CORETYPE=", 18) != 0 && strncmp(environ[i], "OPENBLAS_L2_SIZE=", 17) != 0)
            hidden[k++] = environ[i];
    if (forced_length > 0) {
        char *coretype = (char *)hidden + table_bytes;
        memcpy(coretype, "OPENBLAS_CORETYPE=", 18);
        memcpy(coretype + 18, forced, forced_length + 1);
        hidden[k++] = coretype;
    }
    hidden[k] = NULL;
    char **saved = environ;
    environ = hidden;
    void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    environ = saved;
    free(swapped_table);   // an earlier call's table, long out of use (BLAS.swift calls once)
    swapped_table = hidden;
    return handle;
}

const char *blas_file_of(const void *address) {
    Dl_info info;
    return dladdr(address, &info) ? info.dli_fname : NULL;
}

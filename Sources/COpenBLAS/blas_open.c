// The implementation of include/COpenBLAS.h (see there).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // dladdr
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "COpenBLAS.h"

extern char **environ;

void *blas_open(const char *file) {
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

const char *blas_file_of(const void *address) {
    Dl_info info;
    return dladdr(address, &info) ? info.dli_fname : NULL;
}

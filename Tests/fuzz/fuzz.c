/* fuzz.c — see fuzz.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char directory[64];
/* The names of the files written so far (a target writes at most two). */
static const char *written[4];

/* Removes the scratch directory and the files written in it (at exit). */
static void remove_directory(void) {
    char path[FUZZ_PATH_MAX];
    for (int i = 0; i < 4 && written[i] != NULL; i++) {
        snprintf(path, sizeof path, "%s/%s", directory, written[i]);
        remove(path);
    }
    rmdir(directory);
}

const char *fuzz_directory(void) {
    if (directory[0] == '\0') {
        /* tmpfs where there is one: a disk file system makes every input a disk write. */
        strcpy(directory, access("/dev/shm", W_OK) == 0 ? "/dev/shm/l2l-fuzz.XXXXXX" : "/tmp/l2l-fuzz.XXXXXX");
        if (mkdtemp(directory) == NULL) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(remove_directory);
    }
    return directory;
}

const char *fuzz_file(char path[FUZZ_PATH_MAX], const char *name, const uint8_t *data, size_t size) {
    snprintf(path, FUZZ_PATH_MAX, "%s/%s", fuzz_directory(), name);
    int i = 0;
    while (i < 3 && written[i] != NULL && strcmp(written[i], name) != 0) i++;
    written[i] = name;
    FILE *f = fopen(path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: writing the input");
        abort();
    }
    return path;
}

void fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *a_size, const uint8_t **b, size_t *b_size) {
    size_t prefix = size < 4 ? size : 4;
    uint32_t k = 0;
    for (size_t i = 0; i < prefix; i++) k |= (uint32_t)data[i] << (8 * i);
    size_t rest = size - prefix;
    *a = data + prefix;
    *a_size = k < rest ? k : rest;
    *b = *a + *a_size;
    *b_size = rest - *a_size;
}

void fuzz_check(l2l_status status, const char *function) {
    if (status < L2L_OK || status > L2L_ERR_INTERNAL) {
        fprintf(stderr, "fuzz: %s returned %d, not a status of l2l.h\n", function, (int)status);
        abort();
    }
    if (status == L2L_ERR_INTERNAL) {
        fprintf(stderr, "fuzz: %s reported an internal error: %s\n", function, l2l_last_error());
        abort();
    }
    if (status != L2L_OK && getenv("L2L_FUZZ_SEEDS") != NULL) {
        fprintf(stderr, "fuzz: a seed was refused: %s\n", l2l_last_error());
        abort();
    }
    size_t n = strlen(function);
    if (status != L2L_OK && (strncmp(l2l_last_error(), function, n) != 0 || l2l_last_error()[n] != ':')) {
        fprintf(stderr, "fuzz: %s failed with the message \"%s\"\n", function, l2l_last_error());
        abort();
    }
}

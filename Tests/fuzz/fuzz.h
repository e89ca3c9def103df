/*
 * fuzz.h — what the libFuzzer targets of Tests/fuzz/targets share. Each target is one
 * reader or parser of libl2l.so, reached through include/l2l.h as a user reaches it: the
 * fuzzer's bytes become a file (or an options text) and the target only requires that the
 * call returns, with L2L_OK or an error status; a crash, a sanitizer report, a hang or an
 * allocation past libFuzzer's limits is the finding.
 */
#ifndef L2L_FUZZ_H
#define L2L_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "l2l.h"

/* Writes `size` bytes to the file `name` in this process's scratch directory (made on first
 * use, removed at exit with the files written in it) and returns `path`, where its path is
 * written. `name` must be a string constant. */
enum { FUZZ_PATH_MAX = 256 };
const char *fuzz_file(char path[FUZZ_PATH_MAX], const char *name, const uint8_t *data, size_t size);

/* The scratch directory itself (for readers that take a directory). */
const char *fuzz_directory(void);

/* Splits an input in two (for readers of two files): its first 4 bytes, little-endian, are
 * the length of the first part (capped by what follows), the second part is the rest. */
void fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *a_size, const uint8_t **b, size_t *b_size);

/* Aborts (a finding) if `status` is not one of l2l.h's codes, is L2L_ERR_INTERNAL, or is a
 * failure whose message does not name `function`; with L2L_FUZZ_SEEDS set (scripts/fuzz.sh,
 * over the committed seeds), any failure aborts: every seed must be a file the reader takes. */
void fuzz_check(l2l_status status, const char *function);

#endif

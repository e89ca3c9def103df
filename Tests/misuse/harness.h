/* harness.h — the checks and shared arguments of the generated misuse program
 * (generate.py writes the calls; harness.c says what each must do). */
#ifndef L2L_MISUSE_HARNESS_H
#define L2L_MISUSE_HARNESS_H

#include "l2l.h"

/* What a call must return. */
enum misuse_expectation {
    MISUSE_ANY,     /* any status (a NULL that may be documented as optional) */
    MISUSE_FAIL,    /* any failure */
    MISUSE_INVALID  /* L2L_ERR_INVALID_ARGUMENT */
};

/* The value out-handle slots hold before a call; a failing call must leave it there. */
#define MISUSE_SENTINEL ((void *)0x5e)

/* A zeroed scratch area for every buffer argument, and pointers into it for arrays of
 * buffers. */
extern char *misuse_scratch;
extern void *misuse_pointers[16];

void misuse_begin(void);
/* Names the next call (printed before it when MISUSE_TRACE is set, so a crash names it). */
void misuse_case(const char *label);
/* Checks a call's status: see generate.py. `slots_unchanged` is whether every out-handle
 * slot still holds MISUSE_SENTINEL. */
void misuse_expect(l2l_status status, const char *function, enum misuse_expectation expect, int slots_unchanged);
/* Checks a function returning a string: never NULL. */
void misuse_expect_text(const char *text, const char *function);
/* A fresh live handle of `type` (fixtures.c); a type with no fixture is a failure. */
void *misuse_fixture(const char *type);
void misuse_fixtures(void **out, int n, const char *type);
/* Prints the summary; the exit status. */
int misuse_end(void);

#endif

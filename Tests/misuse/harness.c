/* harness.c — see harness.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"

enum { SCRATCH_BYTES = 16 << 20, ZEROED_BYTES = 1 << 20 };

char *misuse_scratch;
void *misuse_pointers[16];

static const char *current = "";
static int trace, passed, failed;

void misuse_begin(void) {
    misuse_scratch = calloc(1, SCRATCH_BYTES);
    if (misuse_scratch == NULL) {
        fprintf(stderr, "misuse: out of memory\n");
        exit(2);
    }
    for (int i = 0; i < 16; i++) misuse_pointers[i] = misuse_scratch + (size_t)i * (SCRATCH_BYTES / 16);
    trace = getenv("MISUSE_TRACE") != NULL;
}

void misuse_case(const char *label) {
    current = label;
    /* Inputs read from the scratch area are zeros again (a previous call may have written). */
    for (int i = 0; i < 16; i++) memset(misuse_pointers[i], 0, ZEROED_BYTES / 16);
    if (trace) {
        printf("%s\n", label);
        fflush(stdout);
    }
}

static void fail(const char *fmt, const char *a, const char *b) {
    failed++;
    printf("FAIL %s: ", current);
    printf(fmt, a, b);
    printf("\n");
}

void misuse_expect(l2l_status status, const char *function, enum misuse_expectation expect, int slots_unchanged) {
    int before = failed;
    char code[16];
    snprintf(code, sizeof code, "%d", (int)status);
    if (status < L2L_OK || status > L2L_ERR_INTERNAL) {
        fail("returned %s, not a status of l2l.h%s", code, "");
    } else if (status != L2L_OK) {
        const char *message = l2l_last_error();
        size_t n = strlen(function);
        if (strncmp(message, function, n) != 0 || message[n] != ':') fail("last error \"%s\" does not start with %s:", message, function);
        if (!slots_unchanged) fail("failed (%s) but wrote its out-handle%s", l2l_status_string(status), "");
    }
    if (expect == MISUSE_FAIL && status == L2L_OK) fail("returned L2L_OK%s%s", "", "");
    if (expect == MISUSE_INVALID && status != L2L_ERR_INVALID_ARGUMENT)
        fail("returned %s, not L2L_ERR_INVALID_ARGUMENT (%s)", l2l_status_string(status), l2l_last_error());
    if (failed == before) passed++;
}

void misuse_expect_text(const char *text, const char *function) {
    if (text == NULL) fail("%s returned NULL%s", function, "");
    else passed++;
}

void *misuse_fixture(const char *type) {
    void *h = misuse_make(type);
    if (h == NULL) fail("no live %s could be made: add (or fix) its fixture in Tests/misuse/fixtures.c%s", type, "");
    return h;
}

void misuse_fixtures(void **out, int n, const char *type) {
    for (int i = 0; i < n; i++) out[i] = misuse_fixture(type);
}

int misuse_end(void) {
    free(misuse_scratch);
    printf("misuse: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* fixtures.h — see fixtures.c. */
#ifndef L2L_MISUSE_FIXTURES_H
#define L2L_MISUSE_FIXTURES_H

/* A new live handle of the opaque type named `type` ("l2l_learner", ...), which the caller
 * frees with its l2l_*_free; NULL for a type this file does not know yet. */
void *misuse_make(const char *type);

#endif

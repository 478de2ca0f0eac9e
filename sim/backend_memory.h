/*
 * backend_memory.h -- the in-process backend: each limiter's per-key state
 * in a keystore, decisions by direct call. One decision in `sample_every`
 * is timed (two clock reads cost about as much as a decision).
 */
#ifndef RATELAB_BACKEND_MEMORY_H
#define RATELAB_BACKEND_MEMORY_H

#include "backend.h"

typedef struct bmem bmem;

/* A memory backend; *out is filled to drive it. NULL when memory is short. */
bmem *bmem_create(unsigned sample_every, run_backend *out);
void bmem_destroy(bmem *m);

#endif

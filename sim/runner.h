/*
 * runner.h -- the virtual-time driver: replays a scenario's requests
 * through one rate limiter on one backend, as events of the loop in
 * evloop.h, and feeds what it decides to the recorder (pass.h). The
 * decisions depend only on the scenario and seed; the wall clock gives
 * only the decision latencies and the pass's duration.
 *
 * A backend decides requests in batches (the memory backend one decision
 * at a time in effect, Redis a pipeline): consecutive arrivals, never
 * across a tick's end, so the level read at each tick's end sees exactly
 * the requests before it.
 */
#ifndef RATELAB_RUNNER_H
#define RATELAB_RUNNER_H

#include <stddef.h>
#include <stdio.h>

#include "backend.h"
#include "generator.h"
#include "result.h"
#include "scenario.h"

typedef struct {
    /* called now and then with the share of virtual time done; may be NULL */
    void (*progress)(void *ctx, double done);
    /* asked as often: nonzero ends the run early (Ctrl-C); may be NULL */
    int (*stop)(void *ctx);
    void *progress_ctx;
    FILE *log;                   /* the decision log (decisions.h), or NULL */
} run_options;

/* Runs every request of `g` (rewound first) through rate limiter `l` (not a
 * queue: drive.h picks the driver) on backend `b`, recording through
 * pass.h. Returns 0, or -1 with a message. */
int run_limiter(const scn_scenario *s, gen *g, const scn_limiter *l, const run_backend *b,
                const run_options *opt, run_result *out, char *err, size_t errlen);



#endif

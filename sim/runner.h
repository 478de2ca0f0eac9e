/*
 * runner.h -- replays a scenario's requests through one limiter on the
 * virtual clock and fills its metrics. The decisions depend only on the
 * scenario and seed; the only wall-clock readings are the sampled decision
 * latencies and the pass's duration.
 */
#ifndef RATELAB_RUNNER_H
#define RATELAB_RUNNER_H

#include <stddef.h>

#include "generator.h"
#include "metrics.h"
#include "scenario.h"

typedef struct {
    unsigned latency_sample_every;   /* time 1 decision in this many (a power of two >= 1) */
    /* called now and then with the share of virtual time done; may be NULL */
    void (*progress)(void *ctx, double done);
    void *progress_ctx;
} run_options;

typedef struct {
    const scn_limiter *limiter;
    met_series series;
    met_summary summary;
} run_result;

/* Runs every request of `g` (rewound first) through limiter `l`. Returns 0,
 * or -1 with a message (memory short, key store full). */
int run_limiter(const scn_scenario *s, gen *g, const scn_limiter *l, const run_options *opt,
                run_result *out, char *err, size_t errlen);

void run_result_free(run_result *r);

/* Nanoseconds on the monotonic clock. */
int64_t run_now_ns(void);

#endif

/*
 * queue_run.h -- a queue entry's pass, written into the same run_result as
 * a limiter's, so that a queue sits in summary.csv, timeseries.csv, the
 * plots and the report beside token_bucket and leaky_bucket.
 *
 * How its measurements map onto the limiter columns: pass.h.
 */
#ifndef RATELAB_QUEUE_RUN_H
#define RATELAB_QUEUE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "generator.h"
#include "queue_model.h"
#include "runner.h"

/* The queue entry's parameters as the model takes them. */
void qrun_config(const scn_limiter *l, qm_config *c);

/* The queue in virtual time (queue_model.h), deterministic for the seed.
 * 0, or -1 with a message (memory). */
int qrun_memory(const scn_scenario *s, gen *g, const scn_limiter *l, run_result *out, char *err, size_t errlen);

#endif

/*
 * queue_run.h -- a queue entry's pass, written into the same run_result as
 * a limiter's, so that a queue sits in summary.csv, timeseries.csv, the
 * plots and the report beside token_bucket and leaky_bucket.
 *
 * How a queue maps onto the limiter columns:
 *   offered   messages produced       dropped   rejected by a full queue
 *   admitted  accepted into the queue delayed   the same (every one waits)
 *   released  deliveries to the downstream, retries included: the drain
 *             the downstream sees; peak_admitted_rps is its busiest second
 *   delay     end to end, enqueue -> success (per tick: of the messages
 *             that succeeded in it); level: messages waiting
 * The oracle's part: the queue's promise is that nothing is lost, so every
 * lost message is a violation, and the counts are checked for
 * conservation against an independent count of the arrivals.
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

/* What a run measured, however it ran. */
typedef struct {
    const char *backend;
    const qm_report *report;
    const qm_tick *ticks;                 /* scn_tick_count(s) entries */
    const uint64_t *second_delivered;     /* deliveries per whole second */
    size_t n_seconds;
    uint64_t offered, rejected;           /* counted by the producer, independently of the queue */
    uint64_t offered_cost, admitted_cost;
} qrun_measured;

/* Fills `out` from a pass's measurements. 0, or -1 (memory). */
int qrun_fill(const scn_scenario *s, const scn_limiter *l, const qrun_measured *m, run_result *out, char *err,
              size_t errlen);

#endif

/*
 * queue_model.h -- peak shaving with a reliable queue, simulated in
 * virtual time: the memory twin of the Redis list pattern (producer LPUSH,
 * a scheduled consumer that moves a batch into its processing list, calls
 * the downstream, removes on success, requeues on failure, dead-letters
 * after max_attempts).
 *
 * Rules, deterministic for a seed:
 *  - A message arriving at t is enqueued at t; when max_queue messages are
 *    already waiting it is rejected, or with `block` the producer waits in
 *    line (FIFO) and its message is enqueued as soon as a consumer run
 *    frees room.
 *  - The consumer runs at 0, interval, 2 interval, ...: each run takes up
 *    to `batch` waiting messages from the head. Each taken message is one
 *    delivery to the downstream, done after a service time drawn from the
 *    downstream's distribution; it fails with probability failure_prob.
 *  - Success ends the message (end to end: success time - arrival). A
 *    failure requeues it at the tail with attempts + 1 (never rejected: a
 *    requeue is not new load), and the delivery that makes attempts reach
 *    max_attempts dead-letters it instead.
 *  - At one µs: arrivals first, then completions, then the consumer run.
 *  - After the scenario ends the consumer keeps running until every
 *    message has ended, so nothing is left queued; drained_at_us says when.
 * Nothing crashes here, so nothing is delivered twice: duplicates and the
 * visibility timeout belong to the Redis run.
 *
 * Memory is allocated once, for at most max_messages arrivals.
 */
#ifndef RATELAB_QUEUE_MODEL_H
#define RATELAB_QUEUE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

typedef struct {
    uint32_t batch;                /* messages one consumer run takes */
    int64_t interval_us;           /* between consumer runs */
    uint32_t max_attempts;         /* deliveries before a dead letter, >= 1 */
    uint64_t max_queue;            /* waiting messages at most; 0: no bound */
    int block;                     /* a full queue makes the producer wait instead of rejecting */
} qm_config;

typedef struct {
    uint64_t produced, rejected, succeeded, dead_lettered, still_queued;
    uint64_t deliveries, retries, duplicates;
    int64_t lost;                  /* produced - rejected - succeeded - dead_lettered - still_queued */
    int64_t e2e_p50_us, e2e_p99_us, e2e_p999_us, e2e_max_us;   /* arrival -> success */
    int64_t block_max_us;          /* longest a producer waited for room */
    uint64_t peak_offered_rps, peak_delivered_rps;  /* busiest whole second */
    uint64_t max_queue_len, max_processing;
    int64_t drained_at_us;         /* when the last message ended */
} qm_report;

/* One tick's end: what was waiting and in processing, and what happened
 * in the tick (e2e: of the messages that succeeded in it; 0 if none). */
typedef struct {
    uint64_t queued, processing, blocked;
    uint64_t arrived, delivered, succeeded, dead_lettered, rejected;
    int64_t e2e_p50_us, e2e_p99_us, e2e_max_us;
} qm_tick;

typedef struct qm qm;

/* A model for at most max_messages arrivals, its series in `ticks` ticks of
 * tick_us; downstream `d` gives service times and failure_prob. NULL when
 * memory is short. */
qm *qm_create(const qm_config *c, const scn_downstream *d, double failure_prob, uint64_t seed,
              size_t max_messages, int64_t tick_us, size_t ticks);
void qm_destroy(qm *m);

/* A message arrives at t_us (calls in time order). 0 when it is queued (or
 * its producer waits for room), 1 when the full queue rejected it, -1 when
 * more than max_messages arrived. */
int qm_arrive(qm *m, int64_t t_us);

/* Runs until every message has ended and reports. */
void qm_finish(qm *m, qm_report *r);

/* The per-tick series (valid after qm_finish; `ticks` entries). */
const qm_tick *qm_series(const qm *m);

/* Deliveries per whole second, over the seconds the series covers (valid
 * after qm_finish); *n_seconds entries. */
const uint64_t *qm_second_delivered(const qm *m, size_t *n_seconds);

#endif

/*
 * pass.h -- the recorder: the only code that turns one limiter's decided
 * requests into its result (run_result): the metrics series, the oracle,
 * the downstream model, the decision log and the conservation check.
 *
 * Drivers feed it and nothing else builds a result: the virtual runner
 * (runner.h, also under sweep and perf), realtime mode (realtime.h) and a
 * queue entry's drivers (queue_run.h, redis_queue_run.h). A driver may
 * read the clock, pace requests and call a backend; it may not touch a
 * met_series, an orc_check or a dsm. A backend only decides.
 *
 * Two orders meet here, which is why a decided request comes in two calls:
 *   pass_count  in arrival order (the scenario's t_us), tick by tick: the
 *               series, the peaks, the releases and the downstream;
 *   pass_judge  in the order the limiter decided (at_us): the oracle,
 *               which follows a limiter's state, and the decision log.
 * In virtual time the two orders are one and pass_decided does both.
 */
#ifndef RATELAB_PASS_H
#define RATELAB_PASS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "generator.h"
#include "hist.h"
#include "queue_model.h"
#include "backend.h"
#include "result.h"

typedef struct pass pass;

/* Gets ready to record limiter l's pass over s on `backend` into *out
 * (cleared), writing the decision log to `log` when not NULL. NULL with a
 * message when memory is short. */
pass *pass_open(const scn_scenario *s, const scn_limiter *l, const char *backend, FILE *log, run_result *out,
                char *err, size_t errlen);

/* 1 when a request arriving at t_us belongs to the tick being recorded
 * (the last tick takes everything after it); 0 when that tick must be
 * closed first. */
static inline int pass_in_tick(const pass *p, int64_t t_us);

/* The virtual time the tick being recorded ends at (where its level is read). */
int64_t pass_tick_end_us(const pass *p);

/* Counts request q, decided d, in the tick being recorded (arrival order). */
void pass_count(pass *p, const gen_request *q, const lim_decision *d);

/* Hands request q, decided d at at_us, to the oracle and the decision log
 * (decision order per key). */
void pass_judge(pass *p, const gen_request *q, int64_t at_us, const lim_decision *d);

/* A request the limiter gave no decision for (the connection failed; d is
 * the on-error policy's) at at_us: the oracle counts it, for conservation,
 * but holds the limiter to nothing for it; the decision log has it, as a
 * virtual pass's has every request. */
void pass_unanswered(pass *p, const gen_request *q, int64_t at_us, const lim_decision *d);

/* Brings the oracle's entries of a batch about to be decided into the
 * cache, when there are more of them than the cache holds. */
void pass_prefetch(const pass *p, const gen_request *q, size_t n);

/* The second stage, once the batch is decided (its entries arrived
 * meanwhile): the window rings' lines the oracle will touch. */
void pass_prefetch_rings(const pass *p, const gen_request *q, size_t n);

/* pass_count and pass_judge at the request's own time. */
void pass_decided(pass *p, const gen_request *q, const lim_decision *d);

/* pass_decided for an admitted request whose client waits for its answer
 * (clients.h, retry_on timeout): when the downstream ends the call; or
 * DSM_LATER (downstream.h), the limiter having delayed it, with *ticket
 * for pass_call_end. Needs room (pass_reserve_calls). */
int64_t pass_decided_watched(pass *p, const gen_request *q, const lim_decision *d, uint32_t *ticket);

/* Room for `more` calls waited for beyond those pending. 0, or -1 when memory is short. */
int pass_reserve_calls(pass *p, size_t more);

/* When the call of `ticket` ends, once every request decided before now_us
 * has been counted (DSM_LATER if it is not released by now_us). */
int64_t pass_call_end(pass *p, uint32_t ticket, int64_t now_us);

/* ---- what clients did (clients.h) ----
 * Every intent is counted when it first arrives and ends once: admitted
 * at some attempt, abandoned, refused a retry by its budget, cut by the
 * run's end, or admitted but failed by the downstream for a client that
 * does not retry on failure. Without clients an intent ends at its first
 * attempt. */

typedef enum { PASS_SUCCEEDED, PASS_ABANDONED, PASS_BUDGET_REFUSED, PASS_UNFINISHED, PASS_FAILED } pass_outcome;

/* A first attempt at t_us, in the tick being recorded. */
void pass_intent(pass *p, int64_t t_us);

/* The n arrivals q[0..n) of the tick being recorded, in time order, decided
 * d at their own times, each an intent that ends with that one decision
 * (a scenario without clients): what pass_decided, pass_intent and
 * pass_intent_ended record for each, a batch at once. */
void pass_arrivals_decided(pass *p, const gen_request *q, const lim_decision *d, size_t n);

/* The intent first sent at first_us ended at end_us after `attempts` attempts. */
void pass_intent_ended(pass *p, pass_outcome o, int64_t first_us, int64_t end_us, uint32_t attempts);

/* An admitted attempt the downstream failed (clients.h). */
void pass_failed_attempt(pass *p);

/* An admitted attempt its client stopped waiting for (clients.h). */
void pass_timed_out_attempt(pass *p);

/* How many retries wait now (the peak is reported). */
void pass_pending(pass *p, size_t pending);

/* One measured decision latency, in the tick being recorded. */
void pass_latency(pass *p, int64_t ns);

/* Ends the tick being recorded with the level read at its end. */
void pass_close_tick(pass *p, int64_t level);

/* Ticks not closed yet (the driver closes each, with its level). */
size_t pass_ticks_left(const pass *p);

/* Ends the pass: every tick closed, the summary (with what the backend
 * reported when it ended, *b), the downstream's report and the oracle's,
 * with conservation. `decision_order_known` is 0 when
 * requests may have reached the limiter out of the order of the times
 * they were decided at (client clocks): the pairwise check then reads -1
 * (unknown), except that a request lost or counted twice is still a
 * violation. wall_s is the pass's duration. Frees the recorder. */
void pass_finish(pass *p, double wall_s, int decision_order_known, const run_backend_report *b);

/* Ends a pass that failed: frees the recorder and what it put in *out. */
void pass_abort(pass *p);

/* ---- a queue entry's pass, mapped onto the limiter columns ---------------
 *
 *   offered   messages produced       dropped   rejected by a full queue
 *   admitted  accepted into the queue delayed   the same (every one waits)
 *   released  deliveries to the downstream, retries included: the drain
 *             the downstream sees; peak_admitted_rps is its busiest second
 *   delay     end to end, enqueue -> success (per tick: of the messages
 *             that succeeded in it); level: messages waiting
 * The oracle's part: the queue's promise is that nothing is lost, so every
 * lost message is a violation, and the counts are checked for
 * conservation against an independent count of the arrivals. */

typedef struct {
    const char *backend;
    const qm_report *report;
    const qm_tick *ticks;                 /* scn_tick_count(s) entries */
    const uint64_t *second_delivered;     /* deliveries per whole second */
    size_t n_seconds;
    uint64_t offered, rejected;           /* counted by the producer, independently of the queue */
    uint64_t offered_cost, admitted_cost;
} pass_queue_measured;

/* Fills *out (cleared) from a queue pass's measurements; the queue's own
 * part (out->queue) is allocated here, with durability "n/a". 0, or -1
 * when memory is short. */
int pass_queue(const scn_scenario *s, const scn_limiter *l, const pass_queue_measured *m, run_result *out,
               char *err, size_t errlen);

/* ---- inline ---------------------------------------------------------- */

struct pass {
    const scn_scenario *s;
    const scn_limiter *l;
    run_result *out;
    FILE *log;
    orc_check *check[SCN_MAX_TIERS];     /* one per promise: the limiter's, or each tier's of a chain */
    const scn_limiter *judged[SCN_MAX_TIERS];
    size_t n_checks;
    dsm *down;
    size_t tick;
    int64_t tick_end_us;
    hist *time_to_success;
};

static inline int pass_in_tick(const pass *p, int64_t t_us)
{
    return t_us < p->tick_end_us || p->tick + 1 >= p->out->series.n_ticks;
}

#endif

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
 *
 * Also here: what a backend is (it only decides: it sees no metrics and
 * no clock of the run) and what a pass's result holds.
 */
#ifndef RATELAB_RUNNER_H
#define RATELAB_RUNNER_H

#include <stddef.h>
#include <stdio.h>

#include "downstream.h"
#include "generator.h"
#include "metrics.h"
#include "oracle.h"
#include "queue_model.h"
#include "scenario.h"

/* What a backend says of a pass when it ends. */
typedef struct {
    size_t keys_seen, state_bytes;   /* state_bytes: the store, or Redis MEMORY USAGE */
    uint64_t errors;                 /* errors survived (Redis) */
} run_backend_report;

typedef struct run_backend {
    const char *name;            /* "memory", "redis": the backend column */
    size_t batch;                /* most requests per decide() call, >= 1 */
    void *ctx;
    /* Gets ready to decide for limiter l (fresh state). 0, or -1 with a message. */
    int (*begin)(void *ctx, const scn_scenario *s, const scn_limiter *l, char *err, size_t errlen);
    /* Decides reqs[0..n-1], in order, into out[]; latency_ns[i] is the
     * wall time decision i took, or -1 when it was not measured (sampled).
     * Errors the backend survives are counted, not returned; -1 (with a
     * message) only when the run cannot go on. */
    int (*decide)(void *ctx, const gen_request *reqs, size_t n, lim_decision *out, int64_t *latency_ns,
                  char *err, size_t errlen);
    /* The level of key `key` at now_us (tick ends). */
    int64_t (*level)(void *ctx, uint32_t key, int64_t now_us);
    /* Ends the limiter's pass: fills keys_seen, state_bytes and errors, and
     * writes into note what a person should hear of the pass (a lost
     * connection, keys it could not delete), "" when nothing. */
    void (*end)(void *ctx, run_backend_report *sum, char *note, size_t notelen);
} run_backend;

typedef struct {
    /* called now and then with the share of virtual time done; may be NULL */
    void (*progress)(void *ctx, double done);
    /* asked as often: nonzero ends the run early (Ctrl-C); may be NULL */
    int (*stop)(void *ctx);
    void *progress_ctx;
    FILE *log;                   /* the decision log (decisions.h), or NULL */
} run_options;

/* One fault of a chaos run, as it landed (redis_queue_run.h). */
typedef struct {
    int is_restart;              /* a server restart; else a consumer kill */
    uint32_t consumer;           /* a kill's victim */
    int64_t planned_us, at_us;   /* when it was meant and when it landed, from the start */
    long processing, held;       /* in processing at that instant, and held by the victim (-1: unknown) */
    uint64_t reaped_after;       /* deliveries the reaper returned within visibility + 2 reaper periods */
} run_queue_fault;

/* What a queue entry adds to its result. */
typedef struct {
    qm_report report;            /* counts, e2e, peaks, lost (queue_model.h) */
    qm_tick *series;             /* per tick, series.n_ticks entries (owned) */
    const char *durability;      /* "n/a" in memory; on Redis none, everysec or always */
    double msgs_per_s_durable;   /* Redis: produce+take+ack per second with that durability, */
    double msgs_per_s_volatile;  /* and without AOF, measured side by side (0: not measured) */
    uint64_t consumer_kills, server_restarts, reaped;   /* faults survived (chaos), deliveries reaped */
    uint64_t consumer_crashes;   /* consumers that died unasked, and were started again */
    run_queue_fault *faults;     /* Redis: each fault as it landed (owned), n_faults of them */
    uint32_t n_faults;
    int64_t lag_p99_us, lag_max_us;   /* Redis: how far the producer fell behind the schedule */
    int64_t load_end_us;         /* Redis: when the last message was produced, from the start */
    uint64_t server_refused;     /* Redis: messages the server answered with an error (OOM...) */
    int has_effects;             /* Redis: the effect ledger was reconciled: */
    uint64_t effects_applied, effects_suppressed;   /* first successes applied; duplicates that applied nothing */
    uint64_t effects_compensated, effects_wrong;    /* balances set back to their log; keys off the producer's sums */
    char effects_first_wrong[160];
} run_queue_result;

typedef struct run_result {
    const scn_limiter *limiter;
    const char *backend;
    met_series series;
    met_summary summary;
    orc_report oracle;           /* the independent check of every decision */
    int has_downstream;          /* the scenario describes a downstream: */
    dsm_report downstream;       /* what the service saw (downstream.h) */
    uint64_t overload_s;         /* whole seconds released above its capacity_rps */
    char note[700];              /* what the backend said of the pass (to print), or "" */
    run_queue_result *queue;     /* a queue entry's own part (owned), else NULL */
} run_result;

/* Runs every request of `g` (rewound first) through rate limiter `l` (not a
 * queue: drive.h picks the driver) on backend `b`, recording through
 * pass.h. Returns 0, or -1 with a message. */
int run_limiter(const scn_scenario *s, gen *g, const scn_limiter *l, const run_backend *b,
                const run_options *opt, run_result *out, char *err, size_t errlen);

void run_result_free(run_result *r);


#endif

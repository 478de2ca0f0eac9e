/*
 * backend.h -- what a backend is: it only decides. It is given a
 * scenario's limiter and requests, and answers with decisions and how long
 * each took; it sees no metrics, no clock of the run and no driver
 * (pass.h records, the drivers pace).
 */
#ifndef RATELAB_BACKEND_H
#define RATELAB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "../algorithms/limiter.h"
#include "generator.h"
#include "fleet.h"
#include "result.h"
#include "scenario.h"

/* What a backend says of a pass when it ends. */
typedef struct {
    size_t keys_seen, state_bytes;   /* state_bytes: the store, or Redis MEMORY USAGE */
    uint64_t errors;                 /* errors survived (Redis) */
    uint64_t tier_refused[SCN_MAX_TIERS];   /* a chain: refusals per tier (chain.h) */
    flt_report fleet;                /* a fleet: per node and store calls (fleet.h; nodes 0 otherwise) */
    run_cluster_report cluster;      /* a Redis Cluster: per node (n 0 otherwise) */
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

#endif

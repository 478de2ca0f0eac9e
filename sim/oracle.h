/*
 * oracle.h -- what a limiter promises, computed from its parameters alone
 * (the rules of ../shared/DESIGN.md), never by calling the algorithm: the
 * independent side of every accuracy check.
 */
#ifndef RATELAB_ORACLE_H
#define RATELAB_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "generator.h"
#include "scenario.h"

/* ---- the streaming check: every promise, request by request ---------------
 *
 * orc_check follows one limiter's decisions in time order and checks, per
 * key, what DESIGN.md promises:
 *   - token_bucket, gcra, naive_token_bucket: for admitted i <= j,
 *     sum(cost i..j) <= burst + rate*(t_j - t_i), via a running minimum of
 *     (admitted cost before i - rate*t_i), in exact 128-bit integers;
 *   - leaky_bucket meter: the same with the first request's cost free
 *     (nginx clamps the excess at 0), i.e. capacity + cost_i;
 *   - leaky_bucket queue: departures (t + delay) in arrival order, spaced by
 *     at least cost/rate (less the microsecond the reported delay is rounded
 *     up), and no delay beyond capacity/rate;
 *   - sliding_window_log: admitted cost in every (t - W, t] <= limit;
 *     fixed_window: per aligned window <= limit.
 * It also runs a reference limiter of its own on the same stream: the
 * greedy admitter of the same bucket constraint, or an exact sliding log
 * with the same limit and window for the window algorithms, and counts
 * the requests the limiter decided otherwise (for the exact ones both
 * should be 0; for fixed_window and sliding_window_counter it is their
 * error, Cloudflare-style). Memory: allocated once, per key. */

typedef struct {
    uint64_t offered, admitted, dropped;   /* counted here, independently */
    uint64_t violations;                   /* admitted requests that broke a promise */
    double worst_excess;                   /* in requests (cost) */
    uint32_t worst_key;
    int64_t worst_from_us, worst_to_us;    /* the pair of requests, or the window */
    int64_t wrongly_allowed, wrongly_blocked;   /* vs the reference; -1: none */
    uint64_t reference_admitted;
    int64_t max_window_cost;               /* windows: most admitted cost in any (t - W, t]; -1: n/a */
    double mean_window_diff;               /* windows: mean |admitted - reference| per aligned window; -1: n/a */
    int window_checked;                    /* 0: no exact window log (see unchecked) */
    /* What the oracle could not check, and why ("" when it checked all; no
     * comma or quote, so it is a CSV field as it is):
     * a sliding log's windows (violations is then (uint64_t)-1, never 0)
     * and the exact reference of the window family (wrongly_* -1). */
    char unchecked[160];
    /* The whole-run bound: per key, admitted cost against the most the
     * limiter may admit over [first, last] of the times it decided at. It
     * stays exact when concurrent clients' requests reach the server out
     * of time order (the limiter's own clock never leaves that span). Cost
     * above it, summed over keys; -1 where there is no exact bound
     * (sliding_window_counter). */
    int64_t over_admitted;
} orc_report;

typedef struct orc_check orc_check;

/* What limiter l admits per key per second in the long run, from its
 * parameters: a bucket's rate, a window's limit / window; NAN for a queue
 * or an algorithm without a family. */
double orc_rate_per_s(const scn_limiter *l);

/* A check of limiter l over n_keys keys; NULL when memory is short, when
 * l is a queue entry, or when the registry gives its algorithm no oracle
 * family (orc_judges). */
orc_check *orc_check_create(const scn_limiter *l, size_t n_keys);

/* 1 when the oracle holds algorithm `ops` to a promise (its registry
 * facts name an oracle family), else 0. */
static inline int orc_judges(const lim_ops *ops) { return ops->facts.family != LIM_ORACLE_NONE; }
void orc_check_destroy(orc_check *c);

/* Brings key's entry into the cache, ahead of its orc_check_add, and for
 * windows the line where its emptied rings start again (the line a key
 * seen once a window or less keeps its entries in). Worth it only when the
 * entries do not fit the cache: orc_check_worth_prefetching. */
void orc_check_prefetch(const orc_check *c, uint32_t key);
int orc_check_worth_prefetching(const orc_check *c);

/* Windows: key's ring positions the next orc_check_add reads and writes,
 * read from its entry (so after orc_check_prefetch of the same key, as a
 * second stage). orc_check_has_rings: whether there are rings at all. */
int orc_check_has_rings(const orc_check *c);
void orc_check_prefetch_rings(const orc_check *c, uint32_t key);

/* Follows one decided request (in time order per key). */
void orc_check_add(orc_check *c, uint32_t key, int64_t t_us, uint32_t cost, const lim_decision *d);

/* orc_check_add of q[0..n-1] and their decisions, in order, each under
 * its own key or, when global, all under key 0: one call a batch. */
void orc_check_add_batch(orc_check *c, const gen_request *q, const lim_decision *d, size_t n, int global);

/* Counts a request the limiter gave no decision for (d: the on-error
 * policy's) without judging the limiter by it. */
void orc_check_count(orc_check *c, const lim_decision *d);

/* What was found. */
void orc_check_report(const orc_check *c, orc_report *r);

/* Compares what the oracle counted with what the metrics say (admitted +
 * dropped = offered, each as counted): every request lost or counted twice
 * is a violation. Returns the number added to r->violations. */
uint64_t orc_conservation(orc_report *r, uint64_t offered, uint64_t admitted, uint64_t dropped);

#endif

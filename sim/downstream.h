/*
 * downstream.h -- the service a limiter protects, in virtual time.
 *
 * Admitted requests reach it at their release (t + the limiter's delay), in
 * release order, and are served first come first served by `concurrency`
 * servers, each request taking a service time drawn from the scenario's
 * distribution (a stream of the seed of its own). What it reports is what
 * peak shaving means to the service: how long requests waited for a
 * server, how long they took end to end (limiter delay + wait + service),
 * how many completed within the run; overload seconds come from the
 * metrics' per-second releases against capacity_rps.
 *
 * A call may be watched (a client that stops waiting after the
 * downstream's timeout_ms, clients.h): its end is given back, at once when
 * it is served at once (no limiter delay), else through a ticket that
 * dsm_call_end redeems once the loop has reached the call's release.
 *
 * Memory is allocated once: the pending releases of queued requests (at
 * most max_pending at a time) and one slot per server; the room for
 * tickets grows with dsm_reserve_calls, between a driver's batches.
 */
#ifndef RATELAB_DOWNSTREAM_H
#define RATELAB_DOWNSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "durations.h"
#include "scenario.h"

typedef struct dsm dsm;

typedef struct {
    uint64_t served, completed;          /* completed: finished before the run's end */
    uint64_t out_of_order;               /* releases served late because max_pending was full */
    int64_t wait_p50_us, wait_p99_us, wait_max_us;
    int64_t e2e_p50_us, e2e_p99_us, e2e_p999_us, e2e_max_us;
} dsm_report;

/* A model of `d` for a run of duration_us; NULL when memory is short. */
dsm *dsm_create(const scn_downstream *d, uint64_t seed, int64_t duration_us, size_t max_pending);
void dsm_destroy(dsm *m);

/* An admitted request decided at t_us and released delay_us later. Calls
 * come in decision-time order; the model serves them in release order. */
void dsm_admit(dsm *m, int64_t t_us, int64_t delay_us);

#define DSM_LATER (-1)

/* dsm_admit for a watched call: its end (decision + delay + wait +
 * service) when it is served at once; else DSM_LATER with *ticket set,
 * which needs room (dsm_reserve_calls). */
int64_t dsm_admit_watched(dsm *m, int64_t t_us, int64_t delay_us, uint32_t *ticket);

/* Room for `more` watched calls beyond those waiting. 0, or -1 when memory is short. */
int dsm_reserve_calls(dsm *m, size_t more);

/* The end of the watched call of `ticket`, serving what is released by
 * now_us (every call decided before now_us must have been admitted); the
 * ticket is given back. DSM_LATER when the call is not released by now_us. */
int64_t dsm_call_end(dsm *m, uint32_t ticket, int64_t now_us);

/* Serves what is still pending and reports. */
void dsm_finish(dsm *m, dsm_report *r);

/* Whole seconds in which more than capacity_rps requests were released. */
uint64_t dsm_overload_seconds(const scn_downstream *d, const uint64_t *released_per_second, size_t seconds);

#endif

/*
 * metrics.h -- what one limiter did over one run: per-tick series, per-second
 * peaks and whole-run totals, in memory allocated once before the run.
 * Recording a request is a few counter increments and one histogram record.
 */
#ifndef RATELAB_METRICS_H
#define RATELAB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../algorithms/limiter.h"
#include "generator.h"
#include "hist.h"

typedef struct {
    uint64_t offered, admitted, dropped, delayed;
    uint64_t offered_cost, admitted_cost;
    uint64_t peak_offered_rps;                      /* busiest whole second of arrivals */
    uint64_t peak_admitted_rps;                     /* busiest whole second of releases downstream */
    int64_t delay_p50_us, delay_p99_us, delay_max_us;
    uint64_t latency_samples;
    int64_t latency_p50_ns, latency_p99_ns, latency_p999_ns, latency_max_ns;
    double wall_s;                                  /* wall time of the pass */
    double cpu_s;                                   /* its thread CPU time (the virtual passes; 0 where not measured) */
    size_t keys_seen, state_bytes;                  /* state_bytes: the store, or Redis MEMORY USAGE */
    uint64_t errors;                                /* backend errors survived (Redis) */
    int64_t over_admitted;                          /* cost above the limiter's promise (oracle.h); -1 n/a */
} met_summary;

typedef struct {
    size_t n_ticks, n_seconds;
    int64_t tick_us;
    uint64_t *offered, *admitted, *dropped, *delayed;   /* per tick, at decision time */
    uint64_t *released;                                 /* per tick, at release (t + delay) */
    uint64_t *intents;                                  /* per tick: first attempts (offered counts retries too) */
    int64_t *level;                                     /* per tick, at its end */
    int64_t *delay_p50, *delay_p99, *delay_max;         /* per tick, us */
    int64_t *latency_p50, *latency_p99;                 /* per tick, ns (sampled) */
    uint64_t *second_offered, *second_released;        /* per whole second */
    uint64_t *second_intents;
    uint64_t offered_cost, admitted_cost;
    hist *delay_all, *latency_all, *delay_tick, *latency_tick;
} met_series;

/* The bytes met_init allocates for n_ticks ticks over duration_us: what a
 * finished pass keeps until its results are written. */
double met_bytes_for(size_t n_ticks, int64_t duration_us);

/* Allocates the series for n_ticks ticks of tick_us over duration_us.
 * Returns 0, or -1 when memory is short (nothing left allocated). */
int met_init(met_series *m, size_t n_ticks, int64_t tick_us, int64_t duration_us);
void met_free(met_series *m);

/* Counts the n decided requests q[0..n) of `tick` (in time order, their
 * decisions d); returns how many were admitted. An admitted request is
 * released downstream at its time + delay; a release after the end of the
 * run counts as admitted but falls outside the release series. Whole
 * counts are added once per batch (and per second it spans): a batch is
 * cheaper per request than one at a time. */
static inline uint64_t met_record(met_series *m, size_t tick, const gen_request *q, const lim_decision *d, size_t n)
{
    uint64_t admitted = 0, at_once = 0, cost = 0, admitted_cost = 0;
    uint64_t second_offered = 0, second_at_once = 0;
    size_t second = n ? (size_t)(q[0].t_us / 1000000) : 0;
    for (size_t i = 0; i < n; i++) {
        size_t s = (size_t)(q[i].t_us / 1000000);
        if (s != second) {
            m->second_offered[second] += second_offered;
            m->second_released[second] += second_at_once;
            second = s;
            second_offered = second_at_once = 0;
        }
        second_offered++;
        cost += q[i].cost;
        if (!d[i].allowed) continue;
        admitted++;
        admitted_cost += q[i].cost;
        if (d[i].delay_us > 0) {
            int64_t release = q[i].t_us + d[i].delay_us;
            size_t rtick = (size_t)(release / m->tick_us), rsecond = (size_t)(release / 1000000);
            m->delayed[tick]++;
            if (rtick < m->n_ticks) m->released[rtick]++;
            if (rsecond < m->n_seconds) m->second_released[rsecond]++;
            hist_record(m->delay_tick, d[i].delay_us);
        } else {
            at_once++;
            second_at_once++;
        }
    }
    if (n) {
        m->second_offered[second] += second_offered;
        m->second_released[second] += second_at_once;
    }
    m->offered[tick] += n;
    m->admitted[tick] += admitted;
    m->dropped[tick] += n - admitted;
    m->released[tick] += at_once;
    m->offered_cost += cost;
    m->admitted_cost += admitted_cost;
    hist_record_n(m->delay_tick, 0, at_once);
    return admitted;
}

/* Counts the first attempts (intents) q[0..n) of `tick`, in time order. */
static inline void met_intent(met_series *m, size_t tick, const gen_request *q, size_t n)
{
    m->intents[tick] += n;
    size_t i = 0;
    while (i < n) {
        size_t second = (size_t)(q[i].t_us / 1000000), from = i;
        while (i < n && (size_t)(q[i].t_us / 1000000) == second) i++;
        if (second < m->n_seconds) m->second_intents[second] += i - from;
    }
}

/* Counts one sampled decision latency. */
static inline void met_latency(met_series *m, int64_t ns) { hist_record(m->latency_tick, ns); }

/* Ends `tick`: stores its level and percentiles, folds its histograms into
 * the run's. */
void met_close_tick(met_series *m, size_t tick, int64_t level);

/* Totals and percentiles of the whole run (after every tick is closed). */
void met_summarize(const met_series *m, met_summary *out);

#endif

/* metrics.c -- see metrics.h. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

double met_bytes_for(size_t n_ticks, int64_t duration_us)
{
    /* 12 per-tick arrays, 3 per-second arrays, 4 histograms */
    return 12.0 * 8 * (double)n_ticks + 3.0 * 8 * (double)(duration_us / 1000000 + 1) + 4.0 * sizeof(hist);
}

int met_init(met_series *m, size_t n_ticks, int64_t tick_us, int64_t duration_us)
{
    memset(m, 0, sizeof *m);
    m->n_ticks = n_ticks;
    m->tick_us = tick_us;
    m->n_seconds = (size_t)(duration_us / 1000000) + 1;
    uint64_t **u64[] = { &m->offered, &m->admitted, &m->dropped, &m->delayed, &m->released, &m->intents };
    int64_t **i64[] = { &m->level, &m->delay_p50, &m->delay_p99, &m->delay_max, &m->latency_p50, &m->latency_p99 };
    int ok = 1;
    for (size_t i = 0; i < sizeof u64 / sizeof u64[0]; i++) ok &= (*u64[i] = calloc(n_ticks, sizeof(uint64_t))) != NULL;
    for (size_t i = 0; i < sizeof i64 / sizeof i64[0]; i++) ok &= (*i64[i] = calloc(n_ticks, sizeof(int64_t))) != NULL;
    ok &= (m->second_offered = calloc(m->n_seconds, sizeof(uint64_t))) != NULL;
    ok &= (m->second_released = calloc(m->n_seconds, sizeof(uint64_t))) != NULL;
    ok &= (m->second_intents = calloc(m->n_seconds, sizeof(uint64_t))) != NULL;
    hist **h[] = { &m->delay_all, &m->latency_all, &m->delay_tick, &m->latency_tick };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        *h[i] = malloc(sizeof(hist));
        if (*h[i]) hist_init(*h[i]); else ok = 0;
    }
    if (!ok) { met_free(m); return -1; }
    return 0;
}

void met_free(met_series *m)
{
    void *all[] = { m->offered, m->admitted, m->dropped, m->delayed, m->released, m->level, m->delay_p50, m->delay_p99,
                    m->delay_max, m->latency_p50, m->latency_p99, m->second_offered, m->second_released,
                    m->intents, m->second_intents, m->delay_all, m->latency_all, m->delay_tick, m->latency_tick };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    memset(m, 0, sizeof *m);
}

void met_close_tick(met_series *m, size_t tick, int64_t level)
{
    m->level[tick] = level;
    m->delay_p50[tick] = hist_quantile(m->delay_tick, 0.50);
    m->delay_p99[tick] = hist_quantile(m->delay_tick, 0.99);
    m->delay_max[tick] = m->delay_tick->total ? m->delay_tick->max : 0;
    m->latency_p50[tick] = hist_quantile(m->latency_tick, 0.50);
    m->latency_p99[tick] = hist_quantile(m->latency_tick, 0.99);
    hist_merge(m->delay_all, m->delay_tick);
    hist_merge(m->latency_all, m->latency_tick);
    hist_reset(m->delay_tick);
    hist_reset(m->latency_tick);
}

void met_summarize(const met_series *m, met_summary *out)
{
    memset(out, 0, sizeof *out);
    for (size_t t = 0; t < m->n_ticks; t++) {
        out->offered += m->offered[t];
        out->admitted += m->admitted[t];
        out->dropped += m->dropped[t];
        out->delayed += m->delayed[t];
    }
    for (size_t s = 0; s < m->n_seconds; s++) {
        if (m->second_offered[s] > out->peak_offered_rps) out->peak_offered_rps = m->second_offered[s];
        if (m->second_released[s] > out->peak_admitted_rps) out->peak_admitted_rps = m->second_released[s];
    }
    out->offered_cost = m->offered_cost;
    out->admitted_cost = m->admitted_cost;
    out->delay_p50_us = hist_quantile(m->delay_all, 0.50);
    out->delay_p99_us = hist_quantile(m->delay_all, 0.99);
    out->delay_max_us = m->delay_all->total ? m->delay_all->max : 0;
    out->latency_samples = m->latency_all->total;
    out->latency_p50_ns = hist_quantile(m->latency_all, 0.50);
    out->latency_p99_ns = hist_quantile(m->latency_all, 0.99);
    out->latency_p999_ns = hist_quantile(m->latency_all, 0.999);
    out->latency_max_ns = m->latency_all->total ? m->latency_all->max : 0;
}

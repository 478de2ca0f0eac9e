/* queue_run.c -- see queue_run.h. */
#include "queue_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/queue.h"

/* Above this the model's per-message memory (about 40 bytes) passes 2 GiB. */
#define QRUN_MAX_MESSAGES 50000000ULL

void qrun_config(const scn_limiter *l, qm_config *c)
{
    const int64_t *v = l->cfg.v;
    *c = (qm_config){ (uint32_t)v[QUEUE_V_BATCH], v[QUEUE_V_INTERVAL_US], (uint32_t)v[QUEUE_V_MAX_ATTEMPTS],
                      (uint64_t)v[QUEUE_V_MAX_QUEUE], (int)v[QUEUE_V_BLOCK] };
}

int qrun_memory(const scn_scenario *s, gen *g, const scn_limiter *l, run_result *out, char *err, size_t errlen)
{
    /* the model is sized once: count the arrivals first */
    uint64_t arrivals = 0;
    gen_request req;
    gen_rewind(g);
    while (gen_next(g, &req)) arrivals++;
    if (arrivals > QRUN_MAX_MESSAGES) {
        snprintf(err, errlen, "%s: %llu messages are more than the memory model holds (%llu); shorten the scenario",
                 l->name, (unsigned long long)arrivals, QRUN_MAX_MESSAGES);
        return -1;
    }
    qm_config c;
    qrun_config(l, &c);
    size_t n_ticks = scn_tick_count(s);
    qm *m = qm_create(&c, &s->downstream, s->downstream.failure_prob, s->seed, (size_t)arrivals, s->tick_us, n_ticks);
    if (!m) {
        snprintf(err, errlen, "%s: out of memory for a queue of %llu messages", l->name, (unsigned long long)arrivals);
        return -1;
    }
    qrun_measured meas = { .backend = "memory" };
    gen_rewind(g);
    while (gen_next(g, &req)) {
        int rc = qm_arrive(m, req.t_us);
        meas.offered++;
        meas.offered_cost += req.cost;
        if (rc == 1) meas.rejected++;
        else meas.admitted_cost += req.cost;
    }
    qm_report r;
    qm_finish(m, &r);
    meas.report = &r;
    meas.ticks = qm_series(m);
    meas.second_delivered = qm_second_delivered(m, &meas.n_seconds);
    int rc = qrun_fill(s, l, &meas, out, err, errlen);
    qm_destroy(m);
    return rc;
}

int qrun_fill(const scn_scenario *s, const scn_limiter *l, const qrun_measured *q, run_result *out, char *err,
              size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->limiter = l;
    out->backend = q->backend;
    out->is_queue = 1;
    out->queue.report = *q->report;
    out->queue.durability = "n/a";
    size_t n_ticks = scn_tick_count(s);
    out->queue.series = malloc(n_ticks * sizeof *out->queue.series);
    if (!out->queue.series || met_init(&out->series, n_ticks, s->tick_us, s->duration_us) != 0) {
        free(out->queue.series);
        out->queue.series = NULL;
        snprintf(err, errlen, "%s: out of memory for %zu ticks of metrics", l->name, n_ticks);
        return -1;
    }
    memcpy(out->queue.series, q->ticks, n_ticks * sizeof *q->ticks);
    met_series *m = &out->series;
    for (size_t t = 0; t < n_ticks; t++) {
        const qm_tick *k = &q->ticks[t];
        m->offered[t] = k->arrived;
        m->dropped[t] = k->rejected;
        m->admitted[t] = m->delayed[t] = k->arrived - k->rejected;
        m->released[t] = k->delivered;
        m->level[t] = (int64_t)k->queued;
        m->delay_p50[t] = k->e2e_p50_us;
        m->delay_p99[t] = k->e2e_p99_us;
        m->delay_max[t] = k->e2e_max_us;
    }
    for (size_t i = 0; i < m->n_seconds && i < q->n_seconds; i++) m->second_released[i] = q->second_delivered[i];
    m->offered_cost = q->offered_cost;
    m->admitted_cost = q->admitted_cost;

    const qm_report *r = q->report;
    met_summary *sum = &out->summary;
    met_summarize(m, sum);
    sum->peak_offered_rps = r->peak_offered_rps;
    sum->peak_admitted_rps = r->peak_delivered_rps;
    sum->delay_p50_us = r->e2e_p50_us;
    sum->delay_p99_us = r->e2e_p99_us;
    sum->delay_max_us = r->e2e_max_us;
    sum->keys_seen = 1;
    sum->over_admitted = -1;

    orc_report *o = &out->oracle;
    o->offered = q->offered;
    o->dropped = q->rejected;
    o->admitted = q->offered - q->rejected;
    o->wrongly_allowed = o->wrongly_blocked = o->max_window_cost = -1;
    o->mean_window_diff = -1;
    o->over_admitted = -1;
    o->window_checked = 0;
    o->violations = (uint64_t)(r->lost < 0 ? -r->lost : r->lost);
    orc_conservation(o, sum->offered, sum->admitted, sum->dropped);

    if (s->downstream.present) {
        out->has_downstream = 1;
        out->downstream.served = r->deliveries;
        out->downstream.completed = r->succeeded;
        out->downstream.wait_p50_us = out->downstream.wait_p99_us = out->downstream.wait_max_us = -1;
        out->downstream.e2e_p50_us = r->e2e_p50_us;
        out->downstream.e2e_p99_us = r->e2e_p99_us;
        out->downstream.e2e_p999_us = r->e2e_p999_us;
        out->downstream.e2e_max_us = r->e2e_max_us;
        out->overload_s = dsm_overload_seconds(&s->downstream, m->second_released, m->n_seconds);
    }
    return 0;
}

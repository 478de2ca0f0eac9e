/* queue_run.c -- see queue_run.h. */
#include "queue_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/queue.h"
#include "pass.h"

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
    pass_queue_measured meas = { .backend = "memory" };
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
    int rc = pass_queue(s, l, &meas, out, err, errlen);
    qm_destroy(m);
    return rc;
}

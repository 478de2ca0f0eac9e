/* pass.c -- see pass.h. */
#include "pass.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"

/* up to 1M queued releases pending at once; more are served a little early, and counted */
#define PASS_DOWNSTREAM_PENDING (1 << 20)

static int64_t pass_end_of_tick(const scn_scenario *s, size_t tick)
{
    int64_t end = (int64_t)(tick + 1) * s->tick_us;
    return end < s->duration_us ? end : s->duration_us;
}

pass *pass_open(const scn_scenario *s, const scn_limiter *l, const char *backend, FILE *log, run_result *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->limiter = l;
    out->backend = backend;
    size_t n_ticks = scn_tick_count(s);
    pass *p = calloc(1, sizeof *p);
    int series = met_init(&out->series, n_ticks, s->tick_us, s->duration_us) == 0;
    int checks = p != NULL;
    if (p) {
        /* a chain's admissions are held to every tier's promise */
        int chain = l->entry->kind == LIM_KIND_CHAIN;
        p->n_checks = chain ? l->n_tiers : 1;
        for (size_t i = 0; i < p->n_checks; i++) {
            /* a fleet is measured against the limit it shares */
            p->judged[i] = chain ? &l->tiers[i] : l->entry->kind == LIM_KIND_FLEET ? l->base : l;
            p->check[i] = orc_check_create(p->judged[i], p->judged[i]->global ? 1 : kspace_count(s->keys));
            checks &= p->check[i] != NULL;
        }
        if ((p->time_to_success = malloc(sizeof *p->time_to_success))) hist_init(p->time_to_success);
        p->down = s->downstream.present ? dsm_create(&s->downstream, s->seed, s->duration_us, PASS_DOWNSTREAM_PENDING)
                                        : NULL;
    }
    if (!p || !checks || !p->time_to_success || (s->downstream.present && !p->down) || !series) {
        snprintf(err, errlen, "%s: out of memory for %zu ticks of metrics, the oracle or the downstream model",
                 l->name, n_ticks);
        if (p) {
            for (size_t i = 0; i < p->n_checks; i++) orc_check_destroy(p->check[i]);
            dsm_destroy(p->down);
            free(p->time_to_success);
            free(p);
        }
        if (series) met_free(&out->series);
        return NULL;
    }
    p->s = s;
    p->l = l;
    p->out = out;
    p->log = log;
    p->tick_end_us = pass_end_of_tick(s, 0);
    return p;
}

int64_t pass_tick_end_us(const pass *p) { return p->tick_end_us; }

size_t pass_ticks_left(const pass *p) { return p->out->series.n_ticks - p->tick; }

void pass_count(pass *p, const gen_request *q, const lim_decision *d)
{
    met_record(&p->out->series, p->tick, q, d, 1);
    if (p->down && d->allowed) dsm_admit(p->down, q->t_us, d->delay_us);
}

int64_t pass_decided_watched(pass *p, const gen_request *q, const lim_decision *d, uint32_t *ticket)
{
    met_record(&p->out->series, p->tick, q, d, 1);
    int64_t end = dsm_admit_watched(p->down, q->t_us, d->delay_us, ticket);
    pass_judge(p, q, q->t_us, d);
    return end;
}

int pass_reserve_calls(pass *p, size_t more) { return p->down ? dsm_reserve_calls(p->down, more) : -1; }

int64_t pass_call_end(pass *p, uint32_t ticket, int64_t now_us) { return dsm_call_end(p->down, ticket, now_us); }

void pass_judge(pass *p, const gen_request *q, int64_t at_us, const lim_decision *d)
{
    for (size_t i = 0; i < p->n_checks; i++) orc_check_add(p->check[i], p->judged[i]->global ? 0 : q->key, at_us, q->cost, d);
    if (p->log) dlog_write(p->log, at_us, p->l->global ? "global" : kspace_name(p->s->keys, q->key), q->cost, d);
}

void pass_prefetch(const pass *p, const gen_request *q, size_t n)
{
    for (size_t i = 0; i < p->n_checks; i++)
        if (!p->judged[i]->global && orc_check_worth_prefetching(p->check[i]))
            for (size_t j = 0; j < n; j++) orc_check_prefetch(p->check[i], q[j].key);
}

void pass_prefetch_rings(const pass *p, const gen_request *q, size_t n)
{
    for (size_t i = 0; i < p->n_checks; i++)
        if (!p->judged[i]->global && orc_check_worth_prefetching(p->check[i]) && orc_check_has_rings(p->check[i]))
            for (size_t j = 0; j < n; j++) orc_check_prefetch_rings(p->check[i], q[j].key);
}

void pass_unanswered(pass *p, const gen_request *q, int64_t at_us, const lim_decision *d)
{
    for (size_t i = 0; i < p->n_checks; i++) orc_check_count(p->check[i], d);
    /* in the decision log as a virtual pass has it: every request, each once */
    if (p->log) dlog_write(p->log, at_us, p->l->global ? "global" : kspace_name(p->s->keys, q->key), q->cost, d);
}

/* The oracle's reports of a chain's tiers as one: the counts are the
 * same stream's; violations and cost over the bounds add up; comparisons
 * with a single limiter's reference mean nothing for a chain. */
static void pass_oracle_report(const pass *p, orc_report *r)
{
    orc_check_report(p->check[0], r);
    if (p->n_checks == 1) return;
    r->wrongly_allowed = r->wrongly_blocked = r->max_window_cost = -1;
    r->mean_window_diff = -1;
    r->reference_admitted = 0;
    for (size_t i = 1; i < p->n_checks; i++) {
        orc_report t;
        orc_check_report(p->check[i], &t);
        r->violations += t.violations;
        if (t.worst_excess > r->worst_excess) {
            r->worst_excess = t.worst_excess;
            r->worst_key = t.worst_key;
            r->worst_from_us = t.worst_from_us;
            r->worst_to_us = t.worst_to_us;
        }
        r->over_admitted = r->over_admitted < 0 || t.over_admitted < 0 ? -1 : r->over_admitted + t.over_admitted;
    }
}

void pass_decided(pass *p, const gen_request *q, const lim_decision *d)
{
    pass_count(p, q, d);
    pass_judge(p, q, q->t_us, d);
}

void pass_latency(pass *p, int64_t ns) { met_latency(&p->out->series, ns); }

void pass_intent(pass *p, int64_t t_us)
{
    gen_request first = { .t_us = t_us };
    met_intent(&p->out->series, p->tick, &first, 1);
    p->out->clients.intents++;
}

void pass_arrivals_decided(pass *p, const gen_request *q, const lim_decision *d, size_t n)
{
    uint64_t admitted = met_record(&p->out->series, p->tick, q, d, n);
    if (p->down)
        for (size_t i = 0; i < n; i++)
            if (d[i].allowed) dsm_admit(p->down, q[i].t_us, d[i].delay_us);
    for (size_t c = 0; c < p->n_checks; c++) orc_check_add_batch(p->check[c], q, d, n, p->judged[c]->global);
    if (p->log)
        for (size_t i = 0; i < n; i++)
            dlog_write(p->log, q[i].t_us, p->l->global ? "global" : kspace_name(p->s->keys, q[i].key), q[i].cost, &d[i]);
    /* each an intent that ends with its one decision: admitted at once, or abandoned */
    met_intent(&p->out->series, p->tick, q, n);
    run_client_stats *c = &p->out->clients;
    c->intents += n;
    c->succeeded += admitted;
    c->success_attempts += admitted;
    c->abandoned += n - admitted;
    hist_record_n(p->time_to_success, 0, admitted);
}

void pass_intent_ended(pass *p, pass_outcome o, int64_t first_us, int64_t end_us, uint32_t attempts)
{
    run_client_stats *c = &p->out->clients;
    switch (o) {
    case PASS_SUCCEEDED:
        c->succeeded++;
        c->success_attempts += attempts;
        hist_record(p->time_to_success, end_us - first_us);
        break;
    case PASS_ABANDONED: c->abandoned++; break;
    case PASS_BUDGET_REFUSED: c->budget_refused++; break;
    case PASS_UNFINISHED: c->unfinished++; break;
    case PASS_FAILED: c->failed++; break;
    }
}

void pass_failed_attempt(pass *p) { p->out->clients.failed_attempts++; }

void pass_timed_out_attempt(pass *p) { p->out->clients.timed_out_attempts++; }

void pass_pending(pass *p, size_t pending)
{
    if (pending > p->out->clients.peak_pending) p->out->clients.peak_pending = pending;
}

/* The busiest second of intents within the last phase. */
static int64_t pass_peak_second(const scn_scenario *s, const met_series *m)
{
    const scn_phase *last = &s->phases[s->n_phases - 1];
    size_t from = (size_t)last->start_s, to = (size_t)ceil(last->end_s);
    if (to > m->n_seconds) to = m->n_seconds;
    size_t best = from < m->n_seconds ? from : m->n_seconds - 1;
    for (size_t i = from; i < to; i++)
        if (m->second_intents[i] > m->second_intents[best]) best = i;
    return (int64_t)best;
}

/* From the peak, the seconds until every later second has attempts within
 * the limiter's rate (times the keys, for a per-key limiter) and releases
 * within the downstream's capacity; -1 when the last second has not. */
static double pass_recovery(const scn_scenario *s, const scn_limiter *l, const met_series *m, int64_t peak)
{
    /* a chain admits at most what its tightest tier does */
    double rate = INFINITY;
    if (l->base) l = l->base;   /* a fleet shares its limiter's */
    for (size_t i = 0; i < (l->n_tiers ? l->n_tiers : 1); i++) {
        const scn_limiter *t = l->n_tiers ? &l->tiers[i] : l;
        double r = orc_rate_per_s(t) * (double)(t->global ? 1 : kspace_count(s->keys));
        if (r < rate) rate = r;
    }
    size_t seconds = (size_t)((s->duration_us + 999999) / 1000000);
    if (seconds > m->n_seconds) seconds = m->n_seconds;
    size_t recovered = seconds;   /* the first second of the calm that lasts to the end */
    for (size_t i = seconds; i-- > (size_t)peak;) {
        int calm = !(m->second_offered[i] > rate) &&
                   !(s->downstream.present && (double)m->second_released[i] > s->downstream.capacity_rps);
        if (!calm) break;
        recovered = i;
    }
    return recovered == seconds ? -1 : (double)(recovered - (size_t)peak);
}

void pass_close_tick(pass *p, int64_t level)
{
    if (p->tick >= p->out->series.n_ticks) return;
    met_close_tick(&p->out->series, p->tick, level);
    p->tick++;
    p->tick_end_us = pass_end_of_tick(p->s, p->tick);
}

void pass_finish(pass *p, double wall_s, int decision_order_known, const run_backend_report *b)
{
    run_result *out = p->out;
    const met_series *m = &out->series;
    met_summarize(m, &out->summary);
    out->summary.wall_s = wall_s;
    out->summary.keys_seen = b->keys_seen;
    out->summary.state_bytes = b->state_bytes;
    out->summary.errors = b->errors;
    if (p->down) {
        dsm_finish(p->down, &out->downstream);
        out->has_downstream = 1;
        out->overload_s = dsm_overload_seconds(&p->s->downstream, m->second_released, m->n_seconds);
    }
    pass_oracle_report(p, &out->oracle);
    memcpy(out->tier_refused, b->tier_refused, sizeof out->tier_refused);
    out->cluster = b->cluster;
    if (p->l->entry->kind == LIM_KIND_FLEET) {   /* its breaches are measured, not broken promises */
        out->fleet = b->fleet;                   /* the arrays are the result's now */
        out->bound_breaches = out->oracle.violations;
        out->oracle.violations = 0;
    }
    if (!decision_order_known) out->oracle.violations = 0;
    uint64_t lost = orc_conservation(&out->oracle, out->summary.offered, out->summary.admitted, out->summary.dropped);
    /* Client clocks stamp requests that can reach Redis out of their time
     * order: the pairwise check would judge the limiter on an order it
     * never saw. Only the whole-run bound (over_admitted) and conservation
     * stay exact then. */
    if (!decision_order_known && !lost) {
        out->oracle.violations = (uint64_t)-1;
        snprintf(out->oracle.unchecked, sizeof out->oracle.unchecked, "client clocks stamp requests that reach the "
                 "limiter out of time order: only the whole-run bound (over_admitted) is exact");
    }
    out->summary.over_admitted = out->oracle.over_admitted;
    run_client_stats *c = &out->clients;
    out->has_clients = 1;
    c->duration_s = p->s->duration_s;
    c->tts_p50_us = hist_quantile(p->time_to_success, 0.50);
    c->tts_p99_us = hist_quantile(p->time_to_success, 0.99);
    c->tts_max_us = p->time_to_success->total ? p->time_to_success->max : 0;
    for (int i = 0; i <= 100; i++)
        c->tts_percentile[i] = i == 100 ? c->tts_max_us : hist_quantile(p->time_to_success, i / 100.0);
    c->peak_second_s = pass_peak_second(p->s, m);
    c->recovery_s = pass_recovery(p->s, p->l, m, c->peak_second_s);
    /* every intent ends exactly once: one lost or ended twice is a violation */
    uint64_t ends = c->succeeded + c->abandoned + c->budget_refused + c->unfinished + c->failed;
    uint64_t astray = ends > c->intents ? ends - c->intents : c->intents - ends;
    if (astray && out->oracle.violations != (uint64_t)-1) out->oracle.violations += astray;
    for (size_t i = 0; i < p->n_checks; i++) orc_check_destroy(p->check[i]);
    dsm_destroy(p->down);
    free(p->time_to_success);
    free(p);
}

void pass_abort(pass *p)
{
    if (!p) return;
    met_free(&p->out->series);
    for (size_t i = 0; i < p->n_checks; i++) orc_check_destroy(p->check[i]);
    dsm_destroy(p->down);
    free(p->time_to_success);
    free(p);
}

/* ---- a queue entry ------------------------------------------------------- */

int pass_queue(const scn_scenario *s, const scn_limiter *l, const pass_queue_measured *q, run_result *out,
               char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->limiter = l;
    out->backend = q->backend;
    size_t n_ticks = scn_tick_count(s);
    out->queue = calloc(1, sizeof *out->queue);
    qm_tick *ticks = malloc(n_ticks * sizeof *ticks);
    if (!out->queue || !ticks || met_init(&out->series, n_ticks, s->tick_us, s->duration_us) != 0) {
        free(out->queue);
        free(ticks);
        out->queue = NULL;
        snprintf(err, errlen, "%s: out of memory for %zu ticks of metrics", l->name, n_ticks);
        return -1;
    }
    out->queue->report = *q->report;
    out->queue->durability = "n/a";
    out->queue->series = ticks;
    memcpy(ticks, q->ticks, n_ticks * sizeof *q->ticks);
    met_series *m = &out->series;
    for (size_t t = 0; t < n_ticks; t++) {
        const qm_tick *k = &q->ticks[t];
        m->offered[t] = m->intents[t] = k->arrived;
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

void run_result_free(run_result *r)
{
    met_free(&r->series);
    flt_report_free(&r->fleet);
    if (r->queue) {
        free(r->queue->series);
        free(r->queue->faults);
        free(r->queue);
        r->queue = NULL;
    }
}

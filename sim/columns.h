/*
 * columns.h -- the numeric columns of a pass's result, each defined once
 * (name, format, value) and listed by the files that print them:
 * summary.csv (output.c) and a sweep's <limiter>.csv (sweep.c). Adding a
 * column is one COL_ line and its place in a list; a name and its format
 * can no longer drift apart.
 */
#ifndef RATELAB_COLUMNS_H
#define RATELAB_COLUMNS_H

#include <stdint.h>
#include <stdio.h>

#include "downstream.h"
#include "metrics.h"
#include "oracle.h"
#include "result.h"

/* What one row is printed from. */
typedef struct {
    const met_summary *m;
    const orc_report *o;
    int has_downstream;          /* else every downstream column reads -1 */
    const dsm_report *d;
    uint64_t overload_s;
    int has_clients;             /* else every client column reads -1 (a queue) */
    const run_client_stats *c;
    const char *refused_by;      /* a chain: "tier=refusals;..." (summary only), else "" */
    const flt_report *fl;        /* a fleet's (nodes 0 or NULL: not one; every fleet column reads -1) */
    uint64_t bound_breaches;
} col_row;

#define COL_DS(r, v) ((r)->has_downstream ? (long long)(v) : -1LL)
#define COL_OF(r) ((r)->m->offered ? (double)(r)->m->offered : 1.0)
#define COL_CL(r, v) ((r)->has_clients ? (long long)(v) : -1LL)
#define COL_CLD(r, v) ((r)->has_clients ? (double)(v) : -1.0)
#define COL_IS_FLEET(r) ((r)->fl && (r)->fl->nodes)
#define COL_FL(r, v) (COL_IS_FLEET(r) ? (long long)(v) : -1LL)

/* X(name, printf format, value) for each column */
#define COL_offered(X)           X(offered, "%llu", (unsigned long long)r->m->offered)
#define COL_admitted(X)          X(admitted, "%llu", (unsigned long long)r->m->admitted)
#define COL_dropped(X)           X(dropped, "%llu", (unsigned long long)r->m->dropped)
#define COL_delayed(X)           X(delayed, "%llu", (unsigned long long)r->m->delayed)
#define COL_admit_ratio(X)       X(admit_ratio, "%.6f", r->m->offered ? (double)r->m->admitted / (double)r->m->offered : 0.0)
#define COL_drop_pct(X)          X(drop_pct, "%.4f", 100.0 * (double)r->m->dropped / COL_OF(r))
#define COL_offered_cost(X)      X(offered_cost, "%llu", (unsigned long long)r->m->offered_cost)
#define COL_admitted_cost(X)     X(admitted_cost, "%llu", (unsigned long long)r->m->admitted_cost)
#define COL_peak_offered_rps(X)  X(peak_offered_rps, "%llu", (unsigned long long)r->m->peak_offered_rps)
#define COL_peak_admitted_rps(X) X(peak_admitted_rps, "%llu", (unsigned long long)r->m->peak_admitted_rps)
#define COL_delay_p50_us(X)      X(delay_p50_us, "%lld", (long long)r->m->delay_p50_us)
#define COL_delay_p99_us(X)      X(delay_p99_us, "%lld", (long long)r->m->delay_p99_us)
#define COL_delay_max_us(X)      X(delay_max_us, "%lld", (long long)r->m->delay_max_us)
#define COL_keys(X)              X(keys, "%zu", r->m->keys_seen)
#define COL_state_bytes(X)       X(state_bytes, "%zu", r->m->state_bytes)
#define COL_errors(X)            X(errors, "%llu", (unsigned long long)r->m->errors)
#define COL_over_admitted(X)     X(over_admitted, "%lld", (long long)r->m->over_admitted)
#define COL_violations(X)        X(violations, "%lld", (long long)r->o->violations)
#define COL_worst_excess(X)      X(worst_excess, "%.3f", r->o->worst_excess)
#define COL_wrongly_allowed(X)   X(wrongly_allowed, "%lld", (long long)r->o->wrongly_allowed)
#define COL_wrongly_blocked(X)   X(wrongly_blocked, "%lld", (long long)r->o->wrongly_blocked)
#define COL_max_window_cost(X)   X(max_window_cost, "%lld", (long long)r->o->max_window_cost)
#define COL_reference_admitted(X) X(reference_admitted, "%llu", (unsigned long long)r->o->reference_admitted)
#define COL_downstream_overload_s(X) X(downstream_overload_s, "%lld", COL_DS(r, r->overload_s))
#define COL_overload_s(X)        X(overload_s, "%lld", COL_DS(r, r->overload_s))
#define COL_downstream_wait_p50_us(X) X(downstream_wait_p50_us, "%lld", COL_DS(r, r->d->wait_p50_us))
#define COL_downstream_wait_p99_us(X) X(downstream_wait_p99_us, "%lld", COL_DS(r, r->d->wait_p99_us))
#define COL_e2e_p50_us(X)        X(e2e_p50_us, "%lld", COL_DS(r, r->d->e2e_p50_us))
#define COL_e2e_p99_us(X)        X(e2e_p99_us, "%lld", COL_DS(r, r->d->e2e_p99_us))
#define COL_e2e_p999_us(X)       X(e2e_p999_us, "%lld", COL_DS(r, r->d->e2e_p999_us))
#define COL_downstream_completed(X) X(downstream_completed, "%lld", COL_DS(r, r->d->completed))
#define COL_wall_latency_p50_ns(X)  X(wall_latency_p50_ns, "%lld", (long long)r->m->latency_p50_ns)
#define COL_wall_latency_p99_ns(X)  X(wall_latency_p99_ns, "%lld", (long long)r->m->latency_p99_ns)
#define COL_wall_latency_p999_ns(X) X(wall_latency_p999_ns, "%lld", (long long)r->m->latency_p999_ns)
#define COL_wall_latency_max_ns(X)  X(wall_latency_max_ns, "%lld", (long long)r->m->latency_max_ns)
#define COL_wall_decisions_per_s(X) X(wall_decisions_per_s, "%.0f", r->m->wall_s > 0 ? (double)r->m->offered / r->m->wall_s : 0.0)

#define COL_intents(X)           X(intents, "%lld", COL_CL(r, r->c->intents))
#define COL_amplification(X)     X(amplification, "%.6f", COL_CLD(r, r->c->intents ? (double)r->m->offered / (double)r->c->intents : 1.0))
#define COL_goodput_rps(X)       X(goodput_rps, "%.3f", COL_CLD(r, r->c->duration_s > 0 ? (double)r->c->succeeded / r->c->duration_s : 0.0))
#define COL_abandoned(X)         X(abandoned, "%lld", COL_CL(r, r->c->abandoned))
#define COL_budget_refused(X)    X(budget_refused, "%lld", COL_CL(r, r->c->budget_refused))
#define COL_unfinished(X)        X(unfinished, "%lld", COL_CL(r, r->c->unfinished))
#define COL_failed(X)            X(failed, "%lld", COL_CL(r, r->c->failed))
#define COL_failed_attempts(X)   X(failed_attempts, "%lld", COL_CL(r, r->c->failed_attempts))
#define COL_timed_out_attempts(X) X(timed_out_attempts, "%lld", COL_CL(r, r->c->timed_out_attempts))
#define COL_tts_p50_us(X)        X(tts_p50_us, "%lld", COL_CL(r, r->c->tts_p50_us))
#define COL_tts_p99_us(X)        X(tts_p99_us, "%lld", COL_CL(r, r->c->tts_p99_us))
#define COL_tts_max_us(X)        X(tts_max_us, "%lld", COL_CL(r, r->c->tts_max_us))
#define COL_attempts_per_success(X) X(attempts_per_success, "%.4f", COL_CLD(r, r->c->succeeded ? (double)r->c->success_attempts / (double)r->c->succeeded : 0.0))
#define COL_recovery_s(X)        X(recovery_s, "%.0f", COL_CLD(r, r->c->recovery_s))
#define COL_peak_pending_retries(X) X(peak_pending_retries, "%lld", COL_CL(r, r->c->peak_pending))
#define COL_nodes(X)             X(nodes, "%lld", COL_IS_FLEET(r) ? (long long)r->fl->nodes : 0LL)
#define COL_store_calls_per_request(X) X(store_calls_per_request, "%.4f", COL_IS_FLEET(r) ? (double)r->fl->store_calls / COL_OF(r) : -1.0)
#define COL_added_latency_p50_us(X) X(added_latency_p50_us, "%lld", COL_FL(r, r->fl->added_p50_us))
#define COL_added_latency_p99_us(X) X(added_latency_p99_us, "%lld", COL_FL(r, r->fl->added_p99_us))
#define COL_bound_breaches(X)    X(bound_breaches, "%lld", COL_FL(r, r->bound_breaches))
#define COL_fallback_decisions(X) X(fallback_decisions, "%lld", COL_FL(r, r->fl->fallbacks))
#define COL_lost_messages(X)     X(lost_messages, "%lld", COL_FL(r, r->fl->lost_messages))
#define COL_refused_by(X)        X(refused_by, "%s", r->refused_by ? r->refused_by : "")

/* summary.csv, after limiter,algorithm,backend,scope,params */
#define COL_SUMMARY(X) \
    COL_offered(X) COL_admitted(X) COL_dropped(X) COL_delayed(X) COL_admit_ratio(X) COL_offered_cost(X) \
    COL_admitted_cost(X) COL_peak_offered_rps(X) COL_peak_admitted_rps(X) COL_delay_p50_us(X) COL_delay_p99_us(X) \
    COL_delay_max_us(X) COL_keys(X) COL_state_bytes(X) COL_errors(X) COL_over_admitted(X) COL_violations(X) \
    COL_worst_excess(X) COL_wrongly_allowed(X) COL_wrongly_blocked(X) COL_max_window_cost(X) \
    COL_reference_admitted(X) COL_downstream_overload_s(X) COL_downstream_wait_p50_us(X) \
    COL_downstream_wait_p99_us(X) COL_e2e_p50_us(X) COL_e2e_p99_us(X) COL_e2e_p999_us(X) \
    COL_downstream_completed(X) COL_wall_latency_p50_ns(X) COL_wall_latency_p99_ns(X) \
    COL_wall_latency_p999_ns(X) COL_wall_latency_max_ns(X) COL_wall_decisions_per_s(X) COL_intents(X) \
    COL_amplification(X) COL_goodput_rps(X) COL_abandoned(X) COL_budget_refused(X) COL_unfinished(X) \
    COL_tts_p50_us(X) COL_tts_p99_us(X) COL_tts_max_us(X) COL_attempts_per_success(X) COL_recovery_s(X) \
    COL_peak_pending_retries(X) COL_failed(X) COL_failed_attempts(X) COL_refused_by(X) COL_timed_out_attempts(X) \
    COL_nodes(X) COL_store_calls_per_request(X) COL_added_latency_p50_us(X) COL_added_latency_p99_us(X) \
    COL_bound_breaches(X) COL_fallback_decisions(X) COL_lost_messages(X)

/* a sweep's <limiter>.csv, after limiter,algorithm,point and the grid's values */
#define COL_SWEEP(X) \
    COL_offered(X) COL_admitted(X) COL_dropped(X) COL_delayed(X) COL_admit_ratio(X) COL_drop_pct(X) \
    COL_offered_cost(X) COL_admitted_cost(X) COL_peak_offered_rps(X) COL_peak_admitted_rps(X) \
    COL_delay_p50_us(X) COL_delay_p99_us(X) COL_delay_max_us(X) COL_violations(X) COL_over_admitted(X) \
    COL_wrongly_allowed(X) COL_wrongly_blocked(X) COL_max_window_cost(X) COL_overload_s(X) COL_e2e_p99_us(X) \
    COL_amplification(X) COL_goodput_rps(X) COL_tts_p99_us(X) COL_recovery_s(X) COL_worst_excess(X) \
    COL_nodes(X) COL_bound_breaches(X) COL_store_calls_per_request(X) COL_added_latency_p99_us(X) \
    COL_fallback_decisions(X)

#define COL_NAME(name, fmt, value) "," #name
#define COL_PRINT(name, fmt, value) fprintf(f, "," fmt, value);

/* The names, each after a comma. */
static inline void col_summary_header(FILE *f) { fputs(COL_SUMMARY(COL_NAME), f); }
static inline void col_sweep_header(FILE *f) { fputs(COL_SWEEP(COL_NAME), f); }

/* One row's values, each after a comma. */
static inline void col_summary_row(FILE *f, const col_row *r) { COL_SUMMARY(COL_PRINT) }
static inline void col_sweep_row(FILE *f, const col_row *r) { COL_SWEEP(COL_PRINT) }

#endif

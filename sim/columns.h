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
    int has_downstream;          /* else every downstream column is empty */
    const dsm_report *d;
    uint64_t overload_s;
    int has_clients;             /* else every client column is empty (a queue) */
    const run_client_stats *c;
    const char *refused_by;      /* a chain: "tier=refusals;..." (summary only), else "" */
    const flt_report *fl;        /* a fleet's (nodes 0 or NULL: not one; every fleet column is empty) */
    uint64_t bound_breaches;
} col_row;

#define COL_OF(r) ((r)->m->offered ? (double)(r)->m->offered : 1.0)
#define COL_IS_FLEET(r) ((r)->fl && (r)->fl->nodes)

/* X(name, printf format, value, applies) for each column. A column that
 * does not apply to a row (no downstream, no clients, not a fleet, a
 * limiter without a bound to check, a recovery that never came) is an
 * empty field: the one "not applicable" of every CSV ratelab writes. */
#define COL_offered(X)           X(offered, "%llu", (unsigned long long)r->m->offered, 1)
#define COL_admitted(X)          X(admitted, "%llu", (unsigned long long)r->m->admitted, 1)
#define COL_dropped(X)           X(dropped, "%llu", (unsigned long long)r->m->dropped, 1)
#define COL_delayed(X)           X(delayed, "%llu", (unsigned long long)r->m->delayed, 1)
#define COL_admit_pct(X)         X(admit_pct, "%.4f", 100.0 * (double)r->m->admitted / COL_OF(r), 1)
#define COL_drop_pct(X)          X(drop_pct, "%.4f", 100.0 * (double)r->m->dropped / COL_OF(r), 1)
#define COL_offered_cost(X)      X(offered_cost, "%llu", (unsigned long long)r->m->offered_cost, 1)
#define COL_admitted_cost(X)     X(admitted_cost, "%llu", (unsigned long long)r->m->admitted_cost, 1)
#define COL_peak_offered_rps(X)  X(peak_offered_rps, "%llu", (unsigned long long)r->m->peak_offered_rps, 1)
#define COL_peak_admitted_rps(X) X(peak_admitted_rps, "%llu", (unsigned long long)r->m->peak_admitted_rps, 1)
#define COL_delay_p50_us(X)      X(delay_p50_us, "%lld", (long long)r->m->delay_p50_us, 1)
#define COL_delay_p99_us(X)      X(delay_p99_us, "%lld", (long long)r->m->delay_p99_us, 1)
#define COL_delay_max_us(X)      X(delay_max_us, "%lld", (long long)r->m->delay_max_us, 1)
#define COL_keys(X)              X(keys, "%zu", r->m->keys_seen, 1)
#define COL_state_bytes(X)       X(state_bytes, "%zu", r->m->state_bytes, 1)
#define COL_errors(X)            X(errors, "%llu", (unsigned long long)r->m->errors, 1)
#define COL_over_admitted(X)     X(over_admitted, "%lld", (long long)r->m->over_admitted, r->m->over_admitted >= 0)
#define COL_violations(X)        X(violations, "%lld", (long long)r->o->violations, r->o->violations != (uint64_t)-1)
#define COL_worst_excess(X)      X(worst_excess, "%.3f", r->o->worst_excess, 1)
#define COL_wrongly_allowed(X)   X(wrongly_allowed, "%lld", (long long)r->o->wrongly_allowed, r->o->wrongly_allowed >= 0)
#define COL_wrongly_blocked(X)   X(wrongly_blocked, "%lld", (long long)r->o->wrongly_blocked, r->o->wrongly_blocked >= 0)
#define COL_max_window_cost(X)   X(max_window_cost, "%lld", (long long)r->o->max_window_cost, r->o->max_window_cost >= 0)
#define COL_reference_admitted(X) X(reference_admitted, "%llu", (unsigned long long)r->o->reference_admitted, r->o->wrongly_allowed >= 0)
/* what the oracle could not check and why (no comma in it: see orc_report) */
#define COL_not_checked(X)       X(not_checked, "%s", r->o->unchecked, r->o->unchecked[0])
#define COL_downstream_overload_s(X) X(downstream_overload_s, "%lld", (long long)(r->overload_s), r->has_downstream)
#define COL_overload_s(X)        X(overload_s, "%lld", (long long)(r->overload_s), r->has_downstream)
#define COL_downstream_wait_p50_us(X) X(downstream_wait_p50_us, "%lld", (long long)(r->d->wait_p50_us), r->has_downstream)
#define COL_downstream_wait_p99_us(X) X(downstream_wait_p99_us, "%lld", (long long)(r->d->wait_p99_us), r->has_downstream)
#define COL_e2e_p50_us(X)        X(e2e_p50_us, "%lld", (long long)(r->d->e2e_p50_us), r->has_downstream)
#define COL_e2e_p99_us(X)        X(e2e_p99_us, "%lld", (long long)(r->d->e2e_p99_us), r->has_downstream)
#define COL_e2e_p999_us(X)       X(e2e_p999_us, "%lld", (long long)(r->d->e2e_p999_us), r->has_downstream)
#define COL_downstream_completed(X) X(downstream_completed, "%lld", (long long)(r->d->completed), r->has_downstream)
#define COL_wall_latency_p50_ns(X)  X(wall_latency_p50_ns, "%lld", (long long)r->m->latency_p50_ns, 1)
#define COL_wall_latency_p99_ns(X)  X(wall_latency_p99_ns, "%lld", (long long)r->m->latency_p99_ns, 1)
#define COL_wall_latency_p999_ns(X) X(wall_latency_p999_ns, "%lld", (long long)r->m->latency_p999_ns, 1)
#define COL_wall_latency_max_ns(X)  X(wall_latency_max_ns, "%lld", (long long)r->m->latency_max_ns, 1)
#define COL_wall_decisions_per_s(X) X(wall_decisions_per_s, "%.0f", r->m->wall_s > 0 ? (double)r->m->offered / r->m->wall_s : 0.0, 1)

#define COL_intents(X)           X(intents, "%lld", (long long)(r->c->intents), r->has_clients)
#define COL_amplification(X)     X(amplification, "%.6f", (double)(r->c->intents ? (double)r->m->offered / (double)r->c->intents : 1.0), r->has_clients)
#define COL_goodput_rps(X)       X(goodput_rps, "%.3f", (double)(r->c->duration_s > 0 ? (double)r->c->succeeded / r->c->duration_s : 0.0), r->has_clients)
#define COL_abandoned(X)         X(abandoned, "%lld", (long long)(r->c->abandoned), r->has_clients)
#define COL_budget_refused(X)    X(budget_refused, "%lld", (long long)(r->c->budget_refused), r->has_clients)
#define COL_unfinished(X)        X(unfinished, "%lld", (long long)(r->c->unfinished), r->has_clients)
#define COL_failed(X)            X(failed, "%lld", (long long)(r->c->failed), r->has_clients)
#define COL_failed_attempts(X)   X(failed_attempts, "%lld", (long long)(r->c->failed_attempts), r->has_clients)
#define COL_timed_out_attempts(X) X(timed_out_attempts, "%lld", (long long)(r->c->timed_out_attempts), r->has_clients)
#define COL_tts_p50_us(X)        X(tts_p50_us, "%lld", (long long)(r->c->tts_p50_us), r->has_clients)
#define COL_tts_p99_us(X)        X(tts_p99_us, "%lld", (long long)(r->c->tts_p99_us), r->has_clients)
#define COL_tts_max_us(X)        X(tts_max_us, "%lld", (long long)(r->c->tts_max_us), r->has_clients)
#define COL_attempts_per_success(X) X(attempts_per_success, "%.4f", (double)(r->c->succeeded ? (double)r->c->success_attempts / (double)r->c->succeeded : 0.0), r->has_clients)
#define COL_recovery_s(X)        X(recovery_s, "%.0f", r->c->recovery_s, r->has_clients && r->c->recovery_s >= 0)
#define COL_peak_pending_retries(X) X(peak_pending_retries, "%lld", (long long)(r->c->peak_pending), r->has_clients)
#define COL_nodes(X)             X(nodes, "%lld", COL_IS_FLEET(r) ? (long long)r->fl->nodes : 0LL, 1)
#define COL_store_calls_per_request(X) X(store_calls_per_request, "%.4f", (double)r->fl->store_calls / COL_OF(r), COL_IS_FLEET(r))
#define COL_added_latency_p50_us(X) X(added_latency_p50_us, "%lld", (long long)(r->fl->added_p50_us), COL_IS_FLEET(r))
#define COL_added_latency_p99_us(X) X(added_latency_p99_us, "%lld", (long long)(r->fl->added_p99_us), COL_IS_FLEET(r))
#define COL_bound_breaches(X)    X(bound_breaches, "%lld", (long long)(r->bound_breaches), COL_IS_FLEET(r))
#define COL_fallback_decisions(X) X(fallback_decisions, "%lld", (long long)(r->fl->fallbacks), COL_IS_FLEET(r))
#define COL_lost_messages(X)     X(lost_messages, "%lld", (long long)(r->fl->lost_messages), COL_IS_FLEET(r))
#define COL_refused_by(X)        X(refused_by, "%s", r->refused_by ? r->refused_by : "", r->refused_by && r->refused_by[0])

/* summary.csv, after limiter,algorithm,backend,scope,params */
#define COL_SUMMARY(X) \
    COL_offered(X) COL_admitted(X) COL_dropped(X) COL_delayed(X) COL_admit_pct(X) COL_drop_pct(X) COL_offered_cost(X) \
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
    COL_bound_breaches(X) COL_fallback_decisions(X) COL_lost_messages(X) COL_not_checked(X)

/* a sweep's <limiter>.csv, after limiter,algorithm,point and the grid's values */
#define COL_SWEEP(X) \
    COL_offered(X) COL_admitted(X) COL_dropped(X) COL_delayed(X) COL_admit_pct(X) COL_drop_pct(X) \
    COL_offered_cost(X) COL_admitted_cost(X) COL_peak_offered_rps(X) COL_peak_admitted_rps(X) \
    COL_delay_p50_us(X) COL_delay_p99_us(X) COL_delay_max_us(X) COL_violations(X) COL_over_admitted(X) \
    COL_wrongly_allowed(X) COL_wrongly_blocked(X) COL_max_window_cost(X) COL_overload_s(X) COL_e2e_p99_us(X) \
    COL_amplification(X) COL_goodput_rps(X) COL_tts_p99_us(X) COL_recovery_s(X) COL_worst_excess(X) \
    COL_nodes(X) COL_bound_breaches(X) COL_store_calls_per_request(X) COL_added_latency_p99_us(X) \
    COL_fallback_decisions(X)

#define COL_NAME(name, fmt, value, applies) "," #name
#define COL_PRINT(name, fmt, value, applies) \
    if (applies) fprintf(f, "," fmt, value); \
    else fputc(',', f);

/* The names, each after a comma. */
static inline void col_summary_header(FILE *f) { fputs(COL_SUMMARY(COL_NAME), f); }
static inline void col_sweep_header(FILE *f) { fputs(COL_SWEEP(COL_NAME), f); }

/* One row's values, each after a comma. */
static inline void col_summary_row(FILE *f, const col_row *r) { COL_SUMMARY(COL_PRINT) }
static inline void col_sweep_row(FILE *f, const col_row *r) { COL_SWEEP(COL_PRINT) }

#endif

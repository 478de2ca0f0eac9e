/*
 * targets.h -- what a sweep point must meet, as the scenario's "targets"
 * or `ratelab sweep --target` spell it: parsed here, with the scenario
 * (input); judged by recommend.h (output).
 *
 * Targets are terms "metric op value" separated by spaces, all of which a
 * point must meet; op is one of = <= < >= >. The metrics:
 *   drop_pct      requests dropped, % of offered
 *   admit_pct     requests admitted, % of offered
 *   peak_rps      peak admitted requests per second (what the downstream sees)
 *   overload_s    seconds the downstream was sent more than its capacity
 *   delay_p99_ms  the limiter's own p99 delay (a queue's wait; 0 for droppers)
 *   e2e_p99_ms    p99 of limiter delay + downstream wait + service
 *   p99_ms        e2e_p99_ms when the scenario has a downstream, else delay_p99_ms
 * overload_s and e2e_p99_ms need a downstream in the scenario.
 */
#ifndef RATELAB_TARGETS_H
#define RATELAB_TARGETS_H

#include <stddef.h>

typedef enum {
    TGT_DROP_PCT,
    TGT_ADMIT_PCT,
    TGT_PEAK_RPS,
    TGT_OVERLOAD_S,
    TGT_DELAY_P99_MS,
    TGT_E2E_P99_MS,
    TGT_N_METRICS
} tgt_metric;

typedef enum { TGT_EQ, TGT_LE, TGT_LT, TGT_GE, TGT_GT } tgt_op;

#define TGT_MAX_TERMS 8

typedef struct {
    tgt_metric metric;
    tgt_op op;
    double value;
    char text[64];             /* as written, e.g. "p99_ms<=200" */
} tgt_term;

typedef struct {
    size_t n;
    tgt_term term[TGT_MAX_TERMS];
    int has_downstream;
} tgt_targets;

/* Parses `spec` (may be empty: no targets) for a scenario with or without
 * a downstream. Returns 0, or -1 with a message quoting the bad term. */
int tgt_parse(const char *spec, int has_downstream, tgt_targets *t, char *err, size_t errlen);

/* The metric p99_ms stands for with or without a downstream. */
tgt_metric tgt_p99_metric(int has_downstream);

/* Name of a metric as targets spell it. */
const char *tgt_metric_name(tgt_metric m);

#endif

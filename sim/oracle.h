/*
 * oracle.h -- what a limiter promises, computed from its parameters alone
 * (the rules of ../shared/DESIGN.md), never by calling the algorithm: the
 * independent side of every accuracy check.
 *
 * orc_tally counts, per key, the admitted cost and the span of the times
 * the limiter decided at; orc_over_admitted compares that with the most
 * the limiter may admit over the span. The whole-run bound stays exact
 * when concurrent clients' requests reach the server out of time order:
 * the limiter's own clock never leaves [first, last] of the times it saw.
 */
#ifndef RATELAB_ORACLE_H
#define RATELAB_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

/* Per-key totals of one limiter's run. */
typedef struct {
    const scn_limiter *l;
    int fixed_window;                 /* count per window too */
    int64_t window_us;
    uint64_t limit;
    size_t n_keys;
    int64_t *first_us, *last_us;      /* times decided at, per key */
    uint64_t *admitted_cost;
    int64_t *window;                  /* fixed_window: the window the count below belongs to */
    uint64_t *window_cost;            /* fixed_window: admitted cost in it */
    uint64_t window_excess;           /* fixed_window: worst cost above limit in one window */
} orc_tally;

/* A tally of limiter l over n_keys keys; 0, or -1 when memory is short. */
int orc_tally_init(orc_tally *t, const scn_limiter *l, size_t n_keys);
void orc_tally_free(orc_tally *t);

/* Counts one decided request of limiter l. Requests of one key must come
 * in the order of their times for the fixed-window count. */
static inline void orc_tally_add(orc_tally *t, uint32_t key, int64_t at_us, uint32_t cost, int allowed);

/* Admitted cost above the limiter's promise, summed over keys: 0 when it
 * kept it. -1 when the algorithm promises no exact bound
 * (sliding_window_counter is an estimate). */
int64_t orc_over_admitted(const orc_tally *t);

static inline int64_t orc_floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static inline void orc_tally_add(orc_tally *t, uint32_t key, int64_t at_us, uint32_t cost, int allowed)
{
    if (at_us < t->first_us[key]) t->first_us[key] = at_us;
    if (at_us > t->last_us[key]) t->last_us[key] = at_us;
    if (!allowed) return;
    t->admitted_cost[key] += cost;
    if (!t->fixed_window) return;
    int64_t idx = orc_floor_div(at_us, t->window_us);
    if (idx != t->window[key]) { t->window[key] = idx; t->window_cost[key] = 0; }
    t->window_cost[key] += cost;
    if (t->window_cost[key] > t->limit && t->window_cost[key] - t->limit > t->window_excess)
        t->window_excess = t->window_cost[key] - t->limit;
}

#endif

/*
 * sliding_window_log -- exact: admit iff the cost admitted in (t - window, t]
 * plus this cost is <= limit. Keeps a log of admitted (time, cost) entries,
 * as the Redis texts do in a sorted set; ratelab's twin
 * (lua/sliding_window_log.lua) keeps this same ring, in a hash.
 *
 * The log is a ring inside the key's state. Every cost is >= 1 and the sum
 * in the window is <= limit, so `limit` entries always suffice: the state is
 * 24 + 8 * limit bytes, fixed by the configuration, and nothing is
 * allocated per request. v[0] = limit, v[1] = window in microseconds.
 */
#include <math.h>
#include <stdio.h>

#include "fixedpoint.h"
#include "limiter.h"

/* An entry in 8 bytes, so that a key's log takes half the cache lines: its
 * time modulo 2^42 us (50.9 days) above its cost. An admitted cost is at
 * most the limit, at most LIM_COUNT_MAX < 2^22. A time is read back as its
 * age, now minus it, exact while that age is within 2^41 us (25 days) either
 * way: swl_expire empties a log whose newest entry is a window old, so ages
 * stay within a window (at most a day) plus how far a key's stamps come out
 * of order (clock skew: milliseconds, not weeks). */
typedef uint64_t swl_entry;
#define SWL_COST_BITS 22
#define SWL_TIME_BITS 42

typedef struct {
    int64_t sum;        /* cost of the entries in the log */
    int64_t newest_us;  /* the latest time in the log: every entry is at or before it */
    uint32_t head;      /* oldest entry */
    uint32_t n;         /* entries in the log */
    swl_entry log[];    /* `limit` slots */
} swl_state;

static swl_entry swl_pack(int64_t t_us, int64_t cost)
{
    uint64_t t = (uint64_t)t_us & ((UINT64_C(1) << SWL_TIME_BITS) - 1);
    return t << SWL_COST_BITS | (uint64_t)cost;
}

static int64_t swl_cost(swl_entry e) { return (int64_t)(e & ((UINT64_C(1) << SWL_COST_BITS) - 1)); }

/* now_us minus the entry's time, from their low 42 bits, sign-extended. */
static int64_t swl_age(swl_entry e, int64_t now_us)
{
    uint64_t d = ((uint64_t)now_us - (e >> SWL_COST_BITS)) << SWL_COST_BITS;
    return (int64_t)d >> SWL_COST_BITS;
}

static const lim_param_spec swl_params[] = { FX_WINDOW_PARAMS("sliding window") };

static int swl_configure(const double *values, const lim_rate *rates, lim_config *cfg, char *err, size_t errlen)
{
    (void)rates;   /* no rate parameter */
    cfg->v[0] = (int64_t)values[0];
    if (cfg->v[0] >= (INT64_C(1) << SWL_COST_BITS)) {   /* cannot be: the limit's bound is LIM_COUNT_MAX */
        snprintf(err, errlen, "limit: at most %lld for the log's entries", (long long)(INT64_C(1) << SWL_COST_BITS) - 1);
        return -1;
    }
    cfg->v[1] = (int64_t)llround(values[1] * 1000.0);
    cfg->state_size = sizeof(swl_state) + (size_t)cfg->v[0] * sizeof(swl_entry);
    return 0;
}

/* Slot i of a ring of cap slots, for i < 2 * cap: a compare, not a division. */
static uint32_t swl_slot(uint32_t i, int64_t cap) { return i >= (uint64_t)cap ? (uint32_t)(i - cap) : i; }

/* Drops entries at or before now - window: they have left (t - w, t].
 * When the newest has, all have, whatever their order. An emptied log
 * starts again at slot 0, beside its header: a key that comes back after a
 * window touches one cache line of it, not two. */
static void swl_expire(swl_state *s, int64_t cap, int64_t w, int64_t now_us)
{
    if (s->n > 0 && now_us - s->newest_us >= w) {
        s->n = 0;
        s->sum = 0;
    }
    while (s->n > 0 && swl_age(s->log[s->head], now_us) >= w) {
        s->sum -= swl_cost(s->log[s->head]);
        s->head = swl_slot(s->head + 1, cap);
        s->n--;
    }
    if (s->n == 0) s->head = 0;
}

/* When enough old entries will have expired for `cost` to fit. */
static int64_t swl_retry(const swl_state *s, int64_t limit, int64_t w, int64_t now_us, int64_t cost)
{
    if (cost > limit) return LIM_RETRY_NEVER;
    int64_t sum = s->sum;
    for (uint32_t i = 0; i < s->n; i++) {
        swl_entry e = s->log[swl_slot(s->head + i, limit)];
        sum -= swl_cost(e);
        if (sum + cost <= limit) return w - swl_age(e, now_us);
    }
    return 0;  /* unreachable: an empty log admits any cost <= limit */
}

static void swl_decide(const lim_config *cfg, void *state, int is_new,
                       int64_t now_us, int64_t cost, lim_decision *out)
{
    swl_state *s = state;
    int64_t limit = cfg->v[0], w = cfg->v[1];
    if (is_new) { s->sum = 0; s->head = 0; s->n = 0; s->newest_us = now_us; }
    swl_expire(s, limit, w, now_us);
    out->delay_us = 0;
    if (s->sum + cost <= limit) {
        if (s->n == 0 || now_us > s->newest_us) s->newest_us = now_us;
        s->log[swl_slot(s->head + s->n, limit)] = swl_pack(now_us, cost);
        s->n++;
        s->sum += cost;
        out->allowed = 1;
        out->retry_after_us = 0;
    } else {
        out->allowed = 0;
        out->retry_after_us = swl_retry(s, limit, w, now_us, cost);
    }
    out->remaining = limit - s->sum;
}

static int64_t swl_level(const lim_config *cfg, const void *state, int64_t now_us)
{
    const swl_state *s = state;
    if (!s || now_us - s->newest_us >= cfg->v[1]) return 0;
    int64_t sum = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        swl_entry e = s->log[swl_slot(s->head + i, cfg->v[0])];
        if (swl_age(e, now_us) < cfg->v[1]) sum += swl_cost(e);
    }
    return sum;
}

/* what `ratelab perf` measures (limiter.h lim_perf_case) */
static const lim_perf_case swl_perf[] = {
    { NULL, "\"limit\":1000,\"window_ms\":0.1",
      "\"limit\":10,\"window_ms\":1000" },
    { NULL, NULL, NULL },
};

static const char *const swl_split[] = { "limit", NULL };

const lim_ops sliding_window_log_ops = {
    .name = "sliding_window_log",
    .facts = { LIM_ORACLE_WINDOW_LOG, NULL, NULL, 0, swl_perf, swl_split },
    .summary = "exact log of admitted requests over the last `window_ms`",
    .level_name = "count-in-window",
    .params = swl_params,
    .n_params = sizeof swl_params / sizeof swl_params[0],
    .configure = swl_configure,
    .decide = swl_decide,
    .level = swl_level,
};
